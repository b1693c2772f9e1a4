"""TranscriptionJob without Whisper (a fake transcriber): keys, reuse, permanent failures, cleanup."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from fakes.audio import make_media
from fakes.transcripts import fake_transcriber

from podwhisperer.runtime.adapters.storage import FileObjectStore
from podwhisperer.runtime.config import PipelineConfig
from podwhisperer.runtime.transcript import Transcript
from podwhisperer.worker.job import PermanentJobError, TranscriptionJob, transcription_fingerprint
from podwhisperer.worker.messages import JobMessage
from podwhisperer.worker.models import ModelCache


@pytest.fixture()
def bucket(tmp_path: Path) -> FileObjectStore:
    return FileObjectStore(tmp_path / "bucket")


def upload(store: FileObjectStore, tmp_path: Path, key: str, kind: str = "tone") -> str:
    source = make_media(tmp_path / "media", kind)
    target = store.path_of(key)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    info = store.head(key)
    assert info is not None
    return info.etag


def make_job(store: FileObjectStore, tmp_path: Path, calls: list[str], config: PipelineConfig | None = None) -> Any:
    (tmp_path / "scratch").mkdir(exist_ok=True)
    return TranscriptionJob(store, ModelCache(), config or PipelineConfig(), transcriber=fake_transcriber(calls),
                            temp_root=tmp_path / "scratch")


def test_writes_the_raw_transcript_under_the_shared_output_key(bucket: FileObjectStore, tmp_path: Path) -> None:
    etag = upload(bucket, tmp_path, "input/season 2/ep.1.wav")
    calls: list[str] = []
    result = make_job(bucket, tmp_path, calls).run(JobMessage(s3_key="input/season 2/ep.1.wav", etag=etag,
                                                              callback_id="cb"))
    assert result.raw_transcript_key == "output/season 2/ep.1_raw_transcript.json"
    raw = Transcript.from_json(bucket.get(result.raw_transcript_key))
    assert raw.metadata is not None and raw.metadata.source_etag == etag
    assert raw.metadata.extra["transcription_fingerprint"] == transcription_fingerprint(PipelineConfig().transcription)
    assert raw.metadata.extra["input_audio"]["duration"] == pytest.approx(2.0, abs=0.05)
    gpu = raw.metadata.extra["cost"]["gpu"]  # the worker's time, priced (not on a GPU here: no dollars)
    assert gpu["seconds"] == pytest.approx(sum(r["seconds"] for r in raw.metadata.stage_timings), abs=0.01)
    assert gpu["device"] == raw.metadata.device and gpu["usd"] is None and "llm" not in raw.metadata.extra["cost"]
    assert result.stats["words"] == 2 and result.stats["speakers"] == 1 and not result.reused
    assert set(result.stats["stage_seconds"]) >= {"download", "validate_audio", "transcribe", "upload_raw_transcript"}
    assert list((tmp_path / "scratch").iterdir()) == []  # the temporary download is gone


def test_same_etag_and_settings_reuse_the_transcript(bucket: FileObjectStore, tmp_path: Path) -> None:
    etag = upload(bucket, tmp_path, "input/a.wav")
    calls: list[str] = []
    job = make_job(bucket, tmp_path, calls)
    message = JobMessage(s3_key="input/a.wav", etag=f'"{etag}"', callback_id="cb")
    job.run(message)
    again = job.run(message)
    assert again.reused and calls == ["input/a.wav"]
    assert again.stats["realtime_factor"] is None and again.stats["words"] == 2



def test_only_an_unreadable_existing_transcript_is_warned_about(bucket: FileObjectStore, tmp_path: Path,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    etag = upload(bucket, tmp_path, "input/a.wav")
    calls: list[str] = []
    job = make_job(bucket, tmp_path, calls)
    message = JobMessage(s3_key="input/a.wav", etag=etag, callback_id="cb")
    with caplog.at_level("WARNING", logger="podwhisperer.worker.job"):
        first = job.run(message)  # nothing to reuse yet: the usual case, silent
        assert not caplog.records
        bucket.put(first.raw_transcript_key, b"not json")
        again = job.run(message)
    assert not again.reused and calls == ["input/a.wav", "input/a.wav"]
    assert [r.getMessage() for r in caplog.records if "unreadable" in r.getMessage()]


def test_new_upload_or_other_settings_are_transcribed_again(bucket: FileObjectStore, tmp_path: Path) -> None:
    upload(bucket, tmp_path, "input/a.wav")
    calls: list[str] = []
    job = make_job(bucket, tmp_path, calls)
    job.run(JobMessage(s3_key="input/a.wav", callback_id="cb"))
    job.run(JobMessage(s3_key="input/a.wav", callback_id="cb",
                       config_overrides={"transcription": {"num_speakers": 2}}))
    new_etag = upload(bucket, tmp_path, "input/a.wav", kind="mp3")  # replaced by another file
    result = job.run(JobMessage(s3_key="input/a.wav", etag=new_etag, callback_id="cb"))
    assert len(calls) == 3 and not result.reused


def test_changed_object_is_transcribed_with_a_note(bucket: FileObjectStore, tmp_path: Path) -> None:
    etag = upload(bucket, tmp_path, "input/a.wav")
    result = make_job(bucket, tmp_path, []).run(JobMessage(s3_key="input/a.wav", etag="0ld", callback_id="cb"))
    assert "changed after the job was queued" in result.stats["notes"][0]
    raw = Transcript.from_json(bucket.get(result.raw_transcript_key))
    assert raw.metadata is not None and raw.metadata.source_etag == etag


@pytest.mark.parametrize(("key", "kind", "overrides", "problem"), [
    ("input/notes.mp3", "text", {}, "not a readable audio or video file"),
    ("input/clip.mp4", "video", {}, "no audio stream"),
    ("input/empty.wav", "empty", {}, "empty"),
    ("input/long.mp3", "long", {}, "the limit is 2 min"),
    ("input/a.wav", "tone", {"transcription": {"num_speakers": 0}}, "Invalid config_overrides: transcription.num_"),
    ("elsewhere/a.wav", "tone", {}, "not under the input prefix"),
])
def test_bad_input_is_a_permanent_failure(bucket: FileObjectStore, tmp_path: Path, key: str, kind: str,
                                          overrides: dict[str, Any], problem: str) -> None:
    upload(bucket, tmp_path, key, kind)
    calls: list[str] = []
    with pytest.raises(PermanentJobError, match=problem):
        make_job(bucket, tmp_path, calls, PipelineConfig().with_overrides({"transcription": {"max_audio_minutes": 2}})
                 ).run(JobMessage(s3_key=key, callback_id="cb", config_overrides=overrides))
    assert calls == [] and list((tmp_path / "scratch").iterdir()) == []
    assert not any(k.startswith("output/") for k in bucket.list(""))


def test_missing_object_is_a_permanent_failure(bucket: FileObjectStore, tmp_path: Path) -> None:
    with pytest.raises(PermanentJobError, match="does not exist"):
        make_job(bucket, tmp_path, []).run(JobMessage(s3_key="input/gone.mp3", callback_id="cb"))


def test_transient_errors_propagate_and_clean_up(bucket: FileObjectStore, tmp_path: Path) -> None:
    upload(bucket, tmp_path, "input/a.wav")

    def out_of_memory(*args: Any, **kwargs: Any) -> Transcript:
        raise RuntimeError("CUDA out of memory")

    (tmp_path / "scratch").mkdir()
    job = TranscriptionJob(bucket, ModelCache(), PipelineConfig(), transcriber=out_of_memory,
                           temp_root=tmp_path / "scratch")
    with pytest.raises(RuntimeError, match="out of memory"):
        job.run(JobMessage(s3_key="input/a.wav", callback_id="cb"))
    assert list((tmp_path / "scratch").iterdir()) == []


def test_the_episode_context_is_recorded_in_the_raw_metadata(bucket: FileObjectStore, tmp_path: Path) -> None:
    etag = upload(bucket, tmp_path, "input/ep42.wav")
    overrides = {"episode": {"title": "Ep 42"}, "speakers": [{"name": "Grace Hopper", "description": "guest"}],
                 "transcription": {"hotwords": ["WhisperX"], "language": "en"}}
    calls: list[str] = []
    result = make_job(bucket, tmp_path, calls).run(JobMessage(s3_key="input/ep42.wav", etag=etag, callback_id="cb",
                                                              config_overrides=overrides))
    raw = Transcript.from_json(bucket.get(result.raw_transcript_key))
    assert raw.metadata is not None and raw.metadata.extra["episode_context"] == overrides
