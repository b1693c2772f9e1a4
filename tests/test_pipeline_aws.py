"""The durable workflow end to end on offline AWS: moto S3/SQS/EventBridge, the durable test runner,
the real worker (poller and job, fake transcriber) answering through the loopback callback shim."""

from __future__ import annotations

import json

import pytest
from aws_durable_execution_sdk_python.lambda_service import InvocationStatus
from fakes.audio import AudioClips
from fakes.aws import BUCKET, raw_key_for
from fakes.pipeline import PipelineHarness

from podwhisperer.runtime.config import PipelineConfig, parse_config

pytestmark = pytest.mark.timeout(120)
pytest_plugins = ["pipeline_fixtures"]


def outputs_of(h: PipelineHarness) -> dict[str, bytes]:
    return h.stack.objects("output/")


def test_success_path_writes_every_output_and_one_completion_event(
    harness: PipelineHarness, audio_clips: AudioClips,
) -> None:
    harness.start_worker()
    event = harness.stack.upload("input/episode-42.mp3", audio_clips.tone())

    result = harness.run(event)

    assert result.status is InvocationStatus.SUCCEEDED, result.error
    detail = json.loads(result.result)
    outputs = outputs_of(harness)
    expected = {"output/episode-42_raw_transcript.json", "output/episode-42_refined_transcript.json"}
    expected |= {f"output/episode-42_caption.{ext}" for ext in ("vtt", "srt", "json", "txt", "md")}
    expected |= {f"output/episode-42{suffix}" for suffix in (
        "_podcast_transcript.json", "_podcast_transcript.html", "_transcript.html", "_chapters.json", "_podcast.xml")}
    assert set(outputs) == expected
    assert outputs["output/episode-42_caption.vtt"].startswith(b"WEBVTT")
    published = harness.stack.client("s3").head_object(Bucket=BUCKET, Key="output/episode-42_caption.vtt")
    assert published["ContentType"] == "text/vtt; charset=utf-8"
    refined = json.loads(outputs["output/episode-42_refined_transcript.json"])
    assert refined["segments"] and refined["podwhisperer"]["source_key"] == "input/episode-42.mp3"

    events = harness.stack.pipeline_events(expect=1)
    assert [e["detail-type"] for e in events] == ["Pipeline Completed"]
    sent = events[0]["detail"]
    assert sent == detail
    assert sent["inputKey"] == "input/episode-42.mp3" and sent["bucket"] == BUCKET
    assert sent["outputKeys"]["captions"]["vtt"] == "output/episode-42_caption.vtt"
    assert sent["outputKeys"]["rawTranscript"] == raw_key_for("input/episode-42.mp3")
    assert sent["transcript"]["words"] > 100 and sent["transcript"]["speakers"] == 2
    worker_stats = sent["transcription"]["workerStats"]  # the real job's callback stats, passed through
    assert worker_stats["reused"] is False and worker_stats["model"] == "fake"
    assert {"download", "validate_audio", "transcribe", "upload_raw_transcript"} <= set(worker_stats["stage_seconds"])
    assert sent["timing"]["pipelineDurationMs"] >= 0

    names = [op.name for op in result.operations]
    assert names == ["capture-start", "resolve-input", "episode-context", "transcribe", "raw-transcript",
                     "fill-timing-gaps", "replacements", "normalization", "chapters-offline", "finalize-transcript",
                     "captions", "publish", "completion-event"]
    assert sent["episodeContext"] == {"key": None}  # no sidecar was uploaded
    assert sent["outputKeys"]["captions"]["chapters"] == "output/episode-42_chapters.json"
    assert len(harness.worker.jobs) == 1 and harness.worker.jobs[0]["etag"] == detail["etag"] != ""


@pytest.mark.parametrize("harness", [{"config": parse_config(
    {"replacement_rules": [{"type": "literal", "search": "lambda", "replacement": "Lambda", "whole_word": True}]})}],
    indirect=True)
def test_refined_transcript_word_segments_carry_the_edited_words(
    harness: PipelineHarness, audio_clips: AudioClips,
) -> None:
    harness.start_worker()
    result = harness.run(harness.stack.upload("input/edited.mp3", audio_clips.tone()))

    assert result.status is InvocationStatus.SUCCEEDED, result.error
    refined = json.loads(outputs_of(harness)["output/edited_refined_transcript.json"])
    assert refined["word_segments"] == [w for s in refined["segments"] for w in s["words"]]  # as `refine` writes
    assert "Lambda" in {w["word"] for w in refined["word_segments"]}
    assert "lambda" not in {w["word"] for w in refined["word_segments"]}


def test_non_audio_and_empty_uploads_end_early_without_a_job(harness: PipelineHarness) -> None:
    harness.start_worker()
    notes = harness.run(harness.stack.upload("input/notes.txt", b"hello"), name="notes")
    empty = harness.run(harness.stack.upload("input/empty.mp3", b""), name="empty")

    for result, reason in ((notes, "not an audio file"), (empty, "empty")):
        assert result.status is InvocationStatus.SUCCEEDED
        body = json.loads(result.result)
        assert body["status"] == "ignored" and reason in body["reason"]
    assert harness.worker.jobs == []
    assert outputs_of(harness) == {}
    assert harness.stack.pipeline_events() == []


@pytest.mark.parametrize("key", [
    "input/my episode 1.mp3",
    "input/c++ talk+more.m4a",
    "input/épisode – ünïcødé 🎙.mp3",
    "input/shows/season 2/ep+3.wav",
])
def test_awkward_keys_are_decoded_and_named_consistently(
    harness: PipelineHarness, key: str, audio_clips: AudioClips,
) -> None:
    harness.start_worker()
    result = harness.run(harness.stack.upload(key, audio_clips.tone()))

    assert result.status is InvocationStatus.SUCCEEDED, result.error
    detail = json.loads(result.result)
    assert detail["inputKey"] == key
    assert harness.worker.jobs[0]["s3_key"] == key
    stem = key[len("input/"):].rsplit(".", 1)[0]
    assert f"output/{stem}_caption.vtt" in outputs_of(harness)


def test_form_encoded_event_keys_from_real_eventbridge_are_decoded(
    harness: PipelineHarness, audio_clips: AudioClips,
) -> None:
    """Real S3→EventBridge events form-encode keys (space as '+', '+' as %2B); moto sends them raw."""
    harness.start_worker()
    key = "input/a b+c é.mp3"
    event = harness.stack.upload(key, audio_clips.tone())
    event["detail"]["object"]["key"] = "input/a+b%2Bc+%C3%A9.mp3"

    result = harness.run(event)

    assert result.status is InvocationStatus.SUCCEEDED, result.error
    assert json.loads(result.result)["inputKey"] == key


def _with_skip() -> PipelineConfig:
    return parse_config({"transcription": {"skip_if_output_exists": True}})


@pytest.mark.parametrize("harness", [{"config": _with_skip()}], indirect=True)
def test_skip_if_exists_reuses_the_raw_transcript_only_for_the_same_etag(
    harness: PipelineHarness, audio_clips: AudioClips,
) -> None:
    harness.start_worker()
    first = harness.run(harness.stack.upload("input/ep.mp3", audio_clips.tone(440)), name="first")
    assert first.status is InvocationStatus.SUCCEEDED
    assert len(harness.worker.jobs) == 1
    harness.stack.pipeline_events(expect=1)

    same = harness.stack.upload("input/ep.mp3", audio_clips.tone(440))  # same bytes: same etag
    again = harness.run(same, name="same")
    assert again.status is InvocationStatus.SUCCEEDED
    assert len(harness.worker.jobs) == 1, "same etag must not transcribe again"
    assert json.loads(again.result)["transcription"]["reused"] is True

    changed = harness.run(harness.stack.upload("input/ep.mp3", audio_clips.tone(880)), name="changed")
    assert changed.status is InvocationStatus.SUCCEEDED
    assert len(harness.worker.jobs) == 2, "a new etag must be transcribed"
    assert json.loads(changed.result)["transcription"]["reused"] is False
