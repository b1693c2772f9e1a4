"""Complete the durable Lambda's callback: success, failure, heartbeat.

Wraps an injected boto3 ``lambda`` client (``SendDurableExecutionCallbackSuccess/Failure/Heartbeat``).
Answers meaning "this callback is closed" (already completed, timed out, unknown id) are normal in
a queue-driven system (a redelivered message, a pipeline that gave up) and are logged and returned
as :class:`CallbackOutcome`, never raised. Throttling and service errors are retried a few times;
if a success still cannot be delivered, :class:`CallbackDeliveryError` tells the poller to release
the message (the next attempt reuses the transcript and tries the callback again).
"""

from __future__ import annotations

import enum
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger(__name__)

MAX_RESULT_BYTES = 256 * 1024  # the SendDurableExecutionCallbackSuccess Result limit in the API docs
MAX_ERROR_MESSAGE_CHARS = 4000
_CLOSED_CODES = {"CallbackTimeoutException": "closed", "ResourceNotFoundException": "not_found"}
_RETRYABLE_CODES = {"TooManyRequestsException", "ServiceException", "ThrottlingException"}


class CallbackOutcome(enum.Enum):
    DELIVERED = "delivered"
    CLOSED = "closed"  # already completed or timed out: the pipeline no longer waits
    NOT_FOUND = "not_found"  # unknown or expired callback id
    FAILED = "failed"  # heartbeats only: could not be delivered (logged, harmless)


class CallbackDeliveryError(RuntimeError):
    """A success or failure that could not be delivered after retries (a transient problem)."""


class CallbackSender:
    """Sends callback completions through ``lambda_client``; construct one per process."""

    def __init__(self, lambda_client: Any, *, attempts: int = 3, backoff_seconds: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._client = lambda_client
        self._attempts = attempts
        self._backoff = backoff_seconds
        self._sleep = sleep

    def succeed(self, callback_id: str, result: Mapping[str, Any]) -> CallbackOutcome:
        payload = json.dumps(result, separators=(",", ":")).encode()
        if len(payload) > MAX_RESULT_BYTES:
            raise ValueError(f"callback result is {len(payload)} bytes; the limit is {MAX_RESULT_BYTES}")
        return self._send("success", callback_id, lambda: self._client.send_durable_execution_callback_success(
            CallbackId=callback_id, Result=payload))

    def fail(self, callback_id: str, error_type: str, message: str) -> CallbackOutcome:
        error = {"ErrorType": error_type, "ErrorMessage": message[:MAX_ERROR_MESSAGE_CHARS]}
        return self._send("failure", callback_id, lambda: self._client.send_durable_execution_callback_failure(
            CallbackId=callback_id, Error=error))

    def heartbeat(self, callback_id: str) -> CallbackOutcome:
        """Never raises: a lost heartbeat only matters if many are lost, and the next one may get through."""
        try:
            return self._send("heartbeat", callback_id, lambda: self._client.send_durable_execution_callback_heartbeat(
                CallbackId=callback_id), attempts=1)
        except CallbackDeliveryError as exc:
            log.warning("heartbeat for callback %s not delivered: %s", _short(callback_id), exc)
            return CallbackOutcome.FAILED

    def _send(self, kind: str, callback_id: str, call: Callable[[], Any],
              attempts: int | None = None) -> CallbackOutcome:
        attempts = attempts or self._attempts
        for attempt in range(1, attempts + 1):
            try:
                call()
                log.info("callback %s: %s delivered", _short(callback_id), kind)
                return CallbackOutcome.DELIVERED
            except ClientError as exc:
                code, message = _error_code_and_message(exc)
                outcome = _closed_outcome(code, message)
                if outcome is not None:
                    log.warning("callback %s: %s not needed, the callback is %s (%s: %s)", _short(callback_id),
                                kind, outcome.value, code, message)
                    return outcome
                if code not in _RETRYABLE_CODES or attempt == attempts:
                    raise CallbackDeliveryError(f"{kind} for callback {_short(callback_id)}: {code}: {exc}") from exc
            except BotoCoreError as exc:  # connection errors, timeouts
                if attempt == attempts:
                    raise CallbackDeliveryError(f"{kind} for callback {_short(callback_id)}: {exc}") from exc
            self._sleep(self._backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")


def _error_code_and_message(exc: ClientError) -> tuple[str, str]:
    error = exc.response.get("Error", {})
    return str(error.get("Code", "")), str(error.get("Message", ""))


def _closed_outcome(code: str, message: str) -> CallbackOutcome | None:
    """Closed/not-found answers; also a conflict worded as "already completed" whatever its code."""
    if code in _CLOSED_CODES:
        return CallbackOutcome(_CLOSED_CODES[code])
    if "already" in message.lower() and ("complete" in message.lower() or "closed" in message.lower()):
        return CallbackOutcome.CLOSED
    return None


def _short(callback_id: str) -> str:
    """Callback ids are long opaque tokens; logs need only enough to correlate."""
    return callback_id if len(callback_id) <= 16 else callback_id[:12] + "…"
