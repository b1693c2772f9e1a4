"""The price table and the cost arithmetic; the README's dry-run sample is the command's real output."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from podwhisperer.cli import _register_subcommands, app
from podwhisperer.runtime.config import ConfigError, PipelineConfig, parse_config
from podwhisperer.runtime.cost import bedrock_price, episode_cost, estimate_episode, startup_cost, sum_breakdowns

REPO = Path(__file__).resolve().parents[1]
SONNET = "eu.anthropic.claude-sonnet-4-20250514-v1:0"


def config(**sections: object) -> PipelineConfig:
    return parse_config(sections)


@pytest.mark.parametrize(("model_id", "prices"), [
    (SONNET, (0.003, 0.015)),
    ("anthropic.claude-sonnet-4-5-20250929-v1:0", (0.003, 0.015)),
    ("global.anthropic.claude-haiku-4-5-20251001-v1:0", (0.001, 0.005)),
    ("arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-opus-4-5-x", (0.005, 0.025)),
    ("anthropic.claude-opus-4-1-20250805-v1:0", (0.015, 0.075)),
    ("us.amazon.nova-lite-v1:0", (0.00006, 0.00024)),
])
def test_bedrock_prices_match_the_longest_model_prefix(model_id: str, prices: tuple[float, float]) -> None:
    price = bedrock_price(PipelineConfig().cost, model_id)
    assert price is not None and (price.input_per_1k, price.output_per_1k) == prices


def test_episode_cost_breakdown_multiplies_measured_numbers_by_the_table() -> None:
    cfg = config(llm_refinement={"model_id": SONNET}, worker={"capacity": "spot"})
    breakdown = episode_cost(cfg, gpu_seconds=360.0, input_tokens=40_000, output_tokens=5_000, lambda_seconds=30.0,
                             lambda_memory_mb=2048)

    assert breakdown["gpu"] == {"seconds": 360.0, "device": "cuda", "instanceType": "g5.xlarge", "capacity": "spot",
                                "pricePerHour": 0.45, "usd": 0.045}
    assert breakdown["llm"]["usd"] == pytest.approx(40 * 0.003 + 5 * 0.015)
    assert breakdown["lambda"]["gbSeconds"] == 60.0
    assert breakdown["lambda"]["usd"] == pytest.approx(60 * 0.0000166667 + 0.0000002, abs=1e-6)
    assert "lambda" not in episode_cost(cfg, gpu_seconds=1.0), "the transcript's own metadata has no Lambda line"
    assert breakdown["totalUsd"] == pytest.approx(0.045 + 0.195 + 0.0010002, abs=1e-6)
    assert breakdown["complete"] and breakdown["notes"] == []


def test_an_unpriced_model_is_reported_not_guessed_and_overrides_apply() -> None:
    cfg = config(llm_refinement={"model_id": "mistral.new-model-v9"},
                 cost={"gpu_instance_type": "g6.xlarge",
                       "gpu_instances": {"g6.xlarge": {"on_demand_per_hour": 0.9}},
                       "bedrock_models": {"mistral.new": {"input_per_1k": 0.001, "output_per_1k": 0.002}}})
    priced = episode_cost(cfg, gpu_seconds=3600.0, input_tokens=1000, output_tokens=1000)
    assert priced["gpu"]["usd"] == 0.9 and priced["llm"]["usd"] == pytest.approx(0.003)

    unpriced = episode_cost(config(llm_refinement={"model_id": "mistral.new-model-v9"}), gpu_seconds=20.0,
                            device="cpu", input_tokens=1000, output_tokens=10)
    assert unpriced["llm"]["usd"] is None and unpriced["gpu"]["usd"] is None and not unpriced["complete"]
    assert unpriced["notes"] == ["transcribed on cpu, not on a GPU instance: not priced",
                                 "no price for Bedrock model 'mistral.new-model-v9' in cost.bedrock_models"]
    assert sum_breakdowns([priced, unpriced])["incomplete"] == 1


def test_worker_seconds_and_tokens_are_read_from_metadata_and_usage() -> None:
    from podwhisperer.runtime.cost import llm_tokens, worker_seconds

    timings = [{"stage": "download", "seconds": 1.5}, {"stage": "transcribe", "seconds": 40.25},
               {"stage": "diarize", "status": "skipped", "seconds": 0.0}]
    assert worker_seconds(timings) == 41.75 and worker_seconds([]) is None
    assert llm_tokens({"chunks": 2, "usage": {"input_tokens": 900, "output_tokens": 80}}) == (900, 80)
    assert llm_tokens({"input_tokens": 5, "output_tokens": 1}) == (5, 1) and llm_tokens(None) == (0, 0)


def test_each_model_calling_stage_is_priced_with_its_own_model() -> None:
    from podwhisperer.runtime.cost import llm_calls

    cfg = config(llm_refinement={"model_id": SONNET},
                 chapters={"model_id": "us.anthropic.claude-haiku-4-5-20251001-v1:0"})
    usage = {"byStage": {"llm-refinement": {"usage": {"input_tokens": 10_000, "output_tokens": 1_000}},
                         "chapters": {"usage": {"input_tokens": 4_000, "output_tokens": 500}}}}
    breakdown = episode_cost(cfg, gpu_seconds=0.0, llm_calls=llm_calls(cfg, usage))

    llm = breakdown["llm"]
    assert (llm["inputTokens"], llm["outputTokens"]) == (14_000, 1_500)
    assert [(s["stage"], s["model"].split(".")[2][:17]) for s in llm["byStage"]] == [
        ("llm-refinement", "claude-sonnet-4-2"), ("chapters", "claude-haiku-4-5-")]
    assert llm["usd"] == pytest.approx(10 * 0.003 + 1 * 0.015 + 4 * 0.001 + 0.5 * 0.005)


def test_price_table_rejects_an_instance_it_cannot_price() -> None:
    with pytest.raises(ConfigError, match=r"cost: gpu_instance_type 'p5.48xlarge' has no price"):
        config(cost={"gpu_instance_type": "p5.48xlarge"})
    with pytest.raises(ConfigError, match=r"cost.lambda_gb_second: Input should be greater than or equal to 0"):
        config(cost={"lambda_gb_second": -1})


def test_estimate_scales_with_audio_and_counts_cold_starts_per_worker() -> None:
    cfg = config(llm_refinement={"model_id": SONNET})
    one, two = estimate_episode(cfg, 3600), estimate_episode(cfg, 7200)
    assert one.gpu_seconds == 300 and two.gpu_seconds == 600
    assert one.llm_input_tokens == round(160 * 60 * 1.4 + 5 * 1500)  # 9,600 words in 5 chunks of 2,000
    assert two.total_usd > one.total_usd
    assert startup_cost(cfg, 1) == pytest.approx(600 / 3600 * 1.006)
    assert startup_cost(cfg, 50) == startup_cost(cfg, 2), "at most worker.max_workers cold starts"


def test_readme_dry_run_sample_is_the_commands_output() -> None:
    _register_subcommands()
    readme = (REPO / "README.md").read_text()
    start = readme.index("```\nAcme Show: 5 episodes") + 4
    sample = readme[start:readme.index("```", start)]
    result = CliRunner().invoke(app, [
        "cloud", "backfill", "--feed", str(REPO / "samples/acme-show-feed.xml"), "--stack", "acme-show",
        "--dry-run", "--config", str(REPO / "samples/acme-show-config.yaml")], env={"COLUMNS": "120"})

    assert result.exit_code == 0, result.output
    assert [line.rstrip() for line in result.output.splitlines()] == sample.rstrip("\n").splitlines()
