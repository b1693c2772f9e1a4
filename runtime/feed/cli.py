"""Console glue for ``podwhisperer transcribe --feed``: download progress and the summary table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podwhisperer.runtime.feed.download import Progress
from podwhisperer.runtime.feed.http import HttpClient
from podwhisperer.runtime.feed.local import EpisodeOutcome, FeedRun, Transcribed, Transcriber
from podwhisperer.runtime.feed.model import Episode
from podwhisperer.runtime.feed.parse import FeedError
from podwhisperer.runtime.feed.source import Selection, chosen_episodes, load_feed, parse_since

if TYPE_CHECKING:
    from rich.console import Console

    from podwhisperer.runtime.context import EpisodeContext
    from podwhisperer.runtime.local.runner import LocalRun


def transcribe_feed(location: str, selection: Selection, output_dir: Path, transcriber: Transcriber,
                    console: Console, client: HttpClient | None = None) -> list[EpisodeOutcome]:
    """Run the chosen episodes of the feed; raises ``FeedError`` when the feed itself is unusable."""
    client = client or HttpClient()
    feed = load_feed(location, client)
    episodes = chosen_episodes(feed, selection)
    console.print(f"[bold]{feed.title}[/]: {len(feed.episodes)} episodes in the feed, {len(episodes)} chosen")
    bars: list[Any] = []
    run = FeedRun(output_dir=output_dir, client=client, transcribe=transcriber,
                  on_download=lambda episode, name: _download_progress(console, episode, name, bars))
    try:
        outcomes = run.run(feed, episodes)
    finally:
        _stop(bars)
    print_feed_summary(console, outcomes, output_dir)
    return outcomes


def _stop(bars: list[Any]) -> None:
    while bars:
        bars.pop().stop()


def _download_progress(console: Console, episode: Episode, name: str, bars: list[Any]) -> Progress:
    """A line when the download starts and when it ends; a bar while it runs (on a terminal)."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    _stop(bars)  # a failed download's bar
    console.print(f"[bold]{episode.title}[/] → {name}")
    bar = Progress(BarColumn(), DownloadColumn(), TransferSpeedColumn(), console=console, transient=True)
    task = bar.add_task("download", total=None)
    state = {"started": False}

    def update(done: int, total: int | None) -> None:
        if not state["started"]:
            bar.start()
            bars.append(bar)
            state["started"] = True
        bar.update(task, completed=done, total=total)
        if total is not None and done >= total and bars:
            _stop(bars)
            console.print(f"  downloaded {done / 1e6:.1f} MB")

    return update


def print_feed_summary(console: Console, outcomes: Sequence[EpisodeOutcome], output_dir: Path) -> None:
    from rich.table import Table

    table = Table(title="podwhisperer transcribe --feed")
    for column in ("episode", "status", "audio", "took", "note"):
        table.add_column(column, overflow="fold")
    for outcome in outcomes:
        audio = f"{outcome.audio_seconds / 60:.1f} min" if outcome.audio_seconds else "-"
        took = f"{outcome.seconds:.1f}s" if outcome.status != "skipped" else "-"
        style = {"failed": "red", "skipped": "dim"}.get(outcome.status, "green")
        table.add_row(outcome.name, f"[{style}]{outcome.status}[/]", audio, took, outcome.error or "")
    console.print(table)
    done = sum(o.status == "done" for o in outcomes)
    failed = sum(o.status == "failed" for o in outcomes)
    skipped = sum(o.status == "skipped" for o in outcomes)
    console.print(f"{done} done, {skipped} skipped, {failed} failed; index: {output_dir / 'index.html'}")


def run_feed_command(location: str, limit: int | None, since: str | None, guids: Sequence[str], output_dir: Path,
                     console: Console, run_one: Callable[[Path, EpisodeContext], LocalRun],
                     path_of: Callable[[str], Path]) -> int:
    """``transcribe --feed``: the exit code (1 when an episode failed, 2 when the feed is unusable).

    ``run_one`` runs one episode's audio with its context; ``path_of`` maps an output key to its file."""
    try:
        selection = Selection(limit=limit, since=parse_since(since), guids=tuple(guids))
        outcomes = transcribe_feed(location, selection, output_dir, _local_transcriber(run_one, path_of), console)
    except (FeedError, ValueError) as exc:
        console.print(f"[red]error: {exc}[/]")
        return 2
    return 1 if any(o.status == "failed" for o in outcomes) else 0


def _local_transcriber(run_one: Callable[[Path, EpisodeContext], LocalRun],
                       path_of: Callable[[str], Path]) -> Transcriber:
    from podwhisperer.runtime.context import parse_context

    def transcribe(audio: Path, context: dict[str, Any], sidecar: Path) -> Transcribed:
        run = run_one(audio, parse_context(context, source=str(sidecar)))  # the feed's context, validated
        keys = run.result.get("outputKeys") or {}
        files = [keys.get("refinedTranscript"), *sorted((keys.get("captions") or {}).values())]
        counts = run.result.get("transcript") or {}
        return Transcribed(status=run.status, files=[path_of(key) for key in files if key],
                           error=run.error or run.result.get("reason"), audio_seconds=counts.get("durationSeconds"))

    return transcribe
