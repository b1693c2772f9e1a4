"""``podwhisperer cloud status|reprocess|warmup|cost``: what the deployed pipeline did, and doing it again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from podwhisperer.runtime.cloud.cli_common import (
    Bucket,
    Cwd,
    Debug,
    Function,
    QueueUrl,
    Region,
    Stack,
    app,
    aws_for,
    friendly,
    hms,
    local_config,
    make_console,
    stack_info,
    took,
    when,
)

if TYPE_CHECKING:
    from rich.console import Console

    from podwhisperer.runtime.cloud.stack import Aws, StackInfo


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

    info = stack_info(stack, cwd, bucket, region, function)
    aws = aws_for(info)
    executions = Executions(aws.client("lambda"), info.require("function_name", "--function"))
    console = make_console()
    if name is not None:
        _status_of(console, aws, info, executions, name, scan=last * 10)
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
    return [key, outcome, when(execution.started), took(execution.started, execution.ended), step, error]


def _status_of(console: Console, aws: Aws, info: StackInfo, executions: Any, name: str, scan: int) -> None:
    """Every run of one episode among the last ``scan`` runs, and its outputs in S3."""
    from podwhisperer.runtime.cloud.reprocess import find_input_key, input_keys
    from podwhisperer.runtime.keys import output_keys

    cfg = aws.pipeline_config()
    s3 = aws.client("s3")
    key = find_input_key(list(input_keys(s3, info.bucket, cfg.storage)), name, cfg.storage)
    runs = [e for e in executions.list(limit=scan) if key in e.keys]
    console.print(f"[bold]{key}[/]: {len(runs)} run(s)")
    for execution in runs:
        row = _status_row(executions, key, execution)
        console.print("  " + "  ".join(part for part in row[1:] if part))
    base = output_keys(key, cfg.storage).base
    listed = s3.list_objects_v2(Bucket=info.bucket, Prefix=base + "_").get("Contents") or []
    for item in listed:
        console.print(f"  s3://{info.bucket}/{item['Key']}  {item['Size'] / 1e3:.1f} kB  {when(item['LastModified'])}")
    if not listed:
        console.print("  no outputs yet")


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

    info = stack_info(stack, cwd, bucket, region, function)
    aws = aws_for(info)
    cfg = local_config(config) if config else aws.pipeline_config()
    s3 = aws.client("s3")
    key = redo.find_input_key(list(redo.input_keys(s3, info.bucket, cfg.storage)), name, cfg.storage)
    from podwhisperer.runtime.refine_cli import stage_llm_client

    result = redo.reprocess(s3, info.bucket, key, cfg, stage_llm_client(cfg, aws.session))
    console = make_console()
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
    from podwhisperer.runtime.contracts import WarmupMessage

    info = stack_info(stack, cwd, bucket, region, queue_url=queue_url)
    queue = info.require("queue_url", "--queue-url")
    until = (datetime.now(UTC) + timedelta(minutes=minutes)).replace(microsecond=0)
    body = WarmupMessage(type="warmup", until=until).to_body()
    aws_for(info).client("sqs").send_message(QueueUrl=queue, MessageBody=body)
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

    info = stack_info(stack, cwd, bucket, region, function)
    executions = Executions(aws_for(info).client("lambda"), info.require("function_name", "--function"))
    runs = [e for e in executions.list(limit=last, statuses=["SUCCEEDED"]) if e.outcome == "completed"]
    priced: list[tuple[Any, dict[str, Any]]] = [
        (e, e.result["cost"]) for e in runs if e.result and isinstance(e.result.get("cost"), dict)]
    table = Table(title=f"podwhisperer cloud cost (last {last} completed)")
    for column in ("episode", "finished", "audio", "GPU s", "tokens in/out", "$"):
        table.add_column(column, overflow="fold", justify="left" if column in ("episode", "finished") else "right")
    for execution, breakdown in priced:
        seconds = (execution.result or {}).get("transcript", {}).get("durationSeconds")
        gpu = breakdown["gpu"].get("seconds")
        table.add_row(execution.key, when(execution.ended), hms(seconds) if seconds else "-",
                      f"{gpu:.0f}" if gpu is not None else "-",
                      f"{breakdown['llm'].get('inputTokens', 0)}/{breakdown['llm'].get('outputTokens', 0)}",
                      f"{breakdown.get('totalUsd', 0):.4f}")
    console = make_console()
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
