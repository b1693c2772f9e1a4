"""Simplified JSON captions: a speaker map and plain segments, for web players and search."""

from __future__ import annotations

from itertools import chain
from operator import attrgetter
from typing import Any, cast

import orjson

from podwhisperer.runtime.captions.formatting import segment_speaker
from podwhisperer.runtime.config import CaptionsConfig
from podwhisperer.runtime.transcript import Transcript


def speaker_ids(transcript: Transcript) -> dict[str, str]:
    """Speaker name → ``spk_N`` label for every name on segments or words; empty without diarization.

    Names are sorted in UTF-16 code-unit order (as JavaScript sorts), so labels match the predecessor's.
    """
    names: set[str | None] = {segment_speaker(segment) for segment in transcript.segments}
    words = chain.from_iterable(segment.words for segment in transcript.segments if segment.words)
    names.update(map(attrgetter("speaker"), words))
    names.discard(None)
    names.discard("")
    ordered = sorted(cast(set[str], names), key=lambda name: name.encode("utf-16-be"))
    return {name: f"spk_{index}" for index, name in enumerate(ordered)}


def render_simplified_json(transcript: Transcript, cfg: CaptionsConfig) -> str:
    """``{"speakers": {"spk_0": name, ...}, "segments": [{speakerLabel, start, end, text}]}``, 2-space indent.

    A segment nobody is known to speak has ``"speakerLabel": null``.

    ``cfg`` is accepted for a uniform renderer signature; highlight and label settings do not apply here.
    """
    labels = speaker_ids(transcript)
    document = {
        "speakers": {label: name for name, label in labels.items()},
        "segments": [
            {"speakerLabel": labels.get(segment_speaker(segment) or ""), "start": _number(segment.start),
             "end": _number(segment.end), "text": segment.text.strip()}
            for segment in transcript.segments
        ],
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode()


def _number(value: float) -> Any:
    """Whole seconds as integers, as JavaScript's JSON.stringify writes them (``0`` rather than ``0.0``)."""
    return int(value) if float(value).is_integer() else value  # float(): times read from JSON may be ints
