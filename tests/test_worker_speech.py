"""Real transcription with the packaged tiny.en on real (pyannote sample) and generated speech."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from fakes.speech import SAMPLE_DIR, rttm_turns, stm_reference, turns_diarizer, wer

from podwhisperer.runtime.adapters.storage import FileObjectStore
from podwhisperer.runtime.config import PipelineConfig, TranscriptionConfig
from podwhisperer.runtime.transcript import Transcript
from podwhisperer.worker.job import TranscriptionJob
from podwhisperer.worker.messages import JobMessage
from podwhisperer.worker.speech import transcribe_file

pytestmark = pytest.mark.speech
pytest_plugins = ["worker_fixtures"]  # worker_models, worker_dialogue, worker_moto, worker_callback_shim

TINY = TranscriptionConfig(model="tiny.en")


def stm_turns() -> list[dict[str, Any]]:
    turns = []
    for line in (SAMPLE_DIR / "sample.stm").read_text().splitlines():
        parts = line.split()
        turns.append({"speaker": parts[2], "start": float(parts[3]), "end": float(parts[4])})
    return turns


def speaker_at(turns: list[dict[str, Any]], start: float, end: float) -> str:
    """The turn overlapping [start, end] most, else the one nearest to its middle."""
    def overlap(turn: dict[str, Any]) -> float:
        return min(end, turn["end"]) - max(start, turn["start"])

    best = max(turns, key=overlap)
    if overlap(best) > 0:
        return str(best["speaker"])
    middle = (start + end) / 2
    return str(min(turns, key=lambda t: min(abs(middle - t["start"]), abs(middle - t["end"])))["speaker"])


def assert_word_timings_sane(transcript: Transcript, duration: float) -> None:
    words = list(transcript.words())
    assert words, "expected word timings"
    previous = 0.0
    for word in words:
        assert word.start is not None and word.end is not None, word
        assert 0.0 <= word.start <= word.end <= duration + 0.05, word
        assert word.start >= previous - 1e-6, f"word {word.word!r} starts before the previous word"
        previous = word.start


@pytest.fixture(scope="module")
def sample_transcript(worker_models: Any) -> tuple[Transcript, Any]:
    diarizer = turns_diarizer(rttm_turns())
    transcript = transcribe_file(SAMPLE_DIR / "sample.wav", TINY, worker_models, source_key="input/sample.wav",
                                 etag="abc", diarizer=diarizer)
    return transcript, diarizer


def test_sample_wer_is_within_bound(sample_transcript: tuple[Transcript, Any]) -> None:
    transcript, _ = sample_transcript
    hypothesis = " ".join(s.text for s in transcript.segments)
    assert wer(stm_reference(), hypothesis) <= 0.35


def test_sample_speakers_match_the_reference_turns(sample_transcript: tuple[Transcript, Any]) -> None:
    """Diarization turns come from sample.rttm; the truth for each word from sample.stm (independent)."""
    transcript, diarizer = sample_transcript
    truth = stm_turns()
    # rttm labels are kept as they are; only the comparison maps them to the stm names, by overlap
    rttm_to_stm = {t["speaker"]: speaker_at(truth, t["start"], t["end"]) for t in rttm_turns()}
    words = list(transcript.words())
    right = sum(1 for w in words if w.speaker and rttm_to_stm[w.speaker] == speaker_at(truth, w.start, w.end))
    assert right / len(words) >= 0.90, f"{right}/{len(words)} words have the right speaker"
    assert diarizer.calls == [{"num_speakers": None, "min_speakers": 1, "max_speakers": None}]
    assert all(s.speaker for s in transcript.segments)


def test_sample_word_timings_are_monotonic_and_inside_the_audio(sample_transcript: tuple[Transcript, Any]) -> None:
    transcript, _ = sample_transcript
    assert_word_timings_sane(transcript, duration=30.0)


def test_sample_metadata_describes_the_run(sample_transcript: tuple[Transcript, Any]) -> None:
    transcript, _ = sample_transcript
    meta = transcript.metadata
    assert meta is not None
    assert (meta.source_key, meta.source_etag) == ("input/sample.wav", "abc")
    assert (meta.model, meta.language) == ("tiny.en", "en")
    assert meta.audio_duration == pytest.approx(30.0, abs=0.01)
    assert (meta.aligned, meta.diarized, meta.device) == (False, True, "cpu")
    assert meta.extra["word_timing"] == "whisper"
    assert any("word timestamps" in note for note in meta.notes)
    stages = {r["stage"]: r["status"] for r in meta.stage_timings}
    assert stages["transcribe"] == "success" and stages["assign_speakers"] == "success"
    assert stages["detect_language"] == "skipped"
    round_trip = Transcript.from_json(transcript.to_json())
    assert round_trip.metadata == meta


def test_noisy_dialogue_wer_and_speakers(worker_models: Any, worker_dialogue: tuple[Path, dict[str, Any]]) -> None:
    path, reference = worker_dialogue
    transcript = transcribe_file(path, TINY, worker_models, source_key="input/d.wav", etag=None,
                                 diarizer=turns_diarizer(reference["turns"]))
    assert wer(reference["text"], " ".join(s.text for s in transcript.segments)) <= 0.15
    words = list(transcript.words())
    right = sum(1 for w in words if w.speaker == speaker_at(reference["turns"], w.start, w.end))
    assert right / len(words) >= 0.95
    assert_word_timings_sane(transcript, duration=reference["duration"] + 1.0)


def test_batched_path_without_alignment_or_diarization(worker_models: Any,
                                                       worker_dialogue: tuple[Path, dict[str, Any]]) -> None:
    """--no-align --no-diarize: whisperx's batched decoding, segments without words."""
    path, reference = worker_dialogue
    cfg = TINY.model_copy(update={"align": False, "diarize": False})
    transcript = transcribe_file(path, cfg, worker_models, source_key="input/d.wav", etag=None)
    assert wer(reference["text"], " ".join(s.text for s in transcript.segments)) <= 0.15
    meta = transcript.metadata
    assert meta is not None and meta.aligned is False and meta.diarized is False
    assert meta.extra["word_timing"] is None and meta.extra["batch_size"] == 4
    statuses = {r["stage"]: r["status"] for r in meta.stage_timings}
    assert statuses["load_align_model"] == "skipped" and statuses["diarize"] == "skipped"


def test_job_writes_the_raw_transcript_and_reuses_it(worker_models: Any, worker_dialogue: tuple[Path, dict[str, Any]],
                                                     tmp_path: Path) -> None:
    store = FileObjectStore(tmp_path / "bucket")
    source, _ = worker_dialogue
    (tmp_path / "bucket" / "input" / "shows").mkdir(parents=True)
    shutil.copyfile(source, tmp_path / "bucket" / "input" / "shows" / "ep 1.wav")
    calls = []

    def counting(*args: Any, **kwargs: Any) -> Transcript:
        calls.append(kwargs["source_key"])
        return transcribe_file(*args, **kwargs)

    config = PipelineConfig(transcription=TINY.model_copy(update={"diarize": False}))
    job = TranscriptionJob(store, worker_models, config, transcriber=counting, temp_root=tmp_path)
    etag = store.head("input/shows/ep 1.wav").etag
    message = JobMessage(s3_key="input/shows/ep 1.wav", etag=f'"{etag}"', callback_id="cb-1")

    first = job.run(message)
    assert first.raw_transcript_key == "output/shows/ep 1_raw_transcript.json"
    assert not first.reused and first.stats["words"] > 50 and first.stats["model"] == "tiny.en"
    assert len(str(first.to_wire()).encode()) < 4096
    raw = Transcript.from_json(store.get(first.raw_transcript_key))
    assert raw.metadata is not None and raw.metadata.source_etag == etag
    assert [r["stage"] for r in raw.metadata.stage_timings][:2] == ["download", "validate_audio"]

    second = job.run(message)
    assert second.reused and second.raw_transcript_key == first.raw_transcript_key
    assert calls == ["input/shows/ep 1.wav"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("podwhisperer-")] == []


def test_alignment_stage_runs_when_an_alignment_model_exists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The batched + wav2vec2 path, with a tiny random-weight model (plumbing: timings are meaningless)."""
    import nltk
    from fakes.speech import empty_punkt_tab, tiny_wav2vec2

    from podwhisperer.worker.models import ModelCache

    monkeypatch.setattr(nltk.data, "path", [str(empty_punkt_tab(tmp_path / "nltk")), *nltk.data.path])
    aligner = str(tiny_wav2vec2(tmp_path / "w2v"))
    models = ModelCache(device="cpu", compute_type="int8", threads=2, align_models={"en": aligner})
    cfg = TINY.model_copy(update={"diarize": False})
    transcript = transcribe_file(SAMPLE_DIR / "sample.wav", cfg, models, source_key="input/s.wav", etag=None)
    meta = transcript.metadata
    assert meta is not None and meta.aligned is True and meta.extra["word_timing"] == "wav2vec2"
    assert [r["stage"] for r in meta.stage_timings if r["status"] == "success"][-2:] == ["transcribe", "align"]
    words = list(transcript.words())
    assert len(words) > 50 and all(w.start is not None for w in words)
    assert transcript.word_segments is not None and len(transcript.word_segments) == len(words)
