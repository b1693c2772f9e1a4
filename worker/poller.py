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
queue (found through the queue's ``RedrivePolicy``) and deleted: they never crash the loop.

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
import json
import logging
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import Any, Protocol

from podwhisperer.worker.callbacks import CallbackDeliveryError, CallbackSender
from podwhisperer.worker.errors import PermanentJobError
from podwhisperer.worker.job import JobResult
from podwhisperer.worker.messages import JobMessage, MalformedMessageError, WarmupMessage, parse_message
from podwhisperer.worker.protection import TaskProtection

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


class ExitReason(enum.Enum):
    IDLE = "idle"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class _Redrive:
    dead_letter_queue_url: str | None
    max_receive_count: int | None


@dataclass(slots=True)
class _HeldWarmup:
    """The warm-up message kept in flight; times are ``monotonic`` values."""

    message_id: str
    receipt: str
    deadline: float
    received_at: float
    next_extension: float


_MAX_VISIBILITY_SECONDS = 12 * 3600  # SQS: a message stays invisible at most 12 hours from its receipt
_VISIBILITY_MARGIN_SECONDS = 60  # our receipt time is measured after the fact: keep well inside the limit


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
                 protection: TaskProtection | None = None) -> None:
        self._sqs = sqs_client
        self._protection = protection or TaskProtection(None)
        self._job = job
        self._callbacks = callbacks
        self.settings = settings
        self._monotonic = monotonic
        self._utc_now = utc_now
        self._stop = threading.Event()
        self._awake_until = 0.0  # monotonic deadline set by warm-up messages
        self._held_warmup: _HeldWarmup | None = None
        self._last_activity = monotonic()
        self._redrive: _Redrive | None = None
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
            self._release_warmup()

    def _loop(self) -> ExitReason:
        while not self._stop.is_set():
            now = self._monotonic()
            self._tend_warmup(now)  # first, and at the same instant: a warm-up ending now is deleted, not held
            remaining = self._idle_deadline() - now
            if remaining <= 0:
                log.info("idle for %.0f s with no warm-up pending: exiting", self.settings.idle_timeout_seconds)
                return ExitReason.IDLE
            wait = min(self.settings.wait_time_seconds, math.ceil(remaining), self._warmup_due_in())
            for message in self._receive(wait_seconds=wait):
                if self._stop.is_set():
                    self._release(message["ReceiptHandle"], 0)
                    continue
                self._handle(message)
                self._last_activity = self._monotonic()
        log.info("stopped after %d job(s)", self.jobs_done)
        return ExitReason.STOPPED

    def _idle_deadline(self) -> float:
        return max(self._last_activity + self.settings.idle_timeout_seconds, self._awake_until)

    def _receive(self, wait_seconds: int) -> list[dict[str, Any]]:
        try:
            response = self._sqs.receive_message(
                QueueUrl=self.settings.queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=max(0, wait_seconds),
                VisibilityTimeout=self.settings.visibility_timeout_seconds,
                MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"])
        except Exception as exc:  # network or throttling: keep the loop alive, try again shortly
            log.warning("receive_message failed: %s", exc)
            self._stop.wait(1.0)
            return []
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def _handle(self, message: dict[str, Any]) -> None:
        receipt = message["ReceiptHandle"]
        try:
            parsed = parse_message(message.get("Body"))
        except MalformedMessageError as exc:
            self._reject_malformed(message, exc)
            return
        if isinstance(parsed, WarmupMessage):
            self._warm_up(parsed, message)
            return
        receive_count = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        self._process_job(parsed, receipt, receive_count)

    # ----- warm-up -------------------------------------------------------------------------------------------

    def _warm_up(self, warmup: WarmupMessage, message: dict[str, Any]) -> None:
        """Hold the warm-up with the latest deadline in flight; delete any other at once."""
        receipt, message_id = message["ReceiptHandle"], str(message.get("MessageId", ""))
        held = self._held_warmup
        if held is not None and held.message_id == message_id:
            self._held_warmup = None  # the same message again (its visibility lapsed): the new receipt replaces it
        now = self._utc_now()
        deadline = warmup.deadline(_sent_at(message) or now)
        seconds = (deadline - now).total_seconds()
        if seconds <= 0:
            log.info("warm-up until %s has already passed: deleted", deadline.isoformat())
            self._delete(receipt)
            return
        started = self._monotonic()
        candidate = started + seconds
        self._awake_until = max(self._awake_until, candidate)  # extend-only
        held = self._held_warmup
        if held is not None and held.deadline >= candidate:
            log.info("warm-up until %s deleted: a later one is held", deadline.isoformat())
            self._delete(receipt)
            return
        if held is not None:
            log.info("warm-up until %s replaces the one held: deleting that", deadline.isoformat())
            self._delete(held.receipt)
        self._held_warmup = _HeldWarmup(message_id, receipt, candidate, received_at=started, next_extension=started)
        log.info("warm-up: holding it in flight and staying awake for %.0f s (until %s)", seconds,
                 deadline.isoformat())
        self._tend_warmup(started)

    def _tend_warmup(self, now: float) -> None:
        """Delete the held warm-up once its deadline has passed, else extend its visibility when due."""
        held = self._held_warmup
        if held is None:
            return
        if now >= held.deadline:
            self._held_warmup = None
            log.info("warm-up deadline reached: deleting its message")
            self._delete(held.receipt)
        elif now >= held.next_extension:
            held.next_extension = now + self.settings.heartbeat_interval_seconds
            self._extend_warmup(held, now)

    def _extend_warmup(self, held: _HeldWarmup, now: float) -> None:
        left_in_receipt = _MAX_VISIBILITY_SECONDS - _VISIBILITY_MARGIN_SECONDS - (now - held.received_at)
        seconds = min(self.settings.visibility_timeout_seconds, math.ceil(held.deadline - now),
                      math.floor(left_in_receipt))
        if seconds <= 0:  # 12 hours held: it reappears, is received again and held under a new receipt
            return
        try:
            self._sqs.change_message_visibility(QueueUrl=self.settings.queue_url, ReceiptHandle=held.receipt,
                                                VisibilityTimeout=seconds)
        except Exception as exc:
            log.warning("could not extend the visibility of the warm-up message: %s", exc)

    def _warmup_due_in(self) -> int:
        """Whole seconds until the held warm-up needs attention (the long poll's upper bound)."""
        held = self._held_warmup
        if held is None:
            return self.settings.wait_time_seconds
        return max(0, math.ceil(min(held.deadline, held.next_extension) - self._monotonic()))

    def _release_warmup(self) -> None:
        held, self._held_warmup = self._held_warmup, None
        if held is not None:
            log.info("releasing the held warm-up message for another worker")
            self._release(held.receipt, 0)

    # ----- jobs ----------------------------------------------------------------------------------------------

    def _process_job(self, message: JobMessage, receipt: str, receive_count: int) -> None:
        log.info("job %s (delivery %d)", message.s3_key, receive_count)
        started = self._monotonic()
        self._protection.protect(self.settings.job_timeout_minutes)
        try:
            job = self._run_with_heartbeats(message, receipt)
        finally:
            self._protection.release()
        if job is None:  # stop requested mid-job: hand the message back at once, say nothing to the pipeline
            self._release(receipt, 0)
            log.warning("released %s for another worker", message.s3_key)
            return
        if job.result is not None:
            self._report_success(message, receipt, job.result)
            log.info("done %s in %.1f s", message.s3_key, self._monotonic() - started)
        elif isinstance(job.error, PermanentJobError):
            self._report_permanent_failure(message, receipt, job.error)
        else:
            self._report_transient_failure(message, receipt, receive_count, job.error)
        self.jobs_done += 1

    def _run_with_heartbeats(self, message: JobMessage, receipt: str) -> _JobThread | None:
        job = _JobThread(self._job, message)
        interval = self.settings.heartbeat_interval_seconds
        next_beat = self._monotonic() + interval
        while not job.done.wait(self.settings.job_check_interval_seconds):
            if self._stop.is_set():
                return None
            self._tend_warmup(self._monotonic())
            if self._monotonic() >= next_beat:
                self._heartbeat(message, receipt)
                next_beat = self._monotonic() + interval
        return job

    def _heartbeat(self, message: JobMessage, receipt: str) -> None:
        try:
            self._sqs.change_message_visibility(QueueUrl=self.settings.queue_url, ReceiptHandle=receipt,
                                                VisibilityTimeout=self.settings.visibility_timeout_seconds)
        except Exception as exc:
            log.warning("could not extend the visibility of %s: %s", message.s3_key, exc)
        self._callbacks.heartbeat(message.callback_id)

    def _report_success(self, message: JobMessage, receipt: str, result: JobResult) -> None:
        try:
            self._callbacks.succeed(message.callback_id, result.to_wire())
        except CallbackDeliveryError as exc:
            log.error("transcript written but the callback failed; retrying later: %s", exc)
            self._release(receipt, self.settings.transient_retry_delay_seconds)
            return
        self._delete(receipt)

    def _report_permanent_failure(self, message: JobMessage, receipt: str, error: PermanentJobError) -> None:
        log.error("job %s failed permanently: %s", message.s3_key, error)
        try:
            self._callbacks.fail(message.callback_id, error.error_type, str(error))
        except CallbackDeliveryError as exc:
            log.error("failure callback not delivered; retrying later: %s", exc)
            self._release(receipt, self.settings.transient_retry_delay_seconds)
            return
        self._delete(receipt)

    def _report_transient_failure(self, message: JobMessage, receipt: str, receive_count: int,
                                  error: BaseException | None) -> None:
        log.error("job %s failed (delivery %d), will be retried: %r", message.s3_key, receive_count, error,
                  exc_info=error)
        max_receives = self._queue_redrive().max_receive_count
        if max_receives is not None and receive_count >= max_receives:
            text = f"gave up after {receive_count} attempts: {type(error).__name__}: {error}"
            with contextlib.suppress(CallbackDeliveryError):
                self._callbacks.fail(message.callback_id, type(error).__name__, text)
        # Released, not deleted: the redrive policy moves the message to the DLQ after maxReceiveCount deliveries.
        self._release(receipt, self.settings.transient_retry_delay_seconds)

    # ----- malformed bodies ----------------------------------------------------------------------------------

    def _reject_malformed(self, message: dict[str, Any], error: MalformedMessageError) -> None:
        body = message.get("Body") or ""
        log.error("malformed message %s: %s; body starts %r", message.get("MessageId"), error, body[:200])
        if error.callback_id:
            with contextlib.suppress(CallbackDeliveryError):
                self._callbacks.fail(error.callback_id, "MalformedJobMessage", str(error))
        dead_letter_url = self._queue_redrive().dead_letter_queue_url
        if dead_letter_url:
            try:
                self._sqs.send_message(QueueUrl=dead_letter_url, MessageBody=body or "(empty body)",
                                       MessageAttributes={"podwhisperer-error": {
                                           "DataType": "String", "StringValue": str(error)[:1000]}})
            except Exception as exc:  # leave it on the queue; redrive will move it eventually
                log.error("could not dead-letter the message: %s", exc)
                self._release(message["ReceiptHandle"], self.settings.transient_retry_delay_seconds)
                return
        else:
            log.error("no dead-letter queue known; dropping the malformed message")
        self._delete(message["ReceiptHandle"])

    def _queue_redrive(self) -> _Redrive:
        """The DLQ URL and max receives: from the settings, else from the queue's RedrivePolicy (read once)."""
        if self._redrive is None:
            self._redrive = self._read_redrive()
        return self._redrive

    def _read_redrive(self) -> _Redrive:
        settings = self.settings
        if settings.dead_letter_queue_url and settings.max_receive_count:
            return _Redrive(settings.dead_letter_queue_url, settings.max_receive_count)
        try:
            attributes = self._sqs.get_queue_attributes(QueueUrl=settings.queue_url,
                                                        AttributeNames=["RedrivePolicy"])["Attributes"]
            policy = json.loads(attributes.get("RedrivePolicy") or "{}")
            arn = policy.get("deadLetterTargetArn")
            url = settings.dead_letter_queue_url
            if url is None and arn:
                _, _, _, _, account, name = arn.split(":", 5)
                url = self._sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
            max_receives = settings.max_receive_count or _optional_int(policy.get("maxReceiveCount"))
            return _Redrive(url, max_receives)
        except Exception as exc:
            log.warning("could not read the queue's redrive policy: %s", exc)
            return _Redrive(settings.dead_letter_queue_url, settings.max_receive_count)

    # ----- queue helpers -------------------------------------------------------------------------------------

    def _delete(self, receipt: str) -> None:
        try:
            self._sqs.delete_message(QueueUrl=self.settings.queue_url, ReceiptHandle=receipt)
        except Exception as exc:  # the message reappears later; the job is idempotent (transcript reuse)
            log.warning("delete_message failed: %s", exc)

    def _release(self, receipt: str, delay_seconds: int) -> None:
        try:
            self._sqs.change_message_visibility(QueueUrl=self.settings.queue_url, ReceiptHandle=receipt,
                                                VisibilityTimeout=delay_seconds)
        except Exception as exc:
            log.warning("could not release the message: %s", exc)


def _sent_at(message: dict[str, Any]) -> datetime | None:
    """The ``SentTimestamp`` system attribute (epoch milliseconds) as a UTC datetime, if present."""
    value = message.get("Attributes", {}).get("SentTimestamp")
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC) if value is not None else None
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _optional_int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
