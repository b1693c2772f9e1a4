"""The event sink: EventBridge in the cloud, a JSON-lines file (and the log) on a laptop.

Publishing is the workflow's only side effect that cannot be made idempotent by writing an
object, so the sink reports failures loudly (a partial ``PutEvents`` failure raises) and the
workflow guards against re-sending with a marker object (see ``pipeline.py``).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from podwhisperer.runtime.config import NotificationConfig


class EventPublishError(RuntimeError):
    """EventBridge rejected the event."""


@dataclass(frozen=True, slots=True)
class PipelineEvent:
    """One event as EventBridge takes it."""

    bus: str
    source: str
    detail_type: str
    detail: Mapping[str, Any]

    def to_entry(self) -> dict[str, Any]:
        return {
            "EventBusName": self.bus,
            "Source": self.source,
            "DetailType": self.detail_type,
            "Detail": json.dumps(self.detail, sort_keys=True, ensure_ascii=False),
        }

    @classmethod
    def completed(cls, cfg: NotificationConfig, detail: Mapping[str, Any]) -> PipelineEvent:
        return cls(cfg.event_bus_name, cfg.source, cfg.detail_type, detail)

    @classmethod
    def failed(cls, cfg: NotificationConfig, detail: Mapping[str, Any]) -> PipelineEvent:
        return cls(cfg.event_bus_name, cfg.source, cfg.failure_detail_type, detail)


class EventSink(Protocol):
    """Where completion and failure events go."""

    def publish(self, event: PipelineEvent) -> None: ...


class EventBridgeSink:
    """``PutEvents`` through an injected boto3 ``events`` client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def publish(self, event: PipelineEvent) -> None:
        response = self._client.put_events(Entries=[event.to_entry()])
        if response.get("FailedEntryCount", 0):
            entry = (response.get("Entries") or [{}])[0]
            raise EventPublishError(f"{entry.get('ErrorCode', 'Unknown')}: {entry.get('ErrorMessage', '')}")


class JsonLinesEventSink:
    """Appends each event as one JSON line to a file and logs it (local mode)."""

    def __init__(self, path: Path, logger: logging.Logger | None = None) -> None:
        self.path = path
        self._logger = logger or logging.getLogger("podwhisperer.events")
        self._lock = threading.Lock()

    def publish(self, event: PipelineEvent) -> None:
        line = json.dumps(
            {"source": event.source, "detail-type": event.detail_type, "detail": event.detail},
            sort_keys=True, ensure_ascii=False,
        )
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        self._logger.info("%s: %s", event.detail_type, event.detail.get("inputKey"))

    def read(self) -> list[dict[str, Any]]:
        """Every event written so far (tests and the CLI summary)."""
        if not self.path.is_file():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line]

