"""Replacement rules: fix recurring mis-hearings (names, products) with literal or regex rules.

Rules run in order on each segment's text as its words spell it; a changed segment is
reconciled word by word so timings survive (:func:`reconcile_segment`). Differences from the
predecessor (defect 10): literal replacements are used verbatim (no ``$&``/``$1``/``\\1``
expansion), literal rules may ask for ``whole_word`` and ``ignore_case``, and regex rules use
Python syntax, flags and replacement templates (``\\1``, ``\\g<name>``). Segments a rule empties
are dropped (defect 11).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from podwhisperer.runtime.config import LiteralRule, RegexRule
from podwhisperer.runtime.transcript import Segment, StepOutcome, Transcript, paused_gc
from podwhisperer.runtime.transforms.reconcile import is_empty_segment, reconcile_segment
from podwhisperer.runtime.transforms.text import segment_words_text, text_to_words

Substitution = Callable[[str], tuple[str, int]]
"""Replace every match in a text; return the new text and the number of matches."""


@dataclass(frozen=True, slots=True)
class _CompiledRule:
    key: str
    substitute: Substitution


def rule_key(rule: LiteralRule | RegexRule) -> str:
    """Stats key of a rule: ``search->replacement`` for literals, ``r'search'->replacement`` for regexes."""
    if isinstance(rule, RegexRule):
        return f"r'{rule.search}'->{rule.replacement}"
    return f"{rule.search}->{rule.replacement}"


@paused_gc()
def apply_replacements(transcript: Transcript, rules: Sequence[LiteralRule | RegexRule]) -> StepOutcome:
    """Apply ``rules`` in order to every segment; return the new transcript and replacement stats.

    Stats: ``segments_modified``, ``word_changes`` (per modified segment the change in word
    count, or 1 when the count is unchanged), ``replacement_counts`` (matches per rule key, only
    rules that matched) and ``segments_emptied`` (modified segments left without text, dropped).
    Unmodified segments are carried over as they are (shared, not copied).
    """
    compiled = [_compile(rule) for rule in rules]
    counts: dict[str, int] = {}
    segments: list[Segment] = []
    modified = word_changes = emptied = 0
    for segment in transcript.segments:
        original = segment_words_text(segment)
        patched = _substitute_all(original, compiled, counts)
        if patched == original:
            segments.append(segment)
            continue
        result = reconcile_segment(segment, text_to_words(patched))
        modified += 1
        word_changes += abs(len(result.words or ()) - len(segment.words or ())) or 1
        if is_empty_segment(result):
            emptied += 1
        else:
            segments.append(result)
    stats: dict[str, Any] = {
        "segments_modified": modified,
        "word_changes": word_changes,
        "replacement_counts": counts,
        "segments_emptied": emptied,
    }
    return StepOutcome(transcript.copy(segments=segments), stats)


def _substitute_all(text: str, compiled: Sequence[_CompiledRule], counts: dict[str, int]) -> str:
    for rule in compiled:
        replaced, matches = rule.substitute(text)
        if matches:
            counts[rule.key] = counts.get(rule.key, 0) + matches
            text = replaced
    return text


def _compile(rule: LiteralRule | RegexRule) -> _CompiledRule:
    if isinstance(rule, RegexRule):
        return _CompiledRule(rule_key(rule), _regex_substitution(rule.compiled(), rule.replacement))
    if not rule.whole_word and not rule.ignore_case:
        return _CompiledRule(rule_key(rule), _plain_substitution(rule.search, rule.replacement))
    return _CompiledRule(rule_key(rule), _literal_pattern_substitution(rule))


def _plain_substitution(search: str, replacement: str) -> Substitution:
    def substitute(text: str) -> tuple[str, int]:
        matches = text.count(search)
        return (text.replace(search, replacement), matches) if matches else (text, 0)

    return substitute


def _literal_pattern_substitution(rule: LiteralRule) -> Substitution:
    pattern = re.escape(rule.search)
    if rule.whole_word:
        pattern = rf"(?<!\w){pattern}(?!\w)"
    compiled = re.compile(pattern, re.IGNORECASE if rule.ignore_case else 0)
    replacement = rule.replacement

    def verbatim(_match: re.Match[str]) -> str:
        return replacement  # a function replacement is never template-expanded

    def substitute(text: str) -> tuple[str, int]:
        return compiled.subn(verbatim, text)

    if rule.ignore_case:
        return substitute
    search = rule.search

    def substitute_when_present(text: str) -> tuple[str, int]:
        # Every match contains the search string: a substring test skips the regex for most segments.
        return substitute(text) if search in text else (text, 0)

    return substitute_when_present


def _regex_substitution(pattern: re.Pattern[str], template: str) -> Substitution:
    def substitute(text: str) -> tuple[str, int]:
        return pattern.subn(template, text)

    return substitute
