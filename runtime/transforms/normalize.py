"""Split segments into caption-grade pieces (predecessor 5.7, made caption-grade).

Walking a segment's words, a piece is closed when the speaker changes, before a word that would
break a hard limit (words, characters, wrapped lines, duration), or after a clause-ending word
once the piece is ``punctuation_split_threshold`` full. A hard-limit split moves back to the last
clause end when that leaves a reasonably full piece. Pieces shorter than ``min_duration_seconds``
are merged into a neighbour when the limits allow, else their end extends into the following
silence. Piece times come from timed words, never from a missing time read as 0 (defect 2).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from podwhisperer.runtime.config import NormalizationConfig
from podwhisperer.runtime.line_layout import CLOSING_MARKS, count_lines, ends_clause
from podwhisperer.runtime.transcript import Segment, StepOutcome, Transcript, Word, paused_gc

_BACKTRACK_MIN_PROGRESS = 0.5
"""A hard-limit split moves back to punctuation only if the piece before it is at least this full."""


@dataclass(frozen=True, slots=True)
class _Limits:
    max_words: int
    max_chars: int
    line_chars: int
    max_lines: int
    max_duration: float
    min_duration: float
    threshold: float
    punctuation: tuple[str, ...]
    split_on_speaker: bool
    balance: bool
    clause_last_chars: frozenset[str]
    """The last characters of every punctuation and closing mark: a cheap first test before ends_clause."""

    @classmethod
    def from_config(cls, cfg: NormalizationConfig) -> _Limits:
        return cls(max_words=cfg.max_words_per_segment, max_chars=cfg.segment_char_limit,
                   line_chars=cfg.max_chars_per_line, max_lines=cfg.max_lines_per_segment,
                   max_duration=cfg.max_duration_seconds, min_duration=cfg.min_duration_seconds,
                   threshold=cfg.punctuation_split_threshold, punctuation=tuple(cfg.punctuation_chars),
                   split_on_speaker=cfg.split_segment_at_speaker_change, balance=cfg.balance_pieces,
                   clause_last_chars=frozenset(mark[-1] for mark in (*cfg.punctuation_chars, *CLOSING_MARKS)))


@dataclass(frozen=True, slots=True)
class _Piece:
    """Words ``[start, end)`` of one segment and the speaker known when the piece closed."""

    start: int
    end: int
    speaker: str | None


@paused_gc()
def normalize_segments(transcript: Transcript, cfg: NormalizationConfig) -> StepOutcome:
    """Split long segments into caption-sized ones; the input transcript is left untouched.

    Segments without words pass through unchanged; segments with neither words nor text are
    dropped. Stats: ``original_segments``, ``normalized_segments``, ``splits`` and the
    ``words_per_segment`` / ``chars_per_segment`` distributions (min, max, avg, p95).
    """
    if not cfg.normalize:
        unchanged = list(transcript.segments)
        return StepOutcome(transcript.copy(segments=unchanged), _stats(len(unchanged), unchanged, 0))
    limits = _Limits.from_config(cfg)
    segments: list[Segment] = []
    splits = 0
    for segment in transcript.segments:
        if not segment.words:
            if segment.text.strip():
                segments.append(segment)
            continue
        built = _normalize_segment(segment, segment.words, limits)
        splits += max(0, len(built) - 1)
        segments.extend(built)
    _extend_short_segments(segments, limits.min_duration, _audio_end(transcript))
    stats = _stats(len(transcript.segments), segments, splits)
    return StepOutcome(transcript.copy(segments=segments), stats)


def _normalize_segment(segment: Segment, words: Sequence[Word], limits: _Limits) -> list[Segment]:
    tokens = [word.word.strip() for word in words]
    pieces = _split_words(words, tokens, segment.speaker, limits)
    if limits.balance:
        pieces = _rebalance_thin_pieces(words, tokens, pieces, limits)
    pieces = _merge_short_pieces(words, tokens, pieces, limits)
    compact = "" not in tokens
    built = [_build_piece(segment, tokens, piece, compact) for piece in pieces]
    # Without empty tokens every piece has text; otherwise drop pieces made only of empty words.
    return built if compact else [piece for piece in built if piece.text]


@dataclass(slots=True)
class _Open:
    """Measurements of a piece being built: words ``[start, start + count)``, speaker known at its start."""

    start: int
    speaker: str | None
    count: int = 0
    chars: int = 0
    lines: int = 0
    line_len: int = 0
    first_time: float | None = None
    last_end: float | None = None

    def state(self) -> tuple[int, str | None, int, int, int, int, float | None, float | None]:
        return (self.start, self.speaker, self.count, self.chars, self.lines, self.line_len, self.first_time,
                self.last_end)


def _split_words(words: Sequence[Word], tokens: Sequence[str], speaker: str | None, limits: _Limits) -> list[_Piece]:
    """One linear pass over a segment's words that cuts it into pieces.

    This loop runs once per word of the episode, so the open piece's measurements live in local
    names and the common path makes no calls; the rare cuts go through the helpers below.
    """
    max_words, max_chars, line_chars = limits.max_words, limits.max_chars, limits.line_chars
    max_lines, max_duration, threshold = limits.max_lines, limits.max_duration, limits.threshold
    split_on_speaker, punctuation = limits.split_on_speaker, limits.punctuation
    clause_last_chars = limits.clause_last_chars
    pieces: list[_Piece] = []
    start = count = chars = lines = line_len = 0
    start_speaker = speaker
    first_time: float | None = None
    last_end: float | None = None
    for index, word in enumerate(words):
        token, word_speaker, end = tokens[index], word.speaker, word.end
        length = len(token)
        if count:
            if split_on_speaker and word_speaker and speaker and word_speaker != speaker:
                pieces.append(_Piece(start, index, speaker))
                start, count, chars, lines, line_len, first_time, last_end = index, 0, 0, 0, 0, None, None
                start_speaker = word_speaker
            elif (count >= max_words or chars + 1 + length > max_chars
                  or (lines >= max_lines and line_len + 1 + length > line_chars)
                  or (end is not None and first_time is not None and end - first_time > max_duration)):
                piece = _Open(start, start_speaker, count, chars, lines, line_len, first_time, last_end)
                carried = _cut_before(words, tokens, index, piece, pieces, limits)
                start, start_speaker, count, chars, lines, line_len, first_time, last_end = carried.state()
        if not count:
            chars = line_len = length
            lines = 1
            first_time = word.start
        elif line_len + 1 + length <= line_chars:
            chars += 1 + length
            line_len += 1 + length
        else:
            chars += 1 + length
            lines += 1
            line_len = length
        count += 1
        if first_time is None:  # the piece began with words the aligner could not place
            first_time = word.start
        if end is not None:
            last_end = end
        if word_speaker:
            speaker = word_speaker
        # A clause end closes the piece once its character, word or duration share reaches the threshold.
        # On the last word this closes the final piece, just as the end of the loop would.
        if (token[-1:] in clause_last_chars and ends_clause(token, punctuation)
                and (chars / max_chars >= threshold or count / max_words >= threshold
                     or (first_time is not None and last_end is not None
                         and (last_end - first_time) / max_duration >= threshold))):
            pieces.append(_Piece(start, index + 1, speaker))
            start, count, chars, lines, line_len, first_time, last_end = index + 1, 0, 0, 0, 0, None, None
            start_speaker = speaker
    if count:
        pieces.append(_Piece(start, len(words), speaker))
    return pieces


def _add_word(piece: _Open, word: Word, length: int, line_chars: int) -> None:
    if piece.count:
        piece.chars += length + 1
        if piece.line_len + 1 + length <= line_chars:
            piece.line_len += 1 + length
        else:
            piece.lines, piece.line_len = piece.lines + 1, length
    else:
        piece.chars, piece.lines, piece.line_len = length, 1, length
    piece.count += 1
    if piece.first_time is None:
        piece.first_time = word.start
    if word.end is not None:
        piece.last_end = word.end


def _cut_before(words: Sequence[Word], tokens: Sequence[str], index: int, piece: _Open,
                pieces: list[_Piece], limits: _Limits) -> _Open:
    """Close the open piece before word ``index`` (at an earlier clause end when one is late enough);
    return the new open piece holding the words carried over."""
    cut = _backtrack_cut(words, tokens, index, piece, limits)
    speaker = _last_speaker(words, piece.start, cut, piece.speaker)
    pieces.append(_Piece(piece.start, cut, speaker))
    carried = _Open(cut, speaker)
    for position in range(cut, index):
        _add_word(carried, words[position], len(tokens[position]), limits.line_chars)
    if carried.count and _exceeds(carried, words[index], len(tokens[index]), limits):
        pieces.append(_Piece(cut, index, _last_speaker(words, cut, index, speaker)))
        carried = _Open(index, pieces[-1].speaker)
    return carried


def _exceeds(piece: _Open, word: Word, length: int, limits: _Limits) -> bool:
    """Whether adding the word would break a hard limit (the same test as the loop in _split_words)."""
    return (piece.count >= limits.max_words or piece.chars + 1 + length > limits.max_chars
            or (piece.lines >= limits.max_lines and piece.line_len + 1 + length > limits.line_chars)
            or (word.end is not None and piece.first_time is not None
                and word.end - piece.first_time > limits.max_duration))


def _backtrack_cut(words: Sequence[Word], tokens: Sequence[str], index: int, piece: _Open, limits: _Limits) -> int:
    """The latest clause end before word ``index`` that leaves the piece at least ``minimum`` full, else ``index``.

    Fullness is the largest of the character, word and duration shares, as in _split_words.
    """
    minimum = min(_BACKTRACK_MIN_PROGRESS, limits.threshold)
    max_chars, max_words, max_duration = limits.max_chars, limits.max_words, limits.max_duration
    first_time, start, chars = piece.first_time, piece.start, piece.chars
    for cut in range(index - 1, start, -1):
        chars -= len(tokens[cut]) + 1
        if chars / max_chars < minimum and (cut - start) / max_words < minimum:
            end = words[cut - 1].end
            if first_time is None or end is None or (end - first_time) / max_duration < minimum:
                break
        token = tokens[cut - 1]
        if token[-1:] in limits.clause_last_chars and ends_clause(token, limits.punctuation):
            return cut
    return index


def _last_speaker(words: Sequence[Word], start: int, end: int, default: str | None) -> str | None:
    for index in range(end - 1, start - 1, -1):
        if words[index].speaker:
            return words[index].speaker
    return default


def _merge_short_pieces(words: Sequence[Word], tokens: Sequence[str], pieces: list[_Piece],
                        limits: _Limits) -> list[_Piece]:
    """Merge a piece shorter than the minimum duration into its left neighbour when the limits allow."""
    if limits.min_duration <= 0 or len(pieces) < 2:
        return pieces
    merged = [pieces[0]]
    previous_short = _is_short(words, pieces[0], limits)
    for piece in pieces[1:]:
        previous = merged[-1]
        short = _is_short(words, piece, limits)
        if ((short or previous_short) and previous.speaker == piece.speaker
                and _fits(words, tokens, previous.start, piece.end, limits)):
            merged[-1] = _Piece(previous.start, piece.end, piece.speaker)
            previous_short = _is_short(words, merged[-1], limits)
        else:
            merged.append(piece)
            previous_short = short
    return merged


_THIN_WORDS = 2
_THIN_CHAR_SHARE = 0.25


def _rebalance_thin_pieces(words: Sequence[Word], tokens: Sequence[str], pieces: list[_Piece],
                           limits: _Limits) -> list[_Piece]:
    """Move a hard-limit cut that left a thin piece (``… for a while`` / ``now.``) to a better place.

    A forced cut next to a one- or two-word piece is moved, within the pair, to the clause end nearest
    the middle, else to the most balanced place; both halves must still fit every limit.
    """
    if len(pieces) < 2:
        return pieces
    result = list(pieces)
    offsets = list(accumulate(map(len, tokens), initial=0))
    for index in range(len(result) - 1):
        left, right = result[index], result[index + 1]
        if left.speaker != right.speaker or not (_is_thin(offsets, left, limits) or _is_thin(offsets, right, limits)):
            continue
        if ends_clause(tokens[left.end - 1], limits.punctuation):
            continue
        cut = _balanced_cut(words, tokens, left.start, right.end, limits)
        if cut is not None and cut != left.end:
            result[index] = _Piece(left.start, cut, _last_speaker(words, left.start, cut, left.speaker))
            result[index + 1] = _Piece(cut, right.end, right.speaker)
    return result


def _is_thin(offsets: Sequence[int], piece: _Piece, limits: _Limits) -> bool:
    """``offsets``: the running character count of the segment's tokens (0 first)."""
    count = piece.end - piece.start
    chars = offsets[piece.end] - offsets[piece.start] + count - 1
    return count <= _THIN_WORDS or chars < limits.max_chars * _THIN_CHAR_SHARE


def _balanced_cut(words: Sequence[Word], tokens: Sequence[str], start: int, end: int, limits: _Limits) -> int | None:
    """The best cut of ``[start, end)`` where both halves fit: a clause end nearest the middle, else any cut.

    Candidates are ranked first and tested for fit in that order, so usually only a few are measured.
    """
    total = sum(len(token) + 1 for token in tokens[start:end])
    ranked: list[tuple[int, float, int]] = []  # (not a clause end, distance from the middle, cut)
    left_chars = 0
    for cut in range(start + 1, end):
        left_chars += len(tokens[cut - 1]) + 1
        ranked.append((0 if ends_clause(tokens[cut - 1], limits.punctuation) else 1, abs(total / 2 - left_chars), cut))
    ranked.sort()
    for _, _, cut in ranked:
        if _fits(words, tokens, start, cut, limits) and _fits(words, tokens, cut, end, limits):
            return cut
    return None


def _is_short(words: Sequence[Word], piece: _Piece, limits: _Limits) -> bool:
    first, last = _time_span(words, piece.start, piece.end)
    return first is not None and last is not None and last - first < limits.min_duration


def _fits(words: Sequence[Word], tokens: Sequence[str], start: int, end: int, limits: _Limits) -> bool:
    lengths = [len(token) for token in tokens[start:end]]
    if len(lengths) > limits.max_words or sum(lengths) + len(lengths) - 1 > limits.max_chars:
        return False
    if count_lines(lengths, limits.line_chars) > limits.max_lines:
        return False
    first, last = _time_span(words, start, end)
    return first is None or last is None or last - first <= limits.max_duration


def _time_span(words: Sequence[Word], start: int, end: int) -> tuple[float | None, float | None]:
    """The first start and the last end among the timed words of ``[start, end)`` (usually its end words')."""
    if start >= end:
        return None, None
    first, last = words[start].start, words[end - 1].end
    return (first if first is not None else _first_start(words, start, end),
            last if last is not None else _last_end(words, start, end))


def _first_start(words: Sequence[Word], start: int, end: int) -> float | None:
    """Start of the first word in ``[start, end)`` that has one."""
    for index in range(start, end):
        if words[index].start is not None:
            return words[index].start
    return None


def _last_end(words: Sequence[Word], start: int, end: int) -> float | None:
    """End of the last word in ``[start, end)`` that has one."""
    for index in range(end - 1, start - 1, -1):
        if words[index].end is not None:
            return words[index].end
    return None


def _build_piece(segment: Segment, tokens: Sequence[str], piece: _Piece, compact: bool) -> Segment:
    words = segment.words or []
    piece_tokens = tokens[piece.start:piece.end]
    text = " ".join(piece_tokens if compact else [token for token in piece_tokens if token])
    start, end = _piece_times(segment, words, piece)
    return Segment(start, end, text, piece.speaker, words[piece.start:piece.end], dict(segment.extra))


def _piece_times(segment: Segment, words: Sequence[Word], piece: _Piece) -> tuple[float, float]:
    """Times from the nearest timed words of the piece, else interpolated within the segment (defect 2)."""
    start, end = _time_span(words, piece.start, piece.end)
    if start is None or end is None:
        span = max(0.0, segment.end - segment.start)
        if start is None:
            start = segment.start + span * piece.start / len(words)
        if end is None:
            end = segment.start + span * piece.end / len(words)
    return start, end if end > start else start


def _extend_short_segments(segments: list[Segment], min_duration: float, audio_end: float | None) -> None:
    """Lengthen short rebuilt segments into the silence before the next segment.

    Rebuilt segments (ours to change: new objects) are exactly those with words; segments without
    words are passed through shared with the input and left alone.
    """
    if min_duration <= 0:
        return
    for index, segment in enumerate(segments):
        if not segment.words or segment.end - segment.start >= min_duration:
            continue
        target = segment.start + min_duration
        if index + 1 < len(segments):
            target = min(target, segments[index + 1].start)
        if audio_end is not None:
            target = min(target, audio_end)
        if target > segment.end:
            segment.end = target


def _audio_end(transcript: Transcript) -> float | None:
    metadata = transcript.metadata
    return metadata.audio_duration if metadata and metadata.audio_duration else None


def _stats(original: int, segments: Sequence[Segment], splits: int) -> dict[str, Any]:
    return {
        "original_segments": original,
        "normalized_segments": len(segments),
        "splits": splits,
        "words_per_segment": _distribution([len(segment.words or ()) for segment in segments]),
        "chars_per_segment": _distribution([len(segment.text) for segment in segments]),
    }


def _distribution(values: list[int]) -> dict[str, float]:
    """min, max, avg (2 decimals, halves up) and nearest-rank p95; all zeros when empty."""
    if not values:
        return {"min": 0, "max": 0, "avg": 0, "p95": 0}
    ordered = sorted(values)
    rank = max(0, math.ceil(0.95 * len(ordered)) - 1)
    average = math.floor(sum(ordered) / len(ordered) * 100 + 0.5) / 100
    return {"min": ordered[0], "max": ordered[-1], "avg": average, "p95": ordered[rank]}
