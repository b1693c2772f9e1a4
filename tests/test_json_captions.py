"""Simplified JSON captions: predecessor checklist 8.11 (JSN-01..11) and the defect 5 fix."""

from __future__ import annotations

import json
from typing import Any

from podwhisperer.runtime.captions import render_simplified_json
from podwhisperer.runtime.config import CaptionsConfig
from podwhisperer.runtime.transcript import Transcript

CFG = CaptionsConfig()


def render(*segments: dict[str, Any]) -> str:
    return render_simplified_json(Transcript.from_dict({"segments": list(segments)}), CFG)


def parsed(*segments: dict[str, Any]) -> Any:
    return json.loads(render(*segments))


def test_jsn01_valid_json_with_speakers_and_segments() -> None:
    data = parsed({"start": 0, "end": 2.5, "text": "Hello, welcome to the podcast.", "speaker": "Luciano"},
                  {"start": 2.5, "end": 5.0, "text": "Thanks for having me!", "speaker": "Eoin"})
    assert data["speakers"] and len(data["segments"]) == 2


def test_jsn02_sorted_short_labels() -> None:
    data = parsed({"start": 0, "end": 2.5, "text": "Hello", "speaker": "Luciano"},
                  {"start": 2.5, "end": 5.0, "text": "Hi", "speaker": "Eoin"})
    assert data["speakers"] == {"spk_0": "Eoin", "spk_1": "Luciano"}


def test_jsn03_segment_structure_with_trimmed_text() -> None:
    data = parsed({"start": 0, "end": 2.5, "text": "  Hello, world.  ", "speaker": "Alice"})
    assert data["segments"][0] == {"speakerLabel": "spk_0", "start": 0, "end": 2.5, "text": "Hello, world."}


def test_jsn04_speakers_from_segments() -> None:
    data = parsed({"start": 0, "end": 1, "text": "Hello", "speaker": "Alice"},
                  {"start": 1, "end": 2, "text": "Hi", "speaker": "Bob"})
    assert sorted(data["speakers"].values()) == ["Alice", "Bob"]


def test_jsn05_speakers_from_words() -> None:
    data = parsed({"start": 0, "end": 2, "text": "Hello world", "words": [
        {"word": "Hello", "start": 0, "end": 1, "speaker": "Alice"},
        {"word": "world", "start": 1, "end": 2, "speaker": "Bob"}]})
    assert sorted(data["speakers"].values()) == ["Alice", "Bob"]


def test_jsn06_no_speaker_map_without_diarization() -> None:
    """Changed deliberately (issue #8): the predecessor made up {"spk_0": "SPEAKER_00"} without speakers."""
    assert parsed({"start": 0, "end": 1, "text": "Hello"})["speakers"] == {}


def test_jsn07_diarization_names_kept() -> None:
    data = parsed({"start": 0, "end": 1, "text": "Hello", "speaker": "SPEAKER_00"},
                  {"start": 1, "end": 2, "text": "Hi", "speaker": "SPEAKER_01"})
    assert data["speakers"] == {"spk_0": "SPEAKER_00", "spk_1": "SPEAKER_01"}


def test_jsn08_empty_transcript() -> None:
    assert parsed() == {"speakers": {}, "segments": []}


def test_jsn09_segment_speaker_from_first_word() -> None:
    data = parsed({"start": 0, "end": 1, "text": "Hello", "words": [
        {"word": "Hello", "start": 0, "end": 1, "speaker": "Alice"}]})
    assert data["segments"][0]["speakerLabel"] == "spk_0"
    assert data["speakers"]["spk_0"] == "Alice"


def test_jsn10_unknown_speaker_has_a_null_label() -> None:
    """Changed deliberately (issue #8): the predecessor labelled it spk_0."""
    assert parsed({"start": 0, "end": 1, "text": "Hello"})["segments"][0]["speakerLabel"] is None


def test_jsn11_pretty_printed_without_trailing_newline() -> None:
    text = render({"start": 0, "end": 1, "text": "Hello", "speaker": "Alice"})
    assert text == ('{\n  "speakers": {\n    "spk_0": "Alice"\n  },\n  "segments": [\n    {\n'
                    '      "speakerLabel": "spk_0",\n      "start": 0,\n      "end": 1,\n      "text": "Hello"\n'
                    "    }\n  ]\n}")


def test_unlabelled_segment_is_not_given_someone_elses_label() -> None:
    """Defect 5: the predecessor labelled the SPEAKER_00 fallback spk_0, i.e. another person. Since issue #8 an
    unlabelled segment has no label at all (it was a made-up SPEAKER_00 before)."""
    data = parsed({"start": 0, "end": 1, "text": "Hello", "speaker": "Alice"},
                  {"start": 1, "end": 2, "text": "Who said this?"})
    assert data["speakers"] == {"spk_0": "Alice"}
    assert [s["speakerLabel"] for s in data["segments"]] == ["spk_0", None]


def test_non_ascii_is_written_verbatim() -> None:
    assert '"text": "Grüße – 東京"' in render({"start": 0.5, "end": 1.25, "text": "Grüße – 東京"})
