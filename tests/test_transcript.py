"""The transcript model: WhisperX shape, lossless round trips, clear errors."""

from __future__ import annotations

import copy
import json
import pickle

import orjson
import pytest

from podwhisperer.runtime.transcript import METADATA_KEY, RawMetadata, Transcript, TranscriptError

WHISPERX = {
    "segments": [
        {"start": 0.5, "end": 2.0, "text": " Hello world", "speaker": "SPEAKER_00", "avg_logprob": -0.2,
         "words": [{"word": "Hello", "start": 0.5, "end": 1.0, "score": 0.9, "speaker": "SPEAKER_00"},
                   {"word": "world", "start": 1.1, "end": 2.0, "score": 0.8, "chars": [1, 2]}]},
        {"start": 2.5, "end": 3.0, "text": " In 2024", "words": [{"word": "In", "start": 2.5, "end": 2.7},
                                                               {"word": "2024"}]},
    ],
    "word_segments": [{"word": "Hello", "start": 0.5, "end": 1.0}],
    "language": "en",
    METADATA_KEY: {"source_key": "input/ep1.mp3", "source_etag": "abc", "model": "tiny.en", "audio_duration": 3.2,
                   "stage_timings": [{"step": "transcribe", "duration_ms": 10}], "custom": 1},
}


def test_round_trip_preserves_every_field_including_unknown_ones() -> None:
    transcript = Transcript.from_dict(WHISPERX)
    assert orjson.loads(transcript.to_json()) == WHISPERX


def test_typed_access_to_words_and_metadata() -> None:
    transcript = Transcript.from_dict(WHISPERX)
    words = list(transcript.words())
    assert [w.word for w in words] == ["Hello", "world", "In", "2024"]
    assert words[3].start is None and not words[3].timed and words[0].timed
    assert words[1].extra == {"chars": [1, 2]}
    assert transcript.metadata == RawMetadata.from_dict(WHISPERX[METADATA_KEY])  # type: ignore[arg-type]
    assert transcript.duration == 3.2


def test_nan_scores_written_by_python_json_are_read_as_missing() -> None:
    payload = json.dumps({"segments": [{"start": 0, "end": 1, "text": "a",
                                        "words": [{"word": "a", "start": 0, "end": 1, "score": float("nan")}]}]})
    word = next(Transcript.from_json(payload).words())
    assert word.score is None and word.start == 0


def test_segment_times_are_read_as_floats_and_a_nan_time_as_missing() -> None:
    payload = json.dumps({"segments": [{"start": 1, "end": float("nan"), "text": "a"}]})
    segment = Transcript.from_json(payload).segments[0]
    assert (segment.start, segment.end) == (1.0, 0.0) and type(segment.start) is float
    assert orjson.loads(Transcript.from_json(payload).to_json())["segments"][0]["start"] == 1.0


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "a transcript is a JSON object, got list"),
        ({"text": "hi"}, "a transcript needs a 'segments' list"),
        ({"segments": [{"start": "zero", "end": 1, "text": "x"}]}, "segments[0].start must be a number"),
        ({"segments": [{"start": 0, "end": 1, "text": "x", "words": [{"start": 0}]}]},
         "segments[0].words[0] needs a string 'word'"),
        ({"segments": [{"start": 0, "end": 1, "text": "x", "words": [{"word": "x", "end": "1"}]}]},
         "segments[0].words[0].end must be a number"),
        ({"segments": [{"start": 0, "end": 1, "text": "x", "words": [{"word": "x", "speaker": 3}]}]},
         "segments[0].words[0].speaker must be a string"),
        ({"segments": [], METADATA_KEY: {"model": "x"}}, "needs a string 'source_key'"),
    ],
)
def test_bad_documents_name_the_problem(document: object, message: str) -> None:
    with pytest.raises(TranscriptError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Transcript.from_dict(document)


def test_invalid_json_is_a_transcript_error() -> None:
    with pytest.raises(TranscriptError, match="not valid JSON"):
        Transcript.from_json(b"{not json")


def test_word_segments_are_rebuilt_from_edited_words() -> None:
    transcript = Transcript.from_dict(WHISPERX)
    edited = transcript.copy(segments=transcript.segments[:1]).with_word_segments_rebuilt()
    assert [w["word"] for w in edited.word_segments or []] == ["Hello", "world"]
    assert transcript.word_segments == WHISPERX["word_segments"]


def test_rebuilt_transcript_serialises_its_segment_words_and_word_segments_alike() -> None:
    rebuilt = Transcript.from_dict(WHISPERX).with_word_segments_rebuilt()
    written = orjson.loads(rebuilt.to_json())
    assert written["segments"] == WHISPERX["segments"]
    assert written["word_segments"] == [w for s in WHISPERX["segments"] for w in s["words"]]  # type: ignore[index]


def test_segments_changed_after_the_rebuild_are_written_from_their_own_words() -> None:
    rebuilt = Transcript.from_dict(WHISPERX).with_word_segments_rebuilt()
    first = rebuilt.segments[0]
    assert first.words is not None
    rebuilt.segments[0] = first.copy(words=[first.words[0].copy(word="Howdy")])
    assert [w["word"] for w in rebuilt.to_dict()["segments"][0]["words"]] == ["Howdy"]
    copied = rebuilt.copy(segments=rebuilt.segments[1:])
    assert [w["word"] for w in copied.to_dict()["segments"][0]["words"]] == ["In", "2024"]


def test_parsed_words_are_written_back_as_read_and_copies_with_their_changes() -> None:
    document = {"segments": [{"start": 0, "end": 2, "text": "a b", "words": [
        {"word": "a", "start": 0, "end": 1, "score": 0.5, "speaker": "S1"},
        {"word": "b", "start": 1, "end": 2, "score": 0.5, "speaker": None}]}]}
    transcript = Transcript.from_dict(document)
    first, second = transcript.segments[0].words or []
    assert [w.to_dict() for w in (first, second)] == [document["segments"][0]["words"][0],  # type: ignore[index]
                                                      {"word": "b", "start": 1, "end": 2, "score": 0.5}]
    moved = first.copy(start=0.25, speaker="S2")
    assert moved.to_dict() == {"word": "a", "start": 0.25, "end": 1, "score": 0.5, "speaker": "S2"}
    assert first.to_dict()["start"] == 0  # the original is untouched


def test_plain_words_share_a_read_only_empty_extra_that_copies_and_pickles() -> None:
    transcript = Transcript.from_dict(WHISPERX)
    hello = transcript.segments[0].words[0]  # type: ignore[index]
    assert hello.extra == {} and not hello.extra and dict(hello.extra) == {}
    with pytest.raises(TypeError):
        hello.extra["note"] = 1  # type: ignore[index]
    assert copy.deepcopy(hello) == hello and pickle.loads(pickle.dumps(hello)) == hello
    assert copy.deepcopy(transcript).to_dict() == transcript.to_dict()


def test_raw_metadata_says_whether_it_was_made_from_an_object_version() -> None:
    meta = RawMetadata(source_key="input/ep1.mp3", source_etag='"abc"')
    assert meta.source_mismatch("input/ep1.mp3", "abc") is None  # quotes do not matter
    assert meta.source_mismatch("input/ep1.m4a", "abc") == "made from 'input/ep1.mp3'"
    assert meta.source_mismatch("input/ep1.mp3", "def") == "made from another version of the object (etag differs)"
