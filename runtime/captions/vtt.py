"""WebVTT captions."""

from __future__ import annotations

from collections.abc import Iterable

from podwhisperer.runtime.captions.cues import Cue, CueStyle, build_cues
from podwhisperer.runtime.captions.timestamps import format_milliseconds
from podwhisperer.runtime.config import CaptionsConfig
from podwhisperer.runtime.transcript import Transcript


def render_vtt(transcript: Transcript, cfg: CaptionsConfig) -> str:
    """A WebVTT document: ``WEBVTT``, then one block per cue (timing line and text), one ``\\n`` at the end."""
    return vtt_document(build_cues(transcript, CueStyle.from_config(cfg, voice_tags=cfg.vtt_voice_tags)))


def vtt_document(cues: Iterable[Cue]) -> str:
    """Lay out cues as a WebVTT file (``"WEBVTT\\n"`` when there are none)."""
    parts = ["WEBVTT", ""]
    for cue in cues:
        parts.append(f"{format_milliseconds(cue.start, '.')} --> {format_milliseconds(cue.end, '.')}")
        parts.append(cue.text)
        parts.append("")
    return "\n".join(parts)
