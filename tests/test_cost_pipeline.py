"""The cost breakdown a run carries: in the completion event (GPU, tokens, Lambda) and in the refined
transcript's metadata (GPU and tokens, the same bytes from ``refine`` and from the durable workflow)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from aws_durable_execution_sdk_python.lambda_service import InvocationStatus
from fakes.audio import AudioClips
from fakes.pipeline import PipelineHarness

from podwhisperer.runtime.config import parse_config
from podwhisperer.runtime.cost import run_cost
from podwhisperer.runtime.refine import refine_transcript
from podwhisperer.runtime.transcript import Transcript

pytestmark = pytest.mark.timeout(120)
pytest_plugins = ["pipeline_fixtures"]
SONNET = "us.anthropic.claude-sonnet-4-20250514-v1:0"
LLM_CONFIG = parse_config({"llm_refinement": {"model_id": SONNET}})


def raw(device: str, timings: list[dict[str, Any]]) -> Transcript:
    words = [{"word": w, "start": i * 0.5, "end": i * 0.5 + 0.4, "score": 0.9, "speaker": "SPEAKER_00"}
             for i, w in enumerate(["welcome", "back", "to", "the", "show", "everyone"])]
    return Transcript.from_json(json.dumps({
        "segments": [{"start": 0.0, "end": 3.0, "text": " welcome back to the show everyone", "speaker": "SPEAKER_00",
                      "words": words}],
        "word_segments": words,
        "podwhisperer": {"source_key": "input/ep.mp3", "device": device, "stage_timings": timings}}).encode())


def test_refined_metadata_prices_the_workers_gpu_time() -> None:
    timings = [{"stage": "download", "seconds": 4.0}, {"stage": "transcribe", "seconds": 170.0},
               {"stage": "align", "seconds": 6.0}]
    refined = json.loads(refine_transcript(raw("cuda", timings), parse_config({})).refined.to_json())

    cost = refined["podwhisperer"]["cost"]
    assert cost["gpu"]["seconds"] == 180.0 and cost["gpu"]["usd"] == pytest.approx(180 / 3600 * 1.006, abs=1e-6)
    assert cost["llm"] == {"model": None, "inputTokens": 0, "outputTokens": 0, "usd": 0.0}
    assert "lambda" not in cost and cost["complete"] and cost["totalUsd"] == cost["gpu"]["usd"]

    on_cpu = json.loads(refine_transcript(raw("cpu", timings), parse_config({})).refined.to_json())
    assert on_cpu["podwhisperer"]["cost"]["gpu"]["usd"] is None


def test_run_cost_counts_this_runs_worker_time_only() -> None:
    stats = {"processing_seconds": 360.0, "device": "cuda", "reused": False}
    fresh = run_cost(LLM_CONFIG, worker_stats=stats, reused=False, llm_usage={"usage": {"input_tokens": 2000,
                     "output_tokens": 100}}, lambda_seconds=10.0, lambda_memory_mb=1024)
    assert fresh["gpu"]["usd"] == pytest.approx(0.1006) and fresh["llm"]["usd"] == pytest.approx(0.0075)
    assert fresh["lambda"]["gbSeconds"] == 10.0
    reused = run_cost(LLM_CONFIG, worker_stats=None, reused=True, llm_usage=None, lambda_seconds=1.0,
                      lambda_memory_mb=None)
    assert reused["gpu"]["seconds"] == 0.0 and "lambda" not in reused, "no Lambda line off Lambda (local mode)"


@pytest.mark.parametrize("harness", [{"config": LLM_CONFIG}], indirect=True)
def test_completion_event_carries_the_runs_cost(harness: PipelineHarness, audio_clips: AudioClips) -> None:
    harness.deps = dataclasses.replace(harness.deps, lambda_memory_mb=2048)  # as the Lambda's environment says
    harness.start_worker()

    result = harness.run(harness.stack.upload("input/ep-9.mp3", audio_clips.tone()))

    assert result.status is InvocationStatus.SUCCEEDED, result.error
    detail = json.loads(result.result)
    cost = detail["cost"]
    usage = detail["llm"]["usage"]
    assert usage["input_tokens"] > 0
    assert (cost["llm"]["inputTokens"], cost["llm"]["outputTokens"]) == (usage["input_tokens"], usage["output_tokens"])
    assert cost["llm"]["usd"] == pytest.approx(usage["input_tokens"] / 1000 * 0.003
                                               + usage["output_tokens"] / 1000 * 0.015, abs=1e-6)
    assert cost["lambda"]["memoryMb"] == 2048 and cost["lambda"]["seconds"] >= 0
    worker = detail["transcription"]["workerStats"]  # the real worker job, on this machine's CPU
    assert cost["gpu"]["seconds"] == worker["processing_seconds"] > 0 and cost["gpu"]["usd"] is None
    assert "transcribed on cpu, not on a GPU instance: not priced" in cost["notes"] and not cost["complete"]
    assert cost["totalUsd"] == pytest.approx(sum(part["usd"] or 0 for part in
                                                 (cost["gpu"], cost["llm"], cost["lambda"])), abs=1e-5)
    assert harness.stack.pipeline_events(expect=1)[0]["detail"]["cost"] == cost
    refined = json.loads(harness.stack.objects("output/")["output/ep-9_refined_transcript.json"])
    assert refined["podwhisperer"]["cost"]["llm"] == cost["llm"], "the transcript records its own tokens"
