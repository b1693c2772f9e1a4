"""Caption and transcript renderers: WebVTT, SRT, simplified JSON, plain text and Markdown, and the podcast
publishing formats of :mod:`podwhisperer.runtime.podcast`.

The formats themselves are declared once, in :mod:`podwhisperer.runtime.captions.formats`.
"""

from __future__ import annotations

from podwhisperer.runtime.captions.formats import (
    CAPTION_FORMATS,
    CaptionFormat,
    Rendering,
    caption_format,
    enabled_formats,
    render_formats,
)
from podwhisperer.runtime.captions.json_captions import render_simplified_json
from podwhisperer.runtime.captions.readable import render_markdown, render_text
from podwhisperer.runtime.captions.srt import render_srt
from podwhisperer.runtime.captions.vtt import render_vtt
from podwhisperer.runtime.config import CaptionsConfig
from podwhisperer.runtime.podcast.outputs import Publication
from podwhisperer.runtime.transcript import Transcript, paused_gc

__all__ = ["CAPTION_FORMATS", "CaptionFormat", "Rendering", "caption_format", "enabled_formats", "render_captions",
           "render_markdown", "render_simplified_json", "render_srt", "render_text", "render_vtt"]


@paused_gc()
def render_captions(transcript: Transcript, cfg: CaptionsConfig,
                    publication: Publication | None = None) -> dict[str, str]:
    """Every enabled format with something to publish, keyed by format name (``vtt``, ``srt``, ``json``, ``txt``,
    ``md``, then the podcast formats: ``podcast_json``, ``podcast_html``, ``page``, ``chapters``, ``show_notes``,
    ``rss``)."""
    return render_formats(transcript, cfg, publication)
