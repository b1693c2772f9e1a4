"""Speech regions of a long recording, found block by block so memory does not grow with its length.

Silero VAD (the ONNX model that ships inside faster-whisper's wheel: no torch, no download) runs
over blocks of ``BLOCK_SECONDS``; faster-whisper's ``get_speech_timestamps`` copies and pads the
whole array it is given (about 3x the audio), so it only ever sees one block. A region cut by a
block edge is joined back when the two halves touch. ``audio`` is anything with ``len()`` and
slicing that returns float32 samples at 16 kHz: a numpy array or a :class:`~podwhisperer.worker.audio_stream.PcmFile`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SAMPLE_RATE = 16000
BLOCK_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class Region:
    """Speech from ``start`` to ``end`` (sample indices, end exclusive)."""

    start: int
    end: int

    @property
    def seconds(self) -> float:
        return (self.end - self.start) / SAMPLE_RATE


def speech_regions(audio: Any, *, threshold: float = 0.5, neg_threshold: float | None = None,
                   min_silence_ms: int = 300, speech_pad_ms: int = 100,
                   block_seconds: float = BLOCK_SECONDS) -> list[Region]:
    """Speech regions of ``audio`` in order, in samples."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(threshold=threshold, neg_threshold=neg_threshold, min_silence_duration_ms=min_silence_ms,
                         speech_pad_ms=speech_pad_ms)
    block = int(block_seconds * SAMPLE_RATE)
    regions: list[Region] = []
    for offset in range(0, len(audio), block):
        samples = audio[offset:offset + block]
        for found in get_speech_timestamps(samples, options):
            _append(regions, Region(offset + int(found["start"]), offset + int(found["end"])))
    return regions


def _append(regions: list[Region], region: Region, join_gap: int = SAMPLE_RATE // 10) -> None:
    if regions and region.start - regions[-1].end <= join_gap:
        regions[-1] = Region(regions[-1].start, max(region.end, regions[-1].end))
    else:
        regions.append(region)


def speech_seconds(regions: list[Region]) -> float:
    return sum(r.seconds for r in regions)
