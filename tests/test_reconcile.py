"""Segment reconciliation (predecessor REC-16..30, LLM-step duplicates) with the defect 9 and 11 fixes.

Defect 9 changes the numbers of every case where removed words are followed by added words:
the added words now share the removed words' span by character length instead of halving the
previous word. Cases whose numbers change: REC-19 (max/concurrency), REC-23 (like/SageMaker),
REC-28 (love/SageMaker) and REP-16 (in test_replacements.py). REC-17, REC-25 and REC-29
(`cannot`→`can not`: both halves have 3 characters) and REP-17 keep the predecessor's numbers.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podwhisperer.runtime.transcript import Segment, Word
from podwhisperer.runtime.transforms.reconcile import proportional_bounds, reconcile_segment
from podwhisperer.runtime.transforms.text import text_to_words


def make_segment(text: str) -> Segment:
    """Word i spans [i, i+1], score 0.9, speaker SPEAKER_01 (the predecessor's fixture)."""
    words = [Word(w, float(i), float(i + 1), 0.9, "SPEAKER_01") for i, w in enumerate(text.split())]
    return Segment(0.0, 3.0, text, "SPEAKER_01", words)


def spans(segment: Segment) -> list[tuple[str, float | None, float | None]]:
    assert segment.words is not None
    return [(w.word, w.start, w.end) for w in segment.words]


def scores(segment: Segment) -> list[float | None]:
    assert segment.words is not None
    return [w.score for w in segment.words]


def reconcile(text: str, patched: str) -> Segment:
    segment = make_segment(text)
    before = segment.to_dict()
    result = reconcile_segment(segment, patched.split())
    assert segment.to_dict() == before, "input segment was mutated"
    return result


def test_rec16_same_count_is_positional() -> None:
    result = reconcile("hello world", "hello universe")
    assert spans(result) == [("hello", 0.0, 1.0), ("universe", 1.0, 2.0)]
    assert scores(result) == [0.9, 0.9]
    assert result.text == "hello universe"


def test_rec17_removal_mid_merges_span() -> None:
    result = reconcile("sage maker rocks", "SageMaker rocks")
    assert spans(result) == [("SageMaker", 0.0, 2.0), ("rocks", 2.0, 3.0)]
    assert scores(result) == [None, 0.9]
    assert result.text == "SageMaker rocks"


def test_rec18_removal_at_start_absorbed_by_next_word() -> None:
    result = reconcile("um hello world", "hello world")
    assert spans(result) == [("hello", 0.0, 2.0), ("world", 2.0, 3.0)]
    assert scores(result) == [None, 0.9]
    assert result.text == "hello world"


def test_rec19_split_shares_span_by_characters_defect9() -> None:
    # Predecessor: max [0, 0.5], concurrency [0.5, 1]. Now 3 : 11 characters of the [0, 1] span.
    result = reconcile("maxconcurrency setting", "max concurrency setting")
    assert [w for w, _, _ in spans(result)] == ["max", "concurrency", "setting"]
    assert spans(result)[0][1:] == (0.0, pytest.approx(3 / 14))
    assert spans(result)[1][1:] == (pytest.approx(3 / 14), 1.0)
    assert spans(result)[2] == ("setting", 1.0, 2.0)
    assert scores(result) == [None, None, 0.9]
    assert result.text == "max concurrency setting"


def test_rec20_addition_at_start_takes_segment_start() -> None:
    segment = make_segment("hello world").copy(start=0.25)
    result = reconcile_segment(segment, ["oh", "hello", "world"])
    assert spans(result) == [("oh", 0.25, 0.25), ("hello", 0.0, 1.0), ("world", 1.0, 2.0)]
    assert scores(result) == [None, 0.9, 0.9]
    assert result.text == "oh hello world"


def test_rec21_multiple_removals_extend_previous() -> None:
    result = reconcile("a b c d", "a d")
    assert spans(result) == [("a", 0.0, 3.0), ("d", 3.0, 4.0)]
    assert scores(result) == [None, 0.9]
    assert result.text == "a d"


def test_rec22_multiple_additions_keep_order_and_halve() -> None:
    # Pure additions still split the previous word at its midpoint, as the predecessor does.
    result = reconcile("hello", "hello beautiful world")
    assert spans(result) == [("hello", 0.0, 0.5), ("beautiful", 0.5, 0.75), ("world", 0.75, 1.0)]
    assert result.text == "hello beautiful world"


def test_rec23_mixed_operations_defect9() -> None:
    # Predecessor: like [2, 3.5], SageMaker [3.5, 5]; now `like` keeps its own span.
    result = reconcile("I um like sage maker", "I really like SageMaker")
    assert spans(result) == [("I", 0.0, 1.0), ("really", 1.0, 2.0), ("like", 2.0, 3.0), ("SageMaker", 3.0, 5.0)]
    assert scores(result) == [0.9, None, 0.9, None]
    assert result.text == "I really like SageMaker"


def test_rec24_speaker_kept_on_words() -> None:
    result = reconcile("hello", "hello")
    assert result.words is not None and result.words[0].speaker == "SPEAKER_01"


def test_rec25_merged_word_has_no_score() -> None:
    result = reconcile("sage maker", "SageMaker")
    assert spans(result) == [("SageMaker", 0.0, 2.0)]
    assert scores(result) == [None]


def test_rec26_no_words_array_only_text_changes() -> None:
    segment = Segment(0.0, 3.0, "hello world", "SPEAKER_01")
    result = reconcile_segment(segment, ["hello", "universe"])
    assert result.words is None
    assert result.text == "hello universe"
    assert segment.text == "hello world"


def test_rec27_empty_words_array_only_text_changes() -> None:
    segment = Segment(0.0, 3.0, "hello world", "SPEAKER_01", words=[])
    result = reconcile_segment(segment, ["hello", "universe"])
    assert result.words == []
    assert result.text == "hello universe"


def test_rec28_contraction_takes_removed_span_defect9() -> None:
    # Predecessor: love stretched to [1, 4] then halved: love [1, 2.5], SageMaker [2.5, 4].
    result = reconcile("I love sage maker", "I love SageMaker")
    assert spans(result) == [("I", 0.0, 1.0), ("love", 1.0, 2.0), ("SageMaker", 2.0, 4.0)]
    assert scores(result) == [0.9, 0.9, None]
    assert result.text == "I love SageMaker"


def test_rec29_expansion_splits_by_characters() -> None:
    result = reconcile("cannot do this", "can not do this")
    assert spans(result) == [("can", 0.0, 0.5), ("not", 0.5, 1.0), ("do", 1.0, 2.0), ("this", 2.0, 3.0)]
    assert scores(result) == [None, None, 0.9, 0.9]
    assert result.text == "can not do this"


REAL_WORDS = [
    ("when", 1572.336, 1572.436), ("you", 1572.476, 1572.576), ("set", 1572.616, 1572.716),
    ("the", 1572.756, 1572.856), ("main", 1572.896, 1572.996), ("execution", 1573.036, 1573.236),
    ("environment", 1573.276, 1573.576), ("to", 1573.616, 1573.716), ("zero", 1573.756, 1573.956),
]


def real_segment() -> Segment:
    words = [Word(w, s, e, 0.9) for w, s, e in REAL_WORDS]
    return Segment(1572.336, 1578.0, "when you set the main execution environment to zero", "SPEAKER_01", words)


def test_rec30_realistic_same_count() -> None:
    result = reconcile_segment(real_segment(), text_to_words("when you set the min execution environment to zero"))
    assert result.words is not None and len(result.words) == 9
    assert (result.words[4].word, result.words[4].start, result.words[4].end) == ("min", 1572.896, 1572.996)
    assert result.text == "when you set the min execution environment to zero"


def test_substitution_at_end_spans_all_removed_words() -> None:
    result = reconcile_segment(real_segment(), ["when", "you", "set", "the", "min"])
    assert [w for w, _, _ in spans(result)] == ["when", "you", "set", "the", "min"]
    # `main`..`zero` removed, `min` added: min spans from main's start to zero's end.
    assert spans(result)[4] == ("min", 1572.896, 1573.956)


def test_llm_text_and_words_disagree_words_win() -> None:
    segment = real_segment().copy(text="when you set the min execution environment to zero")
    result = reconcile_segment(segment, text_to_words("when you set the minimum execution environment to zero"))
    assert result.words is not None and result.words[4].word == "minimum"


# --- defect 11 and neighbours ---


def test_all_words_removed_gives_empty_segment() -> None:
    result = reconcile("hello world", "")
    assert result.words == []
    assert result.text == ""


def test_removed_words_speaker_goes_to_replacement() -> None:
    segment = make_segment("sage maker rocks")
    assert segment.words is not None
    segment.words[0].speaker = "SPEAKER_07"
    result = reconcile_segment(segment, ["SageMaker", "rocks"])
    assert result.words is not None and result.words[0].speaker == "SPEAKER_07"


def test_untimed_removed_words_leave_replacement_untimed() -> None:
    segment = Segment(0.0, 3.0, "a 5 0 b", words=[Word("a", 0, 1), Word("5"), Word("0"), Word("b", 2, 3)])
    result = reconcile_segment(segment, ["a", "50", "b"])
    assert spans(result) == [("a", 0, 1), ("50", None, None), ("b", 2, 3)]


def test_addition_after_untimed_word_stays_untimed() -> None:
    segment = Segment(0.0, 3.0, "a 5", "S1", words=[Word("a", 0, 1), Word("5")])
    result = reconcile_segment(segment, ["a", "5", "percent"])
    assert spans(result) == [("a", 0, 1), ("5", None, None), ("percent", None, None)]
    assert result.words is not None and result.words[2].speaker == "S1"


def test_words_keep_extra_fields() -> None:
    segment = Segment(0.0, 2.0, "a b c", words=[Word("a", 0, 1, extra={"k": 1}), Word("b", 1, 2), Word("c", 2, 3)])
    result = reconcile_segment(segment, ["a", "c"])
    assert result.words is not None and segment.words is not None
    assert result.words[0].extra == {"k": 1}
    assert result.words[0] is not segment.words[0]


def test_proportional_bounds_end_exactly() -> None:
    assert proportional_bounds(1.0, 2.0, [1, 1, 1])[-1][1] == 2.0
    assert proportional_bounds(1.0, 1.0, [0, 0]) == [(1.0, 1.0), (1.0, 1.0)]
    assert proportional_bounds(0.0, 1.0, []) == []


# --- properties ---

vocabulary = st.sampled_from(["a", "bb", "ccc", "sage", "maker", "SageMaker", "um", "the"])


@st.composite
def timed_segments(draw: st.DrawFn) -> Segment:
    texts = draw(st.lists(vocabulary, min_size=1, max_size=8))
    start = draw(st.floats(0, 100))
    cursor = start + draw(st.floats(0, 1))
    words = []
    for text in texts:
        word_start = cursor + draw(st.floats(0, 1))
        word_end = word_start + draw(st.floats(0, 2))
        words.append(Word(text, word_start, word_end, 0.9, "SPEAKER_00"))
        cursor = word_end
    return Segment(start, cursor, " ".join(texts), "SPEAKER_00", words)


@given(timed_segments(), st.lists(vocabulary, max_size=10))
def test_property_words_spell_patch_and_times_stay_monotonic(segment: Segment, patched: list[str]) -> None:
    before = segment.to_dict()
    result = reconcile_segment(segment, patched)
    assert segment.to_dict() == before
    assert result.words is not None
    assert [w.word for w in result.words] == patched
    assert result.text == " ".join(patched)
    previous_end = segment.start
    for word in result.words:
        assert word.start is not None and word.end is not None
        assert previous_end <= word.start
        assert word.start <= word.end
        previous_end = word.end
