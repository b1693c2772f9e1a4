"""What an episode costs: the actual breakdown of a finished run, and the estimate for one not run yet.

Pure functions of the price table (:class:`~podwhisperer.runtime.pricing.CostConfig`) and measured
numbers; no I/O. A price the table lacks (an unknown Bedrock model) leaves that line's dollars ``None``
and says so in ``notes`` rather than guessing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from podwhisperer.runtime.config import PROFILE_REGIONS, PipelineConfig
from podwhisperer.runtime.pricing import CostConfig, TokenPrice


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


def episode_cost(config: PipelineConfig, *, gpu_seconds: float | None, input_tokens: int = 0, output_tokens: int = 0,
                 lambda_seconds: float | None = None, lambda_memory_mb: int | None = None,
                 invocations: int = 1, instance_type: str | None = None) -> dict[str, Any]:
    """The cost breakdown carried by the completion event and the refined transcript's metadata."""
    cost = config.cost
    notes: list[str] = []
    hourly = gpu_price_per_hour(cost, config.worker.capacity, instance_type)
    gpu_usd = None if gpu_seconds is None else gpu_seconds / 3600 * hourly
    if gpu_seconds is None:
        notes.append("no GPU time reported (transcript reused)")
    llm_usd: float | None = 0.0
    model = config.llm_refinement.model_id if config.llm_refinement else None
    if model and (input_tokens or output_tokens):
        price = bedrock_price(cost, model)
        if price is None:
            llm_usd = None
            notes.append(f"no price for Bedrock model {model!r} in cost.bedrock_models")
        else:
            llm_usd = input_tokens / 1000 * price.input_per_1k + output_tokens / 1000 * price.output_per_1k
    memory_mb = lambda_memory_mb or cost.lambda_memory_mb
    gb_seconds = (lambda_seconds or 0.0) * memory_mb / 1024
    lambda_usd = gb_seconds * cost.lambda_gb_second + invocations * cost.lambda_request
    parts = [gpu_usd, llm_usd, lambda_usd]
    return {
        "currency": "USD",
        "gpu": {"seconds": _round(gpu_seconds, 3), "instanceType": instance_type or cost.gpu_instance_type,
                "capacity": config.worker.capacity, "pricePerHour": round(hourly, 6), "usd": _round(gpu_usd, 6)},
        "llm": {"model": model, "inputTokens": input_tokens, "outputTokens": output_tokens, "usd": _round(llm_usd, 6)},
        "lambda": {"seconds": _round(lambda_seconds, 3), "memoryMb": memory_mb, "gbSeconds": round(gb_seconds, 3),
                   "invocations": invocations, "usd": round(lambda_usd, 6)},
        "totalUsd": round(sum(p for p in parts if p is not None), 6),
        "complete": all(p is not None for p in parts),
        "notes": notes,
    }


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
        totals["lambdaUsd"] += item["lambda"].get("usd") or 0.0
        totals["totalUsd"] += item.get("totalUsd") or 0.0
        totals["incomplete"] += 0 if item.get("complete", True) else 1
    return totals


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
