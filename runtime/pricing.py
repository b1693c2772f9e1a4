"""The price table (``cost:`` in podwhisperer.yaml): what cost reports and estimates multiply by.

Defaults are us-east-1 list prices in USD as of November 2026 (spot prices are typical recent values;
they move). Override any entry for your region, your discounts or a new model::

    cost:
      gpu_instance_type: g6.xlarge
      gpu_instances:
        g6.xlarge: {on_demand_per_hour: 0.8048, spot_per_hour: 0.31}
      bedrock_models:
        anthropic.claude-sonnet-4: {input_per_1k: 0.0033, output_per_1k: 0.0165}   # eu. profile

Only the GPU instance, Bedrock tokens and Lambda compute are priced: S3, SQS, EventBridge and
CloudWatch are cents per month for a podcast (see the README's idle-cost table).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

Price = Annotated[float, Field(ge=0.0)]


class _Prices(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class InstancePrice(_Prices):
    """USD per instance-hour."""

    on_demand_per_hour: Price
    spot_per_hour: Price | None = Field(None, description="Typical spot price; null: use the on-demand price.")


class TokenPrice(_Prices):
    """USD per 1,000 tokens."""

    input_per_1k: Price
    output_per_1k: Price


def _gpu_instances() -> dict[str, InstancePrice]:
    table = {"g4dn.xlarge": (0.526, 0.22), "g4dn.2xlarge": (0.752, 0.32), "g5.xlarge": (1.006, 0.45),
             "g5.2xlarge": (1.212, 0.55), "g6.xlarge": (0.8048, 0.35), "g6.2xlarge": (0.9776, 0.42),
             "g6e.xlarge": (1.861, 0.80)}
    return {name: InstancePrice(on_demand_per_hour=od, spot_per_hour=spot) for name, (od, spot) in table.items()}


def _bedrock_models() -> dict[str, TokenPrice]:
    table = {
        "anthropic.claude-opus-4-5": (0.005, 0.025), "anthropic.claude-opus-4": (0.015, 0.075),
        "anthropic.claude-sonnet-4": (0.003, 0.015), "anthropic.claude-3-7-sonnet": (0.003, 0.015),
        "anthropic.claude-3-5-sonnet": (0.003, 0.015), "anthropic.claude-haiku-4-5": (0.001, 0.005),
        "anthropic.claude-3-5-haiku": (0.0008, 0.004), "anthropic.claude-3-haiku": (0.00025, 0.00125),
        "amazon.nova-pro": (0.0008, 0.0032), "amazon.nova-lite": (0.00006, 0.00024),
        "amazon.nova-micro": (0.000035, 0.00014), "meta.llama3-3-70b-instruct": (0.00072, 0.00072),
    }
    return {name: TokenPrice(input_per_1k=i, output_per_1k=o) for name, (i, o) in table.items()}


class CostConfig(_Prices):
    """Prices, and the assumptions ``cloud backfill --dry-run`` estimates with."""

    gpu_instance_type: str = Field(
        "g5.xlarge", description="The instance cost reports assume (ECS Managed Instances picks one within "
        "worker.instance_requirements); a key of gpu_instances.")
    gpu_instances: dict[str, InstancePrice] = Field(default_factory=_gpu_instances)
    managed_instances_fee_fraction: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        0.0, description="ECS Managed Instances' management fee as a fraction of the instance price (AWS lists "
        "it per instance type; not published for GPU types when this table was made).")
    bedrock_models: dict[str, TokenPrice] = Field(
        default_factory=_bedrock_models,
        description="By model id prefix without the cross-region prefix (eu., us., global.); longest match wins.")
    lambda_gb_second: Price = Field(0.0000166667, description="Lambda x86 compute, USD per GB-second.")
    lambda_request: Price = Field(0.0000002, description="USD per Lambda invocation.")
    # What an estimate assumes about an episode it has not processed yet.
    gpu_seconds_per_audio_hour: Annotated[float, Field(gt=0)] = Field(
        300.0, description="Worker time per hour of audio (transcribe, align, diarize) on the GPU: 12x realtime, "
        "an assumption for large-v2 on an A10G (v2 reported 10-15 min per hour on a T4); not measured here.")
    gpu_startup_seconds: Annotated[float, Field(ge=0)] = Field(
        600.0, description="A cold worker: instance launch and image pull, paid once per worker per batch.")
    words_per_audio_minute: Annotated[float, Field(gt=0)] = 160.0
    llm_tokens_per_word: Annotated[float, Field(gt=0)] = 1.4
    llm_prompt_tokens_per_chunk: Annotated[int, Field(ge=0)] = 1500
    llm_output_ratio: Annotated[float, Field(ge=0)] = Field(
        0.15, description="Output tokens per input token (the model answers with corrections, not the transcript).")
    lambda_seconds_per_episode: Annotated[float, Field(ge=0)] = Field(
        20.0, description="Active Lambda time per episode (post-processing; the GPU wait is not billed).")
    lambda_memory_mb: Annotated[int, Field(ge=128, le=10240)] = 1024

    @model_validator(mode="after")
    def _known_instance(self) -> CostConfig:
        if self.gpu_instance_type not in self.gpu_instances:
            raise ValueError(f"gpu_instance_type {self.gpu_instance_type!r} has no price in gpu_instances "
                             f"({', '.join(sorted(self.gpu_instances))})")
        return self
