"""The one durable-callback shim: the Lambda callback API on loopback HTTP (moto lacks it).

It records every call, answers as the service does (429 while ``throttle_next``, 404 for ``unknown``
ids, 409 for a callback already completed), and — when a ``runner`` (a ``DurableFunctionTestRunner``)
is attached — forwards success, failure and heartbeat to it, so a workflow waiting on the callback
resumes exactly as on AWS.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import boto3
from aws_durable_execution_sdk_python.lambda_service import ErrorObject

from fakes.callback_api import serve_callbacks

REGION = "eu-west-1"


@dataclass
class CallbackShim:
    """Loopback stand-in for the durable-callback API (use as a context manager to serve it)."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    completed: set[str] = field(default_factory=set)
    unknown: set[str] = field(default_factory=set)  # ids answered 404 (expired)
    throttle_next: int = 0  # answer this many requests with 429 first
    runner: Any = None  # a DurableFunctionTestRunner to forward to, or None to only record
    lock: threading.Lock = field(default_factory=threading.Lock)
    endpoint: str = ""
    _serving: Any = None

    def kinds(self, callback_id: str | None = None) -> list[str]:
        with self.lock:
            return [c["kind"] for c in self.calls if callback_id is None or c["id"] == callback_id]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            return [c for c in self.calls if c["kind"] == kind]

    def answer(self, callback_id: str, kind: str, body: bytes) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.calls.append({"id": callback_id, "kind": kind, "body": body})
            if self.throttle_next > 0:
                self.throttle_next -= 1
                return 429, {"__type": "TooManyRequestsException", "message": "slow down"}
            if callback_id in self.unknown:
                return 404, {"__type": "ResourceNotFoundException", "message": "callback not found"}
            if callback_id in self.completed:
                return 409, {"__type": "CallbackTimeoutException", "message": "callback already completed"}
            if kind in ("succeed", "fail"):
                self.completed.add(callback_id)
        try:
            self._forward(callback_id, kind, body)
        except Exception:  # the runner refuses a closed callback: answer as the service does
            return 409, {"__type": "CallbackTimeoutException", "message": "callback already closed"}
        return 200, {}

    def _forward(self, callback_id: str, kind: str, body: bytes) -> None:
        if self.runner is None:
            return
        if kind == "succeed":
            self.runner.send_callback_success(callback_id, result=body)
        elif kind == "fail":
            error = json.loads(body or b"{}")
            self.runner.send_callback_failure(callback_id, error=ErrorObject.from_message(
                f"{error.get('ErrorType', 'Error')}: {error.get('ErrorMessage', '')}"))
        else:
            self.runner.send_callback_heartbeat(callback_id)

    def lambda_client(self, max_attempts: int | None = None) -> Any:
        """A boto3 ``lambda`` client pointed at the shim (``max_attempts``: botocore's own retries)."""
        from botocore.config import Config

        config = Config(retries={"total_max_attempts": max_attempts}) if max_attempts else None
        return boto3.client("lambda", endpoint_url=self.endpoint, region_name=REGION, aws_access_key_id="testing",
                            aws_secret_access_key="testing", config=config)

    def __enter__(self) -> CallbackShim:
        self._serving = serve_callbacks(self.answer)
        self.endpoint = self._serving.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._serving.__exit__(kind, error, trace)


def lambda_client(shim: CallbackShim) -> Any:
    """The worker's client: no botocore retries, so the sender's own retry logic is what is tested."""
    return shim.lambda_client(max_attempts=1)
