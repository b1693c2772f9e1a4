"""Give every word a time: interpolate words WhisperX could not align (numerals, symbols).

A word is untimed when ``start`` or ``end`` is missing or ``end < start``. Each run of untimed
words is laid out, in proportion to character length, over the gap it sits in:

* between two timed words: ``[previous end, next start]``;
* at the start of a segment: ``[segment start, first timed start]``;
* at the end: ``[last timed end, segment end]``;
* a segment without any timed word: ``[segment start, segment end]``.

So a filled word never starts at 0 unless its segment does, and times stay monotonic when the
timed words were. Filled words get ``score=None``; one without a speaker takes the nearest
timed neighbour's speaker (the previous one on a tie), else the segment's.

Afterwards every segment with words spans exactly its words: ``start`` = earliest word start,
``end`` = latest word end. Captions then begin when speech begins, and segment bounds agree
with the word times the normaliser and the highlight mode rely on.

First, always (even with gap filling disabled), times outside the audio are dealt with: a raw
transcript may hold ``Infinity``, ``1e15`` or negative times (a buggy or hostile producer), which
would otherwise reach the captions as ``277777777777:46:40,000``. A word time that is not finite,
negative or past the audio's end (more than :data:`END_TOLERANCE_S` after it) makes the word
untimed, so it is interpolated like an unaligned numeral; a segment bound is clamped into
``[0, audio duration]``. Both are counted in the stats. The audio duration is the raw
transcript's ``audio_duration``; without a plausible one, :data:`MAX_AUDIO_SECONDS`.
"""

from __future__ import annotations

import math
import operator
from typing import Any, cast

from podwhisperer.runtime.config import TimingGapsConfig
from podwhisperer.runtime.transcript import Segment, StepOutcome, Transcript, Word, paused_gc
from podwhisperer.runtime.transforms.reconcile import proportional_bounds

MAX_AUDIO_SECONDS = 24 * 3600.0
"""The end of the audio when the transcript does not say (longer than any upload the worker accepts)."""
END_TOLERANCE_S = 1.0
"""Word times this little past the audio's end are alignment jitter: clamped to the end, not counted."""


@paused_gc()
def fill_timing_gaps(transcript: Transcript, cfg: TimingGapsConfig) -> StepOutcome:
    """Drop times outside the audio, interpolate missing word times and fit segment bounds to their words.

    Stats: ``words_filled``, ``segments_touched`` (segments with at least one filled word),
    ``segments_retimed`` (segments whose start or end changed), and when there were any,
    ``word_times_out_of_range`` (words whose time was outside the audio, made untimed) and
    ``segment_times_out_of_range`` (segments whose bounds were clamped). Disabled: only times
    outside the audio are dealt with. Segments needing no change are shared, not copied.
    """
    end = audio_end(transcript)
    segments: list[Segment] = []
    words_filled = touched = retimed = bad_words = bad_segments = 0
    for segment in transcript.segments:
        span = _timed_span(segment.words) if segment.words else None  # computed once: this runs over every word
        if _inside(segment, span, end):
            inside = segment
        else:
            inside, out_words = _within_audio(segment, end)
            bad_words += out_words
            bad_segments += int((inside.start, inside.end) != (segment.start, segment.end))
            span = _timed_span(inside.words) if inside.words else None
        result, filled = _fill_segment(inside, span) if cfg.enabled else (inside, 0)
        words_filled += filled
        touched += int(filled > 0)
        retimed += int((result.start, result.end) != (inside.start, inside.end))
        segments.append(result)
    stats = _stats(words_filled, touched, retimed)
    if bad_words or bad_segments:
        stats.update(word_times_out_of_range=bad_words, segment_times_out_of_range=bad_segments)
    elif not cfg.enabled:
        return StepOutcome(transcript, stats)
    return StepOutcome(transcript.copy(segments=segments), stats)


def audio_end(transcript: Transcript) -> float:
    """The audio's duration from the raw metadata when plausible, else :data:`MAX_AUDIO_SECONDS`."""
    duration = transcript.metadata.audio_duration if transcript.metadata else None
    if duration is not None and math.isfinite(duration) and 0 < duration <= MAX_AUDIO_SECONDS:
        return duration
    return MAX_AUDIO_SECONDS


def _inside(segment: Segment, span: tuple[float, float] | None, end: float) -> bool:
    """True when every time of the segment is inside ``[0, end]`` (NaN and infinities fail the comparisons).

    The usual case is decided from the timed span alone; a segment with untimed words checks its
    timed values with builtins."""
    if not (0.0 <= segment.start <= end and 0.0 <= segment.end <= end):
        return False
    if span is not None:
        return span[0] >= 0.0 and span[1] <= end
    times = [t for word in segment.words or () for t in (word.start, word.end) if t is not None]
    return not times or (min(times) >= 0.0 and max(times) <= end and math.isfinite(sum(times)))


def _within_audio(segment: Segment, end: float) -> tuple[Segment, int]:
    """The segment with its times inside ``[0, end]`` and how many words lost theirs."""
    words = segment.words or []
    kept: list[Word] = []
    out = 0
    for word in words:
        start, end_ = _word_time(word.start, end), _word_time(word.end, end)
        if start is None or end_ is None:
            out += int(word.start is not None or word.end is not None)
            kept.append(word if word.start is None and word.end is None else _untimed_copy(word))
        elif (start, end_) != (word.start, word.end):
            kept.append(_timed_copy(word, start, end_, word.speaker, word.score))
        else:
            kept.append(word)
    start = _clamped(segment.start, end, 0.0)
    return Segment(start, max(start, _clamped(segment.end, end, end)), segment.text, segment.speaker,
                   kept if segment.words is not None else None, segment.extra), out


def _word_time(value: float | None, end: float) -> float | None:
    """A usable word time: None when missing, not finite, negative or well past the end; else at most ``end``."""
    if value is None or not math.isfinite(value) or value < 0.0 or value > end + END_TOLERANCE_S:
        return None
    return min(value, end)


def _clamped(value: float, end: float, fallback: float) -> float:
    if not math.isfinite(value):
        return fallback if math.isnan(value) else (0.0 if value < 0 else end)
    return min(max(value, 0.0), end)


def _fill_segment(segment: Segment, span: tuple[float, float] | None) -> tuple[Segment, int]:
    """The segment with every word timed and its bounds fitted to them (itself when nothing changes).

    ``span``: the segment's :func:`_timed_span`, already computed by the caller."""
    if not segment.words:
        return segment, 0
    words, filled = segment.words, 0
    if span is None:
        words, filled = _fill_words(segment, words)
        span = _timed_span(words)
        assert span is not None, "filled words are always timed"
    if filled == 0 and span == (segment.start, segment.end):
        return segment, 0
    return _with_words(segment, span, words), filled


def _stats(words_filled: int, touched: int, retimed: int) -> dict[str, Any]:
    return {"words_filled": words_filled, "segments_touched": touched, "segments_retimed": retimed}


def _fill_words(segment: Segment, words: list[Word]) -> tuple[list[Word], int]:
    """A new word list with every untimed run filled in, and how many words were filled."""
    timed = [word.timed for word in words]
    filled = list(words)
    index = 0
    while index < len(words):
        if timed[index]:
            index += 1
            continue
        run_end = index
        while run_end < len(words) and not timed[run_end]:
            run_end += 1
        filled[index:run_end] = _fill_run(segment, words, index, run_end)
        index = run_end
    return filled, timed.count(False)


def _fill_run(segment: Segment, words: list[Word], first: int, stop: int) -> list[Word]:
    """Timed copies of ``words[first:stop]``, all untimed, spread over the gap around them."""
    previous = words[first - 1] if first > 0 else None
    following = words[stop] if stop < len(words) else None
    low, high = _gap(segment, previous, following)
    bounds = proportional_bounds(low, high, [len(word.word) for word in words[first:stop]])
    filled = []
    for offset, (start, end) in enumerate(bounds):
        word = words[first + offset]
        speaker = word.speaker or _neighbour_speaker(segment, previous, following, offset + 1, stop - first - offset)
        filled.append(_timed_copy(word, start, end, speaker))
    return filled


def _gap(segment: Segment, previous: Word | None, following: Word | None) -> tuple[float, float]:
    """The interval an untimed run may occupy; ``low <= high`` always."""
    if following is not None:
        high = following.start
        low = previous.end if previous is not None else segment.start
        assert high is not None and low is not None  # neighbours of a run are timed
        return min(low, high), high
    low = previous.end if previous is not None else segment.start
    assert low is not None
    return low, max(low, segment.end)


def _neighbour_speaker(
    segment: Segment, previous: Word | None, following: Word | None, distance_back: int, distance_ahead: int
) -> str | None:
    nearest, other = (previous, following) if distance_back <= distance_ahead else (following, previous)
    for neighbour in (nearest, other):
        if neighbour is not None and neighbour.speaker is not None:
            return neighbour.speaker
    return segment.speaker


def _timed_span(words: list[Word]) -> tuple[float, float] | None:
    """Earliest start and latest end of ``words``, or None when a word is untimed.

    Built from list comprehensions and builtins: this runs over every word of the transcript.
    """
    starts = [word.start for word in words]
    ends = [word.end for word in words]
    if None in starts or None in ends:
        return None
    timed_starts = cast(list[float], starts)
    timed_ends = cast(list[float], ends)
    if not all(map(operator.le, timed_starts, timed_ends)):
        return None
    return min(timed_starts), max(timed_ends)


# Direct construction instead of ``.copy()``: dataclasses.replace costs ~10x more, and a 3-hour
# transcript has tens of thousands of words. tests/test_timing_gaps.py pins the field lists so a
# new field on Word or Segment fails loudly here instead of being dropped.


def _timed_copy(word: Word, start: float, end: float, speaker: str | None, score: float | None = None) -> Word:
    return Word(word.word, start, end, score, speaker, word.extra)


def _untimed_copy(word: Word) -> Word:
    return Word(word.word, None, None, word.score, word.speaker, word.extra)


def _with_words(segment: Segment, span: tuple[float, float], words: list[Word] | None) -> Segment:
    return Segment(span[0], span[1], segment.text, segment.speaker, words, segment.extra)
