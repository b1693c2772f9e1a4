"""Failure paths of the durable workflow on offline AWS: worker failure, timeouts, Bedrock, races."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from aws_durable_execution_sdk_python.lambda_service import InvocationStatus
from fakes.audio import AudioClips
from fakes.aws import FakeBedrock
from fakes.pipeline import PipelineHarness

from podwhisperer.runtime.config import parse_config
from podwhisperer.runtime.pipeline import CHECKPOINT_LIMIT_BYTES

pytestmark = pytest.mark.timeout(120)
pytest_plugins = ["pipeline_fixtures"]


def failed_event(h: PipelineHarness) -> dict[str, object]:
    events = h.stack.pipeline_events(expect=1)
    assert [e["detail-type"] for e in events] == ["Pipeline Failed"]
    detail: dict[str, object] = events[0]["detail"]
    return detail


def assert_transcription_timed_out(h: PipelineHarness, result: Any) -> None:
    assert result.status is InvocationStatus.FAILED
    detail = failed_event(h)
    assert detail["failedStep"] == "transcribe"
    assert detail["error"]["type"] == "CallbackTimeoutError"  # type: ignore[index]


def assert_no_final_outputs(h: PipelineHarness) -> None:
    finals = [k for k in h.stack.objects("output/") if not k.endswith("_raw_transcript.json")]
    assert finals == []


def test_worker_failure_callback_fails_the_run_with_a_failure_event(
    harness: PipelineHarness, audio_clips: AudioClips,
) -> None:
    harness.start_worker(lambda job: "fail")
    result = harness.run(harness.stack.upload("input/broken.mp3", audio_clips.tone()))

    assert result.status is InvocationStatus.FAILED
    assert "cannot decode audio" in result.error.message
    detail = failed_event(harness)
    assert detail["failedStep"] == "transcribe" and detail["inputKey"] == "input/broken.mp3"
    assert "cannot decode audio" in detail["error"]["message"]  # type: ignore[index]
    assert_no_final_outputs(harness)


def test_an_upload_that_is_not_audio_fails_the_run_with_the_real_workers_message(harness: PipelineHarness) -> None:
    harness.start_worker()  # no fault: the real job's ffprobe check rejects the file
    result = harness.run(harness.stack.upload("input/notes.mp3", b"a text file named .mp3, not audio"))

    assert result.status is InvocationStatus.FAILED
    detail = failed_event(harness)
    assert detail["failedStep"] == "transcribe" and detail["inputKey"] == "input/notes.mp3"
    assert "not a readable audio or video file" in detail["error"]["message"]  # type: ignore[index]
    assert harness.stack.objects("output/") == {}, "nothing written, not even a raw transcript"
    assert harness.shim.kinds(harness.worker.jobs[0]["callback_id"]).count("fail") == 1


@pytest.mark.parametrize("harness", [{"callback_seconds": (2, 0)}], indirect=True)
def test_callback_timeout_fails_the_run(harness: PipelineHarness, audio_clips: AudioClips) -> None:
    harness.start_worker(lambda job: "silent")
    result = harness.run(harness.stack.upload("input/slow.mp3", audio_clips.tone()), timeout=30)
    assert_transcription_timed_out(harness, result)


@pytest.mark.parametrize("harness", [{"callback_seconds": (60, 1)}], indirect=True)
def test_heartbeat_timeout_notices_a_dead_worker_long_before_the_job_timeout(
    harness: PipelineHarness, audio_clips: AudioClips,
) -> None:
    harness.start_worker(lambda job: "heartbeat-then-silent")
    result = harness.run(harness.stack.upload("input/dead.mp3", audio_clips.tone()), timeout=30)
    assert_transcription_timed_out(harness, result)
    assert "heartbeat" in harness.shim.kinds(harness.worker.jobs[0]["callback_id"])


def _llm_config(on_error: str, max_retries: int = 0, chunk_max_words: int = 100) -> object:
    return parse_config({
        "speakers": [{"name": "Alice"}, {"name": "Bob"}],
        "transcription": {"hotwords": ["Bedrock", "Pulumi"]},
        "llm_refinement": {"model_id": "eu.anthropic.claude-test", "on_error": on_error, "max_retries": max_retries,
                           "chunk_max_words": chunk_max_words},
    })


@pytest.mark.parametrize("harness", [{"config": _llm_config("skip")}], indirect=True)
def test_llm_refinement_runs_each_chunk_as_its_own_checkpointed_step(
    harness: PipelineHarness, audio_clips: AudioClips,
) -> None:
    harness.start_worker()
    result = harness.run(harness.stack.upload("input/llm.mp3", audio_clips.tone()))

    assert result.status is InvocationStatus.SUCCEEDED, result.error
    chunks = result.get_context("llm-chunks")
    assert len(chunks.child_operations) > 3  # one map iteration per chunk
    detail = json.loads(result.result)
    assert detail["llm"]["usage"]["input_tokens"] == 100 * harness.bedrock.calls
    assert detail["transcript"]["speakerNames"] == ["Alice", "Bob"]
    assert all("Pulumi" in prompt for prompt in harness.bedrock.system_prompts)  # the podcast's vocabulary


@pytest.mark.parametrize("harness", [{"config": _llm_config("skip"), "bedrock": FakeBedrock(fail=True)}],
                         indirect=True)
def test_bedrock_failure_with_on_error_skip_keeps_the_transcript(
    harness: PipelineHarness, audio_clips: AudioClips,
) -> None:
    harness.start_worker()
    result = harness.run(harness.stack.upload("input/skip.mp3", audio_clips.tone()))

    assert result.status is InvocationStatus.SUCCEEDED, result.error
    detail = json.loads(result.result)
    assert detail["llm"]["chunkStatuses"] == {"failed": detail["llm"]["chunks"]}
    assert detail["steps"]["llm-refinement"]["chunks"]["failed"] == detail["llm"]["byStage"]["llm-refinement"]["chunks"]
    assert detail["steps"]["chapters"]["status"] == "skipped"  # the chapters step could not reach Bedrock either
    assert "output/skip_caption.vtt" in harness.stack.objects("output/")


@pytest.mark.parametrize("harness", [{"config": _llm_config("fail"), "bedrock": FakeBedrock(fail=True)}],
                         indirect=True)
def test_bedrock_failure_with_on_error_fail_fails_the_run(harness: PipelineHarness, audio_clips: AudioClips) -> None:
    harness.start_worker()
    result = harness.run(harness.stack.upload("input/fail.mp3", audio_clips.tone()))

    assert result.status is InvocationStatus.FAILED
    detail = failed_event(harness)
    assert detail["failedStep"] == "llm-refinement"
    assert "AccessDenied" in str(detail["error"])
    assert_no_final_outputs(harness)


@pytest.mark.parametrize("harness", [{"config": _llm_config("fail", max_retries=2, chunk_max_words=5000),
                                      "bedrock": FakeBedrock(fail=True)}], indirect=True)
def test_a_chunk_that_spent_its_bedrock_retries_is_not_retried_again_as_a_step(
    harness: PipelineHarness, audio_clips: AudioClips,
) -> None:
    harness.start_worker()
    result = harness.run(harness.stack.upload("input/denied.mp3", audio_clips.tone()))

    assert result.status is InvocationStatus.FAILED
    assert failed_event(harness)["failedStep"] == "llm-refinement"
    assert harness.bedrock.calls == 1  # access denied: no retry can fix it, at either level


def test_two_uploads_of_the_same_name_at_once_publish_the_newer_one_only(
    harness: PipelineHarness, audio_clips: AudioClips,
) -> None:
    harness.start_worker()
    first = harness.stack.upload("input/race.mp3", audio_clips.tone(440))
    second = harness.stack.upload("input/race.mp3", audio_clips.tone(440, seconds=2.0))

    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda args: harness.run(*args), [(first, 60, "first"), (second, 60, "second")]))

    assert all(r.status is InvocationStatus.SUCCEEDED for r in runs), [r.error for r in runs]
    statuses = sorted(json.loads(r.result)["status"] for r in runs)
    assert statuses in (["completed", "ignored"], ["completed", "superseded"])
    completed = next(json.loads(r.result) for r in runs if json.loads(r.result)["status"] == "completed")
    assert completed["etag"] == second["detail"]["object"]["eTag"]
    refined = json.loads(harness.stack.objects("output/")["output/race_refined_transcript.json"])
    assert refined["podwhisperer"]["source_etag"] == completed["etag"]
    assert [e["detail-type"] for e in harness.stack.pipeline_events(expect=1)] == ["Pipeline Completed"]


@pytest.mark.slow
@pytest.mark.parametrize("harness", [{"worker_minutes": 180}], indirect=True)
def test_every_checkpoint_of_a_three_hour_episode_stays_far_below_the_limit(
    harness: PipelineHarness, audio_clips: AudioClips,
) -> None:
    harness.start_worker()
    result = harness.run(harness.stack.upload("input/marathon.mp3", audio_clips.tone()), timeout=120)

    assert result.status is InvocationStatus.SUCCEEDED, result.error
    detail = json.loads(result.result)
    assert detail["transcript"]["words"] > 20_000
    sizes = {op.name: len(json.dumps(getattr(op, "result", None) or "")) for op in result.get_all_operations()}
    assert max(sizes.values()) < CHECKPOINT_LIMIT_BYTES // 8, sizes
