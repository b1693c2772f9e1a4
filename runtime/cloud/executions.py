"""The pipeline's durable executions, per episode, from the Lambda durable-executions API.

``ListDurableExecutionsByFunction`` lists executions (ARN, status, times); ``GetDurableExecution``
gives each one's input (the S3 "Object Created" event, so the episode's key), result (the completion
detail, with the cost breakdown) and error. For a failed run, ``GetDurableExecutionHistory`` holds the
``failure-event`` step's result: the step that failed and its error, as the failure event said.
Finished executions never change, so they are fetched once per :class:`Executions` object.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from podwhisperer.runtime.upload import key_candidates

FINAL_STATUSES = {"SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED"}
FAILURE_EVENT_STEP = "failure-event"


@dataclass(frozen=True)
class Execution:
    """One run of the pipeline, as the operator sees it."""

    arn: str
    status: str  # RUNNING | SUCCEEDED | FAILED | TIMED_OUT | STOPPED | …
    started: datetime | None
    ended: datetime | None
    keys: tuple[str, ...]  # the input key the event may mean (decoded first)
    result: dict[str, Any] | None = None
    error_type: str | None = None
    error_message: str | None = None

    @property
    def key(self) -> str:
        return self.keys[0] if self.keys else "<unknown>"

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def outcome(self) -> str:
        """running | completed | ignored | superseded | failed | timed out | stopped."""
        if self.status == "SUCCEEDED":
            return str((self.result or {}).get("status") or "completed")
        return {"RUNNING": "running", "FAILED": "failed", "TIMED_OUT": "timed out", "STOPPED": "stopped"}.get(
            self.status, self.status.lower())


@dataclass(frozen=True)
class Failure:
    step: str
    error_type: str
    message: str


class Executions:
    """Reads executions of one function through an injected boto3 ``lambda`` client."""

    def __init__(self, client: Any, function_name: str) -> None:
        self._client = client
        self._function = function_name
        self._finished: dict[str, Execution] = {}

    def list(self, *, since: datetime | None = None, limit: int | None = None,
             statuses: Sequence[str] = ()) -> list[Execution]:
        """Newest first; at most ``limit``; only ``statuses`` (API names, e.g. SUCCEEDED) when given."""
        found: list[Execution] = []
        for summary in self._summaries(since, statuses):
            arn = summary["DurableExecutionArn"]
            cached = self._finished.get(arn)
            execution = cached or self._get(arn)
            if execution.finished:
                self._finished[arn] = execution
            found.append(execution)
            if limit is not None and len(found) >= limit:
                break
        return found

    def latest_by_key(self, since: datetime | None = None) -> dict[str, Execution]:
        """The newest execution for each input key."""
        latest: dict[str, Execution] = {}
        for execution in self.list(since=since):
            for key in execution.keys:
                latest.setdefault(key, execution)
        return latest

    def failure(self, execution: Execution) -> Failure:
        """The failed step and its error (from the ``failure-event`` step's result, else the last failed step)."""
        events = list(self._history(execution.arn))
        for event in reversed(events):
            if event.get("EventType") == "StepSucceeded" and event.get("Name") == FAILURE_EVENT_STEP:
                detail = _json((event.get("StepSucceededDetails") or {}).get("Result", {}).get("Payload"))
                if isinstance(detail, dict) and detail.get("failedStep"):
                    error = detail.get("error") or {}
                    return Failure(str(detail["failedStep"]), str(error.get("type", "")), str(error.get("message", "")))
        for event in reversed(events):
            kind = str(event.get("EventType", ""))
            if kind in ("StepFailed", "CallbackFailed", "CallbackTimedOut", "ContextFailed"):
                details = event.get(f"{kind}Details") or {}
                payload = ((details.get("Error") or {}).get("Payload")) or {}
                return Failure(str(event.get("Name") or kind), str(payload.get("ErrorType") or kind),
                               str(payload.get("ErrorMessage") or ""))
        return Failure("", execution.error_type or execution.status, execution.error_message or "")

    def _summaries(self, since: datetime | None, statuses: Sequence[str] = ()) -> Iterator[dict[str, Any]]:
        request: dict[str, Any] = {"FunctionName": self._function, "ReverseOrder": True, "MaxItems": 100}
        if since is not None:
            request["StartedAfter"] = since
        if statuses:
            request["Statuses"] = list(statuses)
        while True:
            page = self._client.list_durable_executions_by_function(**request)
            yield from page.get("DurableExecutions") or []
            marker = page.get("NextMarker")
            if not marker:
                return
            request["Marker"] = marker

    def _get(self, arn: str) -> Execution:
        data = self._client.get_durable_execution(DurableExecutionArn=arn, IncludeExecutionData=True)
        event = _json(data.get("InputPayload"))
        key = None
        if isinstance(event, dict):
            key = ((event.get("detail") or {}).get("object") or {}).get("key")
        result = _json(data.get("Result"))
        error = data.get("Error") or {}
        return Execution(arn=arn, status=str(data.get("Status", "")), started=data.get("StartTimestamp"),
                         ended=data.get("EndTimestamp"), keys=tuple(key_candidates(key)) if key else (),
                         result=result if isinstance(result, dict) else None,
                         error_type=error.get("ErrorType"), error_message=error.get("ErrorMessage"))

    def _history(self, arn: str) -> Iterator[dict[str, Any]]:
        request: dict[str, Any] = {"DurableExecutionArn": arn, "IncludeExecutionData": True, "MaxItems": 1000}
        while True:
            page = self._client.get_durable_execution_history(**request)
            yield from page.get("Events") or []
            marker = page.get("NextMarker")
            if not marker:
                return
            request["Marker"] = marker


def _json(text: Any) -> Any:
    if not isinstance(text, str) or not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
