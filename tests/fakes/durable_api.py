"""The loopback HTTP layer of the Lambda durable-executions *read* API (moto lacks it).

Serves, on 127.0.0.1, what ``podwhisperer cloud status|cost|backfill`` call through a plain boto3
``lambda`` client (``AWS_ENDPOINT_URL_LAMBDA``):

* ``GET /2025-12-01/functions/{name}/durable-executions`` (ListDurableExecutionsByFunction: Statuses,
  StartedAfter, ReverseOrder, MaxItems/Marker paging),
* ``GET /2025-12-01/durable-executions/{arn}`` (GetDurableExecution) and ``…/{arn}/history``,
* ``GET /2015-03-31/functions/{name}/configuration`` (GetFunctionConfiguration: the environment).

Executions are plain dicts in :attr:`DurableApi.executions` (the service's field names), so a test
states exactly what the service would answer; ``calls`` records the paths asked for.
"""

from __future__ import annotations

import json
import re
import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from fakes.loopback import serve_json

_LIST = re.compile(r"^/2025-12-01/functions/(?P<name>[^/]+)/durable-executions$")
_GET = re.compile(r"^/2025-12-01/durable-executions/(?P<arn>.+?)(?P<history>/history)?$")
_CONFIG = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/configuration$")


@dataclass
class DurableApi:
    function: str = "acme-show-pipeline"
    environment: dict[str, str] = field(default_factory=dict)
    executions: list[dict[str, Any]] = field(default_factory=list)  # newest last, like a start order
    histories: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, key: str, status: str, started: datetime, *, ended: datetime | None = None,
            result: dict[str, Any] | None = None, error: dict[str, str] | None = None) -> str:
        arn = f"arn:aws:lambda:eu-west-1:123456789012:function:{self.function}:live/durable-execution/{name}/x1"
        event = {"detail-type": "Object Created", "source": "aws.s3",
                 "detail": {"bucket": {"name": "b"}, "object": {"key": key, "size": 1}}}
        with self.lock:
            self.executions.append({
                "DurableExecutionArn": arn, "DurableExecutionName": name, "Status": status,
                "FunctionArn": f"arn:aws:lambda:eu-west-1:123456789012:function:{self.function}",
                "StartTimestamp": started, "EndTimestamp": ended, "InputPayload": json.dumps(event),
                "Result": json.dumps(result) if result is not None else None, "Error": error})
        return arn

    def finish(self, arn: str, status: str = "SUCCEEDED", result: dict[str, Any] | None = None) -> None:
        with self.lock:
            for execution in self.executions:
                if execution["DurableExecutionArn"] == arn:
                    execution.update(Status=status, EndTimestamp=datetime.now(UTC),
                                     Result=json.dumps(result or {"status": "completed"}))

    # region answers

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        self.calls.append(path)
        with self.lock:
            if (match := _LIST.match(path)) is not None:
                return self._list(unquote(match["name"]), query)
            if (match := _CONFIG.match(path)) is not None:
                if unquote(match["name"]) != self.function:
                    return 404, {"__type": "ResourceNotFoundException", "Message": "Function not found"}
                return 200, {"FunctionName": self.function, "Environment": {"Variables": self.environment}}
            if (match := _GET.match(path)) is not None:
                return self._get(unquote(match["arn"]), bool(match["history"]))
        return 404, {"__type": "UnknownOperationException"}

    def _list(self, name: str, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        if name != self.function:
            return 404, {"__type": "ResourceNotFoundException", "Message": f"Function not found: {name}"}
        chosen = list(self.executions)
        if query.get("ReverseOrder", ["false"])[0] == "true":
            chosen.reverse()
        statuses = query.get("Statuses")
        if statuses:
            chosen = [e for e in chosen if e["Status"] in statuses]
        if "StartedAfter" in query:
            after = datetime.fromisoformat(query["StartedAfter"][0].replace("Z", "+00:00"))
            chosen = [e for e in chosen if e["StartTimestamp"] >= after]
        start = int(query.get("Marker", ["0"])[0])
        size = int(query.get("MaxItems", ["50"])[0])
        page = chosen[start:start + size]
        summaries = [{k: _wire(e[k]) for k in ("DurableExecutionArn", "DurableExecutionName", "FunctionArn",
                                                "Status", "StartTimestamp", "EndTimestamp") if e[k] is not None}
                     for e in page]
        answer: dict[str, Any] = {"DurableExecutions": summaries}
        if start + size < len(chosen):
            answer["NextMarker"] = str(start + size)
        return 200, answer

    def _get(self, arn: str, history: bool) -> tuple[int, dict[str, Any]]:
        found = next((e for e in self.executions if e["DurableExecutionArn"] == arn), None)
        if found is None:
            return 404, {"__type": "ResourceNotFoundException", "Message": "no such execution"}
        if history:
            return 200, {"Events": [{k: _wire(v) for k, v in event.items()} for event in self.histories.get(arn, [])]}
        return 200, {k: _wire(v) for k, v in found.items() if v is not None}

    # endregion


def _wire(value: Any) -> Any:
    return value.timestamp() if isinstance(value, datetime) else value


def serve_durable_api(api: DurableApi) -> AbstractContextManager[str]:
    """Serve ``api`` on 127.0.0.1 (the shared loopback layer) while the block runs; yields the endpoint URL."""

    def route(method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        if method != "GET":
            return 404, {"__type": "UnknownOperationException"}
        parsed = urlparse(path)
        return api.answer(parsed.path, parse_qs(parsed.query))

    return serve_json(route)
