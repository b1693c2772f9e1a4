"""SubRip (SRT) captions."""

from __future__ import annotations

from collections.abc import Sequence

from podwhisperer.runtime.captions.cues import Cue, CueStyle, build_cues, timing_lines
from podwhisperer.runtime.config import CaptionsConfig
from podwhisperer.runtime.transcript import Transcript


def render_srt(transcript: Transcript, cfg: CaptionsConfig) -> str:
    """An SRT document: numbered blocks from 1 (index, timing line, text, blank line); ``""`` when empty."""
    return srt_document(build_cues(transcript, srt_style(cfg)))


def srt_style(cfg: CaptionsConfig) -> CueStyle:
    """SubRip cues: the caption settings (SRT has no voice tags: a ``Name:`` prefix marks a speaker change)."""
    return CueStyle.from_config(cfg, max_chars=cfg.srt_max_chars_per_line)


def srt_document(cues: Sequence[Cue], timings: Sequence[str] | None = None) -> str:
    """Lay out cues as a SubRip file.

    ``timings``: the cues' ``timing_lines(cues, ",")`` when the caller already has them.
    """
    parts: list[str] = []
    for number, (cue, timing) in enumerate(zip(cues, timings or timing_lines(cues, ","), strict=True), start=1):
        parts.append(str(number))
        parts.append(timing)
        parts.append(cue.text)
        parts.append("")
    return "\n".join(parts)
