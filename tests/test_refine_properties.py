"""`refine` on raw transcript files of every shape WhisperX and other tools write: nothing crashes,
every output parses, and the refined transcript reads back as written."""

from __future__ import annotations

import json
import math
from typing import Any

import srt
import webvtt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podwhisperer.runtime.config import parse_config
from podwhisperer.runtime.refine import refine_transcript
from podwhisperer.runtime.transcript import Transcript

WORDS = st.sampled_from(["so", "the", "GPU", "okay.", "really?", "(aside)", "\"quoted.\"", "2026", "£13.60", "&",
                         "<b>", "wait—", "end...", "Owen", "sage", "maker", "Pneumonoultramicroscopic"])
SPEAKERS = st.sampled_from(["SPEAKER_00", "SPEAKER_01", "Alice"])


def time_value(seconds: float, whole: bool) -> float | int:
    return math.floor(seconds) if whole else round(seconds, 3)


@st.composite
def raw_words(draw: st.DrawFn, clock: float) -> tuple[list[dict[str, Any]], float]:
    words = []
    for _ in range(draw(st.integers(0, 30))):
        word: dict[str, Any] = {"word": draw(WORDS)}
        shape = draw(st.sampled_from(["timed", "timed", "timed", "untimed", "whole", "nan-score", "extra",
                                      "reversed", "null-speaker"]))
        duration = draw(st.floats(0.05, 0.9))
        if shape != "untimed":
            whole = shape == "whole"
            word["start"], word["end"] = time_value(clock, whole), time_value(clock + duration, whole)
            word["score"] = float("nan") if shape == "nan-score" else draw(st.sampled_from([0.5, 1, 0.93]))
            word["speaker"] = None if shape == "null-speaker" else draw(SPEAKERS)
        if shape == "reversed":
            word["start"], word["end"] = word["end"], word["start"]
        if shape == "extra":
            word["chars"] = [1, 2]
        words.append(word)
        clock += duration + draw(st.floats(0.0, 0.4))
    return words, clock


@st.composite
def raw_transcripts(draw: st.DrawFn) -> str:
    segments, clock = [], draw(st.floats(0, 3))
    for _ in range(draw(st.integers(0, 6))):
        start = clock
        words, clock = draw(raw_words(clock))
        segment: dict[str, Any] = {"start": draw(st.sampled_from([round(start, 3), math.floor(start)])),
                                   "end": round(clock, 3), "text": " " + " ".join(w["word"] for w in words)}
        if draw(st.booleans()):
            segment["speaker"] = draw(SPEAKERS)
        if words or draw(st.booleans()):
            segment["words"] = words
        segments.append(segment)
        clock += draw(st.floats(0.0, 2.0))
    document = {"segments": segments, "word_segments": [w for s in segments for w in s.get("words", [])],
                "language": "en"}
    return json.dumps(document)  # Python's json writes NaN, as WhisperX's own writer does


CONFIG = st.fixed_dictionaries({
    "replacement_rules": st.just([{"type": "literal", "search": "sage maker", "replacement": "SageMaker"},
                                  {"type": "literal", "search": "Owen", "replacement": "Eoin", "whole_word": True}]),
    "normalization": st.fixed_dictionaries({"max_chars_per_line": st.sampled_from([16, 32, 42]),
                                            "max_lines_per_segment": st.integers(1, 3)}),
    "captions": st.fixed_dictionaries({"highlight_words": st.booleans(), "vtt_voice_tags": st.booleans(),
                                       "include_speaker_names": st.sampled_from(["never", "always", "when-changes"])}),
})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_transcripts(), CONFIG)
def test_every_raw_transcript_shape_refines_into_outputs_that_parse(payload: str, config: dict[str, Any]) -> None:
    result = refine_transcript(Transcript.from_json(payload), parse_config(config))
    written = json.loads(result.refined.to_json())
    assert json.loads(Transcript.from_json(json.dumps(written)).to_json()) == written
    webvtt.from_string(result.captions["vtt"])
    list(srt.parse(result.captions["srt"]))
    captions = json.loads(result.captions["json"])
    assert {segment["speakerLabel"] for segment in captions["segments"]} - {None} <= set(captions["speakers"])
    assert all(not math.isnan(w.start or 0) and (w.start is None or w.start <= (w.end or 0))
               for w in result.refined.words())
