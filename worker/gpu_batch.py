"""The batched Whisper pass's batch size on a GPU, chosen from the memory the card has free.

A constant (WhisperX's CLI uses 8, we used 16) either wastes a 24 GB A10G or runs a 16 GB T4 out of
memory once the alignment and diarization models sit beside Whisper (whisperX issues #315 and #388:
large-v2 at batch 20 on 16 GB). The estimate below is deliberately conservative; ``transcription.
batch_size`` in the config always wins.

Per-item costs are anchored on faster-whisper's published numbers (large-v2 fp16: 4.5 GB unbatched,
6.1 GB at batch 8) with a margin for long 30 s windows and the float32 features of each item; they
were not measured on a GPU by this project yet (see benchmarks/worker_cpu.py --device cuda).
"""

from __future__ import annotations

from collections.abc import Callable

GIB = 1024**3
RESIDENT_RESERVE_BYTES = int(2.5 * GIB)
"""Kept free for what loads after Whisper: the wav2vec2 aligner, pyannote and the CUDA allocator's slack."""
BYTES_PER_ITEM = {"large": int(0.6 * GIB), "turbo": int(0.4 * GIB), "medium": int(0.35 * GIB),
                  "small": int(0.2 * GIB), "base": int(0.12 * GIB), "tiny": int(0.1 * GIB)}
MAX_BATCH = 32  # beyond this WhisperX's throughput no longer grows (paper: 11.8x at batch 32)
FALLBACK_BATCH = 16  # when the free memory cannot be read


def model_size_class(model: str) -> str:
    """``large-v3`` → ``large``, ``distil-large-v3`` → ``large``, ``large-v3-turbo`` → ``turbo``, a path → its name."""
    name = model.rstrip("/").rsplit("/", 1)[-1].lower()
    if "turbo" in name:
        return "turbo"
    return next((size for size in ("large", "medium", "small", "base", "tiny") if size in name), "large")


def batch_size_for_free_memory(free_bytes: int, model: str) -> int:
    """The largest batch that leaves :data:`RESIDENT_RESERVE_BYTES` free, between 1 and :data:`MAX_BATCH`."""
    usable = free_bytes - RESIDENT_RESERVE_BYTES
    return max(1, min(MAX_BATCH, usable // BYTES_PER_ITEM[model_size_class(model)]))


def cuda_free_bytes() -> int:
    """Free memory on the current CUDA device, as the CUDA driver reports it (after Whisper has loaded)."""
    import torch

    free, _total = torch.cuda.mem_get_info()
    return int(free)


def gpu_batch_size(model: str, probe: Callable[[], int] = cuda_free_bytes) -> int:
    """:func:`batch_size_for_free_memory` from ``probe``; :data:`FALLBACK_BATCH` when it cannot be read."""
    try:
        return batch_size_for_free_memory(probe(), model)
    except Exception:  # no CUDA runtime, no device, a driver error: the old constant is still a safe choice
        return FALLBACK_BATCH
