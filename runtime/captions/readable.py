"""Readable transcripts: speaker paragraphs as plain text (.txt) and Markdown (.md)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from podwhisperer.runtime.captions.formatting import segment_speaker
from podwhisperer.runtime.captions.timestamps import clock, to_milliseconds
from podwhisperer.runtime.config import CaptionsConfig
from podwhisperer.runtime.transcript import Transcript

PAUSE_BREAK_SECONDS = 2.0
"""Without speaker labels, a pause this long between segments starts a new paragraph."""

_MARKDOWN_SPECIAL = re.compile("[" + re.escape("\\`*_[]<>#|") + "]")


@dataclass(frozen=True, slots=True)
class Paragraph:
    """Consecutive segments of one speaker: where it starts, who speaks (None when unknown), the text."""

    start: float
    speaker: str | None
    text: str


def paragraphs(transcript: Transcript) -> list[Paragraph]:
    """Group segments into speaker paragraphs; without any speaker labels, break at long pauses instead."""
    labelled = any(segment.speaker or any(w.speaker for w in segment.words or ()) for segment in transcript.segments)
    result: list[Paragraph] = []
    texts: list[str] = []
    start, speaker, previous_end = 0.0, None, 0.0
    for segment in transcript.segments:
        text = " ".join(segment.text.split())
        if not text:
            continue
        current = segment_speaker(segment) if labelled else None
        new_paragraph = current != speaker if labelled else segment.start - previous_end >= PAUSE_BREAK_SECONDS
        if texts and new_paragraph:
            result.append(Paragraph(start, speaker, " ".join(texts)))
            texts = []
        if not texts:
            start, speaker = segment.start, current
        texts.append(text)
        previous_end = segment.end
    if texts:
        result.append(Paragraph(start, speaker, " ".join(texts)))
    return result


def render_text(transcript: Transcript, cfg: CaptionsConfig) -> str:
    """Plain text: ``[HH:MM:SS] Name: text`` paragraphs separated by blank lines."""
    return text_document(paragraphs(transcript))


def text_document(grouped: Sequence[Paragraph]) -> str:
    """Lay out paragraphs as plain text (see :func:`render_text`)."""
    blocks = []
    for paragraph in grouped:
        name = f" {paragraph.speaker}:" if paragraph.speaker else ""
        blocks.append(f"[{clock(to_milliseconds(paragraph.start))}]{name} {paragraph.text}")
    return "\n\n".join(blocks) + "\n" if blocks else ""


def render_markdown(transcript: Transcript, cfg: CaptionsConfig) -> str:
    """Markdown: a ``**Name** · `HH:MM:SS` `` line above each paragraph."""
    return markdown_document(paragraphs(transcript))


def markdown_document(grouped: Sequence[Paragraph]) -> str:
    """Lay out paragraphs as Markdown (see :func:`render_markdown`)."""
    blocks = []
    for paragraph in grouped:
        stamp = f"`{clock(to_milliseconds(paragraph.start))}`"
        heading = f"**{_escape_markdown(paragraph.speaker)}** · {stamp}" if paragraph.speaker else stamp
        blocks.append(f"{heading}\\\n{_escape_markdown(paragraph.text)}")
    return "\n\n".join(blocks) + "\n" if blocks else ""


def _escape_markdown(text: str) -> str:
    # A backslash before each special character. A regex rather than str.translate: translating to
    # two-character strings takes the slow path for every character, ~3x slower on an episode's text.
    return _MARKDOWN_SPECIAL.sub(r"\\\g<0>", text)
