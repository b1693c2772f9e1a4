"""Caption formatting helpers: predecessor checklist 8.8 (FMT-01..32), timestamps fix, line wrapping."""

from __future__ import annotations

import pytest
from caption_helpers import highlight_text, wrap_words
from hypothesis import given
from hypothesis import strategies as st

from podwhisperer.runtime.captions.cues import Cue, timing_lines
from podwhisperer.runtime.captions.formatting import (
    escape_text,
    highlight_tags,
    speaker_prefix,
    voice_name,
)
from podwhisperer.runtime.captions.timestamps import (
    clock,
    format_milliseconds,
    srt_timestamp,
    to_milliseconds,
    vtt_timestamp,
)
from podwhisperer.runtime.line_layout import count_lines, layout_pages


@pytest.mark.parametrize(("case", "seconds", "expected"), [
    ("fmt01", 0, "00:00:00.000"), ("fmt02", 1.5, "00:00:01.500"), ("fmt03", 65.25, "00:01:05.250"),
    ("fmt04", 3661.123, "01:01:01.123"), ("fmt06", 0.999, "00:00:00.999"),
    ("fmt07a", 0.2514, "00:00:00.251"), ("fmt07b", 0.2516, "00:00:00.252"),
])
def test_fmt01_07_vtt_timestamps(case: str, seconds: float, expected: str) -> None:
    assert vtt_timestamp(seconds) == expected


def test_fmt05_vtt_uses_a_period() -> None:
    assert "." in vtt_timestamp(1.5)
    assert "," not in vtt_timestamp(1.5)


@pytest.mark.parametrize(("case", "seconds", "expected"), [
    ("fmt08", 0, "00:00:00,000"), ("fmt09", 1.5, "00:00:01,500"), ("fmt10", 65.25, "00:01:05,250"),
    ("fmt11", 3661.123, "01:01:01,123"),
])
def test_fmt08_11_srt_timestamps(case: str, seconds: float, expected: str) -> None:
    assert srt_timestamp(seconds) == expected


def test_fmt12_srt_uses_a_comma() -> None:
    assert srt_timestamp(1.5) == "00:00:01,500"


@pytest.mark.parametrize(("seconds", "expected"), [
    (59.9996, "00:01:00.000"),  # defect 1: the predecessor wrote 00:00:59.1000
    (3599.9995, "01:00:00.000"), (0.0005, "00:00:00.001"), (0.0625, "00:00:00.063"),  # halves round up
    (-3.2, "00:00:00.000"), (float("nan"), "00:00:00.000"), (360000.0, "100:00:00.000"),
])
def test_timestamps_from_integer_milliseconds(seconds: float, expected: str) -> None:
    assert vtt_timestamp(seconds) == expected
    assert ".1000" not in vtt_timestamp(seconds)


@given(st.integers(0, 500 * 3_600_000), st.integers(0, 500 * 3_600_000), st.sampled_from([".", ","]))
def test_cue_timing_lines_spell_both_times_as_the_timestamp_formatter_does(start: int, end: int,
                                                                            separator: str) -> None:
    expected = f"{format_milliseconds(start, separator)} --> {format_milliseconds(end, separator)}"
    assert timing_lines([Cue(start, end, "text")], separator) == [expected]


def test_to_milliseconds_rounds_half_up() -> None:
    assert [to_milliseconds(x) for x in (0.0015, 0.0025, 1.0)] == [2, 3, 1000]
    assert clock(3_723_999) == "01:02:03"


@pytest.mark.parametrize(("case", "text", "expected"), [
    ("fmt13", "Tom & Jerry", "Tom &amp; Jerry"), ("fmt14", "a < b", "a &lt; b"), ("fmt15", "a > b", "a &gt; b"),
    ("fmt16", '<script>alert("&")</script>', '&lt;script&gt;alert("&amp;")&lt;/script&gt;'),
    ("fmt17", "Hello world", "Hello world"),
])
def test_fmt13_17_escaping(case: str, text: str, expected: str) -> None:
    assert escape_text(text) == expected


@pytest.mark.parametrize(("case", "style", "tags"), [
    ("fmt18", "underline", ("<u>", "</u>")), ("fmt19", "bold", ("<b>", "</b>")), ("fmt20", "italic", ("<i>", "</i>")),
])
def test_fmt18_20_highlight_tags(case: str, style: str, tags: tuple[str, str]) -> None:
    assert highlight_tags(style) == tags  # type: ignore[arg-type]


@pytest.mark.parametrize(("case", "style", "expected"), [
    ("fmt21", "underline", "<u>word</u>"), ("fmt22", "bold", "<b>word</b>"), ("fmt23", "italic", "<i>word</i>"),
])
def test_fmt21_23_highlight_text(case: str, style: str, expected: str) -> None:
    assert highlight_text("word", style) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(("case", "speaker", "previous", "mode", "expected"), [
    ("fmt24", "Alice", None, "never", ""),
    ("fmt25", "Alice", "Bob", "never", ""),
    ("fmt26", "Alice", None, "always", "Alice: "),
    ("fmt27", "Alice", "Alice", "always", "Alice: "),
    ("fmt28", None, None, "always", ""),
    ("fmt29", "Alice", None, "when-changes", "Alice: "),
    ("fmt30", "Alice", "Bob", "when-changes", "Alice: "),
    ("fmt31", "Alice", "Alice", "when-changes", ""),
    ("fmt32", None, "Alice", "when-changes", ""),
])
def test_fmt24_32_speaker_prefix(case: str, speaker: str | None, previous: str | None, mode: str,
                                 expected: str) -> None:
    assert speaker_prefix(speaker, previous, mode) == expected  # type: ignore[arg-type]


def test_voice_name_is_escaped_and_single_line() -> None:
    assert voice_name("Tom & <Jerry>\nSr") == "Tom &amp; &lt;Jerry&gt; Sr"


# --- line wrapping -------------------------------------------------------------------------------

def tokens(text: str) -> list[str]:
    return text.split()


def test_short_text_stays_on_one_line() -> None:
    assert wrap_words(tokens("Thanks for having me!"), 42, 2) == [["Thanks for having me!"]]


def test_two_lines_are_balanced() -> None:
    text = "So what we did was move the whole pipeline onto a single GPU worker"
    expected = [["So what we did was move the whole", "pipeline onto a single GPU worker"]]
    assert wrap_words(text.split(), 42, 2) == expected


def test_balanced_lines_minimise_the_longer_line() -> None:
    text = "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii"  # 44 characters
    top, bottom = wrap_words(text.split(), 42, 2)[0]
    assert (top, bottom) == ("aaaa bbbb cccc dddd", "eeee ffff gggg hhhh iiii")
    assert max(len(top), len(bottom)) == 24


def test_ties_prefer_a_break_after_punctuation() -> None:
    assert wrap_words(tokens("aaa bb, cc ddd"), 8, 2) == [["aaa bb,", "cc ddd"]]
    assert wrap_words(tokens("aaa bb cc, ddd"), 8, 2) == [["aaa bb", "cc, ddd"]]


def test_speaker_prefix_counts_toward_the_first_line() -> None:
    words = tokens("welcome back to the show today we are talking about")
    pages = wrap_words(words, 42, 2, prefix="Alice: ")
    # Both layouts have a 31-character longer line; the tie goes to the shorter top line.
    assert pages == [["Alice: welcome back to the", "show today we are talking about"]]
    assert all(len(line) <= 42 for line in pages[0])


def test_single_long_word_stays_whole() -> None:
    long = "Pneumonoultramicroscopicsilicovolcanoconiosis"
    assert wrap_words(["a", long, "b"], 20, 3) == [["a", long, "b"]]


def test_text_too_long_for_one_cue_becomes_pages() -> None:
    words = tokens("one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
                   "sixteen seventeen eighteen nineteen twenty")
    pages = wrap_words(words, 20, 2)
    assert pages[0] == ["one two three four", "five six seven eight"]
    assert len(pages) == 4
    assert all(len(page) <= 2 and all(len(line) <= 20 for line in page) for page in pages)
    assert " ".join(" ".join(page) for page in pages) == " ".join(words)


def test_three_lines_are_balanced() -> None:
    words = tokens("one two three four five six seven eight nine ten eleven")
    assert wrap_words(words, 24, 3) == [["one two three four", "five six seven eight", "nine ten eleven"]]


def test_whatever_count_lines_accepts_fits_one_page() -> None:
    words = tokens("I think the cost was the biggest surprise for everybody on the team")
    for width in range(8, 60):
        lines = count_lines([len(w) for w in words], width)
        pages = layout_pages(words, width, max(1, min(3, lines)))
        if lines <= 3:
            assert len(pages) == 1
