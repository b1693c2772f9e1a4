"""PodwhispererPipeline under Pulumi mocks: assertions on the real resource inputs it declares."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_mocks
import pytest
from pulumi_mocks import RecordingMocks, policy, unsecret

from podwhisperer.components import iam
from podwhisperer.components.args import LambdaArgs, NetworkArgs, PodwhispererPipelineArgs, WorkerImageArgs
from podwhisperer.components.pipeline import PodwhispererPipeline, config_env_value, default_token_parameter
from podwhisperer.components.scaling import scale_out_steps
from podwhisperer.runtime.config import parse_config

LLM = {"model_id": "eu.anthropic.claude-sonnet-4-20250514-v1:0"}


@pytest.fixture(autouse=True)
def mocks() -> RecordingMocks:
    return pulumi_mocks.install()


def deploy(mocks: RecordingMocks, build: Callable[[], Any]) -> RecordingMocks:
    """Run ``build`` as a Pulumi program under the installed mocks and wait for every resource."""
    @pulumi.runtime.test
    def program() -> None:
        build()

    program()
    return mocks


def args(**overrides: Any) -> PodwhispererPipelineArgs:
    values: dict[str, Any] = {"config": {"llm_refinement": LLM},
                              "lambda_": LambdaArgs(bundle_path=str(pulumi_mocks.session_bundle()))}
    values.update(overrides)
    return PodwhispererPipelineArgs(**values)


@pytest.fixture
def default(mocks: RecordingMocks) -> RecordingMocks:
    return deploy(mocks, lambda: PodwhispererPipeline("pod", args()))


def statements_of(mocks: RecordingMocks, role_suffix: str) -> list[dict[str, Any]]:
    return policy(mocks.one("aws:iam/rolePolicy:RolePolicy", f"{role_suffix}-policy").inputs["policy"])["Statement"]


# -- Lambda, alias, trigger ---------------------------------------------------------------------------

def test_durable_function_published_with_live_alias(default: RecordingMocks) -> None:
    fn = default.one("aws:lambda/function:Function").inputs
    assert fn["runtime"] == "python3.13"
    assert fn["handler"] == "podwhisperer.runtime.handler.lambda_handler"
    assert fn["publish"] is True
    assert fn["durableConfig"] == {"executionTimeout": (60 + 60) * 60, "retentionPeriod": 14}
    env = fn["environment"]["variables"]
    assert parse_config(json.loads(env["PODWHISPERER_CONFIG"])) == parse_config({"llm_refinement": LLM})
    assert env["BUCKET_NAME"] == "pod-media-bucket"
    assert env["QUEUE_URL"].endswith("/pod-jobs")
    alias = default.one("aws:lambda/alias:Alias").inputs
    assert alias["name"] == "live" and alias["functionVersion"] == "1" and alias["functionName"] == "pod-pipeline"


def test_eventbridge_targets_the_alias_with_retries_and_dlq(default: RecordingMocks) -> None:
    target = default.one("aws:cloudwatch/eventTarget:EventTarget", "pod-upload").inputs
    assert target["arn"] == "arn:aws:lambda:us-east-2:123456789012:function:pod-pipeline:live"
    assert target["retryPolicy"]["maximumRetryAttempts"] > 0
    assert target["deadLetterConfig"]["arn"].endswith(":pod-events-dlq")
    permission = default.one("aws:lambda/permission:Permission").inputs
    assert permission["qualifier"] == "live" and permission["principal"] == "events.amazonaws.com"
    assert permission["sourceArn"].endswith(":pod-upload")
    pattern = json.loads(default.one("aws:cloudwatch/eventRule:EventRule", "pod-upload").inputs["eventPattern"])
    assert pattern["source"] == ["aws.s3"] and pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["bucket"]["name"] == ["pod-media-bucket"]
    wildcards = {w["wildcard"] for w in pattern["detail"]["object"]["key"]}
    assert "input/*.mp3" in wildcards and "input/*.MP3" in wildcards and "input/*.flac" in wildcards


# -- IAM ----------------------------------------------------------------------------------------------

def _all_statements(mocks: RecordingMocks) -> list[dict[str, Any]]:
    return [s for r in mocks.of_type("aws:iam/rolePolicy:RolePolicy") for s in policy(r.inputs["policy"])["Statement"]]


def test_no_wildcard_actions_and_star_resource_only_for_ecr_login(default: RecordingMocks) -> None:
    for stmt in _all_statements(default):
        actions = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
        assert all("*" not in a for a in actions), stmt
        if "*" in stmt["Resource"]:
            assert actions == ["ecr:GetAuthorizationToken"], stmt


def test_a_separate_chapters_model_gets_its_own_invoke_statement(mocks: RecordingMocks) -> None:
    config = {"llm_refinement": LLM, "chapters": {"model_id": "us.amazon.nova-pro-v1:0"}}
    deployed = deploy(mocks, lambda: PodwhispererPipeline("pod", args(config=config)))
    by_sid = {s["Sid"]: s for s in statements_of(deployed, "pod-pipeline")}
    assert by_sid["InvokeChaptersModel"]["Resource"] == [
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-pro-v1:0",
        "arn:aws:bedrock:*::foundation-model/amazon.nova-pro-v1:0"]
    assert "InvokeChaptersModel" not in {s["Sid"] for s in statements_of(
        deploy(mocks, lambda: PodwhispererPipeline("pod2", args())), "pod2-pipeline")}  # same model: one statement


def test_lambda_role_is_scoped(default: RecordingMocks) -> None:
    by_sid = {s["Sid"]: s for s in statements_of(default, "pod-pipeline")}
    bucket = "arn:aws:s3:::pod-media-bucket"
    assert by_sid["ReadUploads"]["Resource"] == [f"{bucket}/input/*"]
    assert set(by_sid["ReadWriteResults"]["Resource"]) == {f"{bucket}/output/*", f"{bucket}/work/*"}
    assert by_sid["EnqueueJobs"]["Resource"] == ["arn:aws:sqs:us-east-2:123456789012:pod-jobs"]
    assert by_sid["InvokeConfiguredModel"]["Resource"] == [
        "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-sonnet-4-20250514-v1:0",
        "arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0"]
    assert by_sid["PutPipelineEvents"]["Resource"] == ["arn:aws:events:us-east-2:123456789012:event-bus/default"]
    attachments = {r.inputs["policyArn"] for r in default.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                   if r.name.startswith("pod-pipeline")}
    assert attachments == {iam.DURABLE_EXECUTION_POLICY_ARN}


def test_worker_roles_are_scoped(default: RecordingMocks) -> None:
    task = {s["Sid"]: s for s in statements_of(default, "pod-task")}
    function = "arn:aws:lambda:us-east-2:123456789012:function:pod-pipeline"
    assert task["AnswerDurableCallbacks"]["Resource"] == [function, f"{function}:*"]
    assert set(task["AnswerDurableCallbacks"]["Action"]) == {
        "lambda:SendDurableExecutionCallbackSuccess", "lambda:SendDurableExecutionCallbackFailure",
        "lambda:SendDurableExecutionCallbackHeartbeat"}
    assert task["ReadUploads"]["Resource"] == ["arn:aws:s3:::pod-media-bucket/input/*"]
    assert task["ReadWriteRawTranscripts"]["Resource"] == ["arn:aws:s3:::pod-media-bucket/output/*_raw_transcript.json"]
    assert task["ClaimJobs"]["Resource"] == ["arn:aws:s3:::pod-media-bucket/work/claims/*"]
    assert "sqs:ReceiveMessage" in task["ConsumeJobs"]["Action"]
    assert task["ConsumeJobs"]["Resource"] == ["arn:aws:sqs:us-east-2:123456789012:pod-jobs"]
    assert task["DeadLetterMalformedJobs"]["Action"] == ["sqs:GetQueueUrl", "sqs:SendMessage"]
    assert task["DeadLetterMalformedJobs"]["Resource"] == ["arn:aws:sqs:us-east-2:123456789012:pod-jobs-dlq"]
    execution = {s["Sid"]: s for s in statements_of(default, "pod-execution")}
    assert "ReadHfToken" not in execution  # no token configured: nothing to read
    assert execution["PullWorkerImage"]["Resource"] == ["arn:aws:ecr:us-east-2:123456789012:pod-worker"]
    assert execution["WriteWorkerLogs"]["Resource"] == [
        "arn:aws:logs:us-east-2:123456789012:log-group:/ecs/pod-worker-uniq:*"]


@pytest.mark.parametrize(("model_id", "expected"), [
    ("us.anthropic.claude-3-haiku-20240307-v1:0",
     ["arn:aws:bedrock:us-east-1:1:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0",
      "arn:aws:bedrock:*::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"]),
    ("anthropic.claude-3-haiku-20240307-v1:0",
     ["arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"]),
    ("arn:aws:bedrock:eu-west-1:1:inference-profile/eu.meta.llama3-2-3b-instruct-v1:0",
     ["arn:aws:bedrock:eu-west-1:1:inference-profile/eu.meta.llama3-2-3b-instruct-v1:0",
      "arn:aws:bedrock:*::foundation-model/meta.llama3-2-3b-instruct-v1:0"]),
])
def test_bedrock_arns(model_id: str, expected: list[str]) -> None:
    assert iam.bedrock_model_arns(model_id, "us-east-1", "1") == expected


def test_statement_refuses_wildcard_actions() -> None:
    with pytest.raises(ValueError, match="wildcard"):
        iam.statement("Bad", ["s3:*"], ["arn:aws:s3:::b/*"])


# -- storage and queues ---------------------------------------------------------------------------------

def test_bucket_is_private_tls_only_and_kept_on_destroy(default: RecordingMocks) -> None:
    assert default.one("aws:s3/bucket:Bucket").inputs.get("forceDestroy") is False
    block = default.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(block[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    (deny,) = policy(default.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert set(deny["Resource"]) == {"arn:aws:s3:::pod-media-bucket", "arn:aws:s3:::pod-media-bucket/*"}
    assert default.one("aws:s3/bucketNotification:BucketNotification").inputs["eventbridge"] is True
    rules = default.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs["rules"]
    assert {"prefix": "work/"} in [r["filter"] for r in rules]


def test_job_queue_encrypted_with_dlq_redrive(default: RecordingMocks) -> None:
    jobs = default.one("aws:sqs/queue:Queue", "pod-jobs").inputs
    assert jobs["sqsManagedSseEnabled"] is True and jobs["visibilityTimeoutSeconds"] == 900
    assert json.loads(jobs["redrivePolicy"]) == {
        "deadLetterTargetArn": "arn:aws:sqs:us-east-2:123456789012:pod-jobs-dlq", "maxReceiveCount": 3}
    alarm = default.one("aws:cloudwatch/metricAlarm:MetricAlarm", "pod-jobs-dlq").inputs
    assert alarm["dimensions"] == {"QueueName": "pod-jobs-dlq"} and alarm["threshold"] == 0


# -- worker fleet -------------------------------------------------------------------------------------

def test_capacity_provider_asks_for_exactly_the_configured_gpu(mocks: RecordingMocks) -> None:
    worker = {"capacity": "spot", "max_workers": 3, "instance_requirements": {
        "vcpu_min": 8, "vcpu_max": 32, "memory_mib_min": 32768, "accelerator_names": ["l4"],
        "allowed_instance_types": ["g6.*"]}}
    deploy(mocks, lambda: PodwhispererPipeline("pod", args(config={"worker": worker})))
    provider = mocks.one("aws:ecs/capacityProvider:CapacityProvider").inputs["managedInstancesProvider"]
    template = provider["instanceLaunchTemplate"]
    assert template["capacityOptionType"] == "SPOT"
    req = template["instanceRequirements"]
    assert req["acceleratorCount"] == {"min": 1, "max": 1}
    assert req["acceleratorNames"] == ["l4"] and req["acceleratorManufacturers"] == ["nvidia"]
    assert req["acceleratorTypes"] == ["gpu"] and req["allowedInstanceTypes"] == ["g6.*"]
    assert req["vcpuCount"] == {"min": 8, "max": 32} and req["memoryMib"] == {"min": 32768}
    target = mocks.one("aws:appautoscaling/target:Target").inputs
    assert (target["minCapacity"], target["maxCapacity"]) == (0, 3)


def test_task_definition_and_service(default: RecordingMocks) -> None:
    task = default.one("aws:ecs/taskDefinition:TaskDefinition").inputs
    assert task["requiresCompatibilities"] == ["MANAGED_INSTANCES"] and task["networkMode"] == "host"
    (container,) = json.loads(task["containerDefinitions"])
    assert container["resourceRequirements"] == [{"type": "GPU", "value": "1"}]
    assert container["stopTimeout"] == 120
    env = {e["name"]: e["value"] for e in container["environment"]}
    assert {"PODWHISPERER_CONFIG", "QUEUE_URL", "BUCKET_NAME"} <= set(env)
    # The idle timeout and max receive count travel in PODWHISPERER_CONFIG only, not as copies beside it.
    assert not {"IDLE_TIMEOUT_SECONDS", "MAX_RECEIVE_COUNT"} & set(env)
    assert env["DEAD_LETTER_QUEUE_URL"].endswith("pod-jobs-dlq")
    assert container["secrets"] == []  # no token configured
    assert container["logConfiguration"]["logDriver"] == "awslogs"
    service = default.one("aws:ecs/service:Service").inputs
    assert service["desiredCount"] == 0 and "launchType" not in service
    assert service["capacityProviderStrategies"][0]["capacityProvider"] == "pod-gpu"



def test_worker_settings_reach_the_worker_through_its_config(mocks: RecordingMocks) -> None:
    """A sub-second idle timeout (0.005 min = 0.3 s) and the max receive count arrive as configured."""
    from podwhisperer.worker.cli import WorkerEnv

    config = {"llm_refinement": LLM, "worker": {"idle_timeout_minutes": 0.005, "max_receive_count": 7}}
    deploy(mocks, lambda: PodwhispererPipeline("pod", args(config=config)))
    (container,) = json.loads(mocks.one("aws:ecs/taskDefinition:TaskDefinition").inputs["containerDefinitions"])
    worker = WorkerEnv.from_env({e["name"]: e["value"] for e in container["environment"]})
    assert worker.idle_timeout_seconds == pytest.approx(0.3)
    assert (worker.max_receive_count or worker.config.worker.max_receive_count) == 7


def test_scaling_uses_backlog_and_scales_in_only_when_empty(default: RecordingMocks) -> None:
    high = default.one("aws:cloudwatch/metricAlarm:MetricAlarm", "pod-backlog-high").inputs
    empty = default.one("aws:cloudwatch/metricAlarm:MetricAlarm", "pod-backlog-empty").inputs
    for alarm in (high, empty):
        queries = {q["id"]: q for q in alarm["metricQueries"]}
        assert queries["backlog"]["expression"] == "visible + inflight"
        assert queries["inflight"]["metric"]["metricName"] == "ApproximateNumberOfMessagesNotVisible"
    assert (high["threshold"], high["evaluationPeriods"]) == (1, 1)
    assert empty["threshold"] == 0 and empty["comparisonOperator"] == "LessThanOrEqualToThreshold"
    assert empty["evaluationPeriods"] == empty["datapointsToAlarm"] == 3
    policies = {r.name: r.inputs["stepScalingPolicyConfiguration"] for r in
                default.of_type("aws:appautoscaling/policy:Policy")}
    assert policies["pod-scale-in"]["stepAdjustments"] == [{"metricIntervalUpperBound": "0", "scalingAdjustment": 0}]
    assert policies["pod-scale-out"]["stepAdjustments"][0]["scalingAdjustment"] == 1


def test_scale_out_steps_cover_every_backlog() -> None:
    assert scale_out_steps(1) == [{"metric_interval_lower_bound": "0", "scaling_adjustment": 1}]
    steps = scale_out_steps(3)
    assert [s["scaling_adjustment"] for s in steps] == [1, 2, 3] and "metric_interval_upper_bound" not in steps[-1]
    assert len(scale_out_steps(100)) == 20 and scale_out_steps(100)[-1]["scaling_adjustment"] == 100


# -- networking ---------------------------------------------------------------------------------------

def test_default_network_has_no_nat_and_a_free_s3_endpoint(default: RecordingMocks) -> None:
    assert not default.of_type("aws:ec2/natGateway:NatGateway")
    assert not default.of_type("aws:ec2/eip:Eip")
    assert all(e.inputs["vpcEndpointType"] == "Gateway" for e in default.of_type("aws:ec2/vpcEndpoint:VpcEndpoint"))
    assert all(s.inputs["mapPublicIpOnLaunch"] for s in default.of_type("aws:ec2/subnet:Subnet"))
    group = default.one("aws:ec2/securityGroup:SecurityGroup").inputs
    assert not group.get("ingress")


def test_existing_vpc_awsvpc_mode(mocks: RecordingMocks) -> None:
    network = NetworkArgs(vpc_id="vpc-1", subnet_ids=["subnet-a", "subnet-b"], network_mode="awsvpc")
    deploy(mocks, lambda: PodwhispererPipeline("pod", args(network=network)))
    assert not mocks.of_type("aws:ec2/vpc:Vpc")
    service = mocks.one("aws:ecs/service:Service").inputs
    assert service["networkConfiguration"]["subnets"] == ["subnet-a", "subnet-b"]
    assert mocks.one("aws:ecs/taskDefinition:TaskDefinition").inputs["networkMode"] == "awsvpc"


def test_awsvpc_without_vpc_is_refused() -> None:
    with pytest.raises(ValueError, match="awsvpc"):
        NetworkArgs(network_mode="awsvpc")


# -- secrets, embedding, validation ---------------------------------------------------------------------

def test_hf_token_secret_never_in_plain_text(mocks: RecordingMocks) -> None:
    from podwhisperer.components.args import HuggingFaceTokenArgs

    token = "hf_SUPER_SECRET_TOKEN"
    outputs: dict[str, Any] = {}

    def build() -> None:
        pipeline = PodwhispererPipeline("pod", args(hf_token=HuggingFaceTokenArgs(value=pulumi.Output.secret(token))))
        pulumi.Output.all(**pipeline.outputs()).apply(outputs.update)

    deploy(mocks, build)
    parameter = mocks.one("aws:ssm/parameter:Parameter").inputs
    assert parameter["type"] == "SecureString" and parameter["name"] == default_token_parameter("pod")
    assert parameter["value"] != token and unsecret(parameter["value"]) == token  # wrapped as a Pulumi secret
    for resource in mocks.resources:
        if resource.typ in ("aws:ssm/parameter:Parameter", "docker-build:index:Image"):
            continue  # the two places the token belongs, both as secrets
        assert token not in json.dumps(resource.inputs, default=str), resource.typ
    assert token not in json.dumps(outputs)
    image = mocks.one("docker-build:index:Image").inputs
    assert unsecret(image["secrets"]) == {"HF_TOKEN": token} and token not in json.dumps(image["buildArgs"])


def test_two_pipelines_in_one_program_do_not_collide(mocks: RecordingMocks) -> None:
    def build() -> None:
        PodwhispererPipeline("acme", args())
        PodwhispererPipeline("deep", args(worker_image=WorkerImageArgs(image_uri="public.ecr.aws/x/worker:1")))

    deploy(mocks, build)
    keys = [(r.typ, r.name) for r in mocks.resources]
    assert len(keys) == len(set(keys))
    names = [r.inputs["name"] for r in mocks.resources if isinstance(r.inputs.get("name"), str)
             and r.typ != "aws:lambda/alias:Alias"]  # alias names are per function: both are "live"
    assert len(names) == len(set(names)), sorted(names)
    assert all(r.name.startswith(("acme", "deep")) for r in mocks.resources)
    assert len(mocks.of_type("docker-build:index:Image")) == 1  # the second one runs an existing image


def test_existing_bucket_is_not_recreated(mocks: RecordingMocks) -> None:
    deploy(mocks, lambda: PodwhispererPipeline("pod", args(bucket_name="producer-bucket")))
    assert not mocks.of_type("aws:s3/bucket:Bucket")
    assert mocks.one("aws:s3/bucketNotification:BucketNotification").inputs["bucket"] == "producer-bucket"
    env = mocks.one("aws:lambda/function:Function").inputs["environment"]["variables"]
    assert env["BUCKET_NAME"] == "producer-bucket"


def test_event_bus_arn_is_used_as_is(mocks: RecordingMocks) -> None:
    bus = "arn:aws:events:us-east-2:999999999999:event-bus/podcasts"
    deploy(mocks, lambda: PodwhispererPipeline("pod", args(config={"notification": {"event_bus_name": bus}})))
    by_sid = {s["Sid"]: s for s in statements_of(mocks, "pod-pipeline")}
    assert by_sid["PutPipelineEvents"]["Resource"] == [bus]
    assert "InvokeConfiguredModel" not in by_sid  # no LLM configured: no Bedrock grant at all


def test_invalid_arguments_fail_before_any_resource(mocks: RecordingMocks) -> None:
    from podwhisperer.runtime.config import ConfigError

    with pytest.raises(ConfigError, match="transcripton"):
        PodwhispererPipelineArgs(config={"transcripton": {}})
    with pytest.raises(ValueError, match="pipeline name"):
        PodwhispererPipeline("Bad_Name", args())
    with pytest.raises(ValueError, match="capacity provider"):
        PodwhispererPipeline("ecs-show", args())
    with pytest.raises(ValueError, match="log_retention_days"):
        PodwhispererPipeline("pod", args(log_retention_days=10))
    assert mocks.resources == []


def test_config_env_value_falls_back_to_compact_json() -> None:
    config = parse_config({"speakers": [{"name": f"Speaker {i}", "description": "x" * 40} for i in range(20)]})
    value = config_env_value(config)
    assert len(value) < 3200 and parse_config(json.loads(value)) == config


def test_existing_private_ecr_image_gets_a_pull_grant(mocks: RecordingMocks) -> None:
    uri = "123456789012.dkr.ecr.us-east-2.amazonaws.com/shared/worker:large-v3"
    deploy(mocks, lambda: PodwhispererPipeline("pod", args(worker_image=WorkerImageArgs(image_uri=uri))))
    assert not mocks.of_type("aws:ecr/repository:Repository") and not mocks.of_type("docker-build:index:Image")
    execution = {s["Sid"]: s for s in statements_of(mocks, "pod-execution")}
    assert execution["PullWorkerImage"]["Resource"] == [
        "arn:aws:ecr:us-east-2:123456789012:repository/shared/worker"]
    (container,) = json.loads(mocks.one("aws:ecs/taskDefinition:TaskDefinition").inputs["containerDefinitions"])
    assert container["image"] == uri


def test_log_retention_and_optional_alarm_email(mocks: RecordingMocks) -> None:
    deploy(mocks, lambda: PodwhispererPipeline("pod", args(log_retention_days=14, alarm_email="ops@example.com")))
    assert {g.inputs["retentionInDays"] for g in mocks.of_type("aws:cloudwatch/logGroup:LogGroup")} == {14}
    subscription = mocks.one("aws:sns/topicSubscription:TopicSubscription").inputs
    assert subscription["protocol"] == "email" and subscription["endpoint"] == "ops@example.com"
    failed = json.loads(mocks.one("aws:cloudwatch/eventRule:EventRule", "pod-failed").inputs["eventPattern"])
    assert failed == {"source": ["podwhisperer.pipeline"], "detail-type": ["Pipeline Failed"]}
    topic_policy = policy(mocks.one("aws:sns/topicPolicy:TopicPolicy").inputs["policy"])
    publishers = {s["Sid"] for s in topic_policy["Statement"] if s["Action"] == "sns:Publish"}
    assert publishers == {"PipelineFailedEvents", "PipelineAlarms"}


def test_no_alarm_email_means_no_subscription(default: RecordingMocks) -> None:
    assert not default.of_type("aws:sns/topicSubscription:TopicSubscription")
