"""Caption and transcript renderers: WebVTT, SRT, simplified JSON, plain text and Markdown."""

from __future__ import annotations

from collections.abc import Callable

from podwhisperer.runtime.captions.json_captions import render_simplified_json
from podwhisperer.runtime.captions.readable import render_markdown, render_text
from podwhisperer.runtime.captions.srt import render_srt
from podwhisperer.runtime.captions.vtt import render_vtt
from podwhisperer.runtime.config import CaptionsConfig
from podwhisperer.runtime.transcript import Transcript

__all__ = ["render_captions", "render_markdown", "render_simplified_json", "render_srt", "render_text",
           "render_vtt"]

Renderer = Callable[[Transcript, CaptionsConfig], str]


def render_captions(transcript: Transcript, cfg: CaptionsConfig) -> dict[str, str]:
    """Every enabled format, keyed by file extension (``vtt``, ``srt``, ``json``, ``txt``, ``md``)."""
    wanted: list[tuple[bool, str, Renderer]] = [
        (cfg.generate_vtt, "vtt", render_vtt),
        (cfg.generate_srt, "srt", render_srt),
        (cfg.generate_simplified_json, "json", render_simplified_json),
        (cfg.generate_text, "txt", render_text),
        (cfg.generate_markdown, "md", render_markdown),
    ]
    return {extension: render(transcript, cfg) for enabled, extension, render in wanted if enabled}
