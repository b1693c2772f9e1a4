"""The post-processing stages of :data:`~podwhisperer.runtime.stages.STAGES` as durable steps.

Every stage reads the previous stage's object and writes its own through the :class:`StageStore`;
a plain stage is one step, the chunked (LLM) stage is a plan step, a ``map`` with one checkpointed
step per chunk (its recorded answers are what a re-run applies), and an apply step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from aws_durable_execution_sdk_python import DurableContext
from aws_durable_execution_sdk_python.concurrency.models import BatchResult
from aws_durable_execution_sdk_python.config import MapConfig, StepConfig
from aws_durable_execution_sdk_python.serdes import JsonSerDes
from aws_durable_execution_sdk_python.types import StepContext

from podwhisperer.runtime.bedrock import ConverseClient
from podwhisperer.runtime.checkpoints import RetryStrategy, guard_checkpoint, limited
from podwhisperer.runtime.config import LlmRefinementConfig, PipelineConfig
from podwhisperer.runtime.event_details import sum_llm_usage
from podwhisperer.runtime.stage_store import StageStore
from podwhisperer.runtime.stages import STAGES, ChunkedRun, Stage, hash_material
from podwhisperer.runtime.step_results import RawSnapshot, StageResult, StagesResult

T = TypeVar("T")
Json = dict[str, Any]


def combined_usage(usages: dict[str, Any]) -> dict[str, Any] | None:
    """Every model-calling stage's usage summed (tokens, chunks, chunk statuses), with the per-stage summaries."""
    if not usages:
        return None
    total: dict[str, Any] = {"chunks": 0, "chunkStatuses": {}, "usage": {}}
    for summary in usages.values():
        total["chunks"] += int(summary.get("chunks", 0))
        for group in ("chunkStatuses", "usage"):
            for name, value in (summary.get(group) or {}).items():
                total[group][name] = total[group].get(name, 0) + int(value)
    total["byStage"] = dict(usages)
    return total


class StepRunner(Protocol):
    """What the stages need from the workflow run: named steps, the context, retries, Bedrock and the log."""

    context: DurableContext
    current_step: str

    def step(self, name: str, func: Callable[[StepContext], T], *, retry: RetryStrategy | None = None) -> T: ...

    def retry_strategy(self) -> RetryStrategy: ...

    def bedrock(self, llm_cfg: LlmRefinementConfig) -> ConverseClient: ...

    def log(self, message: str, **extra: Any) -> None: ...


class StageSteps:
    """Runs every stage for one execution."""

    def __init__(self, run: StepRunner, stages: StageStore, config: PipelineConfig) -> None:
        self.run = run
        self.stages = stages
        self.config = config

    def run_all(self, work: str, raw: RawSnapshot) -> StagesResult:
        """Every stage in registry order; a stage that is not configured leaves no step (see ``stages``)."""
        previous: StageResult = {"key": raw["key"], "chain": raw["chain"], "stats": None}
        stage_stats: dict[str, Any] = {}
        usages: dict[str, Any] = {}
        for stage in STAGES:
            settings = stage.settings(self.config)
            if settings is None:
                self.run.current_step = stage.name
                self.run.log(f"{stage.name} not configured; skipping")
                previous = {**previous, "stats": {"skipped": "not configured"}}
            elif stage.chunked is not None:
                previous = self._chunked(work, stage.name, stage.chunked, settings, previous)
                if previous["stats"].get("usage_summary") is not None:
                    usages[stage.name] = previous["stats"]["usage_summary"]
            else:
                previous = self._plain(work, stage, settings, previous)
            stage_stats[stage.name] = previous["stats"]
        return {**previous, "llm": combined_usage(usages), "stage_stats": stage_stats}

    def _plain(self, work: str, stage: Stage[Any], settings: Any, previous: StageResult) -> StageResult:
        chain, key = self.stages.address(work, stage.name, previous["chain"], hash_material(settings))

        def run(_: StepContext) -> StageResult:
            stats = self.stages.run_once(key, previous["key"], lambda t: stage.run(t, settings))
            return {"key": key, "chain": chain, "stats": stats}

        return self.run.step(stage.name, run)

    def _chunked(self, work: str, name: str, chunked: ChunkedRun[Any], settings: Any,
                 previous: StageResult) -> StageResult:
        """plan (a step) → one checkpointed step per chunk (a ``map``) → apply (the stage's own step)."""
        chain, key = self.stages.address(work, name, previous["chain"], hash_material(settings))
        plan = self.run.step(f"{chunked.step_prefix}-plan", lambda _: self._plan(previous["key"], key, chunked,
                                                                                 settings))
        if plan["committed"] is not None:
            stats = plan["committed"]
        else:
            self.run.current_step = name
            results = self._map_chunks(previous["key"], plan["chunks"], chunked, settings)
            stats = self.run.step(name, lambda _: self._apply(previous["key"], key, results, chunked, settings))
        return {"key": key, "chain": chain, "stats": stats}

    def _plan(self, source_key: str, key: str, chunked: ChunkedRun[Any], settings: Any) -> Json:
        committed = self.stages.committed_stats(key)
        if committed is not None:
            return {"committed": committed, "chunks": []}
        return {"committed": None, "chunks": chunked.plan(self.stages.transcripts.load(source_key), settings)}

    def _map_chunks(self, source_key: str, chunks: Sequence[Json], chunked: ChunkedRun[Any],
                    settings: Any) -> list[Json]:
        # each chunk spends its own client retries; the step retries only what never_retry allows
        chunk_retry = limited(self.run.retry_strategy(), chunked.max_attempts(settings))

        def refine_one(child: DurableContext, chunk: Json, index: int, _: Sequence[Json]) -> Json:
            def call(_: StepContext) -> Json:
                transcript = self.stages.transcripts.load(source_key)
                client = self.run.bedrock(chunked.model(settings))
                return guard_checkpoint(chunked.refine_chunk(transcript, chunk, settings, client))

            config = StepConfig(retry_strategy=chunk_retry, serdes=JsonSerDes())
            result: Json = child.step(call, name=f"{chunked.step_prefix}-chunk-{index}", config=config)
            return result

        batch: BatchResult[Json] = self.run.context.map(
            list(chunks), refine_one, name=f"{chunked.step_prefix}-chunks",
            config=MapConfig(max_concurrency=chunked.concurrency(settings)))
        batch.throw_if_error()
        return list(batch.get_results())

    def _apply(self, source_key: str, key: str, results: list[Json], chunked: ChunkedRun[Any], settings: Any) -> Json:
        committed = self.stages.committed_stats(key)
        if committed is not None:
            return committed
        outcome = chunked.apply(self.stages.transcripts.load(source_key), results, settings)
        return self.stages.commit(key, outcome, {"usage_summary": sum_llm_usage(results)})  # per-chunk usage, summed
