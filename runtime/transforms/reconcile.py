"""Carry word timings over to a patched word list (the predecessor's segment reconciliation).

The patched words are diffed against the segment's words (:func:`compute_diff`). Kept words
keep their timing; each changed region (k removed words followed by j added words) is retimed:

* removed and added (a substitution, merge or split): the added words share the removed
  words' span ``[first removed start, last removed end]`` in proportion to their character
  length. This is the fix of the predecessor's defect 9, where removed words were merged into
  the previous word and every added word then took half of that word's span;
* added only: each added word splits the previous word at its midpoint, as the predecessor
  did; at the very beginning it gets a zero-length span at the segment start;
* removed only: the previous kept word's end stretches over them; at the very beginning the
  next kept word's start moves back to the first removed start.

Changed words get ``score=None``. A result with no words is returned as ``words=[]``,
``text=""``; the steps drop such segments (defect 11).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from podwhisperer.runtime.transcript import Segment, Word
from podwhisperer.runtime.transforms.lcs import compute_diff
from podwhisperer.runtime.transforms.text import reconstruct_text


def reconcile_segment(segment: Segment, patched_words: Sequence[str]) -> Segment:
    """A new segment whose words spell ``patched_words``, with timings carried over; the input is untouched.

    A segment without words (``None`` or ``[]``) only gets its text replaced. With the same
    number of words the strings are replaced position by position and timings stay as they were.
    """
    patched = list(patched_words)
    text = reconstruct_text(patched)
    if not segment.words:
        return segment.copy(text=text, words=None if segment.words is None else [])
    if len(patched) == len(segment.words):
        # Words are never mutated, so the unchanged ones (nearly all) are shared rather than copied.
        words = [word if word.word == new else word.copy(word=new)
                 for word, new in zip(segment.words, patched, strict=True)]
        return segment.copy(text=text, words=words)
    return segment.copy(text=text, words=_rebuild_words(segment, segment.words, patched))


def is_empty_segment(segment: Segment) -> bool:
    """True for a segment left with no words and no text, which the steps drop rather than caption."""
    return not segment.words and not segment.text.strip()


def _rebuild_words(segment: Segment, original: list[Word], patched: list[str]) -> list[Word]:
    builder = _WordListBuilder(segment)
    removed: list[Word] = []
    added: list[str] = []
    for op in compute_diff([word.word for word in original], patched):
        if op.op == "remove" and op.original_index is not None:
            removed.append(original[op.original_index])
        elif op.op == "add":
            added.append(op.word)
        elif op.original_index is not None:
            builder.change(removed, added)
            removed, added = [], []
            builder.keep(original[op.original_index].copy(word=op.word))
    builder.change(removed, added)
    return builder.words


@dataclass(slots=True)
class _WordListBuilder:
    """The output word list, built left to right from kept words and changed regions."""

    segment: Segment
    words: list[Word] = field(default_factory=list)
    removed_before_first: list[Word] = field(default_factory=list)

    def keep(self, word: Word) -> None:
        if self.removed_before_first:
            start = _first_start(self.removed_before_first)
            word = word.copy(start=word.start if start is None else start, score=None)
            self.removed_before_first = []
        self.words.append(word)

    def change(self, removed: list[Word], added: list[str]) -> None:
        if removed and added:
            self.words.extend(self._spread_over(removed, added))
        elif added:
            for text in added:
                self._insert_after_previous(text)
        elif removed:
            self._absorb(removed)

    def _spread_over(self, removed: list[Word], added: list[str]) -> list[Word]:
        speaker = next((w.speaker for w in removed if w.speaker is not None), None) or self._fallback_speaker()
        timed = [w for w in removed if w.timed]
        if not timed:
            return [Word(text, speaker=speaker) for text in added]
        start = timed[0].start
        end = timed[-1].end
        assert start is not None and end is not None
        bounds = proportional_bounds(start, max(start, end), [len(text) for text in added])
        return [Word(text, start=s, end=e, speaker=speaker) for text, (s, e) in zip(added, bounds, strict=True)]

    def _insert_after_previous(self, text: str) -> None:
        if not self.words:
            start = self.segment.start
            self.words.append(Word(text, start=start, end=start, speaker=self.segment.speaker))
            return
        previous = self.words[-1]
        speaker = previous.speaker or self.segment.speaker
        if previous.start is None or previous.end is None:
            self.words.append(Word(text, speaker=speaker))  # no span to split; the timing-gaps step fills it
            return
        middle = (previous.start + previous.end) / 2
        self.words[-1] = previous.copy(end=middle, score=None)
        self.words.append(Word(text, start=middle, end=previous.end, speaker=speaker))

    def _absorb(self, removed: list[Word]) -> None:
        if not self.words:
            self.removed_before_first = removed
            return
        previous = self.words[-1]
        end = next((w.end for w in reversed(removed) if w.end is not None), None)
        self.words[-1] = previous.copy(end=previous.end if end is None else end, score=None)

    def _fallback_speaker(self) -> str | None:
        if self.words and self.words[-1].speaker is not None:
            return self.words[-1].speaker
        return self.segment.speaker


def _first_start(words: list[Word]) -> float | None:
    return next((w.start for w in words if w.start is not None), None)


def proportional_bounds(start: float, end: float, weights: Sequence[int]) -> list[tuple[float, float]]:
    """Split ``[start, end]`` into consecutive spans proportional to ``weights`` (equal spans if all are 0).

    Boundaries come from cumulative sums so the last span ends exactly at ``end``.
    """
    if not weights:
        return []
    total = sum(weights)
    if total <= 0:
        weights, total = [1] * len(weights), len(weights)
    duration = end - start
    bounds: list[tuple[float, float]] = []
    cumulative = 0
    left = start
    for index, weight in enumerate(weights):
        cumulative += weight
        right = end if index == len(weights) - 1 else min(end, max(left, start + duration * cumulative / total))
        bounds.append((left, right))
        left = right
    return bounds
