"""The Pulumi program (``__main__.py``) with each example stack, under mocks."""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from typing import Any

import pulumi
import pulumi_mocks
import pytest
import yaml
from pulumi_mocks import RecordingMocks, policy

from podwhisperer.runtime.config import parse_config

ROOT = Path(__file__).resolve().parent.parent
STACKS = ["acme-show", "deep-dive"]
TOKEN = "hf_program_secret_token"


def stack_config(stack: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]


def run_program(stack: str, config: dict[str, Any],
                secret_keys: tuple[str, ...] = ()) -> tuple[RecordingMocks, dict[str, Any]]:
    """Install mocks for ``stack``, set its config (structured values as JSON), run ``__main__.py``."""
    mocks = pulumi_mocks.install(stack=stack, region=config.get("aws:region", "us-east-2"))
    # the prebuilt session zip, so no test rebuilds it
    lambda_options = {"bundle_path": str(pulumi_mocks.session_bundle()), **config.get("podwhisperer:lambda", {})}
    config = {**config, "podwhisperer:lambda": lambda_options}
    flat = {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}
    pulumi.runtime.set_all_config(flat, list(secret_keys))
    exported: dict[str, Any] = {}

    @pulumi.runtime.test
    def program() -> None:
        original = pulumi.export
        pulumi.export = lambda key, value: pulumi.Output.from_input(value).apply(  # type: ignore[assignment]
            lambda v: exported.__setitem__(key, v))
        try:
            runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
        finally:
            pulumi.export = original

    program()
    return mocks, exported


@pytest.mark.parametrize("stack", STACKS)
def test_example_stack_deploys(stack: str) -> None:
    config = {**stack_config(stack), "podwhisperer:hfToken": TOKEN}
    mocks, exported = run_program(stack, config, ("podwhisperer:hfToken",))
    pipeline = parse_config(config["podwhisperer:pipeline"])

    assert exported["function_arn"].endswith(f":function:{stack}-pipeline")
    assert exported["alias_arn"] == exported["function_arn"] + ":live"
    assert exported["input_prefix"] == pipeline.storage.input_prefix
    assert exported["event_bus_name"] == pipeline.notification.event_bus_name
    assert exported["event_source"] == pipeline.notification.source
    assert {"bucket_name", "queue_url", "cluster_name", "service_name"} <= set(exported)
    assert TOKEN not in json.dumps(exported)

    fn = mocks.one("aws:lambda/function:Function").inputs
    margin = config.get("podwhisperer:lambda", {}).get("post_processing_minutes", 60)
    minutes = pipeline.transcription.job_timeout_minutes + margin
    assert fn["durableConfig"]["executionTimeout"] == minutes * 60
    assert parse_config(json.loads(fn["environment"]["variables"]["PODWHISPERER_CONFIG"])) == pipeline
    target = mocks.one("aws:cloudwatch/eventTarget:EventTarget", f"{stack}-upload").inputs
    assert target["arn"] == exported["alias_arn"]

    req = mocks.one("aws:ecs/capacityProvider:CapacityProvider").inputs["managedInstancesProvider"][
        "instanceLaunchTemplate"]
    wanted = pipeline.worker.instance_requirements
    assert req["instanceRequirements"]["acceleratorNames"] == wanted.accelerator_names
    assert req["instanceRequirements"]["allowedInstanceTypes"] == wanted.allowed_instance_types
    assert req["capacityOptionType"] == ("SPOT" if pipeline.worker.capacity == "spot" else "ON_DEMAND")
    assert mocks.one("aws:appautoscaling/target:Target").inputs["maxCapacity"] == pipeline.worker.max_workers
    redrive = json.loads(mocks.one("aws:sqs/queue:Queue", f"{stack}-jobs").inputs["redrivePolicy"])
    assert redrive["maxReceiveCount"] == pipeline.worker.max_receive_count
    assert not mocks.of_type("aws:ec2/natGateway:NatGateway")

    for resource in mocks.resources:  # the token only lives in the SecureString and the build secret
        if resource.typ not in ("aws:ssm/parameter:Parameter", "docker-build:index:Image"):
            assert TOKEN not in json.dumps(resource.inputs, default=str), resource.typ
    for statement in [s for r in mocks.of_type("aws:iam/rolePolicy:RolePolicy")
                      for s in policy(r.inputs["policy"])["Statement"]]:
        assert not any("*" in action for action in statement["Action"])


def test_deep_dive_grants_follow_its_prefixes_bus_and_profile() -> None:
    mocks, _ = run_program("deep-dive", stack_config("deep-dive"))
    role = mocks.one("aws:iam/rolePolicy:RolePolicy", "deep-dive-pipeline-policy")
    by_sid = {s["Sid"]: s for s in policy(role.inputs["policy"])["Statement"]}
    assert by_sid["PutPipelineEvents"]["Resource"] == ["arn:aws:events:us-east-2:123456789012:event-bus/default"]
    assert by_sid["ReadUploads"]["Resource"] == ["arn:aws:s3:::deep-dive-media-bucket/uploads/*"]
    assert by_sid["InvokeConfiguredModel"]["Resource"][0].startswith("arn:aws:bedrock:eu-central-1:")
    # no hfToken and no token parameter in this stack: no token at all (no parameter, no lookup, no secret)
    assert not mocks.of_type("aws:ssm/parameter:Parameter")
    assert not [c for c in mocks.calls if c[0] == "aws:ssm/getParameter:getParameter"]
    execution = mocks.one("aws:iam/rolePolicy:RolePolicy", "deep-dive-execution-policy")
    assert "ReadHfToken" not in {s["Sid"] for s in policy(execution.inputs["policy"])["Statement"]}
    failed = mocks.one("aws:cloudwatch/eventRule:EventRule", "deep-dive-failed").inputs
    assert json.loads(failed["eventPattern"]) == {"source": ["deep-dive.transcripts"],
                                                  "detail-type": ["Pipeline Failed"]}


@pytest.mark.parametrize(("key", "value", "message"), [
    ("podwhisperer:pipeline", {"transcripton": {"model": "tiny"}},
     "podwhisperer:pipeline: 1 problem(s)\n  - transcripton: unknown option (did you mean 'transcription'?)"),
    ("podwhisperer:pipeline", {"worker": {"max_workers": 0}}, "worker.max_workers: Input should be greater"),
    ("podwhisperer:network", {"vpcid": "vpc-1"}, "podwhisperer:network: unknown option(s) vpcid"),
    ("podwhisperer:scaling", {"scale_in_after_minutes": 0}, "scale_in_after_minutes"),
])
def test_invalid_stack_config_fails_before_any_resource(key: str, value: Any, message: str) -> None:
    config = {**stack_config("acme-show"), key: value}
    with pytest.raises(pulumi.RunError) as failure:
        run_program("acme-show", config)
    assert message in str(failure.value)
    assert pulumi_mocks.LAST.resources == []
