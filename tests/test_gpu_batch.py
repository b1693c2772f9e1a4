"""On a GPU the batch size follows the card's free memory; the config's value always wins."""

from __future__ import annotations

import pytest

from podwhisperer.runtime.config import TranscriptionConfig
from podwhisperer.worker.gpu_batch import GIB, MAX_BATCH, batch_size_for_free_memory, model_size_class
from podwhisperer.worker.models import ModelCache


@pytest.mark.parametrize(("model", "size"), [("large-v3", "large"), ("distil-large-v3", "large"),
                                             ("large-v3-turbo", "turbo"), ("/models/medium.en/", "medium"),
                                             ("tiny.en", "tiny"), ("Systran/faster-whisper-small", "small")])
def test_model_size_class(model: str, size: str) -> None:
    assert model_size_class(model) == size


def test_a_bigger_card_gets_a_bigger_batch_and_a_full_card_still_gets_one() -> None:
    t4 = batch_size_for_free_memory(12 * GIB, "large-v3")  # 16 GB card after Whisper large loaded
    a10g = batch_size_for_free_memory(20 * GIB, "large-v3")  # 24 GB card
    assert 1 < t4 < 20 <= a10g <= MAX_BATCH  # batch 20 on 16 GB ran out of memory (whisperX #315)
    assert batch_size_for_free_memory(1 * GIB, "large-v3") == 1
    assert batch_size_for_free_memory(80 * GIB, "tiny") == MAX_BATCH


def test_model_cache_uses_the_probe_on_cuda_only_and_the_config_wins() -> None:
    calls: list[int] = []

    def probe() -> int:
        calls.append(1)
        return 12 * GIB

    cuda = ModelCache(device="cuda", gpu_free_bytes=probe)
    expected = batch_size_for_free_memory(12 * GIB, "large-v3")
    assert cuda.batch_size_for(TranscriptionConfig(model="large-v3")) == expected
    assert cuda.batch_size_for(TranscriptionConfig(model="large-v3", batch_size=3)) == 3
    assert ModelCache(device="cpu", gpu_free_bytes=probe).batch_size_for(TranscriptionConfig()) == 4
    assert len(calls) == 1


def test_an_unreadable_card_falls_back_to_sixteen() -> None:
    def broken() -> int:
        raise RuntimeError("CUDA driver version is insufficient")

    assert ModelCache(device="cuda", gpu_free_bytes=broken).batch_size_for(TranscriptionConfig()) == 16
