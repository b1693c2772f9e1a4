"""Small builders shared by the caption tests, and readable views of what the renderers lay out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from podwhisperer.runtime.captions.formatting import HighlightStyle, highlight_tags
from podwhisperer.runtime.config import CaptionsConfig
from podwhisperer.runtime.line_layout import layout_pages
from podwhisperer.runtime.transcript import Transcript

PREDECESSOR_LAYOUT = {"vtt_voice_tags": False, "reading_speed_timing": False}
"""The predecessor's cue layout (a ``Name:`` prefix in VTT too, cue times exactly as spoken): the parity
checklist tests are written against it. Since issue #8 the defaults are voice tags and reading-speed
timing; those have their own tests (test_vtt.py, test_reading_speed.py)."""
DEFAULT = CaptionsConfig(**PREDECESSOR_LAYOUT)


def legacy(**settings: object) -> CaptionsConfig:
    """Caption settings on the predecessor's layout (see PREDECESSOR_LAYOUT)."""
    return CaptionsConfig.model_validate({**PREDECESSOR_LAYOUT, **settings})
HIGHLIGHT = CaptionsConfig(highlight_words=True, **PREDECESSOR_LAYOUT)


def t(*segments: dict[str, Any]) -> Transcript:
    return Transcript.from_dict({"segments": list(segments)})


def seg(start: float, end: float, text: str, speaker: str | None = None, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"start": start, "end": end, "text": text, **extra}
    if speaker:
        data["speaker"] = speaker
    return data


def highlight_text(text: str, style: HighlightStyle) -> str:
    """Text wrapped in the highlight tag, as a highlighted cue word is (predecessor FMT-21..23)."""
    opening, closing = highlight_tags(style)
    return f"{opening}{text}{closing}"


def wrap_words(words: Sequence[str], max_chars: int, max_lines: int, prefix: str = "") -> list[list[str]]:
    """The pages :func:`layout_pages` makes, each line as its text; the prefix starts every page."""
    pages = layout_pages(words, max_chars, max_lines, len(prefix))
    return [[(prefix if number == 0 else "") + " ".join(words[start:end])
             for number, (start, end) in enumerate(page)] for page in pages]
