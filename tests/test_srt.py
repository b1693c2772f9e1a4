"""SRT captions: predecessor checklist 8.10 (SRT-01..17) and fixes."""

from __future__ import annotations

import re
from itertools import pairwise

import srt
from caption_helpers import DEFAULT, HIGHLIGHT, legacy, seg, t

from podwhisperer.runtime.captions import render_srt


def numbers(document: str) -> list[int]:
    return [int(line) for line in document.split("\n") if re.fullmatch(r"\d+", line)]


HELLO_WORLD = seg(0, 2, "Hello world", "Alice", words=[{"word": "Hello", "start": 0, "end": 1},
                                                        {"word": "world", "start": 1, "end": 2}])
GAPPED = [{"word": "Hello", "start": 0.251, "end": 0.712}, {"word": "world", "start": 1.0, "end": 1.5}]


def test_srt01_first_line_is_one() -> None:
    assert render_srt(t(seg(0, 1, "Hello")), DEFAULT).split("\n")[0] == "1"


def test_srt02_timestamp_format() -> None:
    assert "00:00:00,500 --> 00:00:01,500" in render_srt(t(seg(0.5, 1.5, "Hello")), DEFAULT)


def test_srt03_sequential_numbers() -> None:
    doc = render_srt(t(seg(0, 1, "First", "Alice"), seg(1, 2, "Second", "Bob"), seg(2, 3, "Third", "Charlie")),
                     DEFAULT)
    assert numbers(doc) == [1, 2, 3]


def test_srt04_speaker_when_changes() -> None:
    doc = render_srt(t(seg(0, 1, "Hello", "Alice"), seg(1, 2, "Hi", "Bob"), seg(2, 3, "How are you?", "Bob")), DEFAULT)
    assert "\nAlice: Hello\n" in doc and "\nBob: Hi\n" in doc and "\nHow are you?\n" in doc


def test_srt05_speaker_always() -> None:
    doc = render_srt(t(seg(0, 1, "Hello", "Alice"), seg(1, 2, "World", "Alice")),
                     legacy(include_speaker_names="always"))
    assert "\nAlice: Hello\n" in doc and "\nAlice: World\n" in doc


def test_srt06_speaker_never() -> None:
    doc = render_srt(t(seg(0, 1, "Hello", "Alice"), seg(1, 2, "World", "Bob")),
                     legacy(include_speaker_names="never"))
    assert "Alice:" not in doc and "Bob:" not in doc


def test_srt07_highlight_cues_numbered() -> None:
    assert numbers(render_srt(t(HELLO_WORLD), HIGHLIGHT)) == [1, 2]


def test_srt08_highlight_underline() -> None:
    doc = render_srt(t(HELLO_WORLD), HIGHLIGHT)
    assert "\nAlice: <u>Hello</u> world\n" in doc and "\nAlice: Hello <u>world</u>\n" in doc


def test_srt09_filler_cue() -> None:
    assert "00:00:00,712 --> 00:00:01,000" in render_srt(t(seg(0, 3, "Hello world", "Alice", words=GAPPED)),
                                                         HIGHLIGHT)


def test_srt10_numbers_consecutive_including_fillers() -> None:
    doc = render_srt(t(seg(0.251, 2, "Hello world", "Alice", words=GAPPED)), HIGHLIGHT)
    assert numbers(doc) == [1, 2, 3, 4]


def test_srt11_untimed_word_not_highlighted_and_no_cue_ends_at_zero() -> None:
    broken = seg(0.251, 0, "Hello and happy 2026.", "Luciano", words=[
        {"word": "Hello", "start": 0.251, "end": 0.712}, {"word": "and", "start": 0.852, "end": 0.972},
        {"word": "happy", "start": 1.092, "end": 1.772}, {"word": "2026."}])
    doc = render_srt(t(broken), HIGHLIGHT)
    assert all(f"<u>{word}</u>" in doc for word in ("Hello", "and", "happy"))
    assert "<u>2026.</u>" not in doc
    assert "--> 00:00:00,000" not in doc


def test_srt12_empty_transcript() -> None:
    assert render_srt(t(), DEFAULT) == ""


def test_srt13_escaping() -> None:
    doc = render_srt(t(seg(0, 1, "Tom & Jerry < Friends > enemies")), legacy(include_speaker_names="never"))
    assert "\nTom &amp; Jerry &lt; Friends &gt; enemies\n" in doc


def test_srt14_segment_without_words_is_basic() -> None:
    assert "\nAlice: Hello\n" in render_srt(t(seg(0, 1, "Hello", "Alice")), HIGHLIGHT)


def test_srt15_missing_word_times_distributed() -> None:
    doc = render_srt(t(seg(0, 2, "Hello world", "Alice", words=[{"word": "Hello"}, {"word": "world"}])), HIGHLIGHT)
    assert "00:00:00,000 --> 00:00:01,000" in doc and "00:00:01,000 --> 00:00:02,000" in doc


def test_srt16_exact_two_segment_document() -> None:
    doc = render_srt(t(seg(0, 2.5, "Hello, welcome to the podcast.", "Luciano"),
                       seg(2.5, 5.0, "Thanks for having me!", "Eoin")), DEFAULT)
    assert doc == ("1\n00:00:00,000 --> 00:00:02,500\nLuciano: Hello, welcome to the podcast.\n\n"
                   "2\n00:00:02,500 --> 00:00:05,000\nEoin: Thanks for having me!\n")


def test_srt17_worked_highlight_example() -> None:
    example = seg(0.251, 1.772, "Hello, and happy 2026.", "SPEAKER_01", words=[
        {"word": "Hello,", "start": 0.251, "end": 0.712}, {"word": "and", "start": 0.852, "end": 0.972},
        {"word": "happy", "start": 1.092, "end": 1.772}, {"word": "2026.", "start": 1.772, "end": 1.772}])
    doc = render_srt(t(example), HIGHLIGHT)
    assert doc == (
        "1\n00:00:00,251 --> 00:00:00,712\nSPEAKER_01: <u>Hello,</u> and happy 2026.\n\n"
        "2\n00:00:00,712 --> 00:00:00,852\nSPEAKER_01: Hello, and happy 2026.\n\n"
        "3\n00:00:00,852 --> 00:00:00,972\nSPEAKER_01: Hello, <u>and</u> happy 2026.\n\n"
        "4\n00:00:00,972 --> 00:00:01,092\nSPEAKER_01: Hello, and happy 2026.\n\n"
        "5\n00:00:01,092 --> 00:00:01,772\nSPEAKER_01: Hello, and <u>happy</u> 2026.\n")


# --- fixes ---------------------------------------------------------------------------------------

def test_rounding_never_writes_four_digit_milliseconds() -> None:
    doc = render_srt(t(seg(59.9996, 61.0, "Edge")), DEFAULT)
    assert "00:01:00,000 --> 00:01:01,000" in doc


def test_zero_length_only_segment_still_gets_a_cue() -> None:
    zero = seg(3, 3, "Blink", "Alice", words=[{"word": "Blink", "start": 3, "end": 3}])
    doc = render_srt(t(zero), HIGHLIGHT)
    assert "\nAlice: Blink\n" in doc
    assert "00:00:03,000 --> 00:00:04,000" in doc


def test_output_parses_with_srt_package() -> None:
    doc = render_srt(t(seg(0, 2.5, "Hello, welcome to the podcast, this line will wrap onto two lines.", "Luciano"),
                       seg(2.5, 5, "Tom & Jerry", "Eoin"), seg(4, 4.5, "overlap", "Eoin")), DEFAULT)
    subtitles = list(srt.parse(doc))
    assert [s.index for s in subtitles] == [1, 2, 3]
    assert subtitles[0].content == "Luciano: Hello, welcome to the podcast,\nthis line will wrap onto two lines."
    assert all(a.end <= b.start for a, b in pairwise(subtitles))
