"""Small text rules shared by the caption formats: escaping, highlight tags, speaker labels."""

from __future__ import annotations

from types import MappingProxyType
from typing import Literal

from podwhisperer.runtime.transcript import Segment

HighlightStyle = Literal["underline", "bold", "italic"]
SpeakerMode = Literal["never", "always", "when-changes"]

_TAG_LETTERS = MappingProxyType({"underline": "u", "bold": "b", "italic": "i"})


def escape_text(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` for WebVTT and SRT cue text (quotes are left alone)."""
    if "&" not in text and "<" not in text and ">" not in text:
        return text
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def highlight_tags(style: HighlightStyle) -> tuple[str, str]:
    """Opening and closing tag for a highlighted word, e.g. ``("<u>", "</u>")``."""
    letter = _TAG_LETTERS[style]
    return f"<{letter}>", f"</{letter}>"


def segment_speaker(segment: Segment) -> str | None:
    """The segment's speaker, else its first word's, else None: a transcript without diarization shows no
    speaker (the predecessor made up ``SPEAKER_00``)."""
    if segment.speaker:
        return segment.speaker
    if segment.words and segment.words[0].speaker:
        return segment.words[0].speaker
    return None


def speaker_label(speaker: str | None, previous: str | None, mode: SpeakerMode) -> str:
    """The speaker name to show on this segment's cues, or ``""`` for none."""
    if not speaker or mode == "never":
        return ""
    if mode == "when-changes" and speaker == previous:
        return ""
    return speaker


def speaker_prefix(speaker: str | None, previous: str | None, mode: SpeakerMode) -> str:
    """``"Name: "`` when the mode shows the speaker on this segment, else ``""``."""
    label = speaker_label(speaker, previous, mode)
    return f"{label}: " if label else ""


def voice_name(speaker: str) -> str:
    """A speaker name made safe for a WebVTT ``<v ...>`` annotation."""
    return escape_text(" ".join(speaker.split()))
