"""The SQS loop: one message at a time, heartbeats while a job runs, idle exit, clean SIGTERM.

Lifecycle of a job message:

* received with ``VisibilityTimeout = visibility_timeout_seconds`` (long polling, 20 s);
* the job runs in a worker thread; the main thread waits for it and, every
  ``heartbeat_interval_seconds``, extends the message's visibility and sends
  ``SendDurableExecutionCallbackHeartbeat``, so a 3-hour episode neither reappears in the queue nor
  times out in the pipeline, while a crashed worker's message comes back within one visibility period;
* success: callback success, message deleted; :class:`PermanentJobError`: callback failure once,
  message deleted; any other exception is transient: the message is released for a retry (the queue's
  redrive policy moves it to the dead-letter queue after ``maxReceiveCount`` deliveries; on the last
  delivery the callback is failed first, so the pipeline learns at once instead of timing out);
* SIGTERM/SIGINT: stop taking work; a running job's message is released with visibility 0 so another
  worker starts it at once; no callback is sent and the loop returns within about a second (or within
  one long poll when idle).

Malformed bodies are logged, their callback failed when an id can be read, copied to the dead-letter
queue (found through the queue's ``RedrivePolicy``) and deleted: they never crash the loop. Any body
the parser cannot read (100 kB of nested ``[`` included) counts as malformed.

Before a job runs (issue 12):

* its callback is checked with a heartbeat: one the pipeline has already closed (completed, timed
  out, unknown) means nobody waits for this transcript, so the message is deleted unworked;
* with ``claims`` (:mod:`podwhisperer.worker.claims`), the job is claimed: when another worker holds a
  live claim on the same upload, a duplicate of its message (same callback) is deleted, since that
  worker answers the callback, and a different job for the same upload is handed back for later (by
  then the transcript exists and is reused).

While a job runs, a heartbeat answered "closed", or heartbeats failing for longer than
``callback_heartbeat_timeout_seconds`` (the pipeline has given up on the job by then), stop the
worker: the message is released and the process exits rather than spending the GPU on a
transcript nobody will receive (a running transcription cannot be cancelled from its thread).

Warm-up messages (``{"type": "warmup", "until"?}``) keep the *service* up, not just this process: the
autoscaler counts in-flight messages, so the worker holds the warm-up message in flight until its
deadline (``until``, else the message's ``SentTimestamp`` + 30 minutes, so a re-delivery never extends
itself). While held, its visibility is extended every ``heartbeat_interval_seconds`` (to at most
``visibility_timeout_seconds``, never past the deadline nor SQS's 12 hours from receipt), the idle
deadline is pushed to the warm-up deadline (extend-only), and jobs keep being processed. Only the latest
deadline is held: a later warm-up replaces the held one (which is deleted), an earlier one is deleted at
once, as is one whose deadline has passed. At the deadline the message is deleted; on stop it is
released (visibility 0) so that another worker takes it over.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import Any, Literal, Protocol

from podwhisperer.worker.callbacks import CallbackDeliveryError, CallbackOutcome, CallbackSender
from podwhisperer.worker.claims import Busy, Claim, JobClaims
from podwhisperer.worker.errors import PermanentJobError
from podwhisperer.worker.job import JobResult
from podwhisperer.worker.messages import JobMessage, MalformedMessageError, WarmupMessage, parse_message
from podwhisperer.worker.protection import TaskProtection
from podwhisperer.worker.sqs_queue import QueueOps
from podwhisperer.worker.warmup import WarmupKeeper

log = logging.getLogger(__name__)


class JobRunner(Protocol):
    def run(self, message: JobMessage) -> JobResult: ...


@dataclass(frozen=True, slots=True)
class PollerSettings:
    """Timings and queue facts; tests shrink the timings to fractions of a second."""

    queue_url: str
    wait_time_seconds: int = 20
    idle_timeout_seconds: float = 300.0
    visibility_timeout_seconds: int = 300
    heartbeat_interval_seconds: float = 60.0
    transient_retry_delay_seconds: int = 30
    job_check_interval_seconds: float = 0.25
    max_receive_count: int | None = None  # None: read from the queue's RedrivePolicy
    dead_letter_queue_url: str | None = None  # None: read from the queue's RedrivePolicy
    job_timeout_minutes: float = 60.0  # how long scale-in protection may last for one job
    callback_heartbeat_timeout_seconds: float | None = None  # the pipeline's heartbeat timeout, when known


class ExitReason(enum.Enum):
    IDLE = "idle"
    STOPPED = "stopped"


class _JobThread:
    """Runs one job off the main thread so that heartbeats and signals are handled while it works."""

    def __init__(self, runner: JobRunner, message: JobMessage) -> None:
        self.done = threading.Event()
        self.result: JobResult | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._target, args=(runner, message), daemon=True,
                                        name="transcription-job")
        self._thread.start()

    def _target(self, runner: JobRunner, message: JobMessage) -> None:
        try:
            self.result = runner.run(message)
        except BaseException as exc:  # reported to the main thread, which decides what it means
            self.error = exc
        finally:
            self.done.set()


class Poller:
    """Pulls jobs from one queue until idle or told to stop. Build one per process."""

    def __init__(self, sqs_client: Any, job: JobRunner, callbacks: CallbackSender, settings: PollerSettings, *,
                 monotonic: Callable[[], float] = time.monotonic,
                 utc_now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 protection: TaskProtection | None = None, claims: JobClaims | None = None) -> None:
        self._claims = claims
        self._queue = QueueOps(sqs_client, settings.queue_url,
                               visibility_timeout_seconds=settings.visibility_timeout_seconds,
                               dead_letter_queue_url=settings.dead_letter_queue_url,
                               max_receive_count=settings.max_receive_count)
        self._warmup = WarmupKeeper(self._queue, heartbeat_interval_seconds=settings.heartbeat_interval_seconds,
                                    visibility_timeout_seconds=settings.visibility_timeout_seconds,
                                    wait_time_seconds=settings.wait_time_seconds, monotonic=monotonic,
                                    utc_now=utc_now)
        self._protection = protection or TaskProtection(None)
        self._job = job
        self._callbacks = callbacks
        self._reports = _JobReports(callbacks, self._queue, settings.transient_retry_delay_seconds)
        self.settings = settings
        self._monotonic = monotonic
        self._utc_now = utc_now
        self._stop = threading.Event()
        self._last_activity = monotonic()
        self.jobs_done = 0

    # ----- control -------------------------------------------------------------------------------------------

    def request_stop(self, reason: str = "requested") -> None:
        """Stop taking work; a running job's message is released. Safe from signal handlers and threads."""
        if not self._stop.is_set():
            log.warning("stop requested (%s): releasing any running job and exiting", reason)
        self._stop.set()

    @contextlib.contextmanager
    def signal_handlers(self) -> Iterator[None]:
        """SIGTERM and SIGINT call :meth:`request_stop` while inside the block (main thread only)."""
        def handler(signum: int, _frame: FrameType | None) -> None:
            self.request_stop(signal.Signals(signum).name)

        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)

    # ----- loop ----------------------------------------------------------------------------------------------

    def run(self) -> ExitReason:
        """Poll until idle for ``idle_timeout_seconds`` (and no warm-up pending) or stopped."""
        self._last_activity = self._monotonic()
        log.info("polling %s (idle exit after %.0f s)", self.settings.queue_url, self.settings.idle_timeout_seconds)
        try:
            return self._loop()
        finally:  # stopped (or crashed) while holding a warm-up: hand it to another worker at once
            self._warmup.release()

    def _loop(self) -> ExitReason:
        while not self._stop.is_set():
            now = self._monotonic()
            self._warmup.tend(now)  # first, and at the same instant: a warm-up ending now is deleted, not held
            remaining = self._idle_deadline() - now
            if remaining <= 0:
                log.info("idle for %.0f s with no warm-up pending: exiting", self.settings.idle_timeout_seconds)
                return ExitReason.IDLE
            wait = min(self.settings.wait_time_seconds, math.ceil(remaining), self._warmup.due_in())
            for message in self._queue.receive(wait, self._stop):
                if self._stop.is_set():
                    self._queue.release(message["ReceiptHandle"], 0)
                    continue
                self._handle(message)
                self._last_activity = self._monotonic()
        log.info("stopped after %d job(s)", self.jobs_done)
        return ExitReason.STOPPED

    def _idle_deadline(self) -> float:
        return max(self._last_activity + self.settings.idle_timeout_seconds, self._warmup.awake_until)

    def _handle(self, message: dict[str, Any]) -> None:
        receipt = message["ReceiptHandle"]
        try:
            parsed = parse_message(message.get("Body"))
        except MalformedMessageError as exc:
            self._reports.malformed(message, exc)
            return
        except Exception as exc:  # RecursionError on deep nesting, or anything else the parser trips on
            self._reports.malformed(message, MalformedMessageError(f"unreadable message body ({type(exc).__name__})"))
            return
        if isinstance(parsed, WarmupMessage):
            self._warmup.take(parsed, message)
            return
        receive_count = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        self._process_job(parsed, receipt, receive_count)

    # ----- jobs ----------------------------------------------------------------------------------------------

    def _process_job(self, message: JobMessage, receipt: str, receive_count: int) -> None:
        log.info("job %s (delivery %d)", message.s3_key, receive_count)
        if self._callbacks.heartbeat(message.callback_id) in (CallbackOutcome.CLOSED, CallbackOutcome.NOT_FOUND):
            log.warning("the pipeline no longer waits for %s (callback closed): deleting the job unworked",
                        message.s3_key)
            self._queue.delete(receipt)
            return
        claim = self._claim(message, receipt)
        if claim is False:
            return
        started = self._monotonic()
        self._protection.protect(self.settings.job_timeout_minutes)
        try:
            job = self._run_with_heartbeats(message, receipt, claim)
        finally:
            self._protection.release()
            if claim is not None and self._claims is not None:
                self._claims.release(claim)
        if job is None:  # stop requested mid-job: hand the message back at once, say nothing to the pipeline
            self._queue.release(receipt, 0)
            log.warning("released %s for another worker", message.s3_key)
            return
        if job.result is not None:
            self._reports.success(message, receipt, job.result)
            log.info("done %s in %.1f s", message.s3_key, self._monotonic() - started)
        elif isinstance(job.error, PermanentJobError):
            self._reports.permanent_failure(message, receipt, job.error)
        else:
            self._reports.transient_failure(message, receipt, receive_count, job.error)
        self.jobs_done += 1

    def _claim(self, message: JobMessage, receipt: str) -> Claim | Literal[False] | None:
        """This worker's claim on the job (None: no claims configured, or the claim store is unreachable and
        the job runs unclaimed), or False when another worker has it and the message was dealt with."""
        if self._claims is None:
            return None
        try:
            claim = self._claims.acquire(message.s3_key, message.etag, message.callback_id)
        except Exception as exc:  # better to risk a duplicate transcription than to stall every job
            log.warning("could not claim %s, transcribing unclaimed: %s", message.s3_key, exc)
            return None
        if isinstance(claim, Claim):
            return claim
        if isinstance(claim, Busy) and claim.same_callback(message.callback_id):
            log.info("%s is a duplicate of the job %s is running: deleted", message.s3_key, claim.owner)
            self._queue.delete(receipt)
        else:
            log.info("%s is being transcribed by another worker: retrying in %d s", message.s3_key,
                     self.settings.visibility_timeout_seconds)
            self._queue.release(receipt, self.settings.visibility_timeout_seconds)
        return False

    def _run_with_heartbeats(self, message: JobMessage, receipt: str, claim: Claim | None) -> _JobThread | None:
        job = _JobThread(self._job, message)
        interval = self.settings.heartbeat_interval_seconds
        next_beat = self._monotonic() + interval
        last_delivered = self._monotonic()
        while not job.done.wait(self.settings.job_check_interval_seconds):
            if self._stop.is_set():
                return None
            self._warmup.tend(self._monotonic())
            if self._monotonic() >= next_beat:
                outcome = self._heartbeat(message, receipt)
                if outcome is CallbackOutcome.DELIVERED:
                    last_delivered = self._monotonic()
                if self._pipeline_gave_up(outcome, self._monotonic() - last_delivered):
                    self.request_stop(f"the pipeline no longer waits for {message.s3_key}")
                    return None
                if claim is not None and self._claims is not None:
                    claim = self._claims.refresh(claim, message.s3_key, message.callback_id) or claim
                next_beat = self._monotonic() + interval
        return job

    def _pipeline_gave_up(self, outcome: CallbackOutcome, silent_for: float) -> bool:
        """True when the callback is closed, or heartbeats have failed for longer than the pipeline's timeout."""
        if outcome in (CallbackOutcome.CLOSED, CallbackOutcome.NOT_FOUND):
            return True
        timeout = self.settings.callback_heartbeat_timeout_seconds
        return outcome is CallbackOutcome.FAILED and timeout is not None and silent_for > timeout

    def _heartbeat(self, message: JobMessage, receipt: str) -> CallbackOutcome:
        self._queue.extend(receipt, self.settings.visibility_timeout_seconds, message.s3_key)
        outcome = self._callbacks.heartbeat(message.callback_id)
        progress = getattr(self._job, "progress", None)
        snapshot = progress.snapshot() if progress is not None else None
        log.info("heartbeat %s: %s", message.s3_key, snapshot.describe() if snapshot else "preparing")
        return outcome


class _JobReports:
    """How a job ends: the pipeline told through its callback, then the message deleted, or released to be
    tried again when the callback could not be delivered (or the failure is transient)."""

    def __init__(self, callbacks: CallbackSender, queue: QueueOps, retry_delay_seconds: int) -> None:
        self._callbacks = callbacks
        self._queue = queue
        self._retry_delay = retry_delay_seconds

    def success(self, message: JobMessage, receipt: str, result: JobResult) -> None:
        try:
            self._callbacks.succeed(message.callback_id, result.to_wire())
        except CallbackDeliveryError as exc:
            log.error("transcript written but the callback failed; retrying later: %s", exc)
            self._queue.release(receipt, self._retry_delay)
            return
        self._queue.delete(receipt)

    def permanent_failure(self, message: JobMessage, receipt: str, error: PermanentJobError) -> None:
        log.error("job %s failed permanently: %s", message.s3_key, error)
        try:
            self._callbacks.fail(message.callback_id, error.error_type, str(error))
        except CallbackDeliveryError as exc:
            log.error("failure callback not delivered; retrying later: %s", exc)
            self._queue.release(receipt, self._retry_delay)
            return
        self._queue.delete(receipt)

    def transient_failure(self, message: JobMessage, receipt: str, receive_count: int,
                          error: BaseException | None) -> None:
        log.error("job %s failed (delivery %d), will be retried: %r", message.s3_key, receive_count, error,
                  exc_info=error)
        max_receives = self._queue.redrive().max_receive_count
        if max_receives is not None and receive_count >= max_receives:
            text = f"gave up after {receive_count} attempts: {type(error).__name__}: {error}"
            with contextlib.suppress(CallbackDeliveryError):
                self._callbacks.fail(message.callback_id, type(error).__name__, text)
        # Released, not deleted: the redrive policy moves the message to the DLQ after maxReceiveCount deliveries.
        self._queue.release(receipt, self._retry_delay)

    def malformed(self, message: dict[str, Any], error: MalformedMessageError) -> None:
        body = message.get("Body") or ""
        log.error("malformed message %s: %s; body starts %r", message.get("MessageId"), error, body[:200])
        if error.callback_id:
            with contextlib.suppress(CallbackDeliveryError):
                self._callbacks.fail(error.callback_id, "MalformedJobMessage", str(error))
        if not self._queue.dead_letter(body, str(error)):
            self._queue.release(message["ReceiptHandle"], self._retry_delay)
            return
        self._queue.delete(message["ReceiptHandle"])
