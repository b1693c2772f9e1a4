"""No invented text: loop and degenerate-segment filtering (pure), and real tiny.en on silence, noise, music, pauses."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from fakes.speech import SAMPLE_DIR

from podwhisperer.runtime.config import TranscriptionConfig
from podwhisperer.worker.hallucination import filter_hallucinations

pytest_plugins = ["worker_fixtures"]


def segment(text: str, start: float = 0.0, **extra: Any) -> dict[str, Any]:
    words = [{"word": w, "start": start + i * 0.3, "end": start + i * 0.3 + 0.25} for i, w in enumerate(text.split())]
    return {"start": start, "end": start + 0.3 * len(words), "text": " " + text, "words": words, **extra}


def test_a_loop_inside_a_segment_keeps_its_first_copy_and_is_counted() -> None:
    raw = [segment("Thanks for listening. Thank you. Thank you. Thank you. Thank you. Thank you.")]
    kept, stats = filter_hallucinations(raw)
    assert kept[0]["text"] == " Thanks for listening. Thank you."
    assert [w["word"] for w in kept[0]["words"]] == ["Thanks", "for", "listening.", "Thank", "you."]
    assert stats["loop_words_removed"] == 8 and stats["words_dropped"] == 8


def test_a_run_of_identical_segments_keeps_the_first() -> None:
    raw = [segment("Welcome to the show.", 0.0)] + [segment("Subscribe to our channel.", 5.0 + i) for i in range(4)]
    kept, stats = filter_hallucinations(raw)
    assert [s["text"] for s in kept] == [" Welcome to the show.", " Subscribe to our channel."]
    assert stats["segments_dropped_repeated"] == 3 and stats["words_dropped"] == 12


def test_ordinary_speech_and_natural_repeats_are_untouched() -> None:
    raw = [segment("No, no, no, that is not what I said."), segment("Yes. Yes."),
           segment("Thank you. Thank you."), segment("Thank you. Thank you.")]
    kept, stats = filter_hallucinations(raw)
    assert kept == raw and stats["words_dropped"] == 0


def test_speechless_and_degenerate_segments_are_dropped() -> None:
    raw = [segment("Okay.", no_speech_prob=0.92, avg_logprob=-1.4),
           segment("Real words here.", no_speech_prob=0.92, avg_logprob=-0.2),
           {"start": 9.0, "end": 30.0, "text": " " + "la la la dee " * 20}]  # no word timings: batched path
    kept, stats = filter_hallucinations(raw)
    assert [s["text"] for s in kept] == [" Real words here.", " la la la dee"]
    assert stats["segments_dropped_no_speech"] == 1 and stats["loop_words_removed"] == 76
    long_phrase = "we will be right back after this short message from our sponsors today"  # 13 words: not a loop
    kept, stats = filter_hallucinations([segment(" ".join([long_phrase] * 3))])
    assert kept == [] and stats["segments_dropped_repetitive"] == 1 and stats["words_dropped"] == 39


# ----- real tiny.en -----------------------------------------------------------------------------------------

def sox(path: Path, *effects: str) -> Path:
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", str(path), *effects], check=True)
    return path


@pytest.fixture(scope="module")
def hard_audio(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hard")
    pause = folder / "pause.wav"
    subprocess.run(["sox", str(SAMPLE_DIR / "sample.wav"), str(sox(folder / "s.wav", "trim", "0", "25")),
                    str(SAMPLE_DIR / "sample.wav"), str(pause)], check=True)
    return {
        "silence": sox(folder / "silence.wav", "trim", "0", "40"),
        "noise": sox(folder / "noise.wav", "synth", "30", "pinknoise", "vol", "0.3"),
        "music": sox(folder / "music.wav", "synth", "30", "pluck", "C3", "pluck", "E3", "pluck", "G3",
                     "tremolo", "4", "60", "vol", "0.5"),
        "pause": pause,
    }


@pytest.mark.speech
@pytest.mark.parametrize("kind", ["silence", "noise", "music"])
def test_no_text_is_invented_without_speech(kind: str, hard_audio: dict[str, Path], worker_models: Any) -> None:
    from podwhisperer.worker.speech import transcribe_file

    transcript = transcribe_file(hard_audio[kind], TranscriptionConfig(model="tiny.en", diarize=False),
                                 worker_models, source_key=kind, etag=None)
    assert len(list(transcript.words())) <= 2, [s.text for s in transcript.segments]
    meta = transcript.metadata
    assert meta is not None and "hallucination_filter" in meta.extra


@pytest.mark.speech
def test_a_long_pause_inside_speech_stays_empty(hard_audio: dict[str, Path], worker_models: Any) -> None:
    from podwhisperer.worker.speech import transcribe_file

    transcript = transcribe_file(hard_audio["pause"], TranscriptionConfig(model="tiny.en", diarize=False),
                                 worker_models, source_key="pause", etag=None)
    words = list(transcript.words())
    inside = [w.word for w in words if w.start is not None and 31.0 < w.start < 54.0]
    assert len(words) > 80 and inside == []
