"""Property tests on generated transcripts: normalisation and every caption format agree on the words."""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Any

import srt
import webvtt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podwhisperer.runtime.captions import render_captions, render_srt, render_text, render_vtt
from podwhisperer.runtime.config import CaptionsConfig, NormalizationConfig
from podwhisperer.runtime.transcript import Segment, Transcript, Word
from podwhisperer.runtime.transforms.normalize import normalize_segments

TOKEN = st.one_of(
    st.sampled_from(["the", "a", "podcast", "GPU", "serverless", "okay.", "really?", "yes!", "so,", "2026",
                     "&", "<b>", "Tom's", "well-known", "—", "cost:", "Pneumonoultramicroscopicsilicovolcanoconiosis"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzéü", min_size=1, max_size=14),
)
SPEAKERS = st.sampled_from([None, "Alice", "Bob", "SPEAKER_02"])


@st.composite
def transcripts(draw: st.DrawFn) -> Transcript:
    segments = []
    clock = draw(st.floats(0, 5))
    for _ in range(draw(st.integers(0, 6))):
        words = []
        start = clock
        speaker = draw(SPEAKERS)
        for _ in range(draw(st.integers(1, 40))):
            duration = draw(st.floats(0.0, 1.2))
            timed = draw(st.integers(0, 9)) > 0  # ~10 % untimed, like WhisperX numerals
            words.append(Word(draw(TOKEN), clock if timed else None, clock + duration if timed else None,
                              speaker=draw(st.sampled_from([speaker, speaker, None, "Bob"]))))
            clock += duration + draw(st.floats(0.0, 0.6))
        segments.append(Segment(start, clock, " ".join(w.word for w in words), speaker, words))
        clock += draw(st.floats(-0.5, 3.0))  # segments may overlap a little
    return Transcript(segments)


NORMALIZATION = st.builds(
    NormalizationConfig,
    max_chars_per_line=st.integers(16, 60), max_lines_per_segment=st.integers(1, 3),
    max_words_per_segment=st.integers(1, 25), max_duration_seconds=st.floats(1.0, 12.0),
    min_duration_seconds=st.floats(0.0, 1.0),
)
CAPTIONS = st.builds(
    CaptionsConfig,
    highlight_words=st.booleans(), include_speaker_names=st.sampled_from(["never", "always", "when-changes"]),
    vtt_voice_tags=st.booleans(), max_chars_per_line=st.integers(16, 60), max_lines_per_cue=st.integers(1, 3),
    highlight_with=st.sampled_from(["underline", "bold", "italic"]),
)
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CUE_TIMING = re.compile(r"^(\d{2,}):(\d{2}):(\d{2})[.,](\d{3}) --> (\d{2,}):(\d{2}):(\d{2})[.,](\d{3})$")
TAG = re.compile(r"</?(?:u|b|i|v)(?: [^>]*)?>")


def words_of(t: Transcript) -> list[str]:
    return [w.word.strip() for s in t.segments for w in (s.words or []) if w.word.strip()] or [
        token for s in t.segments for token in s.text.split()]


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def blocks(document: str, first_block: int) -> list[list[str]]:
    return [block.split("\n") for block in document.strip("\n").split("\n\n")[first_block:] if block]


def cue_times(document: str) -> list[tuple[int, int]]:
    times = []
    for line in document.split("\n"):
        match = CUE_TIMING.match(line)
        if match:
            h1, m1, s1, ms1, h2, m2, s2, ms2 = (int(x) for x in match.groups())
            times.append(((h1 * 60 + m1) * 60_000 + s1 * 1000 + ms1, (h2 * 60 + m2) * 60_000 + s2 * 1000 + ms2))
    return times


def in_order(needles: list[str], haystack: list[str]) -> bool:
    position = 0
    for needle in needles:
        while position < len(haystack) and haystack[position] != needle:
            position += 1
        if position == len(haystack):
            return False
        position += 1
    return True


@PROPERTY
@given(transcripts(), NORMALIZATION)
def test_normalization_preserves_the_word_sequence(t: Transcript, cfg: NormalizationConfig) -> None:
    before = t.to_dict()
    out = normalize_segments(t, cfg).transcript
    assert [w.word for s in out.segments for w in s.words or []] == [w.word for s in t.segments for w in s.words or []]
    assert t.to_dict() == before
    for segment in out.segments:
        assert 0 <= segment.start <= segment.end
        assert segment.text == " ".join(w.word.strip() for w in segment.words or [] if w.word.strip())


@PROPERTY
@given(transcripts(), NORMALIZATION)
def test_normalized_pieces_respect_the_limits(t: Transcript, cfg: NormalizationConfig) -> None:
    from podwhisperer.runtime.line_layout import count_lines

    for segment in normalize_segments(t, cfg).transcript.segments:
        tokens = segment.text.split()
        if len(tokens) > 1:
            assert len(tokens) <= cfg.max_words_per_segment
            assert len(segment.text) <= cfg.segment_char_limit
            assert count_lines([len(token) for token in tokens], cfg.max_chars_per_line) <= cfg.max_lines_per_segment


@PROPERTY
@given(transcripts(), CAPTIONS)
def test_every_word_appears_in_order_in_txt_and_vtt(t: Transcript, cfg: CaptionsConfig) -> None:
    normalized = normalize_segments(t, NormalizationConfig()).transcript
    expected = words_of(normalized)
    txt_words = [token for line in render_text(normalized, cfg).split("\n") for token in line.split()]
    assert in_order(expected, txt_words)
    vtt_text = [unescape(TAG.sub("", line)) for block in blocks(render_vtt(normalized, cfg), 1) for line in block[1:]]
    vtt_words = [token for line in vtt_text for token in line.split()]
    assert in_order(expected, vtt_words)


@PROPERTY
@given(transcripts(), CAPTIONS)
def test_cue_times_are_non_negative_increasing_and_never_overlap(t: Transcript, cfg: CaptionsConfig) -> None:
    normalized = normalize_segments(t, NormalizationConfig()).transcript
    for document in (render_vtt(normalized, cfg), render_srt(normalized, cfg)):
        times = cue_times(document)
        assert all(0 <= start < end for start, end in times)
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in pairwise(times))


@PROPERTY
@given(transcripts(), CAPTIONS)
def test_cue_lines_fit_unless_a_single_long_word(t: Transcript, cfg: CaptionsConfig) -> None:
    normalized = normalize_segments(t, NormalizationConfig(max_chars_per_line=cfg.max_chars_per_line,
                                                           max_lines_per_segment=cfg.max_lines_per_cue)).transcript
    for block in blocks(render_srt(normalized, cfg), 0):
        text_lines = block[2:]
        assert 1 <= len(text_lines) <= cfg.max_lines_per_cue
        for line in text_lines:
            visible = unescape(TAG.sub("", line))
            assert len(visible) <= cfg.max_chars_per_line or len(visible.split()) == 1 or (
                # the speaker label is glued to the first word
                visible.endswith(visible.split()[-1]) and len(visible.split()) == 2 and ": " in visible)


@PROPERTY
@given(transcripts(), CAPTIONS)
def test_outputs_parse_with_webvtt_and_srt(t: Transcript, cfg: CaptionsConfig) -> None:
    normalized = normalize_segments(t, NormalizationConfig()).transcript
    outputs = render_captions(normalized, cfg)
    captions = webvtt.from_string(outputs["vtt"])
    assert len(captions) == len(cue_times(outputs["vtt"]))
    subtitles = list(srt.parse(outputs["srt"]))
    assert [s.index for s in subtitles] == list(range(1, len(subtitles) + 1))


EPISODE_VOCABULARY = "we moved the pipeline to a GPU worker, and it scales to zero. really? yes! okay so"


def _episode(words_total: int = 27_000) -> Transcript:
    vocab = EPISODE_VOCABULARY.split()
    segments, clock, count = [], 0.0, 0
    while count < words_total:
        speaker = f"SPEAKER_0{len(segments) % 2}"
        words = []
        for k in range(25):
            words.append(Word(vocab[(count + k) % len(vocab)], clock, clock + 0.25, 0.9, speaker))
            clock += 0.35
        segments.append(Segment(words[0].start or 0.0, clock, " ".join(w.word for w in words), speaker, words))
        count += len(words)
        clock += 0.8
    return Transcript(segments)


def test_a_three_hour_episode_shows_every_word_in_order_in_vtt_and_srt() -> None:
    # Speed is measured by benchmarks/postprocess.py; this checks the result at episode scale.
    normalized = normalize_segments(_episode(), NormalizationConfig()).transcript
    outputs: dict[str, Any] = render_captions(normalized, CaptionsConfig(generate_text=False, generate_markdown=False))
    assert {"vtt", "srt", "json"} <= set(outputs)
    vtt_words = " ".join(caption.text for caption in webvtt.from_string(outputs["vtt"])).split()
    assert vtt_words == [w.word for w in normalized.words()]  # speakers are <v> voice tags, not text
    labels = {"SPEAKER_00:", "SPEAKER_01:"}  # SRT names the speaker on a change
    srt_words = " ".join(cue.content for cue in srt.parse(outputs["srt"])).split()
    assert [word for word in srt_words if word not in labels] == vtt_words
