"""Podcasting 2.0 JSON transcript (``<podcast:transcript type="application/json">``).

``{"version": "1.0.0", "segments": [{"speaker", "startTime", "endTime", "body"}]}``: one segment per
caption-grade transcript segment by default, or one per word (players then highlight word by word).
``speaker`` is the display name and is left out when nobody is known to speak.
"""

from __future__ import annotations

from typing import Any

import orjson

from podwhisperer.runtime.podcast.speakers import display_name, segment_label, segment_speaker_name
from podwhisperer.runtime.transcript import Segment, Transcript

VERSION = "1.0.0"


def render_podcast_json(transcript: Transcript, *, word_level: bool = False) -> str:
    """The document as 2-space indented JSON text."""
    segments: list[dict[str, Any]] = []
    for segment in transcript.segments:
        if word_level and segment.words:
            segments.extend(_word_entries(segment))
        elif segment.text.strip():
            segments.append(_entry(segment_speaker_name(segment), segment.start, segment.end,
                                   " ".join(segment.text.split())))
    return orjson.dumps({"version": VERSION, "segments": segments}, option=orjson.OPT_INDENT_2).decode() + "\n"


def _word_entries(segment: Segment) -> list[dict[str, Any]]:
    """One entry per word; a word without times starts where the previous one ended (no word is dropped)."""
    entries = []
    cursor = segment.start
    fallback = segment_label(segment)
    for word in segment.words or ():
        body = word.word.strip()
        if not body:
            continue
        start = word.start if word.start is not None else cursor
        end = word.end if word.end is not None and word.end >= start else None
        entries.append(_entry(display_name(word.speaker or fallback), start, end, body))
        cursor = end if end is not None else start
    return entries


def _entry(speaker: str | None, start: float, end: float | None, body: str) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    if speaker:
        entry["speaker"] = speaker
    entry["startTime"] = _time(start)
    if end is not None:
        entry["endTime"] = _time(max(end, start))
    entry["body"] = body
    return entry


def _time(seconds: float) -> float | int:
    value = round(max(0.0, float(seconds)), 3)
    return int(value) if value.is_integer() else value
