"""What an episode costs: the actual breakdown of a finished run, and the estimate for one not run yet.

Pure functions of the price table (:class:`~podwhisperer.runtime.pricing.CostConfig`) and measured
numbers; no I/O. A price the table lacks (an unknown Bedrock model) leaves that line's dollars ``None``
and says so in ``notes`` rather than guessing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from podwhisperer.runtime.config import PROFILE_REGIONS, PipelineConfig
from podwhisperer.runtime.pricing import CostConfig, TokenPrice
from podwhisperer.runtime.transcript import Transcript

COST_KEY = "cost"
"""Where the refined transcript's metadata keeps what the transcript cost to make (GPU and LLM)."""


def gpu_price_per_hour(cost: CostConfig, capacity: str, instance_type: str | None = None) -> float:
    """USD per hour of the worker's instance (spot when the fleet runs on spot), management fee included."""
    price = cost.gpu_instances.get(instance_type or "") or cost.gpu_instances[cost.gpu_instance_type]
    hourly = price.spot_per_hour if capacity == "spot" and price.spot_per_hour is not None else price.on_demand_per_hour
    return hourly * (1 + cost.managed_instances_fee_fraction)


def bedrock_price(cost: CostConfig, model_id: str) -> TokenPrice | None:
    """The longest ``bedrock_models`` key that prefixes the model id (cross-region prefix and ARN stripped)."""
    name = model_id.rsplit("/", 1)[-1]
    head, _, rest = name.partition(".")
    if head in PROFILE_REGIONS and rest:
        name = rest
    matches = [key for key in cost.bedrock_models if name.startswith(key)]
    return cost.bedrock_models[max(matches, key=len)] if matches else None


def episode_cost(config: PipelineConfig, *, gpu_seconds: float | None, device: str | None = "cuda",
                 input_tokens: int = 0, output_tokens: int = 0, llm_calls: Sequence[LlmCall] | None = None,
                 lambda_seconds: float | None = None, lambda_memory_mb: int | None = None,
                 instance_type: str | None = None) -> dict[str, Any]:
    """An episode's cost breakdown: GPU seconds × price, tokens × price and, when ``lambda_seconds`` is
    given, the Lambda's GB-seconds and invocation. Carried by the completion event (all three) and the
    refined transcript's metadata (GPU and LLM: what the transcript itself cost to make)."""
    cost = config.cost
    notes: list[str] = []
    hourly = gpu_price_per_hour(cost, config.worker.capacity, instance_type)
    gpu_usd: float | None = None
    if gpu_seconds is None:
        notes.append("the worker reported no processing time")
    elif device is not None and not device.startswith("cuda"):
        notes.append(f"transcribed on {device}, not on a GPU instance: not priced")
    else:
        gpu_usd = gpu_seconds / 3600 * hourly
    model = config.llm_refinement.model_id if config.llm_refinement else None
    calls = list(llm_calls) if llm_calls is not None else (
        [LlmCall("llm-refinement", model, input_tokens, output_tokens)] if model else [])
    llm, llm_usd = _llm_line(cost, model, calls, notes)
    breakdown: dict[str, Any] = {
        "currency": "USD",
        "gpu": {"seconds": _round(gpu_seconds, 3), "device": device,
                "instanceType": instance_type or cost.gpu_instance_type, "capacity": config.worker.capacity,
                "pricePerHour": round(hourly, 6), "usd": _round(gpu_usd, 6)},
        "llm": llm,
    }
    parts = [gpu_usd, llm_usd]
    if lambda_seconds is not None:
        memory_mb = lambda_memory_mb or cost.lambda_memory_mb
        gb_seconds = lambda_seconds * memory_mb / 1024
        lambda_usd = gb_seconds * cost.lambda_gb_second + cost.lambda_request
        breakdown["lambda"] = {"seconds": round(lambda_seconds, 3), "memoryMb": memory_mb,
                               "gbSeconds": round(gb_seconds, 3), "usd": round(lambda_usd, 6)}
        parts.append(lambda_usd)
    breakdown["totalUsd"] = round(sum(p for p in parts if p is not None), 6)
    breakdown["complete"] = all(p is not None for p in parts)
    breakdown["notes"] = notes
    return breakdown


@dataclass(frozen=True, slots=True)
class LlmCall:
    """The tokens one model-calling stage spent, and on which model."""

    stage: str
    model: str | None
    input_tokens: int
    output_tokens: int


def _llm_line(cost: CostConfig, model: str | None, calls: Sequence[LlmCall],
              notes: list[str]) -> tuple[dict[str, Any], float | None]:
    """The LLM line: total tokens and dollars, and per stage when more than one model-calling stage ran."""
    total: float | None = 0.0
    stages = []
    for call in calls:
        usd: float | None = 0.0
        if call.input_tokens or call.output_tokens:
            price = bedrock_price(cost, call.model) if call.model else None
            if price is None:
                usd = None
                notes.append(f"no price for Bedrock model {call.model!r} in cost.bedrock_models")
            else:
                usd = call.input_tokens / 1000 * price.input_per_1k + call.output_tokens / 1000 * price.output_per_1k
        total = None if total is None or usd is None else total + usd
        stages.append({"stage": call.stage, "model": call.model, "inputTokens": call.input_tokens,
                       "outputTokens": call.output_tokens, "usd": _round(usd, 6)})
    line: dict[str, Any] = {"model": model, "inputTokens": sum(c.input_tokens for c in calls),
                            "outputTokens": sum(c.output_tokens for c in calls), "usd": _round(total, 6)}
    if len(stages) > 1:
        line["byStage"] = stages
    return line, total


def llm_calls(config: PipelineConfig, usage: Mapping[str, Any] | None) -> list[LlmCall]:
    """Tokens per model-calling stage from an LLM usage summary: the workflow's combined summary
    (``byStage``: stage name → that stage's summary) or one stage's (the refinement model's)."""
    if not usage:
        return []
    by_stage = usage.get("byStage")
    if isinstance(by_stage, Mapping):
        return [LlmCall(str(name), stage_model(config, str(name)), *llm_tokens(summary))
                for name, summary in by_stage.items() if isinstance(summary, Mapping)]
    model = config.llm_refinement.model_id if config.llm_refinement else None
    return [LlmCall("llm-refinement", model, *llm_tokens(usage))]


def stage_model(config: PipelineConfig, name: str) -> str | None:
    """The Bedrock model a model-calling stage of the registry talks to under ``config``."""
    from podwhisperer.runtime.stages import STAGES  # the registry pulls in the transforms: only when needed

    for stage in STAGES:
        settings = stage.settings(config)
        if stage.name == name and stage.chunked is not None and settings is not None:
            return stage.chunked.model(settings).model_id
    return config.llm_refinement.model_id if config.llm_refinement else None


def gpu_cost(config: PipelineConfig, seconds: float | None, device: str | None) -> dict[str, Any]:
    """The raw transcript's cost (the worker writes it into the metadata): its GPU time, priced."""
    breakdown = episode_cost(config, gpu_seconds=seconds, device=device)
    return {key: value for key, value in breakdown.items() if key != "llm"}


def worker_seconds(stage_timings: Iterable[Mapping[str, Any]]) -> float | None:
    """The worker's time on one episode: the sum of its recorded stages (download, model, transcribe, …)."""
    seconds = [float(r["seconds"]) for r in stage_timings
               if r.get("status") != "skipped" and isinstance(r.get("seconds"), int | float)]
    return round(sum(seconds), 3) if seconds else None


def llm_tokens(usage: Mapping[str, Any] | None) -> tuple[int, int]:
    """(input, output) tokens from an LLM stage's usage (``{"usage": {...}}`` summaries or the usage itself)."""
    if not usage:
        return 0, 0
    nested = usage.get("usage")
    inner: Mapping[str, Any] = nested if isinstance(nested, Mapping) else usage
    return int(inner.get("input_tokens", 0) or 0), int(inner.get("output_tokens", 0) or 0)


def with_cost(transcript: Transcript, config: PipelineConfig, llm_usage: Mapping[str, Any] | None) -> Transcript:
    """The refined transcript with its cost in the metadata: the worker's time (its recorded stages, on
    the device it names) and the LLM tokens. ``refine`` and the durable workflow both call this, so
    they write the same bytes."""
    meta = transcript.metadata
    if meta is None:
        return transcript
    cost = episode_cost(config, gpu_seconds=worker_seconds(meta.stage_timings), device=meta.device,
                        llm_calls=llm_calls(config, llm_usage))
    return transcript.copy(metadata=replace(meta, extra={**meta.extra, COST_KEY: cost}))


def run_cost(config: PipelineConfig, *, worker_stats: Any, reused: bool, llm_usage: Mapping[str, Any] | None,
             lambda_seconds: float | None, lambda_memory_mb: int | None) -> dict[str, Any]:
    """What one pipeline run cost (the completion event): this run's worker time from its callback stats
    (nothing when the raw transcript was reused), its LLM tokens, and its Lambda time when on Lambda."""
    stats = worker_stats if isinstance(worker_stats, Mapping) else {}
    if reused or stats.get("reused"):
        seconds: float | None = 0.0
    else:
        value = stats.get("processing_seconds")
        seconds = float(value) if isinstance(value, int | float) else None
    return episode_cost(config, gpu_seconds=seconds, device=stats.get("device") or None,
                        llm_calls=llm_calls(config, llm_usage),
                        lambda_seconds=lambda_seconds if lambda_memory_mb else None, lambda_memory_mb=lambda_memory_mb)


@dataclass(frozen=True, slots=True)
class Estimate:
    """A predicted cost for audio not yet processed."""

    audio_seconds: float
    gpu_seconds: float
    gpu_usd: float
    llm_input_tokens: int
    llm_output_tokens: int
    llm_usd: float | None
    lambda_usd: float

    @property
    def total_usd(self) -> float:
        return self.gpu_usd + (self.llm_usd or 0.0) + self.lambda_usd


def estimate_episode(config: PipelineConfig, audio_seconds: float) -> Estimate:
    """GPU time at ``gpu_seconds_per_audio_hour``, tokens from the word rate, Lambda at its per-episode time."""
    cost = config.cost
    gpu_seconds = audio_seconds / 3600 * cost.gpu_seconds_per_audio_hour
    gpu_usd = gpu_seconds / 3600 * gpu_price_per_hour(cost, config.worker.capacity)
    input_tokens = output_tokens = 0
    llm_usd: float | None = 0.0
    llm = config.llm_refinement
    if llm is not None:
        words = audio_seconds / 60 * cost.words_per_audio_minute
        chunks = max(1, math.ceil(words / llm.chunk_max_words))
        input_tokens = round(words * cost.llm_tokens_per_word + chunks * cost.llm_prompt_tokens_per_chunk)
        output_tokens = round(input_tokens * cost.llm_output_ratio)
        price = bedrock_price(cost, llm.model_id)
        llm_usd = None if price is None else (input_tokens / 1000 * price.input_per_1k
                                              + output_tokens / 1000 * price.output_per_1k)
    lambda_usd = (cost.lambda_seconds_per_episode * cost.lambda_memory_mb / 1024 * cost.lambda_gb_second
                  + cost.lambda_request)
    return Estimate(audio_seconds=audio_seconds, gpu_seconds=gpu_seconds, gpu_usd=gpu_usd,
                    llm_input_tokens=input_tokens, llm_output_tokens=output_tokens, llm_usd=llm_usd,
                    lambda_usd=lambda_usd)


def startup_cost(config: PipelineConfig, episodes: int) -> float:
    """Cold starts of a batch: one per worker the batch can use (at most ``worker.max_workers``)."""
    workers = min(max(episodes, 0), config.worker.max_workers)
    return workers * config.cost.gpu_startup_seconds / 3600 * gpu_price_per_hour(config.cost, config.worker.capacity)


def sum_breakdowns(breakdowns: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Totals over cost breakdowns (``cloud cost``): dollars per line, GPU seconds, tokens, episodes."""
    totals: dict[str, Any] = {"episodes": 0, "gpuSeconds": 0.0, "inputTokens": 0, "outputTokens": 0,
                              "gpuUsd": 0.0, "llmUsd": 0.0, "lambdaUsd": 0.0, "totalUsd": 0.0, "incomplete": 0}
    for item in breakdowns:
        totals["episodes"] += 1
        totals["gpuSeconds"] += item["gpu"].get("seconds") or 0.0
        totals["inputTokens"] += item["llm"].get("inputTokens") or 0
        totals["outputTokens"] += item["llm"].get("outputTokens") or 0
        totals["gpuUsd"] += item["gpu"].get("usd") or 0.0
        totals["llmUsd"] += item["llm"].get("usd") or 0.0
        totals["lambdaUsd"] += (item.get("lambda") or {}).get("usd") or 0.0
        totals["totalUsd"] += item.get("totalUsd") or 0.0
        totals["incomplete"] += 0 if item.get("complete", True) else 1
    return totals


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
