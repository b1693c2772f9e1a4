"""Bounds on what one correction (an LLM suggestion) may change: the predecessor's, and tighter ones.

Character measures are case-sensitive and work on the raw strings; word measures lower-case
the text and split it on whitespace.

Beyond the predecessor's ratio, edit-distance and consecutive-change checks (issue 12), a model
answer, whatever its prompt said, can only make changes shaped like recognition fixes:

* no more than ``max_inserted_words`` words added beyond those replaced (no appended sentences);
* no more than ``max_changed_words`` words replaced or removed, however long the line;
* short lines (fewer than ``min_words_for_ratio_check`` words) also get the character
  edit-distance bound, so "Yes." cannot become "No." (deleting a whole short line stays allowed,
  as in the predecessor);
* speaker names only from the configured list, at most :data:`MAX_SPEAKER_NAME_CHARS` long, and
  none at all when no speakers are configured (:func:`speaker_name_verdict`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from podwhisperer.runtime.config import SuggestionValidation
from podwhisperer.runtime.transforms.lcs import compute_diff, compute_lcs

RejectReason = Literal["no-change", "word-change-ratio", "edit-distance", "consecutive-changes", "inserted-words",
                       "changed-words"]
SpeakerRejectReason = Literal["not-a-name", "name-too-long", "unknown-name", "no-speakers-configured"]

MAX_SPEAKER_NAME_CHARS = 100


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


def word_changes(original: str, corrected: str) -> tuple[int, int]:
    """(words replaced or removed, words inserted beyond those replaced), over the word diff's changed spans.

    A span that removes ``r`` words and adds ``a`` counts ``max(r, a)`` changed and ``max(0, a - r)``
    inserted: "sage maker" → "SageMaker" is 2 changed, 0 inserted; appending three words is 3 and 3.
    """
    changed = inserted = removed = added = 0
    for op in [*compute_diff(_words(original), _words(corrected)), None]:
        if op is None or op.op == "keep":
            changed += max(removed, added)
            inserted += max(0, added - removed)
            removed = added = 0
        elif op.op == "remove":
            removed += 1
        else:
            added += 1
    return changed, inserted


def validate_correction(original: str, corrected: str, cfg: SuggestionValidation) -> ValidationResult:
    """Accept or reject a correction; every threshold is exceeded only when strictly greater."""
    if not cfg.enabled:
        return ValidationResult(True)
    if original == corrected:
        return ValidationResult(False, "no-change")
    if len(_words(original)) < cfg.min_words_for_ratio_check:
        return _check_short_line(original, corrected, cfg)
    if word_change_ratio(original, corrected) > cfg.max_word_change_ratio:
        return ValidationResult(False, "word-change-ratio")
    if normalized_edit_distance(original, corrected) > cfg.max_normalized_edit_distance:
        return ValidationResult(False, "edit-distance")
    return _check_changes(original, corrected, cfg)


def _check_short_line(original: str, corrected: str, cfg: SuggestionValidation) -> ValidationResult:
    """Ratios mean little on a one- or two-word line: the consecutive limit, then absolute character edits."""
    consecutive = _check_consecutive(original, corrected, cfg)
    if not consecutive.valid or not corrected.strip():  # deleting a whole short line stays allowed
        return consecutive
    if normalized_edit_distance(original, corrected) > cfg.max_normalized_edit_distance:
        return ValidationResult(False, "edit-distance")
    return _check_changes(original, corrected, cfg)


def _check_changes(original: str, corrected: str, cfg: SuggestionValidation) -> ValidationResult:
    consecutive = _check_consecutive(original, corrected, cfg)
    if not consecutive.valid:
        return consecutive
    changed, inserted = word_changes(original, corrected)
    if inserted > cfg.max_inserted_words:
        return ValidationResult(False, "inserted-words")
    if changed > cfg.max_changed_words:
        return ValidationResult(False, "changed-words")
    return ValidationResult(True)


def _check_consecutive(original: str, corrected: str, cfg: SuggestionValidation) -> ValidationResult:
    if max_consecutive_word_changes(original, corrected) > cfg.max_consecutive_changes:
        return ValidationResult(False, "consecutive-changes")
    return ValidationResult(True)


def speaker_name_verdict(name: str, configured: Mapping[str, str]) -> tuple[str | None, SpeakerRejectReason | None]:
    """The configured spelling of a name the model gave a speaker, or why it is refused.

    ``configured`` maps each configured speaker's case-folded name to its spelling. With no speakers
    configured no name is accepted: a model could otherwise put any text, markup or megabytes, into
    every cue; the diarization labels (``SPEAKER_00``) stay.
    """
    name = name.strip()
    if not name:
        return None, "not-a-name"
    if len(name) > MAX_SPEAKER_NAME_CHARS:
        return None, "name-too-long"
    if not configured:
        return None, "no-speakers-configured"
    known = configured.get(name.casefold())
    return (known, None) if known is not None else (None, "unknown-name")
