"""Replacement rules: fix recurring mis-hearings (names, products) with literal or regex rules.

Rules run in order on each segment's text as its words spell it; a changed segment is
reconciled word by word so timings survive (:func:`reconcile_segment`). Differences from the
predecessor (defect 10): literal replacements are used verbatim (no ``$&``/``$1``/``\\1``
expansion), literal rules may ask for ``whole_word`` and ``ignore_case``, and regex rules use
Python syntax, flags and replacement templates (``\\1``, ``\\g<name>``). Segments a rule empties
are dropped (defect 11).

Regex rules run on the ``regex`` engine with a time limit: each rule may spend at most
:data:`RULE_TIME_LIMIT_SECONDS` on a whole transcript, else :class:`ReplacementRuleTimeoutError` names
the rule (a pattern that backtracks catastrophically would otherwise run until the step's timeout,
on every retry).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import regex

from podwhisperer.runtime.config import LiteralRule, RegexRule
from podwhisperer.runtime.transcript import Segment, StepOutcome, Transcript, paused_gc
from podwhisperer.runtime.transforms.reconcile import is_empty_segment, reconcile_segment
from podwhisperer.runtime.transforms.text import segment_words_text, text_to_words

Substitution = Callable[[str], tuple[str, int]]
"""Replace every match in a text; return the new text and the number of matches."""


RULE_TIME_LIMIT_SECONDS = 10.0
"""Time one regex rule may take over a whole transcript (a 3-hour episode takes milliseconds)."""


class ReplacementRuleTimeoutError(ValueError):
    """A regex rule ran past its time limit: the pattern backtracks catastrophically on this text."""

    def __init__(self, index: int, key: str, limit: float) -> None:
        self.index = index
        self.key = key
        super().__init__(f"replacement_rules[{index}] ({key}) ran for more than {limit:g} s: the pattern "
                         "backtracks catastrophically on this transcript; simplify it (avoid nested or "
                         "overlapping repeats such as (\\w+\\s?)+)")


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
def apply_replacements(transcript: Transcript, rules: Sequence[LiteralRule | RegexRule], *,
                       rule_time_limit: float | None = None) -> StepOutcome:
    """Apply ``rules`` in order to every segment; return the new transcript and replacement stats.

    Stats: ``segments_modified``, ``word_changes`` (per modified segment the change in word
    count, or 1 when the count is unchanged), ``replacement_counts`` (matches per rule key, only
    rules that matched) and ``segments_emptied`` (modified segments left without text, dropped).
    Unmodified segments are carried over as they are (shared, not copied). A regex rule running
    longer than ``rule_time_limit`` (default :data:`RULE_TIME_LIMIT_SECONDS`) seconds in all raises
    :class:`ReplacementRuleTimeoutError`.
    """
    limit = RULE_TIME_LIMIT_SECONDS if rule_time_limit is None else rule_time_limit
    compiled = [_compile(rule, index, limit) for index, rule in enumerate(rules)]
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


def _compile(rule: LiteralRule | RegexRule, index: int, time_limit: float) -> _CompiledRule:
    if isinstance(rule, RegexRule):
        key = rule_key(rule)
        budget = _TimeBudget(time_limit, lambda: ReplacementRuleTimeoutError(index, key, time_limit))
        return _CompiledRule(key, _regex_substitution(rule.compiled(), rule.replacement, budget))
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


class _TimeBudget:
    """What is left of one rule's time over the whole transcript; the engine enforces it per call."""

    def __init__(self, seconds: float, error: Callable[[], Exception]) -> None:
        self.left = seconds
        self._error = error

    def run(self, call: Callable[[float], tuple[str, int]]) -> tuple[str, int]:
        started = time.perf_counter()
        try:
            result = call(max(self.left, 0.001))
        except TimeoutError:
            raise self._error() from None
        finally:
            self.left -= time.perf_counter() - started
        return result


def _regex_substitution(pattern: regex.Pattern[str], template: str, budget: _TimeBudget) -> Substitution:
    def substitute(text: str) -> tuple[str, int]:
        return budget.run(lambda seconds: pattern.subn(template, text, timeout=seconds))

    return substitute
