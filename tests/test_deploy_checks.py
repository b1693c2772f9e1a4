"""Deploy checks that run without AWS: the rules `pulumi up` and AWS would apply, applied under mocks.

* stack config: every shipped ``Pulumi.<stack>.yaml`` against ``Pulumi.yaml`` with the CLI's rule;
* strict inputs: every recorded resource's nested input keys exist in the installed pulumi-aws types,
  and enum-valued fields hold values of botocore's AWS service models;
* names: the example stacks (with tokens, in one account and region) and a two-pipeline program never
  claim the same physical name;
* one test per first-deploy defect of issue #6 (no-token mode, ordering, preview builds, updates, ...).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import botocore.session
import pulumi
import pulumi_aws as aws
import pulumi_mocks
import pytest
import yaml
from deploy_checks import enum_violations, physical_names, unknown_inputs
from pulumi_mocks import RecordingMocks, policy
from test_program import STACKS, run_program, stack_config

from podwhisperer.components.args import HuggingFaceTokenArgs, LambdaArgs, PodwhispererPipelineArgs
from podwhisperer.components.pipeline import PodwhispererPipeline, default_token_parameter
from podwhisperer.components.scaling import scale_out_steps, workers_for_backlog

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "hf_deploy_check_token"
# Regions where both Lambda durable functions and ECS Managed Instances are offered (README, "Regions").
SUPPORTED_REGIONS = {"us-east-2"}


def deploy(build: Any, *, project: str = "podwhisperer", stack: str = "test") -> RecordingMocks:
    mocks = pulumi_mocks.install(project=project, stack=stack)

    @pulumi.runtime.test
    def program() -> None:
        build()

    program()
    return mocks


def pipeline_args(**overrides: Any) -> PodwhispererPipelineArgs:
    values: dict[str, Any] = {"lambda_": LambdaArgs(bundle_path=str(pulumi_mocks.session_bundle()))}
    return PodwhispererPipelineArgs(**{**values, **overrides})


def two_pipelines() -> RecordingMocks:
    def build() -> None:
        PodwhispererPipeline("acme", pipeline_args(hf_token=HuggingFaceTokenArgs(value=TOKEN)))
        PodwhispererPipeline("deep", pipeline_args(config={"worker": {"capacity": "spot"}},
                                                   hf_token=HuggingFaceTokenArgs(value=TOKEN)))
    return deploy(build)


def example_stack(stack: str) -> RecordingMocks:
    mocks, _ = run_program(stack, {**stack_config(stack), "podwhisperer:hfToken": TOKEN}, ("podwhisperer:hfToken",))
    return mocks


# -- stack config: the Pulumi CLI's rule ---------------------------------------------------------------

PULUMI_TYPES = {"string": str, "integer": int, "boolean": bool}


def stack_config_problems(project: dict[str, Any], stack_file: Path) -> list[str]:
    """What `pulumi up` would refuse before running the program: a declared key without a default that
    the stack does not set ("Stack … is missing configuration values"), or a value of the wrong type."""
    values = (yaml.safe_load(stack_file.read_text()) or {}).get("config") or {}
    namespace = project["name"]
    problems = []
    for key, declaration in (project.get("config") or {}).items():
        full = key if ":" in key else f"{namespace}:{key}"
        declared_type = declaration.get("type") if isinstance(declaration, dict) else None
        has_default = isinstance(declaration, dict) and "default" in declaration
        if full not in values:
            if not has_default:
                problems.append(f"{stack_file.name}: missing required configuration value {full}")
            continue
        expected = PULUMI_TYPES.get(declared_type or "")
        value = values[full]
        if expected is not None and not (isinstance(value, expected) and not (expected is int and
                                                                              isinstance(value, bool))):
            problems.append(f"{stack_file.name}: {full} should be a {declared_type}, got {value!r}")
    if "aws:region" not in values:
        problems.append(f"{stack_file.name}: aws:region is not set (the provider needs it)")
    return problems


def test_every_shipped_stack_satisfies_the_project_config_rule() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    stack_files = sorted(ROOT.glob("Pulumi.*.yaml"))
    assert [f.name for f in stack_files] == [f"Pulumi.{s}.yaml" for s in sorted(STACKS)]
    problems = [p for f in stack_files for p in stack_config_problems(project, f)]
    assert problems == []


def test_the_config_rule_catches_a_required_key(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.x.yaml"
    stack.write_text("config:\n  aws:region: us-east-2\n")
    project = {"name": "podwhisperer", "config": {"podwhisperer:alarmEmail": {"type": "string"},
                                                  "podwhisperer:logRetentionDays": {"type": "integer", "default": 30}}}
    assert stack_config_problems(project, stack) == [
        "Pulumi.x.yaml: missing required configuration value podwhisperer:alarmEmail"]


# -- strict inputs and enums ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def programs() -> dict[str, RecordingMocks]:
    return {**{stack: example_stack(stack) for stack in STACKS}, "two-pipelines": two_pipelines()}


def test_every_input_key_exists_in_the_installed_provider_types(programs: dict[str, RecordingMocks]) -> None:
    unknown = [f"{program}: {path}" for program, mocks in programs.items() for r in mocks.resources
               for path in unknown_inputs(r.typ, r.inputs)]
    assert unknown == []


def test_the_input_check_catches_a_typo() -> None:
    assert unknown_inputs("aws:ecs/service:Service", {"capacityProviderStrategies": [{"capacityProvidr": "x"}]}) == [
        "aws:ecs/service:Service.capacityProviderStrategies[0].capacityProvidr"]


def test_enum_fields_hold_values_of_the_aws_service_models(programs: dict[str, RecordingMocks]) -> None:
    checked: list[str] = []
    violations = [f"{program}: {v}" for program, mocks in programs.items() for r in mocks.resources
                  for v in enum_violations(r.typ, r.inputs, checked)]
    assert violations == []
    fields = {re.sub(r"\[\d+\]", "[]", path) for path in checked}
    for required in ("aws:ecs/taskDefinition:TaskDefinition.requiresCompatibilities[]",
                     "aws:ecs/taskDefinition:TaskDefinition.networkMode",
                     "aws:ecs/taskDefinition:TaskDefinition.containerDefinitions[].resourceRequirements[].type",
                     "aws:ecs/capacityProvider:CapacityProvider.managedInstancesProvider.instanceLaunchTemplate"
                     ".capacityOptionType",
                     "aws:ecs/capacityProvider:CapacityProvider.managedInstancesProvider.instanceLaunchTemplate"
                     ".instanceRequirements.acceleratorTypes[]",
                     "aws:ecs/capacityProvider:CapacityProvider.managedInstancesProvider.instanceLaunchTemplate"
                     ".instanceRequirements.acceleratorManufacturers[]",
                     "aws:ecs/capacityProvider:CapacityProvider.managedInstancesProvider.instanceLaunchTemplate"
                     ".instanceRequirements.acceleratorNames[]",
                     "aws:lambda/function:Function.runtime",
                     "aws:appautoscaling/policy:Policy.stepScalingPolicyConfiguration.adjustmentType",
                     "aws:cloudwatch/metricAlarm:MetricAlarm.comparisonOperator"):
        assert required in fields, f"{required} was never checked"


def test_the_enum_check_catches_a_wrong_value() -> None:
    inputs = {"requiresCompatibilities": ["MANAGED_INSTANCE"], "networkMode": "host"}
    assert enum_violations("aws:ecs/taskDefinition:TaskDefinition", inputs) == [
        "aws:ecs/taskDefinition:TaskDefinition.requiresCompatibilities[0]: 'MANAGED_INSTANCE' is not one of "
        "['EC2', 'EXTERNAL', 'FARGATE', 'MANAGED_INSTANCES']"]


# -- names (#6 defect 6) ---------------------------------------------------------------------------------

def test_no_physical_name_is_claimed_twice_in_one_account_and_region(programs: dict[str, RecordingMocks]) -> None:
    """Both example stacks with tokens, a program with two pipelines, and two projects that each have a
    stack called "dev": the names they claim are all different."""
    def dev(project: str) -> RecordingMocks:
        return deploy(lambda: PodwhispererPipeline("dev", pipeline_args(hf_token=HuggingFaceTokenArgs(value=TOKEN))),
                      project=project, stack="dev")

    everything = [*programs.values(), dev("podcasts-a"), dev("podcasts-b")]
    names = Counter(name for mocks in everything for r in mocks.resources for name in physical_names(r.typ, r.inputs))
    assert [name for name, count in names.items() if count > 1] == []
    assert any(typ == "aws:ssm/parameter:Parameter" for typ, _ in names)  # the token parameters are counted


def test_the_token_parameter_is_named_after_the_pipeline_and_stack(programs: dict[str, RecordingMocks]) -> None:
    parameters = [r.inputs["name"] for r in programs["two-pipelines"].of_type("aws:ssm/parameter:Parameter")]
    assert sorted(re.sub(r"-[0-9a-f]{6}/", "-<stack>/", p) for p in parameters) == [
        "/podwhisperer/acme-<stack>/hf_token", "/podwhisperer/deep-<stack>/hf_token"]
    assert default_token_parameter("acme") != default_token_parameter("deep")


# -- #6 defect 2: no token is a first-class mode ------------------------------------------------------------

def test_no_token_means_no_parameter_no_lookup_no_secret() -> None:
    mocks = deploy(lambda: PodwhispererPipeline("pod", pipeline_args()))
    assert not mocks.of_type("aws:ssm/parameter:Parameter")
    assert not [token for token, _ in mocks.calls if token == "aws:ssm/getParameter:getParameter"]
    (container,) = json.loads(mocks.one("aws:ecs/taskDefinition:TaskDefinition").inputs["containerDefinitions"])
    assert container["secrets"] == [] and "HF_TOKEN" not in json.dumps(container["environment"])
    assert mocks.one("docker-build:index:Image").inputs.get("secrets") in (None, {})
    execution = policy(mocks.one("aws:iam/rolePolicy:RolePolicy", "pod-execution-policy").inputs["policy"])
    assert not [s for s in execution["Statement"] if s["Action"] == ["ssm:GetParameters"]]


def test_an_explicit_parameter_path_uses_that_existing_parameter() -> None:
    config = {"transcription": {"hf_token_ssm_path": "/shared/hf_token"}}
    mocks = deploy(lambda: PodwhispererPipeline("pod", pipeline_args(config=config)))
    assert not mocks.of_type("aws:ssm/parameter:Parameter")
    assert [args["name"] for token, args in mocks.calls if token == "aws:ssm/getParameter:getParameter"] == [
        "/shared/hf_token"]
    (container,) = json.loads(mocks.one("aws:ecs/taskDefinition:TaskDefinition").inputs["containerDefinitions"])
    assert container["secrets"] == [{"name": "HF_TOKEN",
                                     "valueFrom": "arn:aws:ssm:us-east-2:123456789012:parameter/shared/hf_token"}]


# -- #6 defect 5 and 10: S3 grants ------------------------------------------------------------------------

def _statements(mocks: RecordingMocks, role: str) -> dict[str, dict[str, Any]]:
    document = policy(mocks.one("aws:iam/rolePolicy:RolePolicy", f"{role}-policy").inputs["policy"])
    return {s["Sid"]: s for s in document["Statement"]}


def test_list_bucket_covers_the_input_prefix_in_both_roles(programs: dict[str, RecordingMocks]) -> None:
    mocks = programs["deep-dive"]
    lam, task = _statements(mocks, "deep-dive-pipeline"), _statements(mocks, "deep-dive-task")
    assert lam["ListOwnPrefixes"]["Condition"]["StringLike"]["s3:prefix"] == ["uploads/*", "transcripts/*",
                                                                              "scratch/*"]
    assert task["ListOwnPrefixes"]["Condition"]["StringLike"]["s3:prefix"] == ["uploads/*", "transcripts/*"]


def test_lambda_never_deletes_and_worker_writes_only_raw_transcripts(programs: dict[str, RecordingMocks]) -> None:
    mocks = programs["acme-show"]
    actions = {a for s in _statements(mocks, "acme-show-pipeline").values() for a in s["Action"]}
    assert "s3:DeleteObject" not in actions
    task = _statements(mocks, "acme-show-task")
    assert task["ReadWriteRawTranscripts"]["Resource"] == [
        "arn:aws:s3:::acme-show-media-bucket/output/*_raw_transcript.json"]


# -- #6 defect 7: ordering -----------------------------------------------------------------------------------

def test_capacity_provider_waits_for_its_roles_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    original = aws.ecs.CapacityProvider.__init__

    def record(self: Any, resource_name: str, *args: Any, opts: Any = None, **kwargs: Any) -> None:
        seen.extend(opts.depends_on or [])
        original(self, resource_name, *args, opts=opts, **kwargs)

    monkeypatch.setattr(aws.ecs.CapacityProvider, "__init__", record)
    deploy(lambda: PodwhispererPipeline("pod", pipeline_args()))
    kinds = Counter(type(r).__name__ for r in seen)
    # the instance role's managed policy, the infrastructure role's managed policy and PassRole, the profile
    assert kinds == {"RolePolicyAttachment": 2, "RolePolicy": 1, "InstanceProfile": 1}


# -- #6 defect 8 and 9: previews and updates ----------------------------------------------------------------

def test_preview_does_not_build_the_image_and_service_updates_in_place() -> None:
    mocks = deploy(lambda: PodwhispererPipeline("pod", pipeline_args()))
    assert mocks.one("docker-build:index:Image").inputs["buildOnPreview"] is False
    assert mocks.one("aws:ecs/service:Service").inputs["forceNewDeployment"] is True


def test_only_the_capacity_type_is_a_setting_ecs_cannot_update_in_place() -> None:
    """From botocore's ECS model: launch-template fields that CreateCapacityProvider takes and
    UpdateCapacityProvider does not. Of those, the component sets only capacityOptionType (worker.capacity),
    which the README lists as the one GPU setting that creates a new capacity provider."""
    ecs = botocore.session.get_session().get_service_model("ecs")
    create = ecs.operation_model("CreateCapacityProvider").input_shape.members["managedInstancesProvider"]
    update = ecs.operation_model("UpdateCapacityProvider").input_shape.members["managedInstancesProvider"]
    template_fields = create.members["instanceLaunchTemplate"].members
    fixed = set(template_fields) - set(update.members["instanceLaunchTemplate"].members)
    mocks = deploy(lambda: PodwhispererPipeline("pod", pipeline_args()))
    template = mocks.one("aws:ecs/capacityProvider:CapacityProvider").inputs["managedInstancesProvider"][
        "instanceLaunchTemplate"]
    assert {k.lower() for k in template} & {k.lower() for k in fixed} == {"capacityoptiontype"}
    readme = (ROOT / "README.md").read_text()
    assert "`worker.capacity`" in readme.split("#### What a change replaces")[1].split("\n#")[0]


# -- #6 defect 10: scaling steps, zones, example stacks -------------------------------------------------------

def apply_steps(steps: list[dict[str, Any]], backlog: int, threshold: int = 1) -> int | None:
    """What Application Auto Scaling sets for ``backlog`` (bounds relative to the threshold; lower
    inclusive, upper exclusive), or None when the alarm is not in ALARM."""
    if backlog < threshold:
        return None
    difference = backlog - threshold
    for step in steps:
        lower = float(step.get("metric_interval_lower_bound", "-inf"))
        upper = float(step.get("metric_interval_upper_bound", "inf"))
        if lower <= difference < upper:
            return int(step["scaling_adjustment"])
    raise AssertionError(f"no step covers backlog {backlog}")


@pytest.mark.parametrize("max_workers", [1, 2, 4, 25])
def test_steps_set_one_worker_for_a_warm_up_plus_one_job(max_workers: int) -> None:
    steps = scale_out_steps(max_workers)
    assert apply_steps(steps, 2) == 1  # a held warm-up + one episode: the warm worker takes it
    for backlog in range(1, 40):
        assert apply_steps(steps, backlog) == workers_for_backlog(backlog, max_workers)
    assert apply_steps(steps, 1) == 1 and apply_steps(steps, 100) == max_workers


def test_subnets_use_regular_availability_zones_only() -> None:
    mocks = deploy(lambda: PodwhispererPipeline("pod", pipeline_args()))
    [args] = [a for token, a in mocks.calls if token == "aws:index/getAvailabilityZones:getAvailabilityZones"]
    assert {"name": "zone-type", "values": ["availability-zone"]} in args["filters"]


def test_example_stacks_use_a_supported_region_and_no_placeholder_account() -> None:
    for stack in STACKS:
        text = (ROOT / f"Pulumi.{stack}.yaml").read_text()
        assert stack_config(stack)["aws:region"] in SUPPORTED_REGIONS
        assert not re.search(r"\b\d{12}\b", text), f"{stack}: an account id in an example stack"
    readme = (ROOT / "README.md").read_text()
    assert all(region in readme.split("#### Regions")[1].split("\n#")[0] for region in SUPPORTED_REGIONS)
