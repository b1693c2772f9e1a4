"""``podwhisperer cloud …``: operate a deployed pipeline (upload, backfill, status, reprocess, warmup, cost).

Every command finds the pipeline with ``--stack NAME`` (``pulumi stack output``) or ``--bucket``/
``--region`` (plus ``--function``/``--queue-url`` where needed). Problems are one line and exit 1;
``--debug`` shows the traceback. This module holds ``upload`` and ``backfill``; ``cli_reports`` the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from podwhisperer.runtime.cloud import cli_reports
from podwhisperer.runtime.cloud.cli_common import (
    Bucket,
    Cwd,
    Debug,
    Function,
    Region,
    Stack,
    TransferBar,
    app,
    aws_for,
    friendly,
    hms,
    local_config,
    make_console,
    stack_flag,
    stack_info,
)

if TYPE_CHECKING:
    from rich.console import Console

    from podwhisperer.runtime.cloud.stack import Aws, StackInfo
    from podwhisperer.runtime.config import PipelineConfig

__all__ = ["app", "cli_reports"]  # importing cli_reports registers status, reprocess, warmup and cost


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
    from podwhisperer.runtime.context import context_from_text, sidecar_key

    info = stack_info(stack, cwd, bucket, region)
    s3 = aws_for(info).client("s3")
    console = make_console()
    folder = prefix.strip("/") + "/" if prefix.strip("/") else ""
    for path in files:
        key = f"{info.input_prefix}{folder}{path.name}"
        sidecar = context or path.with_name(sidecar_key(path.name))
        if sidecar.exists():
            body = sidecar.read_bytes()
            context_from_text(body, str(sidecar))  # the pipeline's own strict check, before anything is uploaded
            s3.put_object(Bucket=info.bucket, Key=sidecar_key(key), Body=body, ContentType="application/yaml")
            console.print(f"context {sidecar} → s3://{info.bucket}/{sidecar_key(key)}")
        with TransferBar(console, path.name) as update:
            upload_file(s3, info.bucket, path, key, on_progress=update)
        console.print(f"uploaded {path} → s3://{info.bucket}/{key} ({path.stat().st_size / 1e6:.1f} MB)")
    console.print("Follow them with `podwhisperer cloud status" + stack_flag(info) + "`.")


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

    console = make_console()
    client = HttpClient()
    parsed = load_feed(feed, client)
    episodes = chosen_episodes(parsed, Selection(limit=limit, since=parse_since(since), guids=tuple(episode or ())))
    names = assign_names(parsed.episodes, {})
    console.print(f"[bold]{parsed.title}[/]: {len(parsed.episodes)} episodes in the feed, {len(episodes)} chosen")
    if dry_run:
        _dry_run(console, episodes, names, local_config(config), client)
        return
    info = stack_info(stack, cwd, bucket, region, function)
    aws = aws_for(info)
    cfg = aws.pipeline_config()
    _run_backfill(console, aws, info, cfg, episodes, names, max_in_flight or cfg.worker.max_workers, poll_seconds,
                  client)


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
        table.add_row(row.name, published, mark + hms(row.estimate.audio_seconds),
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
        bar = TransferBar(console, name)
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
                  f"follow them with `podwhisperer cloud status{stack_flag(info)}`")
    if counts["failed"]:
        raise typer.Exit(1)
