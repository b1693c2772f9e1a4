"""Speaker names as a listener reads them.

A diarization label nobody named (``SPEAKER_01``) is shown as ``Speaker 2``; a name set by the LLM
step or the config is shown as it is; a segment without any speaker shows none (never a made-up
``SPEAKER_00``).
"""

from __future__ import annotations

import re

from podwhisperer.runtime.transcript import Segment

_DIARIZATION_LABEL = re.compile(r"SPEAKER_(\d+)")


def segment_label(segment: Segment) -> str | None:
    """The segment's speaker label, else its first word's, else None."""
    if segment.speaker:
        return segment.speaker
    for word in segment.words or ():
        if word.speaker:
            return word.speaker
    return None


def display_name(label: str | None) -> str | None:
    """``SPEAKER_01`` → ``Speaker 2``; other names unchanged; None or blank → None."""
    if not label or not label.strip():
        return None
    match = _DIARIZATION_LABEL.fullmatch(label.strip())
    if match:
        return f"Speaker {int(match.group(1)) + 1}"
    return " ".join(label.split())


def segment_speaker_name(segment: Segment) -> str | None:
    """The display name of the segment's speaker (see :func:`display_name`)."""
    return display_name(segment_label(segment))
