"""``podwhisperer cloud …``: operate a deployed pipeline (upload, backfill, status, reprocess, warmup, cost).

Every command finds the pipeline with ``--stack NAME`` (``pulumi stack output``) or ``--bucket``/
``--region`` (plus ``--function``/``--queue-url`` where needed). Problems are one line and exit 1;
``--debug`` shows the traceback.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from podwhisperer.runtime.cloud.stack import Aws, StackInfo
    from podwhisperer.runtime.config import PipelineConfig

app = typer.Typer(help="Operate a deployed pipeline: upload, backfill a feed, status, reprocess, warm-up, cost.",
                  no_args_is_help=True)

P = ParamSpec("P")
R = TypeVar("R")

Stack = Annotated[str | None, typer.Option("--stack", "-s", help="Pulumi stack of the pipeline "
                                           "(reads `pulumi stack output`).")]
Cwd = Annotated[str | None, typer.Option("--cwd", help="Folder of the Pulumi project (default: here).")]
Bucket = Annotated[str | None, typer.Option("--bucket", help="The pipeline's bucket (instead of --stack).")]
Region = Annotated[str | None, typer.Option("--region", help="AWS region (with --bucket).")]
Function = Annotated[str | None, typer.Option("--function", help="The pipeline function (with --bucket).")]
QueueUrl = Annotated[str | None, typer.Option("--queue-url", help="The job queue (with --bucket).")]
Debug = Annotated[bool, typer.Option("--debug", help="Show tracebacks.")]


def friendly(command: Callable[P, R]) -> Callable[P, R]:
    """One line and exit 1 for the errors a user can fix; the traceback only with ``--debug``."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except typer.Exit:
            raise
        except Exception as exc:
            message = _user_message(exc)
            if message is None or kwargs.get("debug"):
                raise
            typer.echo(f"error: {message}", err=True)
            raise typer.Exit(1) from None

    return run


def _user_message(exc: Exception) -> str | None:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    from podwhisperer.runtime.cloud.reprocess import ReprocessError
    from podwhisperer.runtime.cloud.stack import StackError
    from podwhisperer.runtime.cloud.transfer import TransferError
    from podwhisperer.runtime.config import ConfigError
    from podwhisperer.runtime.feed.parse import FeedError

    if isinstance(exc, NoCredentialsError):
        return "no AWS credentials found: set AWS_PROFILE, run `aws sso login` or `aws configure`"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"AWS {exc.operation_name}: {error.get('Code', '?')}: {error.get('Message', '')}".rstrip(": ")
    if isinstance(exc, ConfigError):
        return exc.report()
    if isinstance(exc, StackError | TransferError | FeedError | ReprocessError | BotoCoreError | OSError):
        return str(exc)
    return None


def _console() -> Console:
    from rich.console import Console

    return Console()


def _stack(stack: str | None, cwd: str | None, bucket: str | None, region: str | None,
           function: str | None = None, queue_url: str | None = None) -> StackInfo:
    from podwhisperer.runtime.cloud.stack import StackError, from_flags, from_pulumi

    if stack and bucket:
        raise StackError("give --stack or --bucket, not both")
    if stack:
        return from_pulumi(stack, cwd)
    if bucket:
        return from_flags(bucket, region, queue_url=queue_url, function_name=function)
    raise StackError("which pipeline? pass --stack NAME (a deployed podwhisperer stack) or --bucket and --region")


def _aws(info: StackInfo) -> Aws:
    from podwhisperer.runtime.cloud.stack import Aws

    return Aws(info)


# region upload


@app.command("upload")
@friendly
def upload(
    files: Annotated[list[Path], typer.Argument(help="Audio files.", exists=True, dir_okay=False, readable=True)],
    context: Annotated[Path | None, typer.Option("--context", exists=True, dir_okay=False,
                                                 help="Per-episode context (YAML), uploaded first as the "
                                                 "episode's sidecar. Default: <file>.podwhisperer.yaml "
                                                 "next to the file, when present.")] = None,
    prefix: Annotated[str, typer.Option("--prefix", help="Folder under input/, e.g. 'season-2/'.")] = "",
    stack: Stack = None, cwd: Cwd = None, bucket: Bucket = None, region: Region = None, debug: Debug = False,
) -> None:
    """Upload episodes into the pipeline's input/ (multipart, with progress); each one starts a run."""
    from podwhisperer.runtime.cloud.transfer import upload_file
    from podwhisperer.runtime.feed.context import SIDECAR_SUFFIX

    info = _stack(stack, cwd, bucket, region)
    s3 = _aws(info).client("s3")
    console = _console()
    folder = prefix.strip("/") + "/" if prefix.strip("/") else ""
    for path in files:
        key = f"{info.input_prefix}{folder}{path.name}"
        sidecar = context or path.with_name(path.stem + SIDECAR_SUFFIX)
        if sidecar.exists():
            body = _checked_context(sidecar)
            s3.put_object(Bucket=info.bucket, Key=key.rsplit(".", 1)[0] + SIDECAR_SUFFIX, Body=body,
                          ContentType="application/yaml")
            console.print(f"context {sidecar} → s3://{info.bucket}/{key.rsplit('.', 1)[0]}{SIDECAR_SUFFIX}")
        with _bar(console, path.name) as update:
            upload_file(s3, info.bucket, path, key, on_progress=update)
        console.print(f"uploaded {path} → s3://{info.bucket}/{key} ({path.stat().st_size / 1e6:.1f} MB)")
    console.print("Follow them with `podwhisperer cloud status" + _stack_flag(info) + "`.")


def _checked_context(path: Path) -> bytes:
    """The sidecar's bytes, after checking it is a mapping of the per-episode keys."""
    import yaml

    from podwhisperer.runtime.config import ConfigError

    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError([f"not valid YAML: {exc}"], str(path)) from None
    allowed = {"title", "description", "speakers", "vocabulary", "language"}
    if not isinstance(data, dict):
        raise ConfigError(["expected a mapping (title, description, speakers, vocabulary, language)"], str(path))
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ConfigError([f"{key}: unknown option (valid options: {', '.join(sorted(allowed))})"
                           for key in unknown], str(path))
    return text.encode()


def _stack_flag(info: StackInfo) -> str:
    return f" --{info.source}" if info.source.startswith("stack ") else f" --bucket {info.bucket}"


class _bar:
    """A transfer progress bar as a context manager yielding the ``(done, total)`` callback."""

    def __init__(self, console: Console, label: str) -> None:
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

        self.progress = Progress(TextColumn(label), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                                 console=console, transient=True)
        self.task = self.progress.add_task(label, total=None)

    def __enter__(self) -> Callable[[int, int | None], None]:
        self.progress.start()
        return lambda done, total: self.progress.update(self.task, completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


# endregion

# region backfill


@app.command("backfill")
@friendly
def backfill(
    feed: Annotated[str, typer.Option("--feed", help="The show's RSS/Atom feed URL (or file).")],
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most N episodes (newest first).")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Episodes published on or after this date.")] = None,
    episode: Annotated[list[str] | None, typer.Option("--episode", help="Only this GUID or title (repeatable).")]
    = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print audio hours and estimated dollars; "
                                          "needs no AWS credentials.")] = False,
    max_in_flight: Annotated[int | None, typer.Option("--max-in-flight", min=1,
                                                      help="Episodes in the pipeline at once "
                                                      "(default: worker.max_workers).")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="podwhisperer.yaml whose price table "
                                                "and worker settings --dry-run uses (default: built-in).")] = None,
    poll_seconds: Annotated[float, typer.Option("--poll-seconds", min=0.01, help="How often to check for room.")]
    = 30.0,
    stack: Stack = None, cwd: Cwd = None, bucket: Bucket = None, region: Region = None,
    function: Function = None, debug: Debug = False,
) -> None:
    """Stream a feed's episodes into the pipeline (no local copies), at most N in flight; resumable."""
    from podwhisperer.runtime.feed.http import HttpClient
    from podwhisperer.runtime.feed.naming import assign_names
    from podwhisperer.runtime.feed.source import Selection, chosen_episodes, load_feed, parse_since

    console = _console()
    client = HttpClient()
    parsed = load_feed(feed, client)
    episodes = chosen_episodes(parsed, Selection(limit=limit, since=parse_since(since), guids=tuple(episode or ())))
    names = assign_names(parsed.episodes, {})
    console.print(f"[bold]{parsed.title}[/]: {len(parsed.episodes)} episodes in the feed, {len(episodes)} chosen")
    if dry_run:
        _dry_run(console, episodes, names, _local_config(config), client)
        return
    info = _stack(stack, cwd, bucket, region, function)
    aws = _aws(info)
    cfg = aws.pipeline_config()
    _run_backfill(console, aws, info, cfg, episodes, names, max_in_flight or cfg.worker.max_workers, poll_seconds,
                  client)


def _local_config(path: Path | None) -> PipelineConfig:
    from podwhisperer.runtime.config import PipelineConfig, load_config

    return load_config(path) if path else PipelineConfig()


def _dry_run(console: Console, episodes: Sequence[Any], names: dict[str, str], cfg: PipelineConfig,
             client: Any) -> None:
    from rich.table import Table

    from podwhisperer.runtime.cloud.estimate import estimate_batch

    batch = estimate_batch(episodes, names, cfg, client)
    table = Table(title="backfill --dry-run (estimate)")
    for column, justify in (("episode", "left"), ("published", "left"), ("duration", "right"),
                            ("audio h", "right"), ("est. $", "right")):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for row in batch.episodes:
        published = row.episode.published.date().isoformat() if row.episode.published else "-"
        if row.estimate is None:
            table.add_row(row.name, published, "?", "?", "?")
            continue
        mark = "~" if row.duration.estimated else ""
        table.add_row(row.name, published, mark + _hms(row.estimate.audio_seconds),
                      f"{row.estimate.audio_seconds / 3600:.2f}", f"{row.estimate.total_usd:.3f}")
    console.print(table)
    llm = cfg.llm_refinement.model_id if cfg.llm_refinement else "none"
    console.print(f"{len(batch.episodes)} episodes, {batch.audio_hours:.1f} audio hours → ~{batch.gpu_hours:.2f} GPU "
                  f"hours on {cfg.cost.gpu_instance_type} ({cfg.worker.capacity}), LLM {llm}")
    console.print(f"estimated total: ${batch.total_usd:.2f} (including ${batch.startup_usd:.2f} for "
                  f"{min(len(batch.episodes), cfg.worker.max_workers)} cold worker start(s))")
    if batch.unknown:
        console.print(f"[yellow]{batch.unknown} episode(s) of unknown length are not in the total[/]")
    if any(row.estimate and row.duration.estimated for row in batch.episodes):
        console.print("~ duration estimated from the file size at 128 kbit/s")
    console.print("prices and assumptions: the config's cost section (podwhisperer.example.yaml)")


def _hms(seconds: float) -> str:
    total = round(seconds)
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"


def _run_backfill(console: Console, aws: Aws, info: StackInfo, cfg: PipelineConfig, episodes: Sequence[Any],
                  names: dict[str, str], max_in_flight: int, poll_seconds: float, client: Any) -> None:
    from rich.table import Table

    from podwhisperer.runtime.cloud.backfill import Backfill
    from podwhisperer.runtime.cloud.executions import Executions
    from podwhisperer.runtime.cloud.transfer import EnclosureStreamer

    s3 = aws.client("s3")
    executions = Executions(aws.client("lambda"), info.function_name) if info.function_name else None
    if executions is None:
        console.print("[yellow]no pipeline function known (pass --stack or --function): episodes in flight are "
                      "counted from the outputs in S3 only[/]")
    bars: list[Any] = []

    def progress_for(episode: Any, name: str) -> Callable[[int, int | None], None]:
        for bar in bars:
            bar.__exit__()
        bars.clear()
        console.print(f"[bold]{episode.title}[/] → {name}")
        bar = _bar(console, name)
        bars.append(bar)
        return bar.__enter__()

    runner = Backfill(s3=s3, bucket=info.bucket, storage=cfg.storage,
                      streamer=EnclosureStreamer(s3, info.bucket, client, cfg.storage.work_prefix),
                      executions=executions, max_in_flight=max_in_flight, poll_seconds=poll_seconds,
                      say=console.print, progress_for=progress_for)
    try:
        outcomes = runner.run(episodes, names)
    finally:
        for bar in bars:
            bar.__exit__()
    table = Table(title="podwhisperer cloud backfill")
    for column in ("episode", "status", "size", "note"):
        table.add_column(column, overflow="fold")
    for outcome in outcomes:
        style = {"failed": "red", "skipped": "dim"}.get(outcome.status, "green")
        size = f"{outcome.size / 1e6:.1f} MB" if outcome.size else "-"
        table.add_row(outcome.key, f"[{style}]{outcome.status}[/]", size, outcome.note)
    console.print(table)
    counts = {status: sum(o.status == status for o in outcomes) for status in ("uploaded", "skipped", "failed")}
    console.print(f"{counts['uploaded']} uploaded, {counts['skipped']} skipped, {counts['failed']} failed; "
                  f"follow them with `podwhisperer cloud status{_stack_flag(info)}`")
    if counts["failed"]:
        raise typer.Exit(1)


# endregion

# region status


@app.command("status")
@friendly
def status(
    name: Annotated[str | None, typer.Argument(help="One episode: its key, file name or title.")] = None,
    last: Annotated[int, typer.Option("--last", min=1, help="How many recent runs to list.")] = 20,
    stack: Stack = None, cwd: Cwd = None, bucket: Bucket = None, region: Region = None,
    function: Function = None, debug: Debug = False,
) -> None:
    """Running / completed / failed per episode (with the failed step and error), and its outputs in S3."""
    from rich.table import Table

    from podwhisperer.runtime.cloud.executions import Executions

    info = _stack(stack, cwd, bucket, region, function)
    aws = _aws(info)
    executions = Executions(aws.client("lambda"), info.require("function_name", "--function"))
    console = _console()
    if name is not None:
        _status_of(console, aws, info, executions, name)
        return
    latest: dict[str, Any] = {}
    for execution in executions.list(limit=last):
        latest.setdefault(execution.key, execution)
    table = Table(title=f"podwhisperer cloud status ({info.bucket})")
    for column in ("episode", "status", "started", "took", "failed step", "error"):
        table.add_column(column, overflow="fold")
    for key, execution in latest.items():
        table.add_row(*_status_row(executions, key, execution))
    console.print(table)
    outcomes = [e.outcome for e in latest.values()]
    console.print(", ".join(f"{outcomes.count(o)} {o}" for o in sorted(set(outcomes))) or "no runs yet")


def _status_row(executions: Any, key: str, execution: Any) -> list[str]:
    step = error = ""
    if execution.outcome in ("failed", "timed out", "stopped"):
        failure = executions.failure(execution)
        step, error = failure.step, f"{failure.error_type}: {failure.message}".strip(": ")
    elif execution.result and execution.result.get("reason"):
        error = str(execution.result["reason"])
    style = {"failed": "red", "timed out": "red", "running": "yellow", "completed": "green"}.get(execution.outcome, "")
    outcome = f"[{style}]{execution.outcome}[/]" if style else execution.outcome
    return [key, outcome, _when(execution.started), _took(execution.started, execution.ended), step, error]


def _status_of(console: Console, aws: Aws, info: StackInfo, executions: Any, name: str) -> None:
    from podwhisperer.runtime.cloud.reprocess import find_input_key, input_keys
    from podwhisperer.runtime.keys import output_keys

    cfg = aws.pipeline_config()
    s3 = aws.client("s3")
    key = find_input_key(list(input_keys(s3, info.bucket, cfg.storage)), name, cfg.storage)
    runs = [e for e in executions.list() if key in e.keys]
    console.print(f"[bold]{key}[/]: {len(runs)} run(s)")
    for execution in runs:
        row = _status_row(executions, key, execution)
        console.print("  " + "  ".join(part for part in row[1:] if part))
    base = output_keys(key, cfg.storage).base
    listed = s3.list_objects_v2(Bucket=info.bucket, Prefix=base + "_").get("Contents") or []
    for item in listed:
        console.print(f"  s3://{info.bucket}/{item['Key']}  {item['Size'] / 1e3:.1f} kB  {_when(item['LastModified'])}")
    if not listed:
        console.print("  no outputs yet")


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if isinstance(moment, datetime) else "-"


def _took(started: datetime | None, ended: datetime | None) -> str:
    if not isinstance(started, datetime):
        return "-"
    end = ended if isinstance(ended, datetime) else datetime.now(UTC)
    seconds = (end - started).total_seconds()
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f}s"


# endregion

# region reprocess, warmup, cost


@app.command("reprocess")
@friendly
def reprocess(
    name: Annotated[str, typer.Argument(help="The episode: its key, file name or title (\"ep 42\").")],
    config: Annotated[Path | None, typer.Option("--config", "-c", help="New settings (default: the deployed "
                                                "config).")] = None,
    stack: Stack = None, cwd: Cwd = None, bucket: Bucket = None, region: Region = None,
    function: Function = None, debug: Debug = False,
) -> None:
    """Re-run post-processing with new settings from the episode's raw transcript (no GPU) and republish."""
    from podwhisperer.runtime.cloud import reprocess as redo

    info = _stack(stack, cwd, bucket, region, function)
    aws = _aws(info)
    cfg = _local_config(config) if config else aws.pipeline_config()
    s3 = aws.client("s3")
    key = redo.find_input_key(list(redo.input_keys(s3, info.bucket, cfg.storage)), name, cfg.storage)
    llm = None
    if cfg.llm_refinement is not None:
        from podwhisperer.runtime.bedrock import make_converse_client

        llm = make_converse_client(cfg.llm_refinement, aws.session)
    result = redo.reprocess(s3, info.bucket, key, cfg, llm)
    console = _console()
    console.print(f"[bold]{key}[/]: post-processed again from its raw transcript")
    for stage in result.stages:
        detail = f"skipped ({stage.reason})" if stage.status == "skipped" else f"{stage.duration_ms:.0f} ms"
        console.print(f"  {stage.name:<18} {detail}")
    for written in result.written:
        console.print(f"  wrote s3://{info.bucket}/{written}")
    if result.note:
        console.print(f"[yellow]note: {result.note}[/]")


@app.command("warmup")
@friendly
def warmup(
    minutes: Annotated[int, typer.Option("--minutes", min=1, max=720, help="Keep a worker up this long.")] = 30,
    stack: Stack = None, cwd: Cwd = None, bucket: Bucket = None, region: Region = None,
    queue_url: QueueUrl = None, debug: Debug = False,
) -> None:
    """Start a GPU worker now (before a batch) and keep it up for --minutes."""
    info = _stack(stack, cwd, bucket, region, queue_url=queue_url)
    queue = info.require("queue_url", "--queue-url")
    until = (datetime.now(UTC) + timedelta(minutes=minutes)).replace(microsecond=0)
    _aws(info).client("sqs").send_message(QueueUrl=queue, MessageBody=json.dumps(
        {"type": "warmup", "until": until.isoformat().replace("+00:00", "Z")}))
    typer.echo(f"warm-up sent: a worker starts (a few minutes from cold) and stays up until {until:%H:%M} UTC")


@app.command("cost")
@friendly
def cost(
    last: Annotated[int, typer.Option("--last", min=1, help="The last N completed episodes.")] = 20,
    stack: Stack = None, cwd: Cwd = None, bucket: Bucket = None, region: Region = None,
    function: Function = None, debug: Debug = False,
) -> None:
    """What the last N episodes cost (GPU, Bedrock tokens, Lambda), from their completion results."""
    from rich.table import Table

    from podwhisperer.runtime.cloud.executions import Executions
    from podwhisperer.runtime.cost import sum_breakdowns

    info = _stack(stack, cwd, bucket, region, function)
    executions = Executions(_aws(info).client("lambda"), info.require("function_name", "--function"))
    runs = [e for e in executions.list(limit=last, statuses=["SUCCEEDED"]) if e.outcome == "completed"]
    priced: list[tuple[Any, dict[str, Any]]] = [
        (e, e.result["cost"]) for e in runs if e.result and isinstance(e.result.get("cost"), dict)]
    table = Table(title=f"podwhisperer cloud cost (last {last} completed)")
    for column in ("episode", "finished", "audio", "GPU s", "tokens in/out", "$"):
        table.add_column(column, overflow="fold", justify="left" if column in ("episode", "finished") else "right")
    for execution, breakdown in priced:
        seconds = (execution.result or {}).get("transcript", {}).get("durationSeconds")
        gpu = breakdown["gpu"].get("seconds")
        table.add_row(execution.key, _when(execution.ended), _hms(seconds) if seconds else "-",
                      f"{gpu:.0f}" if gpu is not None else "-",
                      f"{breakdown['llm'].get('inputTokens', 0)}/{breakdown['llm'].get('outputTokens', 0)}",
                      f"{breakdown.get('totalUsd', 0):.4f}")
    console = _console()
    console.print(table)
    totals = sum_breakdowns(b for _, b in priced)
    console.print(f"{totals['episodes']} episodes: ${totals['totalUsd']:.2f} (GPU ${totals['gpuUsd']:.2f} for "
                  f"{totals['gpuSeconds'] / 3600:.2f} h, Bedrock ${totals['llmUsd']:.2f} for "
                  f"{totals['inputTokens']}+{totals['outputTokens']} tokens, Lambda ${totals['lambdaUsd']:.4f})")
    if len(priced) < len(runs):
        console.print(f"[yellow]{len(runs) - len(priced)} completed run(s) carry no cost breakdown "
                      "(made before cost tracking)[/]")
    if totals["incomplete"]:
        console.print(f"[yellow]{totals['incomplete']} episode(s) lack a price (see the notes in their events)[/]")


# endregion
