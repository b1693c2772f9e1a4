"""Cue building shared by WebVTT and SRT: timing, speaker labels, highlighting and line layout.

Each segment becomes one cue (basic mode) or a run of per-word cues (highlight mode). Cue times
are whole milliseconds; across the file a cue never starts before the previous one ends, and
every segment that has text yields at least one cue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, pairwise
from typing import NamedTuple

from podwhisperer.runtime.captions.formatting import (
    SpeakerMode,
    escape_text,
    highlight_tags,
    segment_speaker,
    speaker_prefix,
    voice_name,
)
from podwhisperer.runtime.captions.reading_speed import ReadingSpeed, retime
from podwhisperer.runtime.captions.timestamps import to_milliseconds
from podwhisperer.runtime.config import CaptionsConfig
from podwhisperer.runtime.line_layout import LineRange, layout_pages
from podwhisperer.runtime.transcript import Segment, Transcript

READING_CHARS_PER_SECOND = 17
"""Netflix adult reading speed; sizes cues whose source timing is unusable."""
MIN_FALLBACK_MS = 1000
MAX_FALLBACK_MS = 7000


class Cue(NamedTuple):
    """One caption cue: times in milliseconds and its escaped, tagged text lines joined by ``\\n``."""

    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class CueStyle:
    """The caption settings that shape cues."""

    max_chars: int
    max_lines: int
    speaker_mode: SpeakerMode
    highlight: bool
    tags: tuple[str, str]
    voice_tags: bool
    reading_speed: ReadingSpeed | None = None
    """Retime cues for reading (basic mode only: highlight cues follow the words)."""

    @classmethod
    def from_config(cls, cfg: CaptionsConfig, *, voice_tags: bool = False, max_chars: int | None = None) -> CueStyle:
        return cls(max_chars=max_chars or cfg.max_chars_per_line, max_lines=cfg.max_lines_per_cue,
                   speaker_mode=cfg.include_speaker_names, highlight=cfg.highlight_words,
                   tags=highlight_tags(cfg.highlight_with), voice_tags=voice_tags,
                   reading_speed=ReadingSpeed(target_cps=cfg.target_chars_per_second)
                   if cfg.reading_speed_timing else None)


@dataclass(slots=True)
class _Layout:
    """A segment's words laid out on pages (one page per cue) with its speaker label."""

    tokens: Sequence[str]
    pages: list[list[LineRange]]
    prefix: str
    voice: str

    def render(self, page: int, highlighted: int = -1, tags: tuple[str, str] = ("", "")) -> str:
        lines = []
        for start, end in self.pages[page]:
            if start <= highlighted < end:
                words = [escape_text(token) for token in self.tokens[start:end]]
                words[highlighted - start] = f"{tags[0]}{words[highlighted - start]}{tags[1]}"
                lines.append(" ".join(words))
            else:
                lines.append(escape_text(" ".join(self.tokens[start:end])))
        lines[0] = self.prefix + lines[0]
        text = "\n".join(lines)
        return f"<v {self.voice}>{text}</v>" if self.voice else text

    def page_chars(self, page: int) -> int:
        first, last = self.pages[page][0][0], self.pages[page][-1][1]
        return sum(len(token) for token in self.tokens[first:last]) + len(self.prefix)


def build_cues(transcript: Transcript, style: CueStyle) -> list[Cue]:
    """All cues of the transcript, in order, never overlapping and never going back in time."""
    cues: list[Cue] = []
    previous: str | None = None
    floor = 0
    for segment in transcript.segments:
        speaker = segment_speaker(segment)
        prefix = "" if style.voice_tags else speaker_prefix(speaker, previous, style.speaker_mode)
        segment_cues = _segment_cues(segment, style, prefix, speaker, floor)
        if segment_cues:
            cues.extend(segment_cues)
            floor = segment_cues[-1].end
            previous = speaker
    if style.reading_speed is not None and not style.highlight and cues:
        spans = retime([(cue.start, cue.end) for cue in cues], [cue.text for cue in cues], style.reading_speed)
        cues = [Cue(start, end, cue.text) for (start, end), cue in zip(spans, cues, strict=True)]
    return cues


def timing_lines(cues: Sequence[Cue], separator: str) -> list[str]:
    """``HH:MM:SS.mmm --> HH:MM:SS.mmm`` per cue, with ``separator`` before the milliseconds.

    Each line is what two :func:`format_milliseconds` calls would give, in one %-format with the
    clock arithmetic inline (about half the time; an episode has thousands of cues). Cue times
    are never negative: :func:`build_cues` starts them at or after 0.
    """
    template = f"%02d:%02d:%02d{separator}%03d --> %02d:%02d:%02d{separator}%03d"
    return [template % (start // 3_600_000, start // 60_000 % 60, start // 1000 % 60, start % 1000,
                        end // 3_600_000, end // 60_000 % 60, end // 1000 % 60, end % 1000)
            for start, end, _ in cues]


def _segment_cues(segment: Segment, style: CueStyle, prefix: str, speaker: str | None, floor: int) -> list[Cue]:
    word_tokens, word_times = _timed_tokens(segment) if style.highlight and segment.words else ([], [])
    tokens = word_tokens or segment.text.split()
    if not tokens:
        return []
    layout = _layout(tokens, style, prefix, speaker)
    if word_tokens:
        cues = _highlight_cues(segment, layout, word_times, style.tags, floor)
        if cues:
            return cues
        return _basic_cues(segment, layout, floor, [start for start, _ in word_times])
    return _basic_cues(segment, layout, floor, None)


def _layout(tokens: Sequence[str], style: CueStyle, prefix: str, speaker: str | None) -> _Layout:
    """``prefix``: the ``"Name: "`` speaker label glued to the first line of every page (may be empty)."""
    voice = voice_name(speaker) if speaker and style.voice_tags and style.speaker_mode != "never" else ""
    pages = layout_pages(tokens, style.max_chars, style.max_lines, len(prefix))
    return _Layout(tokens, pages, escape_text(prefix), voice)


def _timed_tokens(segment: Segment) -> tuple[list[str], list[tuple[int, int]]]:
    """Display words with their times in ms; missing times get equal slots of a valid segment."""
    words = segment.words or []
    slot = (segment.end - segment.start) / len(words) if segment.end > 0 and segment.end > segment.start else None
    tokens: list[str] = []
    times: list[tuple[int, int]] = []
    for index, word in enumerate(words):
        token = word.word.strip()
        if not token:
            continue
        start, end = word.start, word.end
        if slot is not None:
            start = segment.start + index * slot if start is None else start
            end = segment.start + (index + 1) * slot if end is None else end
        tokens.append(token)
        if start is None or end is None or start < 0:
            times.append((-1, -1))
        else:
            times.append((to_milliseconds(start), to_milliseconds(end)))
    return tokens, times


def _highlight_cues(segment: Segment, layout: _Layout, times: Sequence[tuple[int, int]],
                    tags: tuple[str, str], floor: int) -> list[Cue]:
    """Per-word cues with filler cues for the gaps; empty when any page would never be shown."""
    page_of = _page_index(layout)
    spans: list[tuple[int, int, int, int]] = []  # start, end, page, highlighted token (-1 for filler)
    cursor = -1
    for index, (start, end) in enumerate(times):
        if end <= start:
            continue
        if cursor < 0:
            cursor = start
        if start > cursor:
            spans.append((cursor, start, page_of[index], -1))
        spans.append((max(start, cursor), end, page_of[index], index))
        cursor = max(cursor, end)
    segment_end = to_milliseconds(segment.end)
    if spans and segment.end > 0 and segment.end > segment.start and segment_end > cursor:
        spans.append((cursor, segment_end, spans[-1][2], -1))
    return _clamped_highlight(spans, layout, tags, floor)


def _clamped_highlight(spans: Sequence[tuple[int, int, int, int]], layout: _Layout,
                       tags: tuple[str, str], floor: int) -> list[Cue]:
    cues: list[Cue] = []
    shown: set[int] = set()
    for start, end, page, highlighted in spans:
        start = max(start, floor)
        if end <= start:
            continue  # a word hidden by an overlapping earlier cue: its text is on the other cues
        cues.append(Cue(start, end, layout.render(page, highlighted, tags)))
        shown.add(page)
        floor = end
    return cues if len(shown) == len(layout.pages) else []


def _basic_cues(segment: Segment, layout: _Layout, floor: int, token_starts: Sequence[int] | None) -> list[Cue]:
    """One cue per page, timed by the segment (and by word starts when the text needs several cues)."""
    cues: list[Cue] = []
    for page, (start, end) in enumerate(_page_bounds(segment, layout, token_starts)):
        start = max(start, floor)
        if end <= start:
            seconds_to_read = layout.page_chars(page) * 1000 // READING_CHARS_PER_SECOND
            end = start + min(MAX_FALLBACK_MS, max(MIN_FALLBACK_MS, seconds_to_read))
        cues.append(Cue(start, end, layout.render(page)))
        floor = end
    return cues


def _page_bounds(segment: Segment, layout: _Layout, token_starts: Sequence[int] | None) -> list[tuple[int, int]]:
    start, end = to_milliseconds(segment.start), to_milliseconds(segment.end)
    if len(layout.pages) == 1:
        return [(start, end)]
    if token_starts is None:
        token_starts = _word_starts_matching(segment, layout.tokens)
    chars_before_token = list(accumulate([len(token) + 1 for token in layout.tokens], initial=0))
    total_chars = chars_before_token[-1]
    cuts = [start]
    for page in layout.pages[1:]:
        first = page[0][0]
        chars_before = chars_before_token[first]
        proportional = start + (end - start) * chars_before // total_chars
        timed = token_starts[first] if token_starts is not None else -1
        cuts.append(timed if cuts[-1] < timed < end else max(cuts[-1], proportional))
    cuts.append(end)
    return list(pairwise(cuts))


def _word_starts_matching(segment: Segment, tokens: Sequence[str]) -> list[int] | None:
    """Word start times per text token, when the words spell exactly the segment text."""
    words = segment.words or []
    spelled = [word.word.strip() for word in words]
    if "" in spelled:
        words = [word for word, token in zip(words, spelled, strict=True) if token]
        spelled = [token for token in spelled if token]
    if spelled != list(tokens):
        return None
    return [to_milliseconds(word.start) if word.start is not None else -1 for word in words]


def _page_index(layout: _Layout) -> list[int]:
    page_of = [0] * len(layout.tokens)
    for page, lines in enumerate(layout.pages):
        for index in range(lines[0][0], lines[-1][1]):
            page_of[index] = page
    return page_of
