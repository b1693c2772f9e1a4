"""``podwhisperer transcribe --feed URL``: a show's episodes through the local pipeline, one by one.

For each chosen episode, newest first: skip it when ``index.json`` says it is done with the same
enclosure; otherwise download it (resuming a partial download), write its context sidecar, run the
transcriber, and record the outcome in the index at once (a Ctrl-C loses nothing). One episode
failing never stops the others; the caller prints the summary.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podwhisperer.runtime.context import sidecar_key
from podwhisperer.runtime.feed.context import context_yaml, episode_context
from podwhisperer.runtime.feed.download import DownloadError, Progress, download
from podwhisperer.runtime.feed.http import HttpClient
from podwhisperer.runtime.feed.index import EpisodeRecord, FeedIndex
from podwhisperer.runtime.feed.model import Episode, Feed
from podwhisperer.runtime.feed.naming import assign_names
from podwhisperer.runtime.feed.source import audio_suffix

DOWNLOAD_DIR = Path(".podwhisperer") / "downloads"


@dataclass(frozen=True)
class Transcribed:
    """What the transcriber reports for one episode."""

    status: str  # completed, or anything else (failed, ignored, superseded)
    files: Sequence[Path] = ()  # output files written
    error: str | None = None
    audio_seconds: float | None = None


Transcriber = Callable[[Path, dict[str, Any], Path], Transcribed]
"""(audio file, per-episode context, context sidecar file) → outcome."""


@dataclass
class EpisodeOutcome:
    """One line of the summary table."""

    episode: Episode
    name: str
    status: str  # done | skipped | failed
    seconds: float = 0.0
    audio_seconds: float | None = None
    error: str | None = None
    files: list[Path] = field(default_factory=list)


@dataclass
class FeedRun:
    """Runs episodes of one feed into ``output_dir`` with an injected transcriber."""

    output_dir: Path
    client: HttpClient
    transcribe: Transcriber
    on_download: Callable[[Episode, str], Progress | None] = lambda episode, name: None
    keep_audio: bool = False

    def run(self, feed: Feed, episodes: Sequence[Episode]) -> list[EpisodeOutcome]:
        index = FeedIndex.load(self.output_dir)
        names = assign_names(feed.episodes, index.names())
        outcomes = []
        for episode in episodes:
            outcome = self._one(index, episode, names[episode.guid])
            outcomes.append(outcome)
            index.save(feed)
        return outcomes

    def _one(self, index: FeedIndex, episode: Episode, name: str) -> EpisodeOutcome:
        if index.is_done(episode):
            return EpisodeOutcome(episode, name, "skipped", error="already done (same enclosure)")
        began = time.perf_counter()
        record = EpisodeRecord.of(episode, name)
        try:
            outcome = self._process(episode, name, record)
        except DownloadError as exc:
            outcome = EpisodeOutcome(episode, name, "failed", error=str(exc))
        except Exception as exc:  # one broken episode must not stop the others
            outcome = EpisodeOutcome(episode, name, "failed", error=f"{type(exc).__name__}: {exc}")
        outcome.seconds = time.perf_counter() - began
        record.status = "done" if outcome.status == "done" else "failed"
        record.error = outcome.error if outcome.status == "failed" else None
        if outcome.audio_seconds:
            record.duration_seconds = outcome.audio_seconds
        index.record(record)
        return outcome

    def _process(self, episode: Episode, name: str, record: EpisodeRecord) -> EpisodeOutcome:
        folder = self.output_dir / DOWNLOAD_DIR
        audio = folder / f"{name}{audio_suffix(episode)}"
        download(self.client, episode.enclosure.url, audio, self.on_download(episode, name))
        context = episode_context(episode)
        sidecar = folder / sidecar_key(audio.name)
        sidecar.write_text(context_yaml(context), encoding="utf-8")
        result = self.transcribe(audio, context, sidecar)
        if result.status != "completed":
            return EpisodeOutcome(episode, name, "failed", audio_seconds=result.audio_seconds,
                                  error=result.error or result.status)
        record.files = [self._relative(path) for path in result.files]
        if not self.keep_audio:
            audio.unlink(missing_ok=True)  # the pipeline keeps its own (hard-linked) copy under input/
        return EpisodeOutcome(episode, name, "done", audio_seconds=result.audio_seconds, files=list(result.files))

    def _relative(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.output_dir.resolve()).as_posix()
        except ValueError:
            return str(path)
