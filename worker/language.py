"""Spoken-language detection that an intro jingle or a silent first minute cannot fool.

faster-whisper's default looks at the first 30 s of raw audio, so music or silence at the start
decides the language of the whole episode. Here Whisper's language head hears up to ``windows``
windows of *speech only*: each window is 30 s of VAD speech regions joined together, starting at an
evenly spaced point of the episode's speech time (beginning, middle, end...). The per-window
probability distributions are averaged; the top language and its averaged probability are the
result. The evidence is *weak* when that probability is below ``weak_below``, when the windows
disagree (fewer than half vote for the winner), or when there is under ``min_speech_seconds`` of
speech at all; the metadata and the worker's stats then say so.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from podwhisperer.worker.vad import SAMPLE_RATE, Region

WINDOW_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    language: str
    probability: float
    windows: int
    weak: bool
    reasons: tuple[str, ...] = ()
    votes: dict[str, int] = field(default_factory=dict)

    def to_metadata(self) -> dict[str, Any]:
        out: dict[str, Any] = {"language": self.language, "probability": round(self.probability, 3),
                               "windows": self.windows, "weak": self.weak, "votes": dict(self.votes)}
        if self.reasons:
            out["reasons"] = list(self.reasons)
        return out


def speech_windows(audio: Any, regions: list[Region], count: int,
                   window_seconds: float = WINDOW_SECONDS) -> list[np.ndarray]:
    """Up to ``count`` windows of speech-only audio, starting at evenly spaced points of the speech time."""
    total = sum(r.end - r.start for r in regions)
    length = int(window_seconds * SAMPLE_RATE)
    if total == 0:
        return []
    usable = max(0, total - length)
    starts = sorted({int(usable * i / max(1, count - 1)) for i in range(count)}) if usable else [0]
    return [_gather(audio, regions, start, length) for start in starts]


def _gather(audio: Any, regions: list[Region], skip: int, length: int) -> np.ndarray:
    """``length`` samples of speech, after skipping ``skip`` samples of speech."""
    pieces: list[np.ndarray] = []
    wanted = length
    for region in regions:
        size = region.end - region.start
        if skip >= size:
            skip -= size
            continue
        start = region.start + skip
        skip = 0
        take = min(wanted, region.end - start)
        pieces.append(np.asarray(audio[start:start + take], dtype=np.float32))
        wanted -= take
        if wanted <= 0:
            break
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)


def detect_language(model: Any, audio: Any, regions: list[Region], *, windows: int = 5,
                    weak_below: float = 0.5, min_speech_seconds: float = 5.0) -> LanguageGuess | None:
    """Combine ``model.detect_language`` (faster-whisper's signature) over speech windows; None without speech."""
    found = speech_windows(audio, regions, windows)
    if not found:
        return None
    averaged: dict[str, float] = defaultdict(float)
    votes: Counter[str] = Counter()
    for samples in found:
        top, _probability, distribution = model.detect_language(audio=samples)
        votes[str(top)] += 1
        for language, probability in distribution:
            averaged[str(language)] += float(probability) / len(found)
    language = max(averaged, key=lambda code: averaged[code])
    probability = averaged[language]
    reasons = []
    if probability < weak_below:
        reasons.append(f"probability {probability:.2f} is below {weak_below:.2f}")
    if votes[language] * 2 < len(found):
        reasons.append(f"only {votes[language]} of {len(found)} speech windows heard {language!r}")
    speech = sum(r.seconds for r in regions)
    if speech < min_speech_seconds:
        reasons.append(f"only {speech:.1f} s of speech")
    return LanguageGuess(language, probability, len(found), bool(reasons), tuple(reasons), dict(votes))
