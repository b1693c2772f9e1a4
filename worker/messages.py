"""Queue message schema: parse an SQS body into a job or a warm-up, or say clearly why not.

Job message (sent by the durable Lambda), a JSON object::

    {
      "s3_key": "input/shows/ep 1.mp3",     # required: the uploaded object, already URL-decoded
      "etag": "9b2cf535f27731c974343645a3985328",   # optional (null): the version the pipeline saw
      "callback_id": "<durable callback id>",  # required: completed with success or failure
      "config_overrides": {"transcription": {"language": "de"}}   # optional: merged over the config
    }

An optional ``"type": "job"`` is accepted. Warm-up message (sent by people or tools)::

    {"type": "warmup"}                                   # keep a worker up 30 minutes after sending
    {"type": "warmup", "until": "2026-11-24T18:00:00Z"}  # ... until then (ISO-8601; naive = UTC)

Unknown keys, missing keys and wrong types raise :class:`MalformedMessageError`; the poller dead-
letters such bodies (after failing the callback when a ``callback_id`` could still be read).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DEFAULT_WARMUP = timedelta(minutes=30)


class MalformedMessageError(ValueError):
    """A body that is neither a job nor a warm-up; ``callback_id`` is set when one could be read."""

    def __init__(self, message: str, callback_id: str | None = None) -> None:
        super().__init__(message)
        self.callback_id = callback_id


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class JobMessage(_Message):
    """One episode to transcribe."""

    type: Literal["job"] = "job"
    s3_key: str = Field(min_length=1)
    callback_id: str = Field(min_length=1)
    etag: str | None = None
    config_overrides: dict[str, Any] = Field(default_factory=dict)

    def to_body(self) -> str:
        """The JSON body a producer sends (used by tests and the local mode)."""
        return self.model_dump_json(exclude={"type"})


class WarmupMessage(_Message):
    """Keep the worker alive until ``until`` (extend-only: an earlier deadline never shortens it)."""

    type: Literal["warmup"]
    until: datetime | None = None

    @field_validator("until", mode="before")
    @classmethod
    def _parse_until(cls, value: Any) -> datetime | None:
        if value is None or isinstance(value, datetime):
            return value
        if not isinstance(value, str):
            raise ValueError("must be an ISO-8601 timestamp string")
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))  # Python 3.11 accepts Z, be explicit
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    def deadline(self, now: datetime) -> datetime:
        """When the worker may go idle again: ``until``, else ``now`` + 30 minutes.

        The poller passes the message's ``SentTimestamp`` as ``now``, so a re-delivered warm-up keeps its
        original deadline instead of extending itself.
        """
        return self.until if self.until is not None else now + DEFAULT_WARMUP


def parse_message(body: str | bytes | None) -> JobMessage | WarmupMessage:
    """Parse an SQS body; raise :class:`MalformedMessageError` with a readable reason."""
    text, data = _json_object(body)
    kind = data.get("type", "job")
    model: type[_Message] = WarmupMessage if kind == "warmup" else JobMessage
    try:
        # strict=True rejects "1" for numbers etc.; datetimes need lax mode, so validate the JSON text itself
        parsed = model.model_validate_json(text)
    except ValidationError as exc:
        callback_id = data.get("callback_id") if isinstance(data.get("callback_id"), str) else None
        raise MalformedMessageError(_readable(exc, model), callback_id or None) from None
    assert isinstance(parsed, JobMessage | WarmupMessage)
    return parsed


def _json_object(body: str | bytes | None) -> tuple[str, dict[str, Any]]:
    """The body as text (bytes decoded as ``json.loads`` decodes them: UTF-8/16/32, BOM) and its object."""
    if body is None or body in ("", b""):
        raise MalformedMessageError("empty message body")
    try:
        text = body if isinstance(body, str) else body.decode(json.detect_encoding(body), "surrogatepass")
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedMessageError(f"message body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise MalformedMessageError(f"message body must be a JSON object, got {type(data).__name__}")
    return text, data


def _readable(exc: ValidationError, model: type[_Message]) -> str:
    kind = "warm-up" if model is WarmupMessage else "job"
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "body"
        if error["type"] == "extra_forbidden":
            problems.append(f"{where}: unknown field (allowed: {', '.join(sorted(model.model_fields))})")
        elif error["type"] == "missing":
            problems.append(f"{where}: required field is missing")
        elif error["type"] == "literal_error":
            problems.append(f"{where}: must be 'job' or 'warmup'")
        else:
            problems.append(f"{where}: {error['msg'].removeprefix('Value error, ')}")
    return f"invalid {kind} message: " + "; ".join(problems)
