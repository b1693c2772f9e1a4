"""Post-processing in one process: raw transcript in, refined transcript and captions out.

This is the short pipeline of named stages that ``podwhisperer refine`` and the benchmark run;
the durable Lambda runs the same transforms one checkpointed step at a time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from podwhisperer.runtime.captions import render_captions
from podwhisperer.runtime.config import PipelineConfig
from podwhisperer.runtime.transcript import StepOutcome, Transcript
from podwhisperer.runtime.transforms.normalize import normalize_segments
from podwhisperer.runtime.transforms.replacements import apply_replacements
from podwhisperer.runtime.transforms.timing_gaps import fill_timing_gaps

if TYPE_CHECKING:  # the LLM modules pull in boto3, which `refine` without an LLM never needs
    from podwhisperer.runtime.bedrock import ConverseClient

Stage = Callable[[Transcript], StepOutcome]


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
    raw: Transcript, config: PipelineConfig, llm_client: ConverseClient | None = None
) -> RefineResult:
    """Run fill gaps → replacements → LLM (when configured and a client is given) → normalize → captions."""
    reports: list[StageReport] = []
    transcript = raw
    for name, stage, skip_reason in _stages(config, llm_client):
        if skip_reason:
            reports.append(StageReport(name, "skipped", 0.0, {}, skip_reason))
            continue
        started = time.perf_counter()
        outcome = stage(transcript)
        reports.append(StageReport(name, "done", _ms_since(started), outcome.stats))
        transcript = outcome.transcript
    transcript = transcript.with_word_segments_rebuilt()
    started = time.perf_counter()
    captions = render_captions(transcript, config.captions)
    reports.append(StageReport("captions", "done", _ms_since(started), {"formats": sorted(captions)}))
    return RefineResult(refined=transcript, captions=captions, stages=reports)


def _stages(config: PipelineConfig, llm_client: ConverseClient | None) -> Sequence[tuple[str, Stage, str | None]]:
    llm = config.llm_refinement

    def run_llm(t: Transcript) -> StepOutcome:
        from podwhisperer.runtime.transforms.llm import refine_with_llm

        assert llm is not None and llm_client is not None
        return refine_with_llm(t, llm, config.speakers, llm_client, vocabulary=config.transcription.hotwords)

    return (
        ("fill_timing_gaps", lambda t: fill_timing_gaps(t, config.timing_gaps),
         None if config.timing_gaps.enabled else "disabled in config"),
        ("replacements", lambda t: apply_replacements(t, config.replacement_rules),
         None if config.replacement_rules else "no replacement rules configured"),
        ("llm_refinement", run_llm,
         "llm_refinement not configured" if llm is None else
         ("no Bedrock client (AWS credentials) available" if llm_client is None else None)),
        ("normalization", lambda t: normalize_segments(t, config.normalization),
         None if config.normalization.normalize else "disabled in config"),
    )


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
