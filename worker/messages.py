"""Queue message schema (the models live in :mod:`podwhisperer.runtime.contracts`, shared with the Lambda).

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

from podwhisperer.runtime.contracts import (
    DEFAULT_WARMUP,
    JobMessage,
    MalformedMessageError,
    WarmupMessage,
    parse_message,
)

__all__ = ["DEFAULT_WARMUP", "JobMessage", "MalformedMessageError", "WarmupMessage", "parse_message"]
