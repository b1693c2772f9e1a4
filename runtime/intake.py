"""The workflow's input side: which uploads to ignore, which object an event means, whether an existing raw
transcript may be reused, and the raw transcript's private copy under the work prefix."""

from __future__ import annotations

import hashlib
from typing import Literal

from podwhisperer.runtime import keys as keynames
from podwhisperer.runtime.adapters.storage import ObjectNotFoundError, ObjectStore
from podwhisperer.runtime.config import ConfigError, PipelineConfig, StorageConfig
from podwhisperer.runtime.context import context_from_text, sidecar_key
from podwhisperer.runtime.contracts import normalize_etag, transcription_fingerprint
from podwhisperer.runtime.stage_store import TranscriptCache
from podwhisperer.runtime.step_results import RawSnapshot, Reuse, Source
from podwhisperer.runtime.transcript import Transcript
from podwhisperer.runtime.upload import Upload, key_candidates


class InputNotFoundError(LookupError):
    """None of the keys the event may mean exists in the bucket."""


def ignored_reason(upload: Upload, storage: StorageConfig) -> str | None:
    """Why the upload event is not for us (before touching the bucket), or None."""
    candidates = key_candidates(upload.event_key)
    if not any(key.startswith(storage.input_prefix) for key in candidates):
        return f"key is not under the input prefix {storage.input_prefix!r}"
    if not any(keynames.has_audio_extension(key, storage) for key in candidates):
        return f"not an audio file (extensions: {', '.join(storage.audio_extensions)})"
    if upload.size == 0:
        return "the uploaded object is empty (0 bytes)"
    return None


def resolved_reason(resolved: Source, storage: StorageConfig) -> str | None:
    """Why the resolved object is not transcribed after all, or None."""
    if resolved["size"] == 0:
        return "the uploaded object is empty (0 bytes)"
    if not keynames.has_audio_extension(resolved["key"], storage):
        return "not an audio file"
    if resolved.get("superseded"):
        return "the object was overwritten after this event; the newer upload has its own run"
    return None


def resolve_input(store: ObjectStore, storage: StorageConfig, upload: Upload) -> Source:
    """The object the event means (its key decoded or raw), its size and etag."""
    for key in key_candidates(upload.event_key):
        if not key.startswith(storage.input_prefix):
            continue
        info = store.head(key)
        if info is None:
            continue
        etag = normalize_etag(info.etag)
        superseded = bool(upload.etag and etag != upload.etag)
        return {"key": key, "size": info.size, "etag": upload.etag or etag, "superseded": superseded}
    raise InputNotFoundError(f"no object for event key {upload.event_key!r} (tried decoded and raw)")


class EpisodeContextError(ValueError):
    """The per-episode context file next to the audio is not valid (one readable line per problem)."""


def read_context(store: ObjectStore, input_key: str) -> dict[str, object]:
    """The episode context uploaded next to the audio (``input/ep42.podwhisperer.yaml``), validated.

    ``{"key": sidecar key or None, "context": {...}}``; an invalid file fails the run naming the key, rather
    than transcribing with the wrong guests.
    """
    key = sidecar_key(input_key)
    try:
        text = store.get(key)
    except ObjectNotFoundError:
        return {"key": None, "context": {}}
    try:
        context = context_from_text(text, key)
    except ConfigError as exc:
        raise EpisodeContextError(str(exc)) from None
    return {"key": key, "context": context.to_dict()}


def existing_raw(store: ObjectStore, config: PipelineConfig, source: Source, raw_key: str) -> Reuse:
    """Whether the raw transcript at ``raw_key`` may stand in for transcribing (the contracts' one reuse rule)."""
    try:
        metadata = Transcript.from_json(store.get(raw_key)).metadata
    except ObjectNotFoundError:
        return {"reuse": False, "reason": "no raw transcript"}
    if metadata is None:
        return {"reuse": False, "reason": "raw transcript has no source metadata"}
    refusal = metadata.reuse_refusal(source["key"], source["etag"], transcription_fingerprint(config.transcription))
    return {"reuse": refusal is None, "reason": refusal or "same key, etag and transcription settings"}


def snapshot_raw(store: ObjectStore, transcripts: TranscriptCache, storage: StorageConfig, source: Source,
                 raw_key: str, *, scope: Literal["execution", "input"], execution_arn: str) -> RawSnapshot:
    """Copy the raw transcript into the work prefix, so a concurrent upload cannot change our input.

    ``scope`` picks the work prefix: per execution (AWS), or per input content (local mode, so a later
    run with a changed caption config finds the earlier stage objects).
    """
    data = store.get(raw_key)
    transcript = Transcript.from_json(data)
    metadata = transcript.metadata
    made_from = normalize_etag(metadata.source_etag) if metadata else None
    if made_from and source["etag"] and made_from != source["etag"]:
        return {"superseded": True, "reason": "the worker transcribed a newer version of the object"}
    content = hashlib.sha256(data).hexdigest()
    scope_id = f"input-{source['etag'] or content[:32]}" if scope == "input" else execution_arn
    key = f"{keynames.work_prefix(storage, scope_id)}raw-{content[:16]}.json"
    if store.head(key) is None:
        store.put(key, data, "application/json")
    transcripts.remember(key, transcript)
    return {"superseded": False, "scope": scope_id, "key": key, "chain": content}
