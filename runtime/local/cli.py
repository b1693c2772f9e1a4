"""`podwhisperer transcribe AUDIO...`: the durable pipeline on this machine, with progress and a summary."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from podwhisperer.runtime.adapters.storage import FileObjectStore
    from podwhisperer.runtime.config import PipelineConfig
    from podwhisperer.runtime.context import EpisodeContext
    from podwhisperer.runtime.local.runner import LocalPipeline, LocalRun, RunProgress
    from podwhisperer.worker.progress import TranscriptionProgress

DEFAULT_OUTPUT_DIR = Path("podwhisperer-output")


def register(app: typer.Typer) -> None:
    """Add the local-mode commands to ``app``."""
    app.command("transcribe")(transcribe)


def transcribe(
    audio: Annotated[list[Path] | None, typer.Argument(help="Audio files (mp3, m4a, wav, ...).", exists=True,
                                                       dir_okay=False, readable=True)] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="podwhisperer.yaml")] = None,
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o", help="Where outputs and checkpoints go.")]
    = DEFAULT_OUTPUT_DIR,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Whisper model name or directory "
                                              "(default: the config's, else the packaged tiny.en).")] = None,
    device: Annotated[str | None, typer.Option("--device", help="cpu or cuda (default: cuda when available).")]
    = None,
    language: Annotated[str | None, typer.Option("--language", help="ISO code; 'auto' detects it.")] = None,
    context: Annotated[Path | None, typer.Option(
        "--context", help="Episode context YAML (title, description, speakers, vocabulary, language); default: "
        "<audio stem>.podwhisperer.yaml next to the audio, when present.", exists=True, dir_okay=False)] = None,
    speaker: Annotated[list[str] | None, typer.Option(
        "--speaker", help="'Name: description' of someone in this episode (repeatable).")] = None,
    feed: Annotated[str | None, typer.Option("--feed", help="A podcast RSS/Atom feed URL (or file): "
                                             "transcribe its episodes, newest first.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="With --feed: at most N episodes.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="With --feed: episodes published on or after "
                                              "this date (2024-01-31).")] = None,
    episode: Annotated[list[str] | None, typer.Option("--episode", help="With --feed: only this GUID or title "
                                                      "(repeatable).")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Log to the terminal, with tracebacks "
                                        "(otherwise logs go to OUTPUT_DIR/.podwhisperer/podwhisperer.log).")]
    = False,
) -> None:
    """Transcribe audio locally: captions, transcripts and publish-ready files in OUTPUT_DIR, resumable after Ctrl-C.

    Exit status: 0 when every file completed, 1 when one failed or was refused (each named on one line
    on stderr), 2 for a bad config or context, 130 after Ctrl-C.
    """
    from rich.console import Console

    from podwhisperer.runtime.local.runner import input_problems

    console, errors = Console(), Console(stderr=True, soft_wrap=True, highlight=False)
    if bool(audio) == bool(feed):
        errors.print("error: give audio files or --feed URL (one of the two)", markup=False)
        raise typer.Exit(2)
    if feed and (context or speaker):
        errors.print("error: --context and --speaker are for audio files; feed episodes take theirs from "
                     "the feed (title, description, podcast:person, language)", markup=False)
        raise typer.Exit(2)
    cfg = _load_config(config, model, language, errors)
    audio = list(dict.fromkeys(audio or []))  # the same path twice is one file
    problems = input_problems(audio, cfg)
    if problems:  # refused before any work
        for problem in problems:
            errors.print(problem, markup=False)
        raise typer.Exit(1)
    contexts = {path: _episode_context(path, context, speaker or [], errors) for path in audio}
    with _logging(output_dir, debug) as log_file:
        from podwhisperer.worker.progress import TranscriptionProgress

        transcription = TranscriptionProgress()  # audio seconds inside the transcribe step, for the display
        pipeline = _build_pipeline(output_dir, cfg, device, console, transcription)
        if feed:
            from podwhisperer.runtime.feed.cli import run_feed_command

            try:
                def run_episode(path: Path, episode_context: EpisodeContext) -> LocalRun:
                    return _run_one(pipeline, path, console, episode_context, transcription)

                raise typer.Exit(run_feed_command(feed, limit, since, episode or [], output_dir, console,
                                                  run_episode, pipeline.store.path_of))
            finally:
                pipeline.close()
        try:
            runs = [_run_one(pipeline, path, console, contexts[path], transcription) for path in audio]
            _print_summary(console, runs, pipeline.store)
        except KeyboardInterrupt:
            console.print("[yellow]Interrupted.[/] Completed steps are checkpointed; run the same command to resume.")
            raise typer.Exit(130) from None
        except FileExistsError as exc:
            errors.print(f"error: {exc}", markup=False)
            raise typer.Exit(1) from None
        finally:
            pipeline.close()
    failures = [run for run in runs if run.status != "completed"]
    for run in failures:
        errors.print(f"{run.audio}: {run.error or _not_completed(run)}", markup=False)
    if failures and log_file is not None:
        errors.print(f"(details in {log_file}; --debug shows them here)", markup=False)
    raise typer.Exit(1 if failures else 0)


def _not_completed(run: LocalRun) -> str:
    reason = run.result.get("reason")
    return f"{run.status}: {reason}" if reason else run.status


@contextmanager
def _logging(output_dir: Path, debug: bool) -> Iterator[Path | None]:
    """Log records (and their tracebacks) go to a file under OUTPUT_DIR, or with ``--debug`` to stderr;
    without a handler Python would print every warning's traceback on the terminal."""
    from podwhisperer.runtime.local.runner import STATE_DIR

    log_file = None if debug else output_dir / STATE_DIR / "podwhisperer.log"
    if log_file is None:
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
    else:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    try:
        yield log_file
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()


def _load_config(path: Path | None, model: str | None, language: str | None, console: Console) -> PipelineConfig:
    from podwhisperer.runtime.config import ConfigError, PipelineConfig, load_config, transcription_flags

    try:
        cfg = load_config(path) if path else PipelineConfig()
        overrides = transcription_flags(model, language)
        return cfg.with_overrides({"transcription": overrides}) if overrides else cfg
    except ConfigError as exc:
        console.print(exc.report(), markup=False, style="red")
        raise typer.Exit(2) from None


def _episode_context(audio: Path, path: Path | None, speakers: list[str], console: Console) -> EpisodeContext:
    """--context FILE, else the sidecar next to the audio, plus --speaker entries; exit 2 with one line per problem."""
    from podwhisperer.runtime.config import ConfigError
    from podwhisperer.runtime.context import EpisodeContext, load_context, parse_speaker_flag, sidecar_key

    sidecar = audio.parent / sidecar_key(audio.name)
    try:
        context = load_context(path) if path else (load_context(sidecar) if sidecar.is_file() else EpisodeContext())
        return context.with_speakers([parse_speaker_flag(value) for value in speakers])
    except ConfigError as exc:
        console.print(f"[red]{exc.report()}[/]")
        raise typer.Exit(2) from None


def _build_pipeline(output_dir: Path, cfg: PipelineConfig, device: str | None, console: Console,
                    transcription: TranscriptionProgress | None = None) -> LocalPipeline:
    from podwhisperer.runtime.local.runner import LocalPipeline, worker_job_runner

    output_dir.mkdir(parents=True, exist_ok=True)
    holder: dict[str, Any] = {}

    def run_job(job: Any) -> dict[str, Any]:
        if "runner" not in holder:  # models load on the first real job, not for a fully cached re-run
            from podwhisperer.worker.models import default_device

            holder["runner"] = worker_job_runner(pipeline.store, cfg, device=device or default_device(),
                                                 on_notice=lambda note: console.print(f"[yellow]notice:[/] {note}"),
                                                 progress=transcription)
        result: dict[str, Any] = holder["runner"](job)
        return result

    pipeline = LocalPipeline(output_dir, cfg, run_job, logger=logging.getLogger("podwhisperer.local"))
    return pipeline


def _run_one(pipeline: LocalPipeline, audio: Path, console: Console, context: EpisodeContext,
             transcription: TranscriptionProgress | None = None) -> LocalRun:
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        display = _ProgressDisplay(progress, transcription)
        run = pipeline.transcribe(audio, on_progress=display.update, context=context)
    for notice in _notices(run):
        console.print(f"[yellow]notice:[/] {notice}")
    return run


def _notices(run: LocalRun) -> list[str]:
    """One-line notices the stages left (chapters without Bedrock, a skipped chapters answer, ...)."""
    steps = run.result.get("steps") or {}
    return [str(stats["notice"]) for stats in steps.values() if isinstance(stats, dict) and stats.get("notice")]


class _ProgressDisplay:
    """A header line, then one row per step (spinner while running, full bar when done) and an overall
    row counting finished steps. The workflow skips steps by configuration, so there is no fixed total."""

    def __init__(self, progress: Progress, transcription: TranscriptionProgress | None = None) -> None:
        self.progress = progress
        self.overall: TaskID | None = None
        self.rows: dict[str, TaskID] = {}
        self.transcription = transcription  # audio seconds inside the transcribe step (worker in-process)
        self.audio_row: TaskID | None = None

    def _update_audio_row(self) -> None:
        """``transcribe 12:30 / 1:00:00 audio (21%), 4.2x realtime, ETA 11:19`` with a bar in audio seconds."""
        snapshot = self.transcription.snapshot() if self.transcription is not None else None
        if snapshot is None:
            return
        description = f"    [cyan]{snapshot.describe()}[/]"
        if self.audio_row is None:
            self.audio_row = self.progress.add_task(description, total=max(snapshot.total_seconds, 1e-6))
        self.progress.update(self.audio_row, total=max(snapshot.total_seconds, 1e-6),
                             completed=snapshot.done_seconds, description=description)

    def update(self, run: RunProgress) -> None:
        if self.overall is None:
            self.progress.console.print(f"[bold]{run.audio.name}[/] → {run.input_key} "
                                        f"({'resuming' if run.resumed else 'new run'} {run.execution_name})")
            self.overall = self.progress.add_task("pipeline", total=None)
        done = 0
        for name, status in run.steps:
            if name not in self.rows:
                self.rows[name] = self.progress.add_task(f"  {name}", total=1)
            if status in ("SUCCEEDED", "FAILED", "TIMED_OUT", "CANCELLED", "STOPPED"):
                self.progress.update(self.rows[name], completed=1, description=f"  {name} [dim]{status.lower()}[/]")
                done += 1
        self._update_audio_row()
        label = f"pipeline [dim]{done} step{'' if done == 1 else 's'} done[/]"
        if run.finished:
            self.progress.update(self.overall, total=max(done, 1), completed=max(done, 1), description=label)
        else:
            self.progress.update(self.overall, completed=done, description=label)


def _print_summary(console: Console, runs: list[LocalRun], pipeline_store: FileObjectStore) -> None:
    from rich.table import Table

    table = Table(title="podwhisperer transcribe")
    for column in ("file", "status", "audio", "took", "realtime", "words", "speakers"):
        table.add_column(column, overflow="fold")
    for run in runs:
        table.add_row(*_summary_row(run))
    console.print(table)
    for run in runs:
        for path in _output_paths(run, pipeline_store):
            console.print(f"  {path}", soft_wrap=True)
    console.print(f"(work files and checkpoints in {pipeline_store.root / '.podwhisperer'})")


def _output_paths(run: LocalRun, store: FileObjectStore) -> list[Path]:
    keys = run.result.get("outputKeys") or {}
    files = [keys.get("refinedTranscript"), *sorted((keys.get("captions") or {}).values())]
    return [store.path_of(key) for key in files if key]


def _summary_row(run: LocalRun) -> list[str]:
    detail = run.result
    counts = detail.get("transcript") or {}
    audio = counts.get("durationSeconds")
    worker = (detail.get("transcription") or {}).get("workerStats") or {}
    processing = worker.get("processing_seconds") if isinstance(worker, dict) else None
    realtime = f"{processing / audio:.2f}x" if processing and audio else "-"
    if (detail.get("transcription") or {}).get("reused") or (isinstance(worker, dict) and worker.get("reused")):
        realtime = "reused"  # the raw transcript of an earlier run was used: no transcription time to report
    status = run.status + (" (resumed)" if run.resumed else "")
    return [run.audio.name, status, f"{audio:.1f}s" if audio else "-", f"{run.seconds:.1f}s", realtime,
            str(counts.get("words", "-")), str(counts.get("speakers", "-"))]
