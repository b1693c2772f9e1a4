"""``cloud backfill --feed URL``: a show's back catalogue into the deployed pipeline.

Each chosen episode (newest first) is streamed from the podcast host into ``input/<name>.<ext>``
(its context sidecar first), unless an object from the same enclosure is already there. At most
``max_in_flight`` episodes are in flight at once: an episode is in flight from its upload until its
refined transcript is in S3 or its execution has finished. This matters beyond politeness: a job
waits in the queue inside its ``job_timeout_minutes``, so 300 uploads at once with two GPU workers
would time out most of them. Interrupted, the same command continues: finished uploads are
skipped and a half-streamed one resumes from its last part.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from podwhisperer.runtime.cloud.executions import Executions
from podwhisperer.runtime.cloud.transfer import EnclosureStreamer, Progress, TransferError
from podwhisperer.runtime.config import ConfigError, StorageConfig
from podwhisperer.runtime.context import sidecar_key
from podwhisperer.runtime.feed.context import context_yaml, episode_context
from podwhisperer.runtime.feed.download import DownloadError
from podwhisperer.runtime.feed.model import Episode
from podwhisperer.runtime.feed.source import audio_suffix
from podwhisperer.runtime.keys import output_keys

RUNNING_LOOKBACK = timedelta(hours=13)
CLOCK_SKEW = timedelta(seconds=5)  # longer than any job can wait (SQS caps visibility at 12 h)


@dataclass
class BackfillOutcome:
    episode: Episode
    name: str
    key: str
    status: str  # uploaded | skipped | failed
    size: int = 0
    seconds: float = 0.0
    note: str = ""


@dataclass
class Backfill:
    """Streams episodes into the bucket with at most ``max_in_flight`` of them in the pipeline."""

    s3: Any
    bucket: str
    storage: StorageConfig
    streamer: EnclosureStreamer
    executions: Executions | None
    max_in_flight: int
    poll_seconds: float = 30.0
    stuck_after_seconds: float = 900.0  # an upload no execution picked up stops counting after this
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    say: Callable[[str], None] = lambda line: None
    progress_for: Callable[[Episode, str], Progress | None] = lambda episode, name: None
    _uploaded: dict[str, tuple[float, datetime]] = field(default_factory=dict)  # key → when this run uploaded it

    def run(self, episodes: Sequence[Episode], names: dict[str, str]) -> list[BackfillOutcome]:
        started = self.now()
        outcomes = []
        for episode in episodes:
            name = names[episode.guid]
            key = f"{self.storage.input_prefix}{name}{audio_suffix(episode)}"
            outcomes.append(self._one(episode, name, key, started))
        return outcomes

    def _one(self, episode: Episode, name: str, key: str, started: datetime) -> BackfillOutcome:
        if self.streamer.uploaded_identity(key) == episode.identity:
            return BackfillOutcome(episode, name, key, "skipped", note="already uploaded (same enclosure)")
        self._wait_for_room(started)
        began = self.monotonic()
        try:
            self._put_context(episode, key)
            streamed = self.streamer.stream(episode.enclosure.url, key, episode.identity, episode.enclosure.type,
                                            self.progress_for(episode, name))
        except (TransferError, DownloadError, ConfigError) as exc:  # ConfigError: the item's context is invalid
            return BackfillOutcome(episode, name, key, "failed", note=str(exc))
        except self.s3.exceptions.ClientError as exc:
            return BackfillOutcome(episode, name, key, "failed", note=f"S3: {exc}")
        self._uploaded[key] = (self.monotonic(), self.now())
        note = f"resumed at {streamed.resumed_from / 1e6:.1f} MB" if streamed.resumed_from else ""
        return BackfillOutcome(episode, name, key, "uploaded", size=streamed.size,
                               seconds=self.monotonic() - began, note=note)

    def _put_context(self, episode: Episode, key: str) -> None:
        """The sidecar goes first, so the pipeline finds it when the audio's event arrives."""
        body = context_yaml(episode_context(episode)).encode()
        self.s3.put_object(Bucket=self.bucket, Key=sidecar_key(key), Body=body, ContentType="application/yaml")

    # region in flight

    def _wait_for_room(self, started: datetime) -> None:
        announced = False
        while True:
            busy = self.in_flight(started)
            if len(busy) < self.max_in_flight:
                return
            if not announced:
                self.say(f"{len(busy)} episodes in flight (max {self.max_in_flight}); waiting for one to finish")
                announced = True
            self.sleep(self.poll_seconds)

    def in_flight(self, started: datetime) -> set[str]:
        """Input keys now in the pipeline: running executions, and this run's uploads not finished yet."""
        busy: set[str] = set()
        latest = {}
        if self.executions is not None:
            latest = self.executions.latest_by_key(since=started - RUNNING_LOOKBACK)
            busy |= {key for key, execution in latest.items() if not execution.finished}
        for key, (uploaded_at, uploaded_wall) in list(self._uploaded.items()):
            execution = latest.get(key)
            if execution is not None and _before(execution.started, uploaded_wall):
                execution = None  # a run of an earlier upload of this key
            if (execution is not None and execution.finished) or self._has_output(key, uploaded_wall):
                del self._uploaded[key]
            elif execution is None and self.monotonic() - uploaded_at > self.stuck_after_seconds:
                self.say(f"{key}: no execution started {self.stuck_after_seconds / 60:.0f} min after upload; "
                         "not counting it as in flight (check `podwhisperer cloud status`)")
                del self._uploaded[key]
            else:
                busy.add(key)
        return busy

    def _has_output(self, key: str, since: datetime) -> bool:
        """A refined transcript written after this upload (an older one belongs to an earlier version)."""
        refined = output_keys(key, self.storage).refined_transcript
        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=refined)
        except self.s3.exceptions.ClientError:
            return False
        modified = head.get("LastModified")
        return not isinstance(modified, datetime) or modified >= since - CLOCK_SKEW

    # endregion


def _before(started: datetime | None, uploaded: datetime) -> bool:
    return started is not None and started < uploaded - CLOCK_SKEW
