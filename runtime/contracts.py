"""Everything that crosses a process boundary, declared once: the worker, the Lambda, local mode and the
tests import these instead of writing the shapes down again.

* the environment the Lambda and the worker read (:data:`CONFIG_ENV` and friends, :func:`config_from_env`);
* the queue messages: :class:`JobMessage` (Lambda → worker) and :class:`WarmupMessage`, parsed by
  :func:`parse_message`;
* the callback result (worker → Lambda): :class:`CallbackResult`;
* the raw transcript's metadata (worker → Lambda), :class:`RawMetadata`, with the settings
  fingerprint and the one rule that says whether an existing raw transcript may be reused
  (:meth:`RawMetadata.reuse_refusal`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from podwhisperer.runtime.config import ConfigError, PipelineConfig, TranscriptionConfig, parse_config

# ------------------------------------------------------------------------------------------ environment

CONFIG_ENV = "PODWHISPERER_CONFIG"
"""The pipeline configuration as JSON (empty or unset: all defaults); read by the Lambda and the worker."""
BUCKET_ENV = "BUCKET_NAME"
QUEUE_URL_ENV = "QUEUE_URL"
DEAD_LETTER_QUEUE_URL_ENV = "DEAD_LETTER_QUEUE_URL"
IDLE_TIMEOUT_ENV = "IDLE_TIMEOUT_SECONDS"
MAX_RECEIVE_COUNT_ENV = "MAX_RECEIVE_COUNT"
WORKER_DEVICE_ENV = "WORKER_DEVICE"
HF_TOKEN_ENV = "HF_TOKEN"
ECS_AGENT_URI_ENV = "ECS_AGENT_URI"


def config_from_env(environ: Mapping[str, str]) -> PipelineConfig:
    """Parse :data:`CONFIG_ENV` (JSON; empty or unset means all defaults); :class:`ConfigError` when bad."""
    text = environ.get(CONFIG_ENV, "").strip()
    if not text:
        return PipelineConfig()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError([f"not valid JSON: {exc}"], CONFIG_ENV) from None
    return parse_config(data, source=CONFIG_ENV)


def normalize_etag(etag: str | None) -> str | None:
    """S3 quotes ETags in some APIs and not in others (EventBridge); compare them unquoted."""
    return etag.strip('"') if etag else etag


# ------------------------------------------------------------------------------------------ queue messages

DEFAULT_WARMUP = timedelta(minutes=30)

EPISODE_SETTINGS: dict[str, frozenset[str] | None] = {
    "transcription": frozenset({"language", "initial_prompt", "hotwords", "min_speakers", "max_speakers",
                                "num_speakers", "suppress_numerals", "vad_onset", "vad_offset", "align", "diarize"}),
    "episode": None,  # title, description: the whole section is per episode
    "speakers": None,
    "llm_refinement": frozenset({"additional_context"}),
}
"""What a job's ``config_overrides`` may set for its episode (section → keys; None: the whole section), the
shape of the per-episode context the workflow sends. Nothing else: a message must not be able to move
outputs (``storage``), point the worker at another secret (``hf_token_ssm_path``) or change fleet-wide
choices (model, timeouts, limits)."""


class MalformedMessageError(ValueError):
    """A body that is neither a job nor a warm-up; ``callback_id`` is set when one could be read."""

    def __init__(self, message: str, callback_id: str | None = None) -> None:
        super().__init__(message)
        self.callback_id = callback_id


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class JobMessage(_Message):
    """One episode to transcribe: ``{"s3_key", "etag", "callback_id", "config_overrides"?}`` on the wire."""

    type: Literal["job"] = "job"
    s3_key: str = Field(min_length=1)
    callback_id: str = Field(min_length=1)
    etag: str | None = None
    config_overrides: dict[str, Any] = Field(default_factory=dict)

    @field_validator("config_overrides")
    @classmethod
    def _episode_settings_only(cls, value: dict[str, Any]) -> dict[str, Any]:
        for section, settings in value.items():
            if section not in EPISODE_SETTINGS:
                raise ValueError(f"'{section}' cannot be overridden per job (per-episode sections: "
                                 f"{', '.join(EPISODE_SETTINGS)})")
            allowed = EPISODE_SETTINGS[section]
            if allowed is None:
                continue
            if not isinstance(settings, dict):
                raise ValueError(f"'{section}' must be an object")
            refused = sorted(set(settings) - allowed)
            if refused:
                raise ValueError(f"{section}.{refused[0]} cannot be overridden per job (allowed: "
                                 f"{', '.join(sorted(allowed))})")
        return value

    def to_json(self) -> str:
        """The body the Lambda sends (sorted keys; no ``config_overrides`` when there are none)."""
        message: dict[str, Any] = {"s3_key": self.s3_key, "etag": self.etag, "callback_id": self.callback_id}
        if self.config_overrides:
            message["config_overrides"] = dict(self.config_overrides)
        return json.dumps(message, sort_keys=True, ensure_ascii=False)

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

    def to_body(self) -> str:
        """The JSON body a producer sends (``podwhisperer cloud warmup``); ``until`` in UTC as ``…Z``."""
        return self.model_dump_json(exclude_none=True)


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
    except RecursionError:
        raise MalformedMessageError("message body is nested too deeply to be a job") from None
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


# ------------------------------------------------------------------------------------------ callback result


class CallbackResultError(ValueError):
    """The worker's success payload is not ``{"raw_transcript_key", "stats"}``."""


class CallbackResult(BaseModel):
    """What the worker reports on success: where the raw transcript is, and a few small stats."""

    model_config = ConfigDict(frozen=True)

    raw_transcript_key: str
    stats: Any = None  # small JSON stats (a dict from our worker; passed through as sent)

    @property
    def reused(self) -> bool:
        """The worker found a reusable raw transcript instead of transcribing."""
        return isinstance(self.stats, Mapping) and bool(self.stats.get("reused"))

    def to_wire(self) -> dict[str, Any]:
        """The payload the worker sends with ``SendDurableExecutionCallbackSuccess``."""
        return {"raw_transcript_key": self.raw_transcript_key, "stats": self.stats}

    @classmethod
    def parse(cls, result: Any) -> CallbackResult:
        """Validate a success payload (a JSON string, bytes or an already parsed dict; ``rawTranscriptKey`` too)."""
        if isinstance(result, bytes | str):
            try:
                result = json.loads(result)
            except ValueError as exc:
                raise CallbackResultError(f"callback result is not JSON: {exc}") from None
        if not isinstance(result, Mapping):
            raise CallbackResultError(f"callback result must be an object, got {type(result).__name__}")
        raw_key = result.get("raw_transcript_key", result.get("rawTranscriptKey"))
        if not isinstance(raw_key, str) or not raw_key:
            raise CallbackResultError("callback result lacks 'raw_transcript_key'")
        return cls(raw_transcript_key=raw_key, stats=result.get("stats"))


# ------------------------------------------------------------------------------------------ raw transcript metadata

METADATA_KEY = "podwhisperer"
"""The raw transcript's namespaced key holding :class:`RawMetadata`."""
FINGERPRINT_KEY = "transcription_fingerprint"
# Settings that change what Whisper writes; the others (timeouts, token path) do not invalidate a transcript.
_FINGERPRINT_FIELDS = ("model", "language", "compute_type", "min_speakers", "max_speakers", "num_speakers",
                       "initial_prompt", "hotwords", "suppress_numerals", "vad_onset", "vad_offset", "align",
                       "diarize", "diarization_model")


class TranscriptError(ValueError):
    """A transcript document that does not have the WhisperX shape."""


def transcription_fingerprint(cfg: TranscriptionConfig) -> str:
    """A short hash of the settings that shape the raw transcript (stored in its metadata)."""
    settings = {name: getattr(cfg, name) for name in _FINGERPRINT_FIELDS}
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()
    return digest[:16]


def optional_float(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TranscriptError(f"{where} must be a number, got {value!r}")
    if value != value:  # NaN: WhisperX writes it for unscored words in some versions
        return None
    return float(value)


@dataclass(slots=True, frozen=True)
class RawMetadata:
    """Where a raw transcript came from; written by the worker, read by the pipeline."""

    source_key: str
    source_etag: str | None = None
    model: str | None = None
    language: str | None = None
    audio_duration: float | None = None
    aligned: bool | None = None
    diarized: bool | None = None
    device: str | None = None
    stage_timings: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source_key": self.source_key}
        for name in ("source_etag", "model", "language", "audio_duration", "aligned", "diarized", "device"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.stage_timings:
            out["stage_timings"] = list(self.stage_timings)
        if self.notes:
            out["notes"] = list(self.notes)
        out.update(self.extra)
        return out

    @property
    def transcription_fingerprint(self) -> str | None:
        """:func:`transcription_fingerprint` of the settings the worker used (None in older transcripts).

        Kept where earlier versions wrote it (among the extra keys) so a transcript reads back byte for byte."""
        value = self.extra.get(FINGERPRINT_KEY)
        return value if isinstance(value, str) else None

    def with_fingerprint(self, fingerprint: str, **extra: Any) -> RawMetadata:
        """A copy carrying ``fingerprint`` (and ``extra`` keys after it)."""
        return replace(self, extra={**self.extra, FINGERPRINT_KEY: fingerprint, **extra})

    def reuse_refusal(self, source_key: str, etag: str | None, fingerprint: str) -> str | None:
        """The one reuse rule: why a raw transcript with this metadata must not stand in for transcribing
        object ``source_key`` at version ``etag`` with settings ``fingerprint`` (None: reuse it)."""
        if not normalize_etag(etag):
            return "the object's version (etag) is unknown"
        mismatch = self.source_mismatch(source_key, etag)
        if mismatch is not None:
            return mismatch
        if self.transcription_fingerprint != fingerprint:
            return "made with other transcription settings"
        return None

    def source_mismatch(self, source_key: str, etag: str | None) -> str | None:
        """Why this transcript was not made from object ``source_key`` at version ``etag`` (None: it was)."""
        if self.source_key != source_key:
            return f"made from {self.source_key!r}"
        if normalize_etag(self.source_etag) != normalize_etag(etag):
            return "made from another version of the object (etag differs)"
        return None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RawMetadata:
        if not isinstance(data, Mapping) or not isinstance(data.get("source_key"), str):
            raise TranscriptError(f"'{METADATA_KEY}' metadata needs a string 'source_key'")
        known = {"source_key", "source_etag", "model", "language", "audio_duration", "aligned", "diarized",
                 "device", "stage_timings", "notes"}
        return cls(
            source_key=data["source_key"],
            source_etag=data.get("source_etag"),
            model=data.get("model"),
            language=data.get("language"),
            audio_duration=optional_float(data.get("audio_duration"), "audio_duration"),
            aligned=data.get("aligned"),
            diarized=data.get("diarized"),
            device=data.get("device"),
            stage_timings=list(data.get("stage_timings") or []),
            notes=list(data.get("notes") or []),
            extra={k: v for k, v in data.items() if k not in known},
        )
