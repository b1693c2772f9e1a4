"""Give cues time to be read: stretch their display into pauses and borrow from slow neighbours.

Speech recognisers time a cue from its first word's start to its last word's end, so a fast
speaker's cue is on screen for less time than it takes to read it. This pass moves only cue
*times*, never text. A cue that is shorter than it needs (``chars / target_cps``, at least
``min_ms``, at most ``max_ms``) may

1. end later, into the following pause, keeping ``gap_ms`` before the next cue and staying on at
   most ``max_hang_ms`` after its last word;
2. start a little earlier, into the preceding pause (at most ``max_lead_ms`` before its first word);
3. where it touches a neighbour with time to spare (one speaker running on, or a pause already
   used up), move their shared boundary (a small gap moves with it): the next cue then appears at
   most ``max_delay_ms`` after its first word, or the previous one leaves at most ``max_lead_ms``
   before its last word ends.

The steps repeat a few times so spare time can travel across a run of touching cues. Every bound
is relative to the cue's original times, so captions stay in sync with the voice. Cues never
overlap, keep their order, and a cue that already reads well is left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from podwhisperer.runtime.captions.quality import shown_text

_ROUNDS = 4


@dataclass(frozen=True, slots=True)
class ReadingSpeed:
    """Timing targets (milliseconds, characters per second)."""

    target_cps: float = 17.0
    max_cps: float = 19.5
    """Borrowing from a neighbour aims below this (the checks' hard limit is 20)."""
    min_ms: int = 833
    max_ms: int = 7000
    gap_ms: int = 83
    max_hang_ms: int = 1500
    max_lead_ms: int = 300
    max_delay_ms: int = 1000


@dataclass(slots=True)
class _Timeline:
    starts: list[int]
    ends: list[int]
    needs: list[int]
    hard_needs: list[int]
    earliest_start: list[int]
    latest_start: list[int]
    earliest_end: list[int]
    latest_end: list[int]

    def deficit(self, i: int) -> int:
        return self.needs[i] - (self.ends[i] - self.starts[i])

    def hard_deficit(self, i: int) -> int:
        """How far the cue is from the hard limit: neighbours lend time only down to theirs."""
        return self.hard_needs[i] - (self.ends[i] - self.starts[i])

    def touches_next(self, i: int, gap_ms: int) -> bool:
        """True when no pause is left between cue ``i`` and the next (at most the small gap)."""
        return i + 1 < len(self.starts) and self.starts[i + 1] - self.ends[i] <= gap_ms


def retime(spans: Sequence[tuple[int, int]], texts: Sequence[str], rules: ReadingSpeed) -> list[tuple[int, int]]:
    """New ``(start, end)`` in ms per cue; ``texts`` are the cue texts as written (tags and entities allowed)."""
    # plain text (most SRT cues) is measured as it is: a line break counts as the space it replaces
    lengths = [len(shown_text(text)) if "<" in text or "&" in text else len(text) for text in texts]
    starts = [start for start, _ in spans]
    ends = [end for _, end in spans]
    line = _Timeline(
        starts=starts, ends=ends,
        needs=[_need(chars, rules.target_cps, rules) for chars in lengths],
        hard_needs=[_need(chars, rules.max_cps, rules) for chars in lengths],
        earliest_start=[max(0, start - rules.max_lead_ms) for start in starts],
        latest_start=[start + rules.max_delay_ms for start in starts],
        earliest_end=[end - rules.max_lead_ms for end in ends],
        latest_end=[end + rules.max_hang_ms for end in ends],
    )
    for _ in range(_ROUNDS):
        if not _one_round(line, rules):
            break
    return list(zip(line.starts, line.ends, strict=True))


def _need(chars: int, cps: float, rules: ReadingSpeed) -> int:
    return min(rules.max_ms, max(rules.min_ms, int(chars * 1000 / cps + 0.5)))


def _one_round(line: _Timeline, rules: ReadingSpeed) -> bool:
    moved = False
    starts, ends, needs = line.starts, line.ends, line.needs
    short = [i for i in range(len(starts)) if needs[i] > ends[i] - starts[i]]  # most cues read well: skip them
    for i in short:
        if line.deficit(i) > 0:
            moved |= _into_next_pause(line, i, rules)
        if line.deficit(i) > 0:
            moved |= _into_previous_pause(line, i, rules)
        if line.hard_deficit(i) > 0:
            moved |= _borrow_from_next(line, i, rules)
        if line.hard_deficit(i) > 0:
            moved |= _borrow_from_previous(line, i, rules)
    return moved


def _into_next_pause(line: _Timeline, i: int, rules: ReadingSpeed) -> bool:
    if line.touches_next(i, rules.gap_ms):
        return False
    limit = line.starts[i + 1] - rules.gap_ms if i + 1 < len(line.starts) else line.latest_end[i]
    step = min(line.deficit(i), limit - line.ends[i], line.latest_end[i] - line.ends[i])
    if step <= 0:
        return False
    line.ends[i] += step
    return True


def _into_previous_pause(line: _Timeline, i: int, rules: ReadingSpeed) -> bool:
    if i and line.touches_next(i - 1, rules.gap_ms):
        return False
    floor = line.ends[i - 1] + rules.gap_ms if i else 0
    step = min(line.deficit(i), line.starts[i] - floor, line.starts[i] - line.earliest_start[i])
    if step <= 0:
        return False
    line.starts[i] -= step
    return True


def _borrow_from_next(line: _Timeline, i: int, rules: ReadingSpeed) -> bool:
    if not line.touches_next(i, rules.gap_ms):
        return False
    j = i + 1
    step = min(line.hard_deficit(i), -line.hard_deficit(j),
               line.latest_start[j] - line.starts[j], line.latest_end[i] - line.ends[i])
    if step <= 0:
        return False
    line.ends[i] += step
    line.starts[j] += step
    return True


def _borrow_from_previous(line: _Timeline, i: int, rules: ReadingSpeed) -> bool:
    if not i or not line.touches_next(i - 1, rules.gap_ms):
        return False
    j = i - 1
    step = min(line.hard_deficit(i), -line.hard_deficit(j),
               line.starts[i] - line.earliest_start[i], line.ends[j] - line.earliest_end[j])
    if step <= 0:
        return False
    line.starts[i] -= step
    line.ends[j] -= step
    return True
