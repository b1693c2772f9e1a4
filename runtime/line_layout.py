"""Line layout shared by segment normalisation and the caption renderers (it sits below both).

Text is handled as a list of tokens (words) measured in characters. Layout happens in two
steps: the greedy pass finds the fewest lines (a word that is longer than the limit gets a
line of its own), and the balancing pass redistributes the words of each cue over that same
number of lines so the longer line is as short as possible. Because balancing never adds a
line, anything :func:`count_lines` accepts is laid out by :func:`layout_pages` on one page.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate

LineRange = tuple[int, int]
"""Token indices ``[start, end)`` of one line."""

CLOSING_MARKS = "\"')]»”’"
"""Closing quotes and brackets, looked through when asking how a word ends: ``"done."`` ends a clause."""

_PUNCTUATION_BREAKS = (".", ",", "?", "!", ";", ":", "…", "—")
_PUNCTUATION_PULL = 4
"""How many words away from the middle a page break may move to land after punctuation."""


def count_lines(lengths: Sequence[int], max_chars: int) -> int:
    """The fewest lines of at most ``max_chars`` that hold words of these lengths, broken at spaces."""
    lines = current = 0
    for length in lengths:
        if lines and current + 1 + length <= max_chars:
            current += 1 + length
        else:
            lines, current = lines + 1, length
    return lines


def layout_pages(tokens: Sequence[str], max_chars: int, max_lines: int,
                 prefix_len: int = 0) -> list[list[LineRange]]:
    """Split tokens into pages (one cue each) of at most ``max_lines`` balanced lines.

    ``prefix_len`` characters (a speaker label) are glued to the first word of every page.
    Most segments give a single page; more appear only when the text is too long for one cue.
    """
    if not tokens:
        return []
    lengths = [len(token) for token in tokens]
    lengths[0] += prefix_len
    offsets = list(accumulate(lengths, initial=0))
    width = offsets[-1] + len(lengths) - 1
    if width <= max_chars:
        return [[(0, len(tokens))]]
    if max_lines >= 2 and (width <= 2 * max_chars + 1 or max(lengths) > max_chars):
        two_lines = _balance_two(offsets, max_chars, tokens)  # the common case: fewest lines is two
        if two_lines is not None:
            return [two_lines]
    lengths[0] -= prefix_len
    pages = _greedy_pages(lengths, max_chars, max_lines, prefix_len)
    if len(pages) == 1 and len(pages[0]) == 1:
        return [[(0, len(tokens))]]
    if len(pages) > 1:
        first = pages[-2][0]
        breaks = [ends_with_break(token) for token in tokens[first:]]
        pages[-2:] = _even_out(lengths[first:], breaks, first, max_chars, max_lines, prefix_len)
    balanced = []
    for index, line_starts in enumerate(pages):
        first = line_starts[0]
        end = pages[index + 1][0] if index + 1 < len(pages) else len(tokens)
        page_lengths = lengths[first:end]
        page_lengths[0] += prefix_len
        lines = balance_lines(page_lengths, len(line_starts), max_chars, tokens[first:end])
        balanced.append([(start + first, stop + first) for start, stop in lines])
    return balanced


def balance_lines(lengths: Sequence[int], line_count: int, max_chars: int,
                  tokens: Sequence[str] | None = None) -> list[LineRange]:
    """Lay tokens out on ``line_count`` lines, minimising the longest line.

    A line may exceed ``max_chars`` only when it is a single word. Ties prefer breaking after
    punctuation (when ``tokens`` are given), then a shorter top line.
    """
    count = len(lengths)
    if line_count <= 1 or count <= 1:
        return [(0, count)]
    offsets = list(accumulate(lengths, initial=0))
    if line_count == 2:
        return _balance_two(offsets, max_chars, tokens) or _balance_many(offsets, 2, max_chars)
    return _balance_many(offsets, line_count, max_chars)


def _greedy_pages(lengths: Sequence[int], max_chars: int, max_lines: int, prefix_len: int) -> list[list[int]]:
    pages: list[list[int]] = []
    page: list[int] = []
    current = 0
    for index, length in enumerate(lengths):
        if page and current + 1 + length <= max_chars:
            current += 1 + length
            continue
        if len(page) == max_lines:
            pages.append(page)
            page = []
        page.append(index)
        current = length + (prefix_len if len(page) == 1 else 0)
    pages.append(page)
    return pages


def _even_out(lengths: Sequence[int], breaks: Sequence[bool], offset: int, max_chars: int, max_lines: int,
              prefix_len: int) -> list[list[int]]:
    """Re-split the last two pages near the middle (after punctuation when close) so the final cue
    is not a lone word or two."""
    total = sum(lengths) + len(lengths)
    running, middle = 0, 1
    for index, length in enumerate(lengths):
        running += length + 1
        if running * 2 >= total:
            middle = max(1, index + 1)
            break
    candidates = sorted(range(1, len(lengths)),
                        key=lambda split: abs(split - middle) - (_PUNCTUATION_PULL if breaks[split - 1] else 0))
    for split in candidates:
        first = _page_line_starts(lengths[:split], max_chars, prefix_len)
        second = _page_line_starts(lengths[split:], max_chars, prefix_len)
        if len(first) <= max_lines and len(second) <= max_lines:
            return [[offset + start for start in first], [offset + split + start for start in second]]
    return [[offset + start for start in part]
            for part in _greedy_pages(lengths, max_chars, max_lines, prefix_len)]


def _page_line_starts(lengths: Sequence[int], max_chars: int, prefix_len: int) -> list[int]:
    starts: list[int] = []
    current = 0
    for index, length in enumerate(lengths):
        if starts and current + 1 + length <= max_chars:
            current += 1 + length
        else:
            starts.append(index)
            current = length + (prefix_len if index == 0 else 0)
    return starts


def _width(offsets: Sequence[int], start: int, end: int) -> int:
    return offsets[end] - offsets[start] + (end - start - 1)


def _line_ok(offsets: Sequence[int], start: int, end: int, max_chars: int) -> bool:
    return end - start == 1 or _width(offsets, start, end) <= max_chars


def _balance_two(offsets: Sequence[int], max_chars: int, tokens: Sequence[str] | None) -> list[LineRange] | None:
    """The best two-line split, or None when no split keeps both lines within the limit."""
    count = len(offsets) - 1
    total = offsets[count] + count - 1
    best_longer = best_top = -1
    best_split = 0
    best_plain: bool | None = None
    for split in range(1, count):
        top = offsets[split] + split - 1
        bottom = total - top - 1
        longer = top if top > bottom else bottom
        if best_split and longer > best_longer:
            if top > bottom:
                break  # past the middle every later split only makes the top line longer
            continue
        if (top > max_chars and split > 1) or (bottom > max_chars and split < count - 1):
            continue
        if not best_split or longer < best_longer:
            best_longer, best_top, best_split, best_plain = longer, top, split, None
        elif tokens is not None:  # a tie on the longer line: prefer a break after punctuation
            if best_plain is None:
                best_plain = not ends_with_break(tokens[best_split - 1])
            plain = not ends_with_break(tokens[split - 1])
            if (plain, top) < (best_plain, best_top):
                best_top, best_split, best_plain = top, split, plain
    return [(0, best_split), (best_split, count)] if best_split else None


def _balance_many(offsets: Sequence[int], line_count: int, max_chars: int) -> list[LineRange]:
    """Minimax partition by dynamic programming; only used for three-line cues, which are short."""
    count = len(offsets) - 1
    infinity = 1 << 30
    # cost[k][j]: the smallest possible longest line when tokens [0, j) fill k lines.
    cost = [[infinity] * (count + 1) for _ in range(line_count + 1)]
    choice = [[0] * (count + 1) for _ in range(line_count + 1)]
    cost[0][0] = 0
    for lines in range(1, line_count + 1):
        for end in range(lines, count + 1):
            for start in range(lines - 1, end):
                if cost[lines - 1][start] >= infinity or not _line_ok(offsets, start, end, max_chars):
                    continue
                candidate = max(cost[lines - 1][start], _width(offsets, start, end))
                if candidate < cost[lines][end]:
                    cost[lines][end], choice[lines][end] = candidate, start
    lines_used = min(line_count, count)
    if cost[lines_used][count] >= infinity:
        return [(0, count)]
    ranges: list[LineRange] = []
    end = count
    for lines in range(lines_used, 0, -1):
        start = choice[lines][end]
        ranges.append((start, end))
        end = start
    return ranges[::-1]


def ends_with_break(token: str) -> bool:
    """True when a line may pleasantly end after this word (it ends a clause)."""
    return ends_clause(token, _PUNCTUATION_BREAKS)


def ends_clause(token: str, marks: tuple[str, ...]) -> bool:
    """True when ``token`` ends with one of ``marks``, closing quotes and brackets aside."""
    return token.rstrip(CLOSING_MARKS).endswith(marks)
