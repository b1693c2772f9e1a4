"""LLM refinement, part 3: read the model's answer into a small JSON-able chunk result (pure)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from podwhisperer.runtime.transforms.llm.chunks import LlmChunk

ChunkStatus = Literal["succeeded", "skipped", "failed"]


class LlmAnswerError(ValueError):
    """The model answered, but not with a usable JSON object (truncated, filtered or malformed)."""

    def __init__(self, kind: str, detail: str) -> None:
        self.kind = kind
        self.detail = detail
        super().__init__(f"{kind}: {detail}")


@dataclass(frozen=True, slots=True)
class LineUpdate:
    """The model's corrected text for the segment at ``idx``."""

    idx: int
    text: str


@dataclass(frozen=True, slots=True)
class ParsedAnswer:
    """A validated model answer: speaker label → name, and corrected lines."""

    speakers: dict[str, str]
    updates: tuple[LineUpdate, ...]


class _UpdateModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    idx: int
    text: str


class _AnswerModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    # A null name is how some models say "unknown"; it is dropped rather than failing the answer.
    speakers: dict[str, str | None] = Field(default_factory=dict)
    updates: list[_UpdateModel] = Field(default_factory=list)


MAX_ANSWER_BYTES = 128 * 1024
"""A longer answer is refused before parsing: no genuine correction of one chunk is that long, and a chunk's
result must stay well inside the durable checkpoint's 256 KiB."""

_FENCED_JSON = re.compile(r"```(?:json)?\s*(\{.*\})\s*```", re.DOTALL | re.IGNORECASE)
TRUNCATED_STOP_REASONS = frozenset({"max_tokens", "model_context_window_exceeded"})
FILTERED_STOP_REASONS = frozenset({"guardrail_intervened", "content_filtered"})


def parse_response(response: Mapping[str, Any], chunk: LlmChunk) -> ParsedAnswer:
    """The validated answer in a Converse response, or :class:`LlmAnswerError` saying what is wrong with it."""
    stop_reason = response.get("stopReason")
    if stop_reason in TRUNCATED_STOP_REASONS:
        raise LlmAnswerError("truncated", f"chunk {chunk.index}: the answer was cut off ({stop_reason}); "
                             "raise model_settings.max_tokens or lower chunk_max_words")
    if stop_reason in FILTERED_STOP_REASONS:
        raise LlmAnswerError("filtered", f"chunk {chunk.index}: the answer was blocked ({stop_reason})")
    text = response_text(response)
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_ANSWER_BYTES:
        raise LlmAnswerError("too-large", f"chunk {chunk.index}: the answer is {size} bytes; at most "
                             f"{MAX_ANSWER_BYTES} are read (a correction list is never that long)")
    answer = _validated_answer(_json_object_text(text, chunk), chunk)
    speakers = {label: name for label, name in answer.speakers.items() if name is not None}
    return ParsedAnswer(speakers=speakers, updates=tuple(LineUpdate(u.idx, u.text) for u in answer.updates))


def response_text(response: Mapping[str, Any]) -> str:
    """The text blocks of the answer joined together (reasoning and other blocks are skipped)."""
    content = ((response.get("output") or {}).get("message") or {}).get("content") or []
    return "".join(block["text"] for block in content if isinstance(block, Mapping) and "text" in block)


def json_object_text(text: str) -> str | None:
    """The JSON object in a model's answer: inside a ```json fence, else from the first ``{`` to the last
    ``}``; None when there is none (also read by the chapters step)."""
    fenced = _FENCED_JSON.search(text)
    if fenced:
        return fenced.group(1)
    start, end = text.find("{"), text.rfind("}")
    return text[start:end + 1] if 0 <= start <= end else None


def _json_object_text(text: str, chunk: LlmChunk) -> str:
    found = json_object_text(text)
    if found is None:
        raise LlmAnswerError("no-json", f"chunk {chunk.index}: the answer holds no JSON object: {text[:200]!r}")
    return found


def _validated_answer(json_text: str, chunk: LlmChunk) -> _AnswerModel:
    try:
        data = json.loads(json_text)
    except json.JSONDecodeError as exc:
        raise LlmAnswerError("invalid-json", f"chunk {chunk.index}: {exc}") from None
    try:
        return _AnswerModel.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        raise LlmAnswerError("invalid-shape", f"chunk {chunk.index}: {problems}") from None


def response_usage(response: Mapping[str, Any]) -> dict[str, int]:
    """Input and output tokens billed for one Converse call (zero when the response has no usage)."""
    usage = response.get("usage") or {}
    return {"input_tokens": int(usage.get("inputTokens", 0)), "output_tokens": int(usage.get("outputTokens", 0))}


def chunk_result(chunk: LlmChunk, status: ChunkStatus, reason: str | None, *, usage: Mapping[str, int],
                 latency_ms: int, attempts: int, answer: ParsedAnswer | None = None) -> dict[str, Any]:
    """What one chunk's calls produced: the unit a durable ``map`` checkpoints and :func:`apply_refinements` reads."""
    return {
        "chunk": chunk.to_dict(),
        "status": status,
        "reason": reason,
        "speakers": dict(answer.speakers) if answer else {},
        "updates": [{"idx": u.idx, "text": u.text} for u in answer.updates] if answer else [],
        "usage": dict(usage),
        "latency_ms": latency_ms,
        "attempts": attempts,
    }
