"""Detail payloads of the completion and failure events.

The completion detail keeps the predecessor's schema (``inputKey``, ``bucket``, ``outputKeys``,
``timing``) and adds what a producer asks next: how long transcription took on the worker, how
many LLM tokens were spent, how many words and speakers came out. Builders are pure functions of
small, checkpointed values, so a replayed step rebuilds byte-identical details.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

MAX_ERROR_MESSAGE_CHARS = 2000
"""Failure messages are cut so an odd exception can never push the event over EventBridge's 256 KB."""


def completion_detail(
    *,
    input_key: str,
    bucket: str,
    etag: str | None,
    execution_arn: str,
    output_keys: Mapping[str, Any],
    started_at: str,
    completed_at: str,
    worker_stats: Any,
    llm_usage: Mapping[str, Any] | None,
    counts: Mapping[str, Any],
    transcription_reused: bool,
) -> dict[str, Any]:
    """Detail of the "Pipeline Completed" event (and the execution's result)."""
    return {
        "status": "completed",
        "inputKey": input_key,
        "bucket": bucket,
        "etag": etag,
        "executionArn": execution_arn,
        "outputKeys": dict(output_keys),
        "timing": timing(started_at, completed_at),
        "transcription": {"reused": transcription_reused, "workerStats": worker_stats},
        "llm": dict(llm_usage) if llm_usage is not None else None,
        "transcript": dict(counts),
    }


def failure_detail(
    *,
    input_key: str,
    bucket: str,
    etag: str | None,
    execution_arn: str,
    failed_step: str,
    error_type: str,
    error_message: str,
    started_at: str | None,
    failed_at: str,
) -> dict[str, Any]:
    """Detail of the "Pipeline Failed" event."""
    return {
        "status": "failed",
        "inputKey": input_key,
        "bucket": bucket,
        "etag": etag,
        "executionArn": execution_arn,
        "failedStep": failed_step,
        "error": {"type": error_type, "message": error_message[:MAX_ERROR_MESSAGE_CHARS]},
        "timing": {"pipelineStartedAt": started_at, "pipelineFailedAt": failed_at},
    }


def timing(started_at: str, completed_at: str) -> dict[str, Any]:
    """``pipelineStartedAt``/``pipelineCompletedAt`` (ISO 8601) and the duration in milliseconds."""
    duration = datetime.fromisoformat(completed_at) - datetime.fromisoformat(started_at)
    return {
        "pipelineStartedAt": started_at,
        "pipelineCompletedAt": completed_at,
        "pipelineDurationMs": int(duration.total_seconds() * 1000),
    }


def sum_llm_usage(results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Token totals over the per-chunk LLM results (whatever usage keys they carry)."""
    totals: dict[str, int] = {}
    for result in results:
        usage = result.get("usage") or {}
        for name, value in usage.items():
            if isinstance(value, int) and not isinstance(value, bool):
                totals[name] = totals.get(name, 0) + value
    statuses: dict[str, int] = {}
    for result in results:
        status = str(result.get("status", "unknown"))
        statuses[status] = statuses.get(status, 0) + 1
    return {"chunks": len(results), "chunkStatuses": statuses, "usage": totals}
