"""SubRip (SRT) captions."""

from __future__ import annotations

from collections.abc import Iterable

from podwhisperer.runtime.captions.cues import Cue, CueStyle, build_cues
from podwhisperer.runtime.captions.timestamps import format_milliseconds
from podwhisperer.runtime.config import CaptionsConfig
from podwhisperer.runtime.transcript import Transcript


def render_srt(transcript: Transcript, cfg: CaptionsConfig) -> str:
    """An SRT document: numbered blocks from 1 (index, timing line, text, blank line); ``""`` when empty."""
    return srt_document(build_cues(transcript, CueStyle.from_config(cfg)))


def srt_document(cues: Iterable[Cue]) -> str:
    """Lay out cues as a SubRip file."""
    parts: list[str] = []
    for number, cue in enumerate(cues, start=1):
        parts.append(str(number))
        parts.append(f"{format_milliseconds(cue.start, ',')} --> {format_milliseconds(cue.end, ',')}")
        parts.append(cue.text)
        parts.append("")
    return "\n".join(parts)
