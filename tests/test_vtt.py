"""WebVTT captions: predecessor checklist 8.9 (VTT-01..19), defect fixes, wrapping and voice tags."""

from __future__ import annotations

import re

import webvtt
from caption_helpers import DEFAULT, HIGHLIGHT, legacy, seg, t

from podwhisperer.runtime.captions import render_vtt
from podwhisperer.runtime.config import CaptionsConfig


def timing_lines(vtt: str) -> list[str]:
    return [line for line in vtt.split("\n") if " --> " in line]


HELLO_WORLD = seg(0, 2, "Hello world", "Alice", words=[
    {"word": "Hello", "start": 0, "end": 1, "speaker": "Alice"}, {"word": "world", "start": 1, "end": 2,
                                                                  "speaker": "Alice"}])
HAPPY_2026_BROKEN = seg(0.251, 0, "Hello and happy 2026.", "Luciano", words=[
    {"word": "Hello", "start": 0.251, "end": 0.712, "speaker": "Luciano"},
    {"word": "and", "start": 0.852, "end": 0.972, "speaker": "Luciano"},
    {"word": "happy", "start": 1.092, "end": 1.772, "speaker": "Luciano"},
    {"word": "2026."}])


def test_vtt01_starts_with_header() -> None:
    assert render_vtt(t(seg(0, 1, "Hello")), DEFAULT).startswith("WEBVTT\n\n")


def test_vtt02_timestamp_format() -> None:
    assert "00:00:00.500 --> 00:00:01.500" in render_vtt(t(seg(0.5, 1.5, "Hello")), DEFAULT)


def test_vtt03_one_cue_per_segment() -> None:
    vtt = render_vtt(t(seg(0, 2.5, "Hello", "Alice"), seg(2.5, 5, "World", "Bob")), DEFAULT)
    assert len(timing_lines(vtt)) == 2


def test_vtt04_speaker_when_changes() -> None:
    vtt = render_vtt(t(seg(0, 1, "Hello", "Alice"), seg(1, 2, "Hi", "Bob"), seg(2, 3, "How are you?", "Bob")), DEFAULT)
    assert "\nAlice: Hello\n" in vtt
    assert "\nBob: Hi\n" in vtt
    assert "\nHow are you?\n" in vtt


def test_vtt05_speaker_always() -> None:
    vtt = render_vtt(t(seg(0, 1, "Hello", "Alice"), seg(1, 2, "World", "Alice")),
                     legacy(include_speaker_names="always"))
    assert "\nAlice: Hello\n" in vtt
    assert "\nAlice: World\n" in vtt


def test_vtt06_speaker_never() -> None:
    vtt = render_vtt(t(seg(0, 1, "Hello", "Alice"), seg(1, 2, "World", "Bob")),
                     legacy(include_speaker_names="never"))
    assert "Alice:" not in vtt and "Bob:" not in vtt
    assert "\nHello\n" in vtt and "\nWorld\n" in vtt


def test_vtt07_highlight_one_cue_per_word() -> None:
    assert len(timing_lines(render_vtt(t(HELLO_WORLD), HIGHLIGHT))) == 2


def test_vtt08_highlight_underline() -> None:
    vtt = render_vtt(t(HELLO_WORLD), HIGHLIGHT)
    assert "00:00:00.000 --> 00:00:01.000\nAlice: <u>Hello</u> world\n" in vtt
    assert "00:00:01.000 --> 00:00:02.000\nAlice: Hello <u>world</u>\n" in vtt


def test_vtt09_highlight_bold() -> None:
    one = seg(0, 1, "Hello", "Alice", words=[{"word": "Hello", "start": 0, "end": 1, "speaker": "Alice"}])
    assert "<b>Hello</b>" in render_vtt(t(one), legacy(highlight_words=True, highlight_with="bold"))


def test_vtt10_highlight_italic() -> None:
    one = seg(0, 1, "Hello", "Alice", words=[{"word": "Hello", "start": 0, "end": 1, "speaker": "Alice"}])
    assert "<i>Hello</i>" in render_vtt(t(one), legacy(highlight_words=True, highlight_with="italic"))


def test_vtt11_filler_cue_between_words() -> None:
    gap = seg(0, 3, "Hello world", "Alice", words=[{"word": "Hello", "start": 0.251, "end": 0.712},
                                                    {"word": "world", "start": 1.0, "end": 1.5}])
    vtt = render_vtt(t(gap), HIGHLIGHT)
    assert "00:00:00.712 --> 00:00:01.000\nAlice: Hello world\n" in vtt
    assert timing_lines(vtt) == ["00:00:00.251 --> 00:00:00.712", "00:00:00.712 --> 00:00:01.000",
                                 "00:00:01.000 --> 00:00:01.500", "00:00:01.500 --> 00:00:03.000"]


def test_vtt12_untimed_word_never_highlighted_and_no_cue_ends_at_zero() -> None:
    vtt = render_vtt(t(HAPPY_2026_BROKEN), HIGHLIGHT)
    for word in ("Hello", "and", "happy"):
        assert f"<u>{word}</u>" in vtt
    assert "<u>2026.</u>" not in vtt
    assert "2026." in vtt
    assert "--> 00:00:00.000" not in vtt


def test_vtt13_empty_transcript() -> None:
    assert render_vtt(t(), DEFAULT) == "WEBVTT\n"


def test_vtt14_escaping() -> None:
    vtt = render_vtt(t(seg(0, 1, "Tom & Jerry < Friends > enemies")), legacy(include_speaker_names="never"))
    assert "\nTom &amp; Jerry &lt; Friends &gt; enemies\n" in vtt
    # With a speaker prefix the 43 visible characters wrap; escaping applies on every line.
    wrapped = render_vtt(t(seg(0, 1, "Tom & Jerry < Friends > enemies", "SPEAKER_00")), DEFAULT)
    assert "\nSPEAKER_00: Tom &amp; Jerry\n&lt; Friends &gt; enemies\n" in wrapped


def test_vtt15_highlight_segment_without_words_is_basic() -> None:
    assert "\nAlice: Hello\n" in render_vtt(t(seg(0, 1, "Hello", "Alice")), HIGHLIGHT)


def test_vtt16_missing_word_times_distributed_over_segment() -> None:
    untimed = seg(0, 2, "Hello world", "Alice", words=[{"word": "Hello"}, {"word": "world"}])
    assert timing_lines(render_vtt(t(untimed), HIGHLIGHT)) == ["00:00:00.000 --> 00:00:01.000",
                                                              "00:00:01.000 --> 00:00:02.000"]


def test_vtt17_segment_speaker_used_when_words_lack_one() -> None:
    one = seg(0, 1, "Hello", "Alice", words=[{"word": "Hello", "start": 0, "end": 1}])
    assert "Alice: Hello" in render_vtt(t(one), DEFAULT)


def test_vtt18_no_made_up_speaker_without_diarization() -> None:
    """Changed deliberately (issue #8): the predecessor prefixed 'SPEAKER_00: ' when nobody was diarized."""
    for cfg in (DEFAULT, CaptionsConfig(), CaptionsConfig(include_speaker_names="always")):
        vtt = render_vtt(t(seg(0, 1, "Hello"), seg(1, 2, "again")), cfg)
        assert "SPEAKER" not in vtt and "<v" not in vtt and "\nHello\n" in vtt


def test_vtt19_exact_two_segment_document() -> None:
    vtt = render_vtt(t(seg(0, 2.5, "Hello, welcome to the podcast.", "Luciano"),
                       seg(2.5, 5.0, "Thanks for having me!", "Eoin")), DEFAULT)
    assert vtt == ("WEBVTT\n\n00:00:00.000 --> 00:00:02.500\nLuciano: Hello, welcome to the podcast.\n\n"
                   "00:00:02.500 --> 00:00:05.000\nEoin: Thanks for having me!\n")


# --- fixes and new behaviour ---------------------------------------------------------------------

def test_highlight_segment_without_valid_timing_falls_back_to_one_cue() -> None:
    """Defect 4: the predecessor dropped this segment entirely."""
    untimed = seg(0, 0, "Numbers 2026 and 42", "Alice", words=[{"word": "Numbers"}, {"word": "2026"},
                                                              {"word": "and"}, {"word": "42"}])
    vtt = render_vtt(t(seg(0, 1, "Hi", "Bob"), untimed), HIGHLIGHT)
    assert "\nAlice: Numbers 2026 and 42\n" in vtt
    assert timing_lines(vtt)[1].startswith("00:00:01.000 --> ")


def test_when_changes_follows_segments_that_emitted_cues() -> None:
    vtt = render_vtt(t(seg(0, 1, "Hello", "Alice"), seg(1, 2, "   ", "Bob"), seg(2, 3, "Again", "Alice")), DEFAULT)
    assert "\nAgain\n" in vtt  # the empty Bob segment emitted nothing, so Alice is still speaking
    assert "Bob" not in vtt


def test_overlapping_segments_are_clamped() -> None:
    vtt = render_vtt(t(seg(0, 3, "First", "Alice"), seg(2, 4, "Second", "Bob"), seg(1, 1.5, "Third", "Bob")),
                     DEFAULT)
    assert timing_lines(vtt) == ["00:00:00.000 --> 00:00:03.000", "00:00:03.000 --> 00:00:04.000",
                                 "00:00:04.000 --> 00:00:05.000"]


def test_overlapping_words_do_not_overlap_cues() -> None:
    words = [{"word": "a", "start": 0.0, "end": 1.0}, {"word": "b", "start": 0.5, "end": 1.5},
             {"word": "c", "start": 0.6, "end": 0.9}]
    vtt = render_vtt(t(seg(0, 2, "a b c", "Alice", words=words)), HIGHLIGHT)
    assert timing_lines(vtt) == ["00:00:00.000 --> 00:00:01.000", "00:00:01.000 --> 00:00:01.500",
                                 "00:00:01.500 --> 00:00:02.000"]
    assert "<u>c</u>" not in vtt  # entirely inside an earlier word's cue


def test_long_cue_is_wrapped_into_two_balanced_lines() -> None:
    text = "So what we did was move the whole pipeline onto a single GPU worker"
    vtt = render_vtt(t(seg(0, 4, text, "Alice")), legacy(include_speaker_names="never"))
    assert "\nSo what we did was move the whole\npipeline onto a single GPU worker\n" in vtt


def test_prefix_counts_toward_the_first_line() -> None:
    text = "welcome back to the show today we are talking about serverless"
    vtt = render_vtt(t(seg(0, 4, text, "Alice")), DEFAULT)
    cue_lines = vtt.split("\n")[3:5]
    assert cue_lines[0].startswith("Alice: ")
    assert all(len(line) <= 42 for line in cue_lines)
    assert " ".join(cue_lines) == "Alice: " + text


def test_text_too_long_for_one_cue_is_split_over_time() -> None:
    text = " ".join(["word"] * 30)  # 149 characters: more than two lines of 42
    vtt = render_vtt(t(seg(10, 16, text, "Alice")), DEFAULT)
    stamps = timing_lines(vtt)
    assert len(stamps) == 2
    assert stamps[0].startswith("00:00:10.000 --> ") and stamps[-1].endswith(" --> 00:00:16.000")
    assert vtt.count("word") == 30


def test_highlight_lines_are_wrapped_by_visible_characters() -> None:
    text = "alpha beta gamma delta epsilon zeta eta theta iota kappa"
    words = [{"word": w, "start": i, "end": i + 1} for i, w in enumerate(text.split())]
    vtt = render_vtt(t(seg(0, 10, text, "Alice", words=words)), legacy(highlight_words=True,
                                                                               include_speaker_names="never"))
    for block in vtt.split("\n\n")[1:]:
        for line in block.split("\n")[1:]:
            assert len(re.sub(r"</?u>", "", line)) <= 42


def test_voice_tags_replace_the_prefix() -> None:
    cfg = CaptionsConfig(vtt_voice_tags=True)
    vtt = render_vtt(t(seg(0, 1, "Hello", "Tom & Jerry"), seg(1, 2, "Hi", "Bob"), seg(2, 3, "Yes", "Bob")), cfg)
    assert "\n<v Tom &amp; Jerry>Hello</v>\n" in vtt
    assert "\n<v Bob>Hi</v>\n" in vtt
    assert "\n<v Bob>Yes</v>\n" in vtt  # voice spans mark every cue: they are metadata, not visible text
    assert ": " not in vtt


def test_voice_tags_are_the_default_and_srt_keeps_the_name_prefix() -> None:
    from podwhisperer.runtime.captions import render_srt

    segments = t(seg(0, 2, "Hello", "Ada"), seg(2, 4, "Hi", "Grace"), seg(4, 6, "Bye", "Grace"))
    vtt = render_vtt(segments, CaptionsConfig())
    assert "\n<v Ada>Hello</v>\n" in vtt and "\n<v Grace>Hi</v>\n" in vtt and ": " not in vtt
    srt = render_srt(segments, CaptionsConfig())
    assert "\nAda: Hello\n" in srt and "\nGrace: Hi\n" in srt and "\nBye\n" in srt


def test_line_length_per_format() -> None:
    from podwhisperer.runtime.captions import render_srt

    text = "So what we did was move the whole pipeline onto one GPU"  # 56 characters
    cfg = CaptionsConfig(include_speaker_names="never", srt_max_chars_per_line=32, vtt_max_chars_per_line=65)
    assert max(len(line) for line in render_srt(t(seg(0, 6, text)), cfg).split("\n")) <= 32
    assert f"\n{text}\n" in render_vtt(t(seg(0, 6, text)), cfg)


def test_voice_tags_respect_never() -> None:
    vtt = render_vtt(t(seg(0, 1, "Hello", "Alice")), CaptionsConfig(vtt_voice_tags=True,
                                                                    include_speaker_names="never"))
    assert "<v" not in vtt and "\nHello\n" in vtt


def test_speaker_name_in_prefix_is_escaped() -> None:
    assert "\nA&lt;B&gt;: Hello\n" in render_vtt(t(seg(0, 1, "Hello", "A<B>")), DEFAULT)


def test_invalid_segment_times_get_a_readable_duration() -> None:
    vtt = render_vtt(t(seg(5, 0, "A cue whose end time was lost", "Alice")), DEFAULT)
    # 30 visible characters at 17 characters per second.
    assert timing_lines(vtt) == ["00:00:05.000 --> 00:00:06.764"]


def test_output_parses_with_webvtt_py() -> None:
    vtt = render_vtt(t(seg(0, 2.5, "Hello, welcome to the podcast.", "Luciano"), HELLO_WORLD,
                       seg(2.5, 5, "Tom & Jerry --> <b>", "Eoin"), HAPPY_2026_BROKEN), HIGHLIGHT)
    captions = webvtt.from_string(vtt)
    assert len(captions) == len(timing_lines(vtt))
    assert captions[0].start == "00:00:00.000"
    assert captions[0].text == "Luciano: Hello, welcome to the podcast."
