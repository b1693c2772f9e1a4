"""Language detection over several speech windows (a fake Whisper language head; no multilingual model offline)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from podwhisperer.runtime.config import TranscriptionConfig
from podwhisperer.worker.language import detect_language, speech_windows
from podwhisperer.worker.vad import SAMPLE_RATE, Region

# The fake "hears" a language from the sample values: 0.9 is music (it says Welsh, confidently),
# 0.2 English, 0.3 German, 0.4 mumbled English.
HEARD = {0.9: ("cy", 0.9), 0.2: ("en", 0.95), 0.3: ("de", 0.9), 0.4: ("en", 0.35)}


class FakeLanguageHead:
    def __init__(self) -> None:
        self.calls: list[int] = []

    def detect_language(self, audio: np.ndarray) -> tuple[str, float, list[tuple[str, float]]]:
        self.calls.append(len(audio))
        value = round(float(np.median(audio)), 1)
        language, probability = HEARD[value]
        rest = (1 - probability) / 2
        others = [code for code in ("en", "de", "cy", "fr") if code != language][:2]
        return language, probability, [(language, probability), *((code, rest) for code in others)]


def episode(*parts: tuple[float, float, bool]) -> tuple[np.ndarray, list[Region]]:
    """(value, seconds, is_speech) parts → samples and the speech regions VAD would find."""
    samples, regions, at = [], [], 0
    for value, seconds, is_speech in parts:
        count = int(seconds * SAMPLE_RATE)
        samples.append(np.full(count, value, dtype=np.float32))
        if is_speech:
            regions.append(Region(at, at + count))
        at += count
    return np.concatenate(samples), regions


def test_an_intro_jingle_does_not_decide_the_language() -> None:
    audio, regions = episode((0.9, 60, False), (0.2, 600, True))
    head = FakeLanguageHead()
    guess = detect_language(head, audio, regions)
    assert guess is not None and (guess.language, guess.weak) == ("en", False)
    assert guess.probability == pytest.approx(0.95) and guess.windows == 5
    assert head.calls == [30 * SAMPLE_RATE] * 5
    assert head.detect_language(audio[: 30 * SAMPLE_RATE])[0] == "cy", "the first 30 s alone would say Welsh"


def test_windows_spread_over_the_speech_and_combine_their_evidence() -> None:
    audio, regions = episode((0.2, 200, True), (0.0, 5, False), (0.3, 100, True))
    guess = detect_language(FakeLanguageHead(), audio, regions)
    assert guess is not None and guess.language == "en" and guess.votes == {"en": 3, "de": 2}
    assert guess.weak is False


def test_weak_evidence_is_flagged_with_reasons() -> None:
    mumbled, regions = episode((0.4, 300, True))
    guess = detect_language(FakeLanguageHead(), mumbled, regions)
    assert guess is not None and guess.weak and "below" in guess.reasons[0]
    short, regions = episode((0.0, 20, False), (0.2, 3, True))
    guess = detect_language(FakeLanguageHead(), short, regions)
    assert guess is not None and guess.weak and guess.windows == 1 and "3.0 s of speech" in guess.reasons[-1]
    silent, _ = episode((0.0, 60, False))
    assert detect_language(FakeLanguageHead(), silent, []) is None


def test_windows_hold_speech_only() -> None:
    audio, regions = episode((0.9, 10, False), (0.2, 10, True), (0.9, 10, False), (0.2, 25, True))
    windows = speech_windows(audio, regions, 3)
    assert all(len(w) == 30 * SAMPLE_RATE and set(np.unique(w)) == {np.float32(0.2)} for w in windows)


def test_the_worker_records_language_and_confidence_in_the_metadata() -> None:
    from podwhisperer.worker import speech

    audio, regions = episode((0.9, 60, False), (0.4, 300, True))
    model = FakeLanguageHead()
    model.model = SimpleNamespace(is_multilingual=True)  # type: ignore[attr-defined]
    handle: Any = SimpleNamespace(model=model, multilingual=True, source=SimpleNamespace(display_name="base"))
    run = speech._SpeechRun(TranscriptionConfig(language=None), models=None)  # type: ignore[arg-type]
    assert speech._choose_language(run, handle, audio, regions) == "en"  # type: ignore[arg-type]
    assert run.language_detection is not None
    assert run.language_detection["weak"] is True and run.language_detection["probability"] == pytest.approx(0.35)
    assert any("Weak evidence" in note and "transcription.language" in note for note in run.notes)
