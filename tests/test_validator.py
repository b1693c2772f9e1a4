"""Correction validator (predecessor VAL-01..47)."""

from __future__ import annotations

import pytest

from podwhisperer.runtime.config import SuggestionValidation
from podwhisperer.runtime.transforms.validator import (
    ValidationResult,
    levenshtein,
    max_consecutive_word_changes,
    normalized_edit_distance,
    validate_correction,
    word_change_ratio,
)

DEFAULTS = SuggestionValidation()
LONG_ORIGINAL = (
    "I think this approach pushes you a little bit more into the lambda land, as we did in our particular example."
)
LONG_MERGED = (
    "I think this approach pushes you a little bit more into the LambdaLith, as we did in our particular example."
)

# --- levenshtein (VAL-01..07) ---


def test_val01_identical_is_zero() -> None:
    assert levenshtein("hello", "hello") == 0


def test_val02_against_empty_is_length_both_ways() -> None:
    assert levenshtein("hello", "") == 5
    assert levenshtein("", "world") == 5


def test_val03_both_empty() -> None:
    assert levenshtein("", "") == 0


def test_val04_substitution() -> None:
    assert levenshtein("cat", "bat") == 1


def test_val05_insertion() -> None:
    assert levenshtein("cat", "cats") == 1


def test_val06_deletion() -> None:
    assert levenshtein("cats", "cat") == 1


def test_val07_kitten_sitting() -> None:
    assert levenshtein("kitten", "sitting") == 3
    assert levenshtein("sitting", "kitten") == 3


# --- normalized_edit_distance (VAL-08..12) ---


def test_val08_identical() -> None:
    assert normalized_edit_distance("hello", "hello") == 0


def test_val09_both_empty() -> None:
    assert normalized_edit_distance("", "") == 0


def test_val10_one_empty_both_directions() -> None:
    assert normalized_edit_distance("hello", "") == 1
    assert normalized_edit_distance("", "world") == 1


def test_val11_partial_change_between_zero_and_one() -> None:
    # 'world' -> 'universe' costs 7 edits (only the 'r' survives); 7 / len('hello universe') = 7/14.
    assert normalized_edit_distance("hello world", "hello universe") == pytest.approx(7 / 14)


def test_val12_case_sensitive() -> None:
    assert normalized_edit_distance("Hello", "hello") == pytest.approx(1 / 5)


# --- word_change_ratio (VAL-13..21) ---


def test_val13_identical() -> None:
    assert word_change_ratio("hello world", "hello world") == 0


def test_val14_both_empty() -> None:
    assert word_change_ratio("", "") == 0


def test_val15_original_empty() -> None:
    assert word_change_ratio("", "hello world") == 1


def test_val16_one_of_two_changed() -> None:
    assert word_change_ratio("hello world", "hello universe") == 0.5


def test_val17_all_changed() -> None:
    assert word_change_ratio("hello world", "goodbye universe") == 1


def test_val18_insertion_is_one_third() -> None:
    assert word_change_ratio("hello world", "hello big world") == pytest.approx(1 / 3)


def test_val19_merge_in_long_sentence() -> None:
    # 21 words vs 20, 19 in common: 2/21.
    assert word_change_ratio(LONG_ORIGINAL, LONG_MERGED) == pytest.approx(2 / 21)


def test_val20_case_insensitive() -> None:
    assert word_change_ratio("Hello World", "hello world") == 0


def test_val21_extra_spaces_ignored() -> None:
    assert word_change_ratio("hello   world", "hello world") == 0


# --- max_consecutive_word_changes (VAL-22..30) ---


def test_val22_identical() -> None:
    assert max_consecutive_word_changes("hello world", "hello world") == 0


def test_val23_original_empty_is_word_count() -> None:
    assert max_consecutive_word_changes("", "hello world") == 2


def test_val24_corrected_empty_is_word_count() -> None:
    assert max_consecutive_word_changes("hello world", "") == 2


def test_val25_one_substitution_counts_two() -> None:
    assert max_consecutive_word_changes("hello world", "hello universe") == 2


def test_val26_three_substitutions_in_a_row() -> None:
    assert max_consecutive_word_changes("I like big cats", "I love small dogs") == 6


def test_val27_max_over_separate_regions() -> None:
    assert max_consecutive_word_changes("hello cruel world out there", "hello nice world over here") == 4


def test_val28_merge_in_long_sentence() -> None:
    assert max_consecutive_word_changes(LONG_ORIGINAL, LONG_MERGED) == 3


def test_val29_full_rewrite() -> None:
    assert max_consecutive_word_changes("one two three four", "five six seven eight") == 8


def test_val30_case_insensitive() -> None:
    assert max_consecutive_word_changes("Hello World", "hello world") == 0


# --- validate_correction with defaults (VAL-31..39) ---


def test_val31_identical_is_no_change() -> None:
    assert validate_correction("hello world", "hello world", DEFAULTS) == ValidationResult(False, "no-change")


def test_val32_split_term_merge_accepted() -> None:
    assert validate_correction("sage maker rocks", "SageMaker rocks", DEFAULTS) == ValidationResult(True, None)


def test_val33_duplicate_word_removal_accepted() -> None:
    assert validate_correction("the the function", "the function", DEFAULTS).valid is True


def test_val34_technical_term_accepted() -> None:
    assert validate_correction("lamb da", "Lambda", DEFAULTS).valid is True


def test_val35_merge_in_long_sentence_accepted() -> None:
    assert validate_correction(LONG_ORIGINAL, LONG_MERGED, DEFAULTS) == ValidationResult(True, None)


def test_val36_complete_rewrite_rejected_by_ratio() -> None:
    result = validate_correction(
        "So default in Lambda, that would be a one-to-one ratio",
        "So you can have up to 64 concurrent invocations",
        DEFAULTS,
    )
    assert result == ValidationResult(False, "word-change-ratio")


def test_val37_rephrased_sentence_rejected() -> None:
    result = validate_correction(
        "I think this approach pushes you a little bit more into the lambda land",
        "It's just something you need to consider",
        DEFAULTS,
    )
    assert result == ValidationResult(False, "word-change-ratio")


def test_val38_short_segment_lenient() -> None:
    assert validate_correction("face book", "Facebook", DEFAULTS) == ValidationResult(True, None)


def test_val39_short_segment_too_many_consecutive_changes() -> None:
    cfg = SuggestionValidation(max_consecutive_changes=2)
    assert validate_correction("one two three", "four five six", cfg) == ValidationResult(False, "consecutive-changes")


# --- custom configuration (VAL-40..43) ---


def test_val40_disabled_accepts_anything() -> None:
    cfg = SuggestionValidation(enabled=False)
    result = validate_correction("completely different sentence here", "nothing matches at all whatsoever", cfg)
    assert result == ValidationResult(True, None)


def test_val41_low_ratio_threshold_rejects_one_in_five() -> None:
    cfg = SuggestionValidation(max_word_change_ratio=0.1)
    result = validate_correction("hello world foo bar baz", "hello universe foo bar baz", cfg)
    assert result == ValidationResult(False, "word-change-ratio")


def test_val42_permissive_thresholds_accept() -> None:
    cfg = SuggestionValidation(max_word_change_ratio=1.0, max_normalized_edit_distance=1.0)
    assert validate_correction("hello world from the test suite", "hello universe from the test suite", cfg).valid


def test_val43_custom_consecutive_limit() -> None:
    cfg = SuggestionValidation(max_consecutive_changes=2)
    assert validate_correction("a b c d", "x y z d", cfg) == ValidationResult(False, "consecutive-changes")


# --- edge cases (VAL-44..47) ---


def test_val44_both_empty_is_no_change() -> None:
    assert validate_correction("", "", DEFAULTS) == ValidationResult(False, "no-change")


def test_val45_deleting_a_short_segment_is_valid() -> None:
    assert validate_correction("hello world", "", DEFAULTS) == ValidationResult(True, None)


def test_val46_comma_insertion_valid() -> None:
    result = validate_correction("Hello world how are you doing", "Hello world, how are you doing", DEFAULTS)
    assert result == ValidationResult(True, None)


def test_val47_default_thresholds() -> None:
    assert DEFAULTS.enabled is True
    assert DEFAULTS.max_word_change_ratio == 0.4
    assert DEFAULTS.max_normalized_edit_distance == 0.5
    assert DEFAULTS.max_consecutive_changes == 3
    assert DEFAULTS.min_words_for_ratio_check == 5


# --- beyond the checklist ---


def test_edit_distance_check_runs_after_ratio() -> None:
    # One word in five changes (ratio 0.2, allowed) but it grows by ten characters: 10/34 > 0.1.
    cfg = SuggestionValidation(max_normalized_edit_distance=0.1, max_word_change_ratio=1.0)
    result = validate_correction("aaaa bbbb cccc dddd eeee", "aaaa bbbb cccc dddd eeeeeeeeeeeeee", cfg)
    assert result == ValidationResult(False, "edit-distance")


def test_thresholds_are_strictly_greater() -> None:
    # One substitution in five words: ratio exactly 0.2 passes a 0.2 limit.
    cfg = SuggestionValidation(max_word_change_ratio=0.2, max_consecutive_changes=2)
    assert validate_correction("hello world foo bar baz", "hello there foo bar baz", cfg).valid


def test_levenshtein_counts_code_points() -> None:
    assert levenshtein("café", "cafe") == 1
    assert levenshtein("🙂", "") == 1
