"""Text helpers (predecessor REC-01..15) and LCS/diff (LCS-01..08)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from podwhisperer.runtime.transcript import Segment, Word
from podwhisperer.runtime.transforms.lcs import DiffOp, LcsResult, compute_diff, compute_lcs
from podwhisperer.runtime.transforms.text import reconstruct_text, segment_words_text, text_to_words

# --- text_to_words (REC-01..07) ---


def test_rec01_splits_on_whitespace() -> None:
    assert text_to_words("hello world") == ["hello", "world"]


def test_rec02_runs_of_spaces() -> None:
    assert text_to_words("hello   world") == ["hello", "world"]


def test_rec03_tabs_and_newlines() -> None:
    assert text_to_words("hello\tworld\nfoo") == ["hello", "world", "foo"]


def test_rec04_punctuation_stays_attached() -> None:
    assert text_to_words("Hello, world! How's it going?") == ["Hello,", "world!", "How's", "it", "going?"]


def test_rec05_empty_string() -> None:
    assert text_to_words("") == []


def test_rec06_whitespace_only() -> None:
    assert text_to_words("   ") == []


def test_rec07_leading_and_trailing_whitespace_ignored() -> None:
    assert text_to_words("  hello world  ") == ["hello", "world"]


# --- reconstruct_text (REC-08..11) ---


def test_rec08_joins_with_single_spaces() -> None:
    assert reconstruct_text(["hello", "world"]) == "hello world"


def test_rec09_empty_list() -> None:
    assert reconstruct_text([]) == ""


def test_rec10_single_word() -> None:
    assert reconstruct_text(["hello"]) == "hello"


def test_rec11_trims_outer_whitespace() -> None:
    assert reconstruct_text([" hello", "world "]) == "hello world"


# --- segment_words_text (REC-12..15) ---


def test_rec12_words_win_over_text() -> None:
    segment = Segment(0, 2, "original text field", words=[Word("from", 0, 1), Word("words", 1, 2)])
    assert segment_words_text(segment) == "from words"


def test_rec13_falls_back_to_text_without_words() -> None:
    assert segment_words_text(Segment(0, 2, "fallback text")) == "fallback text"


def test_rec14_falls_back_to_text_with_empty_words() -> None:
    assert segment_words_text(Segment(0, 2, "fallback text", words=[])) == "fallback text"


def test_rec15_empty_when_nothing() -> None:
    assert segment_words_text(Segment(0, 2, "")) == ""


def test_segment_words_text_does_not_trim_words() -> None:
    segment = Segment(0, 2, "x", words=[Word(" a"), Word("b ")])
    assert segment_words_text(segment) == " a b "


# --- compute_lcs (LCS-01..04) ---


def test_lcs01_identical_arrays() -> None:
    assert compute_lcs(["a", "b", "c"], ["a", "b", "c"]) == LcsResult(["a", "b", "c"], [0, 1, 2], [0, 1, 2])


def test_lcs02_one_removal() -> None:
    assert compute_lcs(["a", "b", "c"], ["a", "c"]) == LcsResult(["a", "c"], [0, 2], [0, 1])


def test_lcs03_one_addition() -> None:
    assert compute_lcs(["a", "c"], ["a", "b", "c"]) == LcsResult(["a", "c"], [0, 1], [0, 2])


def test_lcs04_disjoint_arrays() -> None:
    assert compute_lcs(["a", "b"], ["c", "d"]) == LcsResult([], [], [])


def test_lcs_empty_inputs() -> None:
    assert compute_lcs([], ["a"]) == LcsResult([], [], [])
    assert compute_lcs(["a"], []) == LcsResult([], [], [])


# --- compute_diff (LCS-05..08) ---


def test_lcs05_diff_identical_is_all_keeps() -> None:
    assert compute_diff(["hello", "world"], ["hello", "world"]) == [
        DiffOp("keep", "hello", 0, 0),
        DiffOp("keep", "world", 1, 1),
    ]


def test_lcs06_diff_removal() -> None:
    assert compute_diff(["a", "b", "c"], ["a", "c"]) == [
        DiffOp("keep", "a", 0, 0),
        DiffOp("remove", "b", 1, None),
        DiffOp("keep", "c", 2, 1),
    ]


def test_lcs07_diff_addition() -> None:
    assert compute_diff(["a", "c"], ["a", "b", "c"]) == [
        DiffOp("keep", "a", 0, 0),
        DiffOp("add", "b", None, 1),
        DiffOp("keep", "c", 1, 2),
    ]


def test_lcs08_diff_substitution_is_remove_then_add() -> None:
    assert compute_diff(["hello", "world"], ["hello", "universe"]) == [
        DiffOp("keep", "hello", 0, 0),
        DiffOp("remove", "world", 1, None),
        DiffOp("add", "universe", None, 1),
    ]


# --- tie-breaking kept despite the prefix/suffix shortcut ---


def _reference_lcs(a: list[str], b: list[str]) -> LcsResult:
    """The predecessor's full-table algorithm, verbatim, as the oracle."""
    m, n = len(a), len(b)
    dp = [[0] * (n + 1) for _ in range(m + 1)]
    for i in range(1, m + 1):
        for j in range(1, n + 1):
            dp[i][j] = dp[i - 1][j - 1] + 1 if a[i - 1] == b[j - 1] else max(dp[i - 1][j], dp[i][j - 1])
    tokens: list[str] = []
    ai: list[int] = []
    bi: list[int] = []
    i, j = m, n
    while i > 0 and j > 0:
        if a[i - 1] == b[j - 1]:
            tokens.insert(0, a[i - 1])
            ai.insert(0, i - 1)
            bi.insert(0, j - 1)
            i -= 1
            j -= 1
        elif dp[i - 1][j] > dp[i][j - 1]:
            i -= 1
        else:
            j -= 1
    return LcsResult(tokens, ai, bi)


def test_ties_go_left_inside_the_common_prefix() -> None:
    # The full table matches b's "x" with a's LAST "x"; a naive prefix strip would take a[0].
    assert compute_lcs(["x", "y", "x"], ["x", "z"]) == LcsResult(["x"], [2], [0])
    assert compute_lcs(["x", "z"], ["x", "y", "x"]) == LcsResult(["x"], [0], [0])


def test_repeated_word_removal_keeps_predecessor_choice() -> None:
    assert compute_diff(["the", "the", "function"], ["the", "function"]) == [
        DiffOp("remove", "the", 0, None),
        DiffOp("keep", "the", 1, 0),
        DiffOp("keep", "function", 2, 1),
    ]


words = st.lists(st.sampled_from(["a", "b", "c", "x"]), max_size=9)


@given(words, words)
def test_fast_lcs_equals_the_full_table(a: list[str], b: list[str]) -> None:
    assert compute_lcs(a, b) == _reference_lcs(a, b)


@given(words, words)
def test_diff_replays_to_both_sides(a: list[str], b: list[str]) -> None:
    ops = compute_diff(a, b)
    assert [op.word for op in ops if op.op != "add"] == a
    assert [op.word for op in ops if op.op != "remove"] == b
