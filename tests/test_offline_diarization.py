"""The offline diarizer (Resemblyzer voice embeddings + spectral clustering): speakers with no HF token."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fakes.speech import SAMPLE_DIR, rttm_turns

from podwhisperer.runtime.config import TranscriptionConfig
from podwhisperer.worker.models import ModelCache, Unavailable
from podwhisperer.worker.offline_diarization import (
    DIARIZER_NAME,
    EmbeddingDiarizer,
    OfflineDiarizationSettings,
    cluster_speakers,
)

pytest_plugins = ["worker_fixtures"]
REPO = Path(__file__).resolve().parents[1]
SETTINGS = OfflineDiarizationSettings()


def voices(counts: list[int], spread: float = 0.35, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Unit embeddings scattered around one random direction per speaker (``counts[k]`` windows of speaker k)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(counts), 256))
    rows, truth = [], []
    for speaker, count in enumerate(counts):
        points = centres[speaker] + spread * np.linalg.norm(centres[speaker]) * rng.normal(size=(count, 256)) / 16
        rows.append(points)
        truth += [speaker] * count
    embeddings = np.concatenate(rows)
    return embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True), np.array(truth)


def best_accuracy(truth: list[Any], hypothesis: list[Any]) -> float:
    """Share of items labelled right under the best one-to-one mapping of hypothesis labels to true ones."""
    labels, names = sorted(set(hypothesis)), sorted(set(truth))
    best = 0
    for perm in itertools.permutations(names, min(len(labels), len(names))):
        mapping = dict(zip(labels, perm, strict=False))
        best = max(best, sum(mapping.get(h) == t for h, t in zip(hypothesis, truth, strict=True)))
    return best / len(truth)


# ----- clustering logic (fast, no model) ------------------------------------------------------------

@pytest.mark.parametrize("counts", [[60, 40], [50, 30, 40], [30, 30, 30, 30]])
def test_the_number_of_speakers_is_estimated(counts: list[int]) -> None:
    embeddings, truth = voices(counts)
    labels = cluster_speakers(embeddings, SETTINGS)
    assert len(set(labels)) == len(counts)
    assert best_accuracy(list(truth), list(labels)) >= 0.95


def test_one_voice_comes_out_as_one_speaker() -> None:
    embeddings, _ = voices([120])
    assert set(cluster_speakers(embeddings, SETTINGS)) == {0}


def test_exact_and_bounded_speaker_counts_are_honoured() -> None:
    embeddings, _ = voices([40, 40, 40])
    assert len(set(cluster_speakers(embeddings, SETTINGS, num_speakers=2))) == 2
    assert len(set(cluster_speakers(embeddings, SETTINGS, max_speakers=2))) <= 2
    one_voice, _ = voices([90])
    assert len(set(cluster_speakers(one_voice, SETTINGS, min_speakers=2))) == 2


def test_many_windows_are_clustered_on_a_bounded_subset() -> None:
    """An episode's worth of windows: the affinity matrix stays max_cluster_windows² however long it is."""
    embeddings, truth = voices([6000, 4000])
    settings = OfflineDiarizationSettings(max_cluster_windows=500)
    labels = cluster_speakers(embeddings, settings)
    assert best_accuracy(list(truth), list(labels)) >= 0.95


def test_the_cache_falls_back_to_the_offline_diarizer_and_says_why(tmp_path: Path) -> None:
    models = ModelCache(device="cpu", download_root=str(tmp_path))  # no token, nothing cached
    cfg = TranscriptionConfig(diarization_model="pyannote/speaker-diarization-community-1")
    diarizer = models.diarizer(cfg)
    assert isinstance(diarizer, EmbeddingDiarizer) and diarizer.name == DIARIZER_NAME
    assert any("offline diarizer" in note and "no Hugging Face token" in note for note in models.diarizer_notes(cfg))
    no_fallback = ModelCache(device="cpu", download_root=str(tmp_path), offline_diarization=False)
    assert isinstance(no_fallback.diarizer(cfg), Unavailable)


# ----- real speech --------------------------------------------------------------------------------------

@pytest.mark.speech
def test_word_speakers_match_the_sample_rttm(worker_models: Any) -> None:
    """pyannote's sample.wav (a real two-person phone call), transcribed and diarized with no HF model."""
    from test_worker_speech import speaker_at

    from podwhisperer.worker.speech import transcribe_file

    transcript = transcribe_file(SAMPLE_DIR / "sample.wav", TranscriptionConfig(model="tiny.en"), worker_models,
                                 source_key="sample.wav", etag=None)
    words = list(transcript.words())
    truth = [speaker_at(rttm_turns(), w.start, w.end) for w in words]
    accuracy = best_accuracy(truth, [w.speaker for w in words])
    assert accuracy >= 0.9, f"word-level speaker accuracy {accuracy:.3f}"
    meta = transcript.metadata
    assert meta is not None and meta.diarized is True and meta.extra["diarizer"] == DIARIZER_NAME
    assert any("offline diarizer" in note for note in meta.notes)
    from podwhisperer.worker.job import _stats

    stats = _stats(transcript, reused=False, wall=1.0)  # the callback's stats, which the completion event carries
    assert (stats["diarizer"], stats["speakers"]) == (DIARIZER_NAME, 2)


@pytest.mark.speech
def test_the_shipped_two_voice_sample_gets_two_speakers() -> None:
    from faster_whisper.audio import decode_audio

    from podwhisperer.worker.voice_encoder import VoiceEncoder

    turns = EmbeddingDiarizer(VoiceEncoder())(decode_audio(str(REPO / "samples" / "two-voices.mp3")))
    assert turns["speaker"].nunique() == 2
    assert (turns["end"] > turns["start"]).all()
