"""Caption readability checks: how many cues break a broadcast guideline (ecosystem §5.3).

A cue breaks a guideline when any of these holds: a line longer than the format's limit, more
lines than allowed, faster than ``max_cps`` characters per second (text as shown, tags removed,
line breaks counted as one space), shorter than ``min_seconds`` or longer than ``max_seconds``, or
starting before the previous cue ends. Pure: cues in, counts out. The benchmark and the tests use it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

_TAG = re.compile(r"<[^>]*>")

MAX_CPS = 20.0
"""Netflix's adult template asks for 17; 20 is the usual hard limit."""
MIN_SECONDS = 0.8
MAX_SECONDS = 7.0


@dataclass(frozen=True, slots=True)
class Guidelines:
    max_chars_per_line: int = 42
    max_lines: int = 2
    max_cps: float = MAX_CPS
    min_seconds: float = MIN_SECONDS
    max_seconds: float = MAX_SECONDS


@dataclass(slots=True)
class QualityReport:
    cues: int = 0
    breaking: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def breaking_ratio(self) -> float:
        return self.breaking / self.cues if self.cues else 0.0

    def to_dict(self) -> dict[str, object]:
        return {"cues": self.cues, "breaking": self.breaking, "breaking_percent": round(100 * self.breaking_ratio, 2),
                "reasons": dict(sorted(self.reasons.items()))}


def shown_text(cue_text: str) -> str:
    """The text a viewer reads: tags removed, entities decoded, lines joined by one space."""
    plain = _TAG.sub("", cue_text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(line.strip() for line in plain.split("\n"))


def cue_problems(start_s: float, end_s: float, text: str, rules: Guidelines) -> list[str]:
    """The guidelines one cue breaks (empty when it reads well)."""
    problems = []
    lines = [shown_text(line) for line in text.split("\n")]
    if len(lines) > rules.max_lines:
        problems.append("too-many-lines")
    if any(len(line) > rules.max_chars_per_line for line in lines):
        problems.append("line-too-long")
    duration = end_s - start_s
    if duration < rules.min_seconds - 1e-6:
        problems.append("too-short")
    if duration > rules.max_seconds + 1e-6:
        problems.append("too-long")
    if duration > 0 and len(shown_text(text)) / duration > rules.max_cps:
        problems.append("too-fast")
    return problems


def check_cues(cues: Iterable[tuple[float, float, str]], rules: Guidelines) -> QualityReport:
    """Count cues (start s, end s, text) that break any guideline, and why."""
    report = QualityReport()
    previous_end = 0.0
    for start, end, text in cues:
        problems = cue_problems(start, end, text, rules)
        if start < previous_end - 1e-6:
            problems.append("overlap")
        previous_end = max(previous_end, end)
        report.cues += 1
        if problems:
            report.breaking += 1
            report.reasons.update(problems)
    return report


def cues_in_seconds(cues: Sequence[tuple[int, int, str]]) -> list[tuple[float, float, str]]:
    """Millisecond cues (as :func:`build_cues` makes them) in seconds."""
    return [(start / 1000, end / 1000, text) for start, end, text in cues]
