"""Local mode end to end on real speech (tiny.en on the CPU): the shipped sample and pyannote's sample."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("whisperx")

from podwhisperer.runtime.config import PipelineConfig
from podwhisperer.runtime.local.runner import LocalPipeline, worker_job_runner

pytestmark = [pytest.mark.speech, pytest.mark.slow, pytest.mark.timeout(400)]

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "samples" / "two-voices.mp3"
PYANNOTE = Path(__import__("pyannote.audio").audio.__file__).parent / "sample" / "sample.wav"
CAPTIONS = ("vtt", "srt", "json", "txt", "md")


@pytest.fixture(autouse=True)
def offline_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    """No network here: fail model look-ups at once instead of retrying (diarization is then skipped)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


class CountingJobs:
    def __init__(self, pipeline: LocalPipeline) -> None:
        self.real = worker_job_runner(pipeline.store, pipeline.config)
        self.calls = 0

    def __call__(self, job: object) -> dict[str, object]:
        self.calls += 1
        return self.real(job)  # type: ignore[arg-type]


def transcribe(out: Path, *audio: Path) -> tuple[list[object], CountingJobs]:
    with LocalPipeline(out, PipelineConfig(), lambda job: jobs(job)) as pipeline:
        jobs = CountingJobs(pipeline)
        return [pipeline.transcribe(a, timeout=360) for a in audio], jobs


def assert_valid_outputs(out: Path, name: str) -> None:
    import srt
    import webvtt

    base = out / name
    refined = json.loads(Path(f"{base}_refined_transcript.json").read_text())
    assert sum(len(s.get("words", [])) for s in refined["segments"]) > 10
    assert len(webvtt.read_buffer(io.StringIO(Path(f"{base}_caption.vtt").read_text()))) > 0
    assert list(srt.parse(Path(f"{base}_caption.srt").read_text()))
    assert json.loads(Path(f"{base}_caption.json").read_text())
    for ext in ("txt", "md"):
        assert Path(f"{base}_caption.{ext}").read_text().strip()
    # the publishing files, read back by independent readers; every refined word is in them
    from publish_helpers import parse_html, validate_schema

    words = [w for s in refined["segments"] for w in s["text"].split()]
    podcast = json.loads(Path(f"{base}_podcast_transcript.json").read_text())
    validate_schema(podcast, "podcast_transcript.schema.json")
    assert " ".join(s["body"] for s in podcast["segments"]).split() == words
    assert parse_html(Path(f"{base}_podcast_transcript.html").read_text()).text_of("p").split() == words
    validate_schema(json.loads(Path(f"{base}_chapters.json").read_text()), "podcast_chapters.schema.json")
    assert "podcast:transcript" in Path(f"{base}_podcast.xml").read_text()
    parse_html(Path(f"{base}_transcript.html").read_text())


def test_real_speech_writes_valid_files_and_a_second_run_redoes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    runs, jobs = transcribe(out, SHIPPED, PYANNOTE)

    assert [r.status for r in runs] == ["completed", "completed"], [r.error for r in runs]  # type: ignore[attr-defined]
    assert jobs.calls == 2
    assert_valid_outputs(out, "two-voices")
    assert_valid_outputs(out, "sample")
    first_words = runs[0].result["transcript"]["words"]  # type: ignore[attr-defined]
    assert first_words > 30

    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    again, jobs_again = transcribe(out, SHIPPED, PYANNOTE)
    assert [r.status for r in again] == ["completed", "completed"]  # type: ignore[attr-defined]
    assert all(r.resumed for r in again) and jobs_again.calls == 0  # type: ignore[attr-defined]
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == before


def test_real_speech_run_interrupted_after_transcription_finishes_next_time(tmp_path: Path) -> None:
    out = tmp_path / "out"
    audio = tmp_path / "pyannote sample.wav"
    shutil.copyfile(PYANNOTE, audio)
    child = subprocess.run([sys.executable, str(REPO / "tests" / "local_fakes.py"), str(out), str(audio),
                            "/normalization-", "real"], capture_output=True, timeout=360, cwd=REPO / "tests")
    assert child.returncode == 4, child.stderr.decode()[-3000:]
    assert (out / "pyannote sample_raw_transcript.json").is_file()
    assert not (out / "pyannote sample_caption.vtt").exists()

    runs, jobs = transcribe(out, audio)

    assert runs[0].status == "completed" and runs[0].resumed, runs[0].error  # type: ignore[attr-defined]
    assert jobs.calls == 0, "transcription is not repeated"
    assert_valid_outputs(out, "pyannote sample")
    assert all((out / f"pyannote sample_caption.{ext}").is_file() for ext in CAPTIONS)
