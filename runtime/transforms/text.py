"""Text helpers shared by the transforms: the segment's ``words`` array is the source of truth."""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter

from podwhisperer.runtime.transcript import Segment

_WORD_TEXT = attrgetter("word")


def text_to_words(text: str) -> list[str]:
    """Split ``text`` on runs of whitespace; punctuation stays attached to its word."""
    return text.split()


def reconstruct_text(words: Sequence[str]) -> str:
    """Join words with single spaces and trim the result."""
    return " ".join(words).strip()


def segment_words_text(segment: Segment) -> str:
    """The segment's text as its words spell it, falling back to ``segment.text`` when it has no words.

    Word strings are joined with single spaces and not trimmed individually, so the result is
    exactly what the word-level reconciliation will split again.
    """
    if segment.words:
        return " ".join(map(_WORD_TEXT, segment.words))
    return segment.text or ""
