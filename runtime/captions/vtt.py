"""WebVTT captions."""

from __future__ import annotations

from collections.abc import Sequence

from podwhisperer.runtime.captions.cues import Cue, CueStyle, build_cues, timing_lines
from podwhisperer.runtime.config import CaptionsConfig
from podwhisperer.runtime.transcript import Transcript


def render_vtt(transcript: Transcript, cfg: CaptionsConfig) -> str:
    """A WebVTT document: ``WEBVTT``, then one block per cue (timing line and text), one ``\\n`` at the end."""
    return vtt_document(build_cues(transcript, vtt_style(cfg)))


def vtt_style(cfg: CaptionsConfig) -> CueStyle:
    """WebVTT cues: the caption settings, with ``<v Name>`` voice tags when configured."""
    return CueStyle.from_config(cfg, voice_tags=cfg.vtt_voice_tags, max_chars=cfg.vtt_max_chars_per_line)


def vtt_document(cues: Sequence[Cue], timings: Sequence[str] | None = None) -> str:
    """Lay out cues as a WebVTT file (``"WEBVTT\\n"`` when there are none).

    ``timings``: the cues' ``timing_lines(cues, ".")`` when the caller already has them.
    """
    parts = ["WEBVTT", ""]
    for cue, timing in zip(cues, timings or timing_lines(cues, "."), strict=True):
        parts.append(timing)
        parts.append(cue.text)
        parts.append("")
    return "\n".join(parts)
