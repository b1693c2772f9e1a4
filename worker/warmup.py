"""Warm-up messages keep the *service* up: the held message counts as in flight for the autoscaler.

See the poller's module docstring for the rules; :class:`WarmupKeeper` holds at most one warm-up
(the latest deadline), extends its visibility while held, and deletes or releases it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from podwhisperer.runtime.contracts import WarmupMessage
from podwhisperer.worker.sqs_queue import QueueOps

log = logging.getLogger(__name__)

_MAX_VISIBILITY_SECONDS = 12 * 3600  # SQS: a message stays invisible at most 12 hours from its receipt
_VISIBILITY_MARGIN_SECONDS = 60  # our receipt time is measured after the fact: keep well inside the limit


@dataclass(slots=True)
class _HeldWarmup:
    """The warm-up message kept in flight; times are ``monotonic`` values."""

    message_id: str
    receipt: str
    deadline: float
    received_at: float
    next_extension: float


class WarmupKeeper:
    """The held warm-up and the awake deadline it sets (``awake_until``, a ``monotonic`` value)."""

    def __init__(self, queue: QueueOps, *, heartbeat_interval_seconds: float, visibility_timeout_seconds: int,
                 wait_time_seconds: int, monotonic: Callable[[], float], utc_now: Callable[[], datetime]) -> None:
        self._queue = queue
        self._interval = heartbeat_interval_seconds
        self._visibility = visibility_timeout_seconds
        self._wait = wait_time_seconds
        self._monotonic = monotonic
        self._utc_now = utc_now
        self._held: _HeldWarmup | None = None
        self.awake_until = 0.0

    def take(self, warmup: WarmupMessage, message: dict[str, Any]) -> None:
        """Hold the warm-up with the latest deadline in flight; delete any other at once."""
        receipt, message_id = message["ReceiptHandle"], str(message.get("MessageId", ""))
        held = self._held
        if held is not None and held.message_id == message_id:
            self._held = None  # the same message again (its visibility lapsed): the new receipt replaces it
        now = self._utc_now()
        deadline = warmup.deadline(_sent_at(message) or now)
        seconds = (deadline - now).total_seconds()
        if seconds <= 0:
            log.info("warm-up until %s has already passed: deleted", deadline.isoformat())
            self._queue.delete(receipt)
            return
        started = self._monotonic()
        candidate = started + seconds
        self.awake_until = max(self.awake_until, candidate)  # extend-only
        held = self._held
        if held is not None and held.deadline >= candidate:
            log.info("warm-up until %s deleted: a later one is held", deadline.isoformat())
            self._queue.delete(receipt)
            return
        if held is not None:
            log.info("warm-up until %s replaces the one held: deleting that", deadline.isoformat())
            self._queue.delete(held.receipt)
        self._held = _HeldWarmup(message_id, receipt, candidate, received_at=started, next_extension=started)
        log.info("warm-up: holding it in flight and staying awake for %.0f s (until %s)", seconds,
                 deadline.isoformat())
        self.tend(started)

    def tend(self, now: float) -> None:
        """Delete the held warm-up once its deadline has passed, else extend its visibility when due."""
        held = self._held
        if held is None:
            return
        if now >= held.deadline:
            self._held = None
            log.info("warm-up deadline reached: deleting its message")
            self._queue.delete(held.receipt)
        elif now >= held.next_extension:
            held.next_extension = now + self._interval
            self._extend(held, now)

    def _extend(self, held: _HeldWarmup, now: float) -> None:
        left_in_receipt = _MAX_VISIBILITY_SECONDS - _VISIBILITY_MARGIN_SECONDS - (now - held.received_at)
        seconds = min(self._visibility, math.ceil(held.deadline - now), math.floor(left_in_receipt))
        if seconds <= 0:  # 12 hours held: it reappears, is received again and held under a new receipt
            return
        self._queue.extend(held.receipt, seconds, "the warm-up message")

    def due_in(self) -> int:
        """Whole seconds until the held warm-up needs attention (the long poll's upper bound)."""
        held = self._held
        if held is None:
            return self._wait
        return max(0, math.ceil(min(held.deadline, held.next_extension) - self._monotonic()))

    def release(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            log.info("releasing the held warm-up message for another worker")
            self._queue.release(held.receipt, 0)


def _sent_at(message: dict[str, Any]) -> datetime | None:
    """The ``SentTimestamp`` system attribute (epoch milliseconds) as a UTC datetime, if present."""
    value = message.get("Attributes", {}).get("SentTimestamp")
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC) if value is not None else None
    except (TypeError, ValueError, OverflowError, OSError):
        return None
