"""How far transcription has got: audio seconds done of the total, the rate and an ETA.

One :class:`TranscriptionProgress` belongs to a :class:`~podwhisperer.worker.job.TranscriptionJob`;
the speech stages move it forward (per decoded segment on the word-timestamp path, per block on the
batched path) from the job's thread, and readers on other threads take consistent snapshots: the
poller logs one with every heartbeat, local mode's Rich display draws one on every poll, and the
object itself logs one at most every ``log_every`` seconds so a long job's log shows movement.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


def clock_text(seconds: float) -> str:
    """``3725`` → ``1:02:05``; ``95`` → ``1:35``."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass(frozen=True, slots=True)
class ProgressSnapshot:
    stage: str
    done_seconds: float  # audio seconds transcribed
    total_seconds: float  # audio seconds in the episode
    elapsed_seconds: float  # wall seconds since the stage began
    finished: bool

    @property
    def fraction(self) -> float:
        return min(1.0, self.done_seconds / self.total_seconds) if self.total_seconds else 0.0

    @property
    def rate(self) -> float | None:
        """Audio seconds per wall second (× realtime); None until there is something to measure."""
        if self.done_seconds <= 0 or self.elapsed_seconds <= 0:
            return None
        return self.done_seconds / self.elapsed_seconds

    @property
    def eta_seconds(self) -> float | None:
        rate = self.rate
        if self.finished:
            return 0.0
        return None if rate is None else max(0.0, self.total_seconds - self.done_seconds) / rate

    def describe(self) -> str:
        """``transcribe 12:30 / 1:00:00 audio (21%), 4.2x realtime, ETA 11:19``."""
        text = (f"{self.stage} {clock_text(self.done_seconds)} / {clock_text(self.total_seconds)} audio "
                f"({self.fraction:.0%})")
        if self.rate is not None:
            text += f", {self.rate:.1f}x realtime"
        eta = self.eta_seconds
        if self.finished:
            text += ", done"
        elif eta is not None:
            text += f", ETA {clock_text(eta)}"
        return text


class TranscriptionProgress:
    """Thread-safe progress of the job in hand (``snapshot()`` is None between jobs)."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, log_every: float = 30.0) -> None:
        self._clock = clock
        self._log_every = log_every
        self._lock = threading.Lock()
        self._stage = ""
        self._total = 0.0
        self._done = 0.0
        self._started: float | None = None
        self._finished = False
        self._last_log = 0.0

    def start(self, total_seconds: float, stage: str = "transcribe") -> None:
        with self._lock:
            self._stage, self._total, self._done, self._finished = stage, float(total_seconds), 0.0, False
            self._started = self._last_log = self._clock()

    def advance_to(self, seconds: float) -> None:
        """Audio up to ``seconds`` is done (never moves backwards, never past the total)."""
        with self._lock:
            if self._started is None:
                return
            self._done = min(self._total, max(self._done, float(seconds)))
            due = self._clock() - self._last_log >= self._log_every
            if due:
                self._last_log = self._clock()
        if due:
            snapshot = self.snapshot()
            if snapshot is not None:
                log.info("progress: %s", snapshot.describe())

    def finish(self) -> None:
        with self._lock:
            if self._started is not None:
                self._done, self._finished = self._total, True

    def clear(self) -> None:
        with self._lock:
            self._started = None

    def snapshot(self) -> ProgressSnapshot | None:
        with self._lock:
            if self._started is None:
                return None
            return ProgressSnapshot(self._stage, self._done, self._total, self._clock() - self._started,
                                    self._finished)
