"""Caption and transcript renderers: WebVTT, SRT, simplified JSON, plain text and Markdown."""

from __future__ import annotations

from collections.abc import Callable

from podwhisperer.runtime.captions.cues import build_cues, timing_lines
from podwhisperer.runtime.captions.json_captions import render_simplified_json
from podwhisperer.runtime.captions.readable import (
    markdown_document,
    paragraphs,
    render_markdown,
    render_text,
    text_document,
)
from podwhisperer.runtime.captions.srt import render_srt, srt_document, srt_style
from podwhisperer.runtime.captions.vtt import render_vtt, vtt_document, vtt_style
from podwhisperer.runtime.config import CaptionsConfig
from podwhisperer.runtime.transcript import Transcript, paused_gc

__all__ = ["enabled_formats", "render_captions", "render_markdown", "render_simplified_json", "render_srt",
           "render_text", "render_vtt"]

Renderer = Callable[[Transcript, CaptionsConfig], str]


def enabled_formats(cfg: CaptionsConfig) -> list[str]:
    """File extensions :func:`render_captions` produces for ``cfg``, in a fixed order."""
    switches = [(cfg.generate_vtt, "vtt"), (cfg.generate_srt, "srt"), (cfg.generate_simplified_json, "json"),
                (cfg.generate_text, "txt"), (cfg.generate_markdown, "md")]
    return [extension for enabled, extension in switches if enabled]


@paused_gc()
def render_captions(transcript: Transcript, cfg: CaptionsConfig) -> dict[str, str]:
    """Every enabled format, keyed by file extension (``vtt``, ``srt``, ``json``, ``txt``, ``md``)."""
    outputs: dict[str, str] = {}
    if cfg.generate_vtt and cfg.generate_srt and vtt_style(cfg) == srt_style(cfg):
        cues = build_cues(transcript, srt_style(cfg))  # identical cues: build and time them once
        timings = timing_lines(cues, ".")
        outputs["vtt"] = vtt_document(cues, timings)
        outputs["srt"] = srt_document(cues, [timing.replace(".", ",") for timing in timings])
    if cfg.generate_text and cfg.generate_markdown:
        grouped = paragraphs(transcript)  # the same paragraphs: group them once
        outputs["txt"], outputs["md"] = text_document(grouped), markdown_document(grouped)
    renderers: dict[str, Renderer] = {"vtt": render_vtt, "srt": render_srt, "json": render_simplified_json,
                                       "txt": render_text, "md": render_markdown}
    formats = enabled_formats(cfg)
    for extension in formats:
        if extension not in outputs:
            outputs[extension] = renderers[extension](transcript, cfg)
    return {extension: outputs[extension] for extension in formats}
