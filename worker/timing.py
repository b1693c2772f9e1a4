"""Per-stage timings for the raw transcript's metadata and the callback's stats.

A port of the predecessor's ``TimingCollector`` without its global instance: one
:class:`StageTimer` per job, passed explicitly.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class StageTimer:
    """Records ``{"stage", "status", "seconds", "started_at"}`` per stage, in order."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self._records: list[dict[str, Any]] = []

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block; a failing block is recorded with status ``error`` and re-raised."""
        started_at, start = utc_now_iso(), self._clock()
        log.info("[START] %s", name)
        status = "error"
        try:
            yield
            status = "success"
        finally:
            seconds = self._clock() - start
            self._records.append({"stage": name, "status": status, "seconds": round(seconds, 3),
                                  "started_at": started_at})
            log.info("[END] %s: %s in %.3f s", name, status, seconds)

    def skipped(self, name: str, reason: str | None = None) -> None:
        record: dict[str, Any] = {"stage": name, "status": "skipped", "seconds": 0.0, "started_at": utc_now_iso()}
        if reason:
            record["reason"] = reason
        self._records.append(record)

    def records(self) -> list[dict[str, Any]]:
        """A copy: callers may keep or change it without touching the timer."""
        return [dict(r) for r in self._records]

    def seconds_by_stage(self) -> dict[str, float]:
        """``{stage: seconds}`` of the stages that ran (compact, for the callback stats)."""
        return seconds_by_stage(self._records)


def seconds_by_stage(records: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """``{stage: seconds}`` of the stage records that ran (not ``skipped``): a timer's or a transcript's."""
    return {r["stage"]: r["seconds"] for r in records if r.get("status") != "skipped"}
