"""The caption-format registry: every output file rendered from the refined transcript, declared once.

An entry says what the pipeline, ``refine`` and local mode need to know about a format: its name
(the key in :func:`render_captions`'s result and in the completion event's ``captions`` map), the
ending of its file name, its content type, the ``CaptionsConfig`` flag that switches it on, and its
renderer. To add a format: write a renderer module (a function of a :class:`Rendering`), add its
flag to ``CaptionsConfig`` and one :class:`CaptionFormat` entry to :data:`CAPTION_FORMATS`.

A renderer gets a :class:`Rendering` rather than a bare transcript so formats rendered together can
share work (WebVTT and SRT share cues, text and Markdown share paragraphs) and so a format that is
not a list of cues (a page, a feed snippet) can read whatever else the rendering carries.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from podwhisperer.runtime.captions.cues import build_cues, timing_lines
from podwhisperer.runtime.captions.json_captions import render_simplified_json
from podwhisperer.runtime.captions.readable import markdown_document, paragraphs, text_document
from podwhisperer.runtime.captions.srt import srt_document, srt_style
from podwhisperer.runtime.captions.vtt import vtt_document, vtt_style
from podwhisperer.runtime.config import CaptionsConfig
from podwhisperer.runtime.podcast import outputs as podcast
from podwhisperer.runtime.podcast.outputs import Publication
from podwhisperer.runtime.transcript import Transcript

T = TypeVar("T")


@dataclass(slots=True)
class Rendering:
    """One rendering of a transcript into every enabled format, with the work formats can share."""

    transcript: Transcript
    cfg: CaptionsConfig
    publication: Publication | None = None
    """Titles, URLs and sibling file names for the podcast formats (a bare name from the transcript when None)."""
    _shared: dict[Hashable, Any] = field(default_factory=dict)

    @property
    def episode(self) -> Publication:
        return self.publication or Publication(title="Transcript", audio_name="audio")

    def shared(self, key: Hashable, build: Callable[[], T]) -> T:
        """``build()``'s result, computed once per rendering for ``key``."""
        if key not in self._shared:
            self._shared[key] = build()
        return cast(T, self._shared[key])


Renderer = Callable[[Rendering], str | None]
"""A format's text, or None when this transcript has nothing to publish in it (chapters when the step did not run)."""


@dataclass(frozen=True, slots=True)
class CaptionFormat:
    """One output format (see the module docstring)."""

    name: str
    suffix: str  # appended to the output base name: "_caption.vtt"
    content_type: str
    flag: str  # the CaptionsConfig field that enables it
    render: Renderer

    def enabled(self, cfg: CaptionsConfig) -> bool:
        return bool(getattr(cfg, self.flag))


def _cue_timings(rendering: Rendering, separator: str, voice_tags: bool) -> tuple[list[Any], list[str]]:
    style = vtt_style(rendering.cfg) if voice_tags else srt_style(rendering.cfg)
    cues = rendering.shared(("cues", style), lambda: build_cues(rendering.transcript, style))
    timings = rendering.shared(("timings", style), lambda: timing_lines(cues, "."))
    return cues, timings if separator == "." else [timing.replace(".", separator) for timing in timings]


def _vtt(rendering: Rendering) -> str:
    return vtt_document(*_cue_timings(rendering, ".", voice_tags=True))


def _srt(rendering: Rendering) -> str:
    return srt_document(*_cue_timings(rendering, ",", voice_tags=False))


def _paragraphs(rendering: Rendering) -> Any:
    return rendering.shared("paragraphs", lambda: paragraphs(rendering.transcript))


def _text(rendering: Rendering) -> str:
    return text_document(_paragraphs(rendering))


def _markdown(rendering: Rendering) -> str:
    return markdown_document(_paragraphs(rendering))


def _simplified_json(rendering: Rendering) -> str:
    return render_simplified_json(rendering.transcript, rendering.cfg)


def _podcast(render: Callable[[Transcript, CaptionsConfig, Publication], str | None]) -> Renderer:
    """A podcast publishing format (runtime/podcast/outputs.py) as a renderer of the rendering."""
    return lambda rendering: render(rendering.transcript, rendering.cfg, rendering.episode)


CAPTION_FORMATS: tuple[CaptionFormat, ...] = (
    CaptionFormat("vtt", "_caption.vtt", "text/vtt; charset=utf-8", "generate_vtt", _vtt),
    CaptionFormat("srt", "_caption.srt", "application/x-subrip; charset=utf-8", "generate_srt", _srt),
    CaptionFormat("json", "_caption.json", "application/json", "generate_simplified_json", _simplified_json),
    CaptionFormat("txt", "_caption.txt", "text/plain; charset=utf-8", "generate_text", _text),
    CaptionFormat("md", "_caption.md", "text/markdown; charset=utf-8", "generate_markdown", _markdown),
    CaptionFormat("podcast_json", "_podcast_transcript.json", "application/json", "generate_podcast_json",
                  _podcast(podcast.podcast_json)),
    CaptionFormat("podcast_html", "_podcast_transcript.html", "text/html; charset=utf-8", "generate_podcast_html",
                  _podcast(podcast.podcast_html)),
    CaptionFormat("page", "_transcript.html", "text/html; charset=utf-8", "generate_transcript_page",
                  _podcast(podcast.transcript_page)),
    CaptionFormat("chapters", "_chapters.json", "application/json+chapters", "generate_chapters",
                  _podcast(podcast.chapters_json)),
    CaptionFormat("show_notes", "_show_notes.md", "text/markdown; charset=utf-8", "generate_show_notes",
                  _podcast(podcast.show_notes)),
    CaptionFormat("rss", "_podcast.xml", "application/xml; charset=utf-8", "generate_rss_snippet",
                  _podcast(podcast.rss_snippet)),
)
"""Every format, in the order outputs are listed."""

_BY_NAME = {fmt.name: fmt for fmt in CAPTION_FORMATS}


def caption_format(name: str) -> CaptionFormat:
    """The registered format called ``name``; ``ValueError`` for an unknown one."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown caption format {name!r}") from None


def enabled_formats(cfg: CaptionsConfig) -> list[str]:
    """Names of the formats ``cfg`` switches on, in registry order."""
    return [fmt.name for fmt in CAPTION_FORMATS if fmt.enabled(cfg)]


def render_formats(transcript: Transcript, cfg: CaptionsConfig,
                   publication: Publication | None = None) -> dict[str, str]:
    """Every enabled format's text, keyed by format name (formats with nothing to publish are left out)."""
    rendering = Rendering(transcript, cfg, publication)
    rendered = {fmt.name: fmt.render(rendering) for fmt in CAPTION_FORMATS if fmt.enabled(cfg)}
    return {name: text for name, text in rendered.items() if text is not None}
