"""Per-episode context and chapters through the durable workflow on offline AWS (moto, the durable test runner)."""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any

import pytest
from aws_durable_execution_sdk_python.lambda_service import InvocationStatus
from fakes.audio import AudioClips
from fakes.aws import BUCKET, FakeBedrock
from fakes.pipeline import PipelineHarness

from podwhisperer.runtime.config import parse_config

pytestmark = pytest.mark.timeout(120)
pytest_plugins = ["pipeline_fixtures"]

SIDECAR = b"""\
title: "Episode 42: Serverless GPUs"
speakers: [{name: Grace Hopper, description: guest}]
vocabulary: [WhisperX]
language: en
"""


class ChaptersBedrock(FakeBedrock):
    """Answers refinement chunks like FakeBedrock and chapter chunks with chapters (out of order, one too close)."""

    def converse(self, **kwargs: Any) -> dict[str, Any]:
        if "chapter markers" not in kwargs["system"][0]["text"]:
            return super().converse(**kwargs)
        with self._lock:
            self.calls += 1
            self.system_prompts.append(kwargs["system"][0]["text"])
        answer = {"summary": "Alice and Bob talk about serverless.", "people": ["Alice"], "things": ["Lambda"],
                  "keywords": ["serverless"],
                  "chapters": [{"start": 70, "title": "Costs"}, {"start": 0, "title": "Intro"},
                               {"start": 75, "title": "Too close"}]}
        return {"output": {"message": {"role": "assistant", "content": [{"text": json.dumps(answer)}]}},
                "stopReason": "end_turn", "usage": {"inputTokens": 500, "outputTokens": 50, "totalTokens": 550}}


CHAPTERS_CONFIG = parse_config({
    "speakers": [{"name": "Alice"}, {"name": "Bob"}],
    "llm_refinement": {"model_id": "eu.anthropic.claude-test"},
    "chapters": {"chunk_max_words": 250, "min_chapter_seconds": 30},
    "publishing": {"public_base_url": "https://cdn.example.com/pod"},
})


def test_the_sidecar_is_not_audio_and_its_context_reaches_the_worker_and_the_event(
    harness: PipelineHarness, audio_clips: AudioClips,
) -> None:
    harness.start_worker()
    ignored = harness.run(harness.stack.upload("input/ep42.podwhisperer.yaml", SIDECAR))
    assert json.loads(ignored.result)["status"] == "ignored"
    assert harness.worker.jobs == []

    result = harness.run(harness.stack.upload("input/ep42.mp3", audio_clips.tone()))

    assert result.status is InvocationStatus.SUCCEEDED, result.error
    [job] = harness.worker.jobs
    assert job["config_overrides"] == {
        "episode": {"title": "Episode 42: Serverless GPUs"},
        "speakers": [{"name": "Grace Hopper", "description": "guest"}],
        "transcription": {"hotwords": ["WhisperX"], "language": "en"}}
    detail = json.loads(result.result)
    assert detail["episodeContext"] == {"key": "input/ep42.podwhisperer.yaml", "title": "Episode 42: Serverless GPUs",
                                        "speakers": [{"name": "Grace Hopper", "description": "guest"}],
                                        "vocabulary": ["WhisperX"], "language": "en"}
    page = harness.stack.objects("output/")["output/ep42_transcript.html"].decode()
    assert "<title>Episode 42: Serverless GPUs</title>" in page


def test_an_invalid_sidecar_fails_the_run_naming_the_file(harness: PipelineHarness, audio_clips: AudioClips) -> None:
    harness.start_worker()
    harness.stack.upload("input/bad.podwhisperer.yaml", b"titel: typo\n")
    result = harness.run(harness.stack.upload("input/bad.mp3", audio_clips.tone()))

    assert result.status is InvocationStatus.FAILED
    [event] = harness.stack.pipeline_events(expect=1)
    assert event["detail"]["failedStep"] == "episode-context"
    message = event["detail"]["error"]["message"]
    assert "input/bad.podwhisperer.yaml: titel: unknown key (did you mean 'title'?)" in message
    assert harness.worker.jobs == []  # nothing transcribed with the wrong context


@pytest.mark.parametrize("harness", [{"config": CHAPTERS_CONFIG, "bedrock": ChaptersBedrock()}], indirect=True)
def test_chapters_run_chunk_by_chunk_and_publish_chapters_show_notes_and_the_rss_snippet(
        harness: PipelineHarness, audio_clips: AudioClips) -> None:
    harness.start_worker()
    result = harness.run(harness.stack.upload("input/chapters.mp3", audio_clips.tone()))

    assert result.status is InvocationStatus.SUCCEEDED, result.error
    chunks = result.get_context("chapters-chunks")
    assert len(chunks.child_operations) > 1  # one checkpointed step per chunk, then one combining step
    names = [op.name for op in result.operations]
    assert names.index("chapters-plan") < names.index("chapters-chunks") < names.index("chapters")
    detail = json.loads(result.result)
    keys = detail["outputKeys"]["captions"]
    objects = harness.stack.objects("output/")
    chapters = json.loads(objects[keys["chapters"]])
    assert chapters["version"] == "1.2.0" and chapters["chapters"][0] == {"startTime": 0, "title": "Intro"}
    starts = [c["startTime"] for c in chapters["chapters"]]
    assert starts == sorted(starts) and all(b - a >= 30 for a, b in pairwise(starts))
    notes = objects[keys["show_notes"]].decode()
    assert "Alice and Bob talk about serverless." in notes and "00:00:00 Intro" in notes
    assert 'url="https://cdn.example.com/pod/chapters_chapters.json"' in objects[keys["rss"]].decode()
    usage = detail["llm"]["byStage"]["chapters"]
    assert usage["usage"]["input_tokens"] == 500 * usage["chunks"]
    assert detail["steps"]["chapters"]["fixes"]  # the out-of-order and too-close answers were fixed and reported
    head = harness.stack.client("s3").head_object(Bucket=BUCKET, Key=keys["chapters"])
    assert head["ContentType"] == "application/json+chapters"
