"""What every ``podwhisperer cloud`` command shares: the Typer app, the stack options, finding the stack,
one-line errors, and small display helpers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec, TypeVar

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


def make_console() -> Console:
    from rich.console import Console

    return Console()


def stack_info(stack: str | None, cwd: str | None, bucket: str | None, region: str | None,
           function: str | None = None, queue_url: str | None = None) -> StackInfo:
    from podwhisperer.runtime.cloud.stack import StackError, from_flags, from_pulumi

    if stack and bucket:
        raise StackError("give --stack or --bucket, not both")
    if stack:
        return from_pulumi(stack, cwd)
    if bucket:
        return from_flags(bucket, region, queue_url=queue_url, function_name=function)
    raise StackError("which pipeline? pass --stack NAME (a deployed podwhisperer stack) or --bucket and --region")


def aws_for(info: StackInfo) -> Aws:
    from podwhisperer.runtime.cloud.stack import Aws

    return Aws(info)


def stack_flag(info: StackInfo) -> str:
    """How to name this pipeline again on the command line."""
    return f" --{info.source}" if info.source.startswith("stack ") else f" --bucket {info.bucket}"


class TransferBar:
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


def local_config(path: Path | None) -> PipelineConfig:
    from podwhisperer.runtime.config import PipelineConfig, load_config

    return load_config(path) if path else PipelineConfig()


def hms(seconds: float) -> str:
    total = round(seconds)
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"


def when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if isinstance(moment, datetime) else "-"


def took(started: datetime | None, ended: datetime | None) -> str:
    if not isinstance(started, datetime):
        return "-"
    end = ended if isinstance(ended, datetime) else datetime.now(UTC)
    seconds = (end - started).total_seconds()
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f}s"
