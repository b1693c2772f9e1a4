"""Bounds on what one correction (an LLM suggestion) may change, as in the predecessor.

Character measures are case-sensitive and work on the raw strings; word measures lower-case
the text and split it on whitespace.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from podwhisperer.runtime.config import SuggestionValidation
from podwhisperer.runtime.transforms.lcs import compute_diff, compute_lcs

RejectReason = Literal["no-change", "word-change-ratio", "edit-distance", "consecutive-changes"]


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """Whether a correction may be applied; ``reason`` names the first failed check."""

    valid: bool
    reason: RejectReason | None = None


def levenshtein(a: str, b: str) -> int:
    """Character edit distance (insert, delete and substitute each cost 1), in two rows of memory."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            cost = previous[j - 1] + (char_a != char_b)
            current.append(min(previous[j] + 1, current[j - 1] + 1, cost))
        previous = current
    return previous[-1]


def normalized_edit_distance(original: str, corrected: str) -> float:
    """Levenshtein distance divided by the longer length: 0 for equal strings, 1 if exactly one is empty."""
    if original == corrected:
        return 0.0
    if not original or not corrected:
        return 1.0
    return levenshtein(original, corrected) / max(len(original), len(corrected))


def _words(text: str) -> list[str]:
    return text.lower().split()


def word_change_ratio(original: str, corrected: str) -> float:
    """Share of words not in the longest common subsequence, relative to the longer word list."""
    original_words, corrected_words = _words(original), _words(corrected)
    if not original_words and not corrected_words:
        return 0.0
    if not original_words or not corrected_words:
        return 1.0
    longest = max(len(original_words), len(corrected_words))
    common = len(compute_lcs(original_words, corrected_words).tokens)
    return (longest - common) / longest


def max_consecutive_word_changes(original: str, corrected: str) -> int:
    """Longest run of removed/added words in the diff (a one-word substitution counts 2)."""
    original_words, corrected_words = _words(original), _words(corrected)
    if not original_words or not corrected_words:
        return max(len(original_words), len(corrected_words))
    longest = run = 0
    for op in compute_diff(original_words, corrected_words):
        run = 0 if op.op == "keep" else run + 1
        longest = max(longest, run)
    return longest


def validate_correction(original: str, corrected: str, cfg: SuggestionValidation) -> ValidationResult:
    """Accept or reject a correction; every threshold is exceeded only when strictly greater."""
    if not cfg.enabled:
        return ValidationResult(True)
    if original == corrected:
        return ValidationResult(False, "no-change")
    if len(_words(original)) < cfg.min_words_for_ratio_check:
        return _check_consecutive(original, corrected, cfg)
    if word_change_ratio(original, corrected) > cfg.max_word_change_ratio:
        return ValidationResult(False, "word-change-ratio")
    if normalized_edit_distance(original, corrected) > cfg.max_normalized_edit_distance:
        return ValidationResult(False, "edit-distance")
    return _check_consecutive(original, corrected, cfg)


def _check_consecutive(original: str, corrected: str, cfg: SuggestionValidation) -> ValidationResult:
    if max_consecutive_word_changes(original, corrected) > cfg.max_consecutive_changes:
        return ValidationResult(False, "consecutive-changes")
    return ValidationResult(True)
