"""Post-processing in one process: raw transcript in, refined transcript and captions out.

``podwhisperer refine`` and the benchmarks run the stages of :mod:`podwhisperer.runtime.stages` here in
one go; the durable workflow iterates the same registry one checkpointed step at a time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from podwhisperer.runtime.captions import render_captions
from podwhisperer.runtime.config import PipelineConfig
from podwhisperer.runtime.cost import with_cost
from podwhisperer.runtime.event_details import sum_llm_usage
from podwhisperer.runtime.podcast.outputs import Publication
from podwhisperer.runtime.stages import STAGES, ChunkedRun
from podwhisperer.runtime.transcript import StepOutcome, Transcript

if TYPE_CHECKING:  # the LLM modules pull in boto3, which `refine` without an LLM never needs
    from podwhisperer.runtime.bedrock import ConverseClient

S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class StageReport:
    name: str
    status: str  # "done" or "skipped"
    duration_ms: float
    stats: dict[str, Any]
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class RefineResult:
    refined: Transcript
    captions: dict[str, str]
    stages: list[StageReport] = field(default_factory=list)


def refine_transcript(
    raw: Transcript, config: PipelineConfig, llm_client: ConverseClient | None = None,
    publication: Publication | None = None,
) -> RefineResult:
    """Run every stage of :data:`~podwhisperer.runtime.stages.STAGES` in order (the LLM stage only when
    configured and a client is given), then render the captions (``publication``: names and URLs for the
    podcast formats)."""
    reports: list[StageReport] = []
    usages: dict[str, Any] = {}  # per model-calling stage, summed as the workflow sums them
    transcript = raw
    for stage in STAGES:
        settings = stage.settings(config)
        skip_reason = stage.why_skipped(settings)
        if skip_reason is None and stage.chunked is not None and llm_client is None:
            skip_reason = "no Bedrock client (AWS credentials) available"
        if skip_reason:
            reports.append(StageReport(stage.report_name, "skipped", 0.0, {}, skip_reason))
            continue
        started = time.perf_counter()
        if stage.chunked is not None:
            assert llm_client is not None
            outcome, usages[stage.name] = run_chunked(stage.chunked, transcript, settings, llm_client)
        else:
            outcome = stage.run(transcript, settings)
        reports.append(StageReport(stage.report_name, "done", _ms_since(started), outcome.stats))
        transcript = outcome.transcript
    transcript = with_cost(transcript.with_word_segments_rebuilt(), config, {"byStage": usages} if usages else None)
    started = time.perf_counter()
    captions = render_captions(transcript, config.captions, publication)
    reports.append(StageReport("captions", "done", _ms_since(started), {"formats": sorted(captions)}))
    return RefineResult(refined=transcript, captions=captions, stages=reports)


def run_chunked(chunked: ChunkedRun[S], transcript: Transcript, settings: S,
                client: ConverseClient) -> tuple[StepOutcome, dict[str, Any]]:
    """plan → every chunk in a bounded thread pool → apply, in this process; also the chunks' usage summed."""
    from podwhisperer.runtime.adapters.llm import map_concurrently

    chunks = chunked.plan(transcript, settings)
    results = map_concurrently(lambda chunk: chunked.refine_chunk(transcript, chunk, settings, client), chunks,
                               chunked.concurrency(settings))
    return chunked.apply(transcript, results, settings), sum_llm_usage(results)


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
