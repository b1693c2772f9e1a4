"""The reading-speed timing pass: cues get time to be read, never overlap, and keep their text."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.synthetic import make_transcript
from podwhisperer.runtime.captions.cues import build_cues
from podwhisperer.runtime.captions.quality import Guidelines, check_cues, cue_problems, cues_in_seconds, shown_text
from podwhisperer.runtime.captions.reading_speed import ReadingSpeed, retime
from podwhisperer.runtime.captions.srt import srt_style
from podwhisperer.runtime.captions.vtt import vtt_style
from podwhisperer.runtime.config import PipelineConfig
from podwhisperer.runtime.refine import refine_transcript
from podwhisperer.runtime.transcript import Transcript

RULES = ReadingSpeed()
TEXT_34 = "a fast line of thirty-four letters"


def test_a_fast_cue_lingers_into_the_following_pause_keeping_a_gap() -> None:
    [first, second] = retime([(0, 1000), (5000, 8000)], [TEXT_34, "slow"], RULES)
    assert first == (0, 2000)  # 34 chars at 17 cps
    assert second == (5000, 8000)


def test_the_following_pause_is_used_up_to_a_small_gap_then_the_preceding_one() -> None:
    busy = "x" * 20  # 1 s on screen is already faster than 19.5 cps: nothing to lend
    [first, middle, last] = retime([(0, 1000), (1100, 2000), (2500, 3500)], [busy, TEXT_34 * 2, busy], RULES)
    assert middle[1] >= 2500 - RULES.gap_ms  # at least the whole next pause, down to the small gap
    assert first[1] + RULES.gap_ms <= middle[0] <= 1100 and middle[1] + RULES.gap_ms <= last[0]


def test_touching_cues_move_their_boundary_towards_the_fast_one_within_the_delay_bound() -> None:
    [fast, slow] = retime([(0, 1000), (1000, 6000)], [TEXT_34, "a short one"], RULES)
    assert fast[1] == slow[0]  # still touching
    assert fast[1] - fast[0] >= len(TEXT_34) * 1000 / RULES.max_cps
    assert slow[0] - 1000 <= RULES.max_delay_ms


def test_a_cue_that_reads_well_is_left_alone() -> None:
    spans = [(0, 3000), (3000, 6000)]
    assert retime(spans, ["easy", "also easy"], RULES) == spans


def test_no_cue_grows_past_seven_seconds() -> None:
    [(start, end)] = retime([(0, 6500)], ["x" * 300], RULES)
    assert end - start == RULES.max_ms


def test_a_short_cue_reaches_the_minimum_duration_where_the_pause_allows() -> None:
    [(start, end), _] = retime([(1000, 1300), (4000, 5000)], ["Yes.", "next"], RULES)
    assert end - start >= RULES.min_ms


spans_strategy = st.lists(st.tuples(st.integers(0, 3000), st.integers(1, 6000), st.integers(1, 120)),
                          min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(spans_strategy)
def test_retimed_cues_never_overlap_and_stay_near_the_voice(raw: list[tuple[int, int, int]]) -> None:
    spans, texts, cursor = [], [], 0
    for gap, duration, chars in raw:
        spans.append((cursor + gap, cursor + gap + duration))
        texts.append("x" * chars)
        cursor += gap + duration
    new = retime(spans, texts, RULES)
    for (start, end), (old_start, old_end) in zip(new, spans, strict=True):
        assert start < end
        assert old_start - RULES.max_lead_ms <= start <= old_start + RULES.max_delay_ms
        assert old_end - RULES.max_lead_ms <= end <= old_end + RULES.max_hang_ms
        assert end - start <= max(RULES.max_ms, old_end - old_start)
    for (_, end), (next_start, _) in pairwise(new):
        assert end <= next_start


def test_entities_and_tags_are_not_counted_as_text() -> None:
    assert shown_text("<v Ada>Fish &amp; chips\nplease</v>") == "Fish & chips please"
    assert cue_problems(0, 1, "<v Ada>" + "x" * 20 + "</v>", Guidelines()) == []


@pytest.mark.parametrize("style_of", [vtt_style, srt_style])
def test_a_generated_hour_breaks_guidelines_on_at_most_five_percent_of_cues_and_loses_no_word(style_of) -> None:
    config = PipelineConfig.model_validate({"captions": {"reading_speed_timing": True}})
    refined = refine_transcript(Transcript.from_dict(make_transcript(1.0)), config).refined
    cues = build_cues(refined, style_of(config.captions))
    report = check_cues(cues_in_seconds(cues), Guidelines())
    assert report.breaking_ratio <= 0.05, report.to_dict()
    assert report.reasons["overlap"] == 0
    shown = " ".join(shown_text(cue.text) for cue in cues).split()
    spoken = [token for segment in refined.segments for token in segment.text.split()]
    assert [token for token in shown if not token.endswith(":")] == [token for token in spoken]
