"""What each durable step of the workflow checkpoints: small JSON objects (S3 keys and stats, never a
transcript), typed so the orchestration reads fields by name instead of guessing dict keys."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class Source(TypedDict):
    """``resolve-input``: the uploaded object the run is about."""

    key: str
    size: int
    etag: str | None
    superseded: bool


class Reuse(TypedDict):
    """``skip-check``: may the existing raw transcript be reused, and why (not)."""

    reuse: bool
    reason: str


class Transcribed(TypedDict):
    """``transcribe`` (the worker's callback) or a reused raw transcript."""

    raw_transcript_key: str
    stats: Any
    reused: bool


class RawSnapshot(TypedDict, total=False):
    """``raw-transcript``: the raw transcript copied into the work prefix (or why the run is superseded)."""

    superseded: bool
    reason: str
    scope: str
    key: str
    chain: str
    at: str  # when the raw transcript arrived (ISO 8601): the Lambda's active time is counted from here


class StageResult(TypedDict):
    """One post-processing stage: its object, its content address and its (summarized) stats."""

    key: str
    chain: str
    stats: Any


class StagesResult(StageResult):
    """All stages: the last one's object, plus every stage's stats and the LLM usage (None without LLM)."""

    llm: Any
    stage_stats: dict[str, Any]


class Final(TypedDict):
    """``finalize-transcript``: the refined transcript in the work prefix and what is in it."""

    key: str
    chain: str
    counts: dict[str, Any]


class Captions(TypedDict):
    """``captions``: every enabled format rendered into the work prefix, by format name."""

    work_keys: dict[str, str]


class Published(TypedDict):
    """``publish``: the final keys (or why nothing was published)."""

    superseded: bool
    reason: str | None
    refined_transcript: NotRequired[str]
    captions: NotRequired[dict[str, str]]
