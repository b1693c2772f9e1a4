"""Local mode on the durable SDK's own executor: checkpoints on disk, resume, and reuse."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from fakes.audio import AudioClips
from fakes.local import FakeJob
from typer.testing import CliRunner

from podwhisperer.runtime.config import PipelineConfig, parse_config
from podwhisperer.runtime.local import cli as local_cli
from podwhisperer.runtime.local import runner as local_runner
from podwhisperer.runtime.local.runner import LocalPipeline, RunProgress

pytestmark = pytest.mark.timeout(120)
CAPTIONS = {"vtt", "srt", "json", "txt", "md"}
PODCAST = {"podcast_json", "podcast_html", "page", "chapters", "rss"}  # show notes need a model
WORK = ".podwhisperer/store/work"
"""Local layout (issue #8): published files directly in the output folder, work files hidden."""


def published(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.is_file()}


@pytest.fixture()
def audio(tmp_path: Path, audio_clips: AudioClips) -> Path:
    path = tmp_path / "my show #1.mp3"
    path.write_bytes(audio_clips.tone())  # real audio: the real worker job probes it
    return path


def run(out: Path, audio: Path, config: PipelineConfig | None = None) -> tuple[object, FakeJob]:
    config = config or PipelineConfig()
    with LocalPipeline(out, config, lambda job: fake(job)) as pipeline:
        fake = FakeJob(pipeline.store, config)
        return pipeline.transcribe(audio, timeout=60), fake


def mtimes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def test_local_run_writes_the_aws_file_names_and_a_completion_event(tmp_path: Path, audio: Path) -> None:
    out = tmp_path / "out"
    result, _ = run(out, audio)

    assert result.status == "completed", result.error  # type: ignore[attr-defined]
    assert published(out) == {"my show #1.mp3", "my show #1_raw_transcript.json",
                              "my show #1_refined_transcript.json"} | {
        f"my show #1_caption.{ext}" for ext in CAPTIONS} | {
        "my show #1_podcast_transcript.json", "my show #1_podcast_transcript.html", "my show #1_transcript.html",
        "my show #1_chapters.json", "my show #1_podcast.xml"}
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == [".podwhisperer"]
    umask = local_runner_umask()
    assert {oct((out / name).stat().st_mode & 0o777) for name in published(out) if name != "my show #1.mp3"} == {
        oct(0o666 & ~umask)}, "outputs are readable as the umask allows (not 0600)"
    events = [json.loads(line) for line in (out / ".podwhisperer/events.jsonl").read_text().splitlines()]
    assert [e["detail-type"] for e in events] == ["Pipeline Completed"]
    assert list((out / ".podwhisperer/executions").glob("*.json")), "checkpoints live under the output dir"


def local_runner_umask() -> int:
    import os

    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_progress_callback_follows_the_steps_until_the_run_has_finished(tmp_path: Path, audio: Path) -> None:
    config = PipelineConfig()
    seen: list[RunProgress] = []
    with LocalPipeline(tmp_path / "out", config, lambda job: fake(job)) as pipeline:
        fake = FakeJob(pipeline.store, config)
        result = pipeline.transcribe(audio, timeout=60, on_progress=seen.append, poll_interval=0.01)

    assert result.status == "completed", result.error
    assert [p.finished for p in seen] == [False] * (len(seen) - 1) + [True]
    assert {(p.input_key, p.execution_name, p.resumed) for p in seen} == {
        (result.input_key, result.execution_name, False)}
    final = dict(seen[-1].steps)
    assert {"capture-start", "transcribe", "captions", "publish", "completion-event"} <= set(final)
    assert result.execution_name not in final, "the execution itself is not a step"
    assert set(final.values()) == {"SUCCEEDED"}


def test_transcribe_command_shows_every_step_and_a_summary(tmp_path: Path, audio: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_runner, "worker_job_runner", lambda store, config, **_: FakeJob(store, config))
    app = typer.Typer()
    local_cli.register(app)
    out = tmp_path / "out"

    result = CliRunner().invoke(app, [str(audio), "--output-dir", str(out), "--device", "cpu"],
                                env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    assert "my show #1.mp3 → input/my show #1.mp3 (new run my-show--1-" in result.output
    assert "completion-event succeeded" in result.output and "steps done" in result.output
    assert "completed" in result.output and str(out / "my show #1_caption.srt") in result.output


def test_second_run_redoes_nothing(tmp_path: Path, audio: Path) -> None:
    out = tmp_path / "out"
    run(out, audio)
    before = mtimes(out)

    again, fake = run(out, audio)

    assert again.status == "completed" and again.resumed  # type: ignore[attr-defined]
    assert fake.calls == []
    assert mtimes(out) == before


def test_changed_caption_config_only_redoes_captions(tmp_path: Path, audio: Path) -> None:
    out = tmp_path / "out"
    run(out, audio)
    before = mtimes(out / WORK)
    changed = parse_config({"captions": {"generate_markdown": False, "max_chars_per_line": 30}})

    result, fake = run(out, audio, changed)

    assert result.status == "completed" and not result.resumed  # type: ignore[attr-defined]
    assert fake.transcribed == 0, "the raw transcript is reused"
    after = mtimes(out / WORK)
    stage_files = [k for k in before if "/captions-" not in k and "/events/" not in k]
    assert stage_files and all(after[k] == before[k] for k in stage_files), "no stage before captions re-ran"
    new_captions = {k for k in set(after) - set(before) if "/captions-" in k}
    assert {k.rsplit(".", 1)[1] for k in new_captions} == (CAPTIONS | PODCAST) - {"md"}


@pytest.mark.parametrize("crash_at", ["job", "/normalization-", "/captions-", "output/my show #1_caption.srt"])
def test_interrupted_run_finishes_on_the_next_run(tmp_path: Path, audio: Path, crash_at: str) -> None:
    out = tmp_path / "out"
    child = subprocess.run([sys.executable, str(Path(__file__).parent / "local_fakes.py"), str(out), str(audio),
                            crash_at], capture_output=True, timeout=60, cwd=Path(__file__).parent)
    assert child.returncode in (3, 4), child.stderr.decode()[-2000:]
    assert not (out / "my show #1_refined_transcript.json").exists()
    before = mtimes(out / WORK) if (out / WORK).exists() else {}
    crashed_write = {k: (out / WORK / k).read_bytes() for k in before if crash_at in "/" + k}

    result, fake = run(out, audio)

    assert result.status == "completed", result.error  # type: ignore[attr-defined]
    assert result.resumed  # type: ignore[attr-defined]
    assert len(fake.calls) == (1 if crash_at == "job" else 0), "only an unanswered job is delivered again"
    after = mtimes(out / WORK)
    untouched = [k for k in before if "/events/" not in k and k not in crashed_write]
    assert all(after[k] == before[k] for k in untouched), "finished steps did not re-run"
    assert all((out / WORK / k).read_bytes() == data for k, data in crashed_write.items()), "rewritten identically"
    names = published(out)
    assert "my show #1_refined_transcript.json" in names and len(names) == 1 + 2 + len(CAPTIONS) + len(PODCAST)


def test_transcribe_takes_the_episode_context_from_a_file_and_speaker_flags(
        tmp_path: Path, audio: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    jobs: list[object] = []

    def recording_runner(store: object, config: PipelineConfig, **_: object) -> object:
        fake = FakeJob(store, config)

        def run(job: object) -> object:
            jobs.append(job)
            return fake(job)
        return run

    monkeypatch.setattr(local_runner, "worker_job_runner", recording_runner)
    app = typer.Typer()
    local_cli.register(app)
    context = tmp_path / "ep.yaml"
    context.write_text("title: Episode 1\nvocabulary: [WhisperX]\n")
    out = tmp_path / "out"

    result = CliRunner().invoke(app, [str(audio), "-o", str(out), "--device", "cpu", "--context", str(context),
                                      "--speaker", "Grace Hopper: guest, compilers"], env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    assert "<title>Episode 1</title>" in (out / "my show #1_transcript.html").read_text()
    assert jobs[0].config_overrides["speakers"] == [{"name": "Grace Hopper", "description": "guest, compilers"}]
    assert jobs[0].config_overrides["transcription"]["hotwords"] == ["WhisperX"]
    assert "notice: chapters: no Bedrock model available" in result.output

    bad = tmp_path / "bad.yaml"
    bad.write_text("guests: [x]\n")
    failed = CliRunner().invoke(app, [str(audio), "-o", str(out), "--context", str(bad)])
    assert failed.exit_code == 2 and "guests: unknown key" in failed.output and "Traceback" not in failed.output


def test_a_file_the_tool_did_not_put_there_is_never_replaced(tmp_path: Path, audio: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / audio.name).write_bytes(b"someone else's recording")
    with pytest.raises(FileExistsError, match="choose another --output-dir"):
        run(out, audio)
    assert (out / audio.name).read_bytes() == b"someone else's recording"
