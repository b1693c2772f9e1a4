"""``PodwhispererPipeline``: the whole scale-to-zero transcription pipeline as one Pulumi component.

    S3 upload → EventBridge → durable Lambda (alias ``live``) → SQS job → GPU worker (ECS Managed
    Instances) → durable callback → post-processing → EventBridge completion/failure event

Every child is parented to the component and named ``<component name>-…``, so two pipelines (two
podcasts) live side by side in one program. The building blocks live in small modules next to this one;
this file only wires them together and registers the outputs.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from podwhisperer.components import alarms, iam, permissions, scaling, storage, worker_service
from podwhisperer.components.args import PodwhispererPipelineArgs
from podwhisperer.components.bundle import build_lambda_bundle
from podwhisperer.components.function import PipelineFunction, create_function
from podwhisperer.components.image import create_worker_image
from podwhisperer.components.network import create_network
from podwhisperer.runtime import contracts
from podwhisperer.runtime.config import PipelineConfig

__all__ = ["PodwhispererPipeline", "PodwhispererPipelineArgs", "config_env_value"]

TYPE_TOKEN = "podwhisperer:index:PodwhispererPipeline"
LAMBDA_ENV_BUDGET = 3800  # bytes; Lambda allows 4 KB of environment in total
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,27}$")
_LOG_RETENTION_DAYS = {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                       2922, 3288, 3653}


@dataclass(frozen=True)
class HfToken:
    """Where the worker's Hugging Face token comes from (see ``HuggingFaceTokenArgs``)."""

    parameter_arn: pulumi.Output[str]
    build_value: pulumi.Output[str] | None
    """The token for the image build's secret, or None (no build secret)."""


def stack_scoped_name(name: str) -> str:
    """``<name>-<6 hex of project/stack>``: unique per pipeline *and* per stack, for the few physical names
    the component has to choose itself (everything else is auto-named by Pulumi), so any number of stacks
    and pipelines share an account and region without ever claiming the same name."""
    digest = hashlib.sha256(f"{pulumi.get_project()}/{pulumi.get_stack()}".encode()).hexdigest()[:6]
    return f"{name}-{digest}"


def default_token_parameter(name: str) -> str:
    """The SSM parameter a pipeline creates for its token when ``hf_token_ssm_path`` is not set."""
    return f"/podwhisperer/{stack_scoped_name(name)}/hf_token"


def config_env_value(config: PipelineConfig) -> str:
    """``PODWHISPERER_CONFIG``: ``config.to_json()``, or the same config without its defaults when the full
    form would not fit Lambda's 4 KB environment (both parse back to an equal config)."""
    full = config.to_json()
    if len(full.encode()) <= LAMBDA_ENV_BUDGET - 600:  # leave room for BUCKET_NAME, QUEUE_URL, …
        return full
    compact = config.model_dump_json(exclude_defaults=True)
    if len(compact.encode()) <= LAMBDA_ENV_BUDGET - 600:
        return compact
    raise ValueError(f"the pipeline config is {len(compact.encode())} bytes even without defaults; Lambda "
                     "environments hold 4 KB: shorten speakers' descriptions, additional_context or rules")


class PodwhispererPipeline(pulumi.ComponentResource):
    """A podcast transcription pipeline that costs nothing while no episode is being processed."""

    bucket_name: pulumi.Output[str]
    input_prefix: pulumi.Output[str]
    output_prefix: pulumi.Output[str]
    region: pulumi.Output[str]
    function_name: pulumi.Output[str]
    queue_url: pulumi.Output[str]
    dead_letter_queue_url: pulumi.Output[str]
    function_arn: pulumi.Output[str]
    alias_arn: pulumi.Output[str]
    event_bus_name: pulumi.Output[str]
    event_source: pulumi.Output[str]
    cluster_name: pulumi.Output[str]
    service_name: pulumi.Output[str]
    alarm_topic_arn: pulumi.Output[str]
    worker_image_uri: pulumi.Output[str]

    def __init__(self, name: str, args: PodwhispererPipelineArgs | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        args = args or PodwhispererPipelineArgs()
        _validate(name, args)
        super().__init__(TYPE_TOKEN, name, None, opts)
        self._name = name
        self._args = args
        self._config = args.pipeline_config
        self._child = pulumi.ResourceOptions(parent=self)
        self._tags = {**dict(args.tags), "podwhisperer:pipeline": name}
        self._ctx = self._aws_context()
        self._build()
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, pulumi.Output[str]]:
        """What the program exports (and what ``register_outputs`` records)."""
        return {"bucket_name": self.bucket_name, "input_prefix": self.input_prefix,
                "output_prefix": self.output_prefix, "region": self.region, "function_name": self.function_name,
                "queue_url": self.queue_url,
                "dead_letter_queue_url": self.dead_letter_queue_url, "function_arn": self.function_arn,
                "alias_arn": self.alias_arn, "event_bus_name": self.event_bus_name,
                "event_source": self.event_source, "cluster_name": self.cluster_name,
                "service_name": self.service_name, "alarm_topic_arn": self.alarm_topic_arn,
                "worker_image_uri": self.worker_image_uri}

    # -- wiring ---------------------------------------------------------------------------------------

    def _aws_context(self) -> iam.AwsContext:
        invoke = pulumi.InvokeOutputOptions(parent=self)
        return iam.AwsContext(account=aws.get_caller_identity_output(opts=invoke).account_id,
                              region=aws.get_region_output(opts=invoke).region,
                              partition=aws.get_partition_output(opts=invoke).partition)

    def _build(self) -> None:
        name, args, config, child, tags, ctx = (self._name, self._args, self._config, self._child, self._tags,
                                                self._ctx)
        bucket = storage.create_bucket(name, existing=args.bucket_name, force_destroy=args.force_destroy_bucket,
                                       config=config, work_expiration_days=args.work_expiration_days,
                                       partition=ctx.partition, tags=tags, opts=child)
        queues = storage.create_queues(name, config=config,
                                       visibility_timeout_seconds=args.scaling.queue_visibility_timeout_seconds,
                                       tags=tags, opts=child)
        targets = permissions.Targets(bucket_arn=bucket.arn, queue_arn=queues.jobs.arn,
                                      dead_letter_queue_arn=queues.jobs_dlq.arn)
        pipeline = self._function(bucket, queues, targets)
        worker = self._worker(bucket, queues, targets, pipeline.function.arn)
        self._alarms(queues, pipeline)
        self.bucket_name = bucket.name
        self.input_prefix = pulumi.Output.from_input(config.storage.input_prefix)
        self.output_prefix = pulumi.Output.from_input(config.storage.output_prefix)
        self.region = pulumi.Output.from_input(ctx.region)  # `podwhisperer cloud --stack` needs it
        self.function_name = pipeline.function.name
        self.queue_url = queues.jobs.url
        self.dead_letter_queue_url = queues.jobs_dlq.url
        self.function_arn = pipeline.function.arn
        self.alias_arn = pipeline.alias.arn
        self.event_bus_name = pulumi.Output.from_input(config.notification.event_bus_name)
        self.event_source = pulumi.Output.from_input(config.notification.source)
        self.cluster_name = worker.cluster.name
        self.service_name = worker.service.name

    def _function(self, bucket: storage.Bucket, queues: storage.Queues,
                  targets: permissions.Targets) -> PipelineFunction:
        name, args, config = self._name, self._args, self._config
        role = iam.role(f"{name}-pipeline", service="lambda.amazonaws.com",
                        statements=permissions.lambda_statements(config, targets, self._ctx),
                        managed_policy_arns=[iam.DURABLE_EXECUTION_POLICY_ARN], tags=self._tags,
                        opts=self._child, description="podwhisperer durable pipeline function")
        bundle = Path(args.lambda_.bundle_path) if args.lambda_.bundle_path else build_lambda_bundle(
            bundle_boto3=args.lambda_.bundle_boto3)
        env: dict[str, pulumi.Input[str]] = {
            contracts.CONFIG_ENV: config_env_value(config), contracts.BUCKET_ENV: bucket.name,
            contracts.QUEUE_URL_ENV: queues.jobs.url, "POWERTOOLS_SERVICE_NAME": "podwhisperer"}
        return create_function(name, config=config, args=args.lambda_, code=pulumi.FileArchive(str(bundle)),
                               bucket_name=bucket.name, role_arn=role.arn, env=env,
                               log_retention_days=args.log_retention_days, tags=self._tags, opts=self._child)

    def _worker(self, bucket: storage.Bucket, queues: storage.Queues, targets: permissions.Targets,
                function_arn: pulumi.Output[str]) -> worker_service.WorkerService:
        name, args, config, child, tags, ctx = (self._name, self._args, self._config, self._child, self._tags,
                                                self._ctx)
        network = create_network(name, args.network, region=ctx.region, tags=tags, opts=child)
        token = self._hf_token()
        token_arn = token.parameter_arn if token else None
        image = create_worker_image(name, args.worker_image, model=config.transcription.model,
                                    hf_token=token.build_value if token and args.hf_token.build_secret else None,
                                    tags=tags, opts=child)
        self.worker_image_uri = image.uri
        log_group = worker_service.create_log_group(name, retention_days=args.log_retention_days, tags=tags,
                                                    opts=child)
        cluster = worker_service.create_cluster(name, tags=tags, opts=child)
        task_role = iam.role(f"{name}-task", service="ecs-tasks.amazonaws.com", tags=tags, opts=child,
                             statements=permissions.task_statements(config, targets, ctx, function_arn=function_arn,
                                                                    cluster_name=cluster.name),
                             description="podwhisperer GPU worker (the container's own AWS calls)")
        execution_role = iam.role(
            f"{name}-execution", service="ecs-tasks.amazonaws.com", tags=tags, opts=child,
            statements=permissions.execution_statements(
                repository_arn=image.repository_arn, log_group_arn=log_group.arn, parameter_arn=token_arn,
                kms_key_arn=args.hf_token.kms_key_arn, ctx=ctx),
            description="podwhisperer GPU worker (ECS agent: image pull, logs, HF token)")
        # The idle timeout and max receive count reach the worker inside PODWHISPERER_CONFIG (worker.*).
        env: dict[str, pulumi.Input[str]] = {
            contracts.CONFIG_ENV: config_env_value(config), contracts.QUEUE_URL_ENV: queues.jobs.url,
            contracts.BUCKET_ENV: bucket.name, contracts.DEAD_LETTER_QUEUE_URL_ENV: queues.jobs_dlq.url,
            "AWS_REGION": ctx.region, "AWS_DEFAULT_REGION": ctx.region}
        containers = worker_service.container_definitions(image=image.uri, env=env, hf_token_parameter_arn=token_arn,
                                                          log_group=log_group.name, region=ctx.region)
        mode = args.network.network_mode
        capacity = worker_service.create_capacity_provider(name, cluster=cluster, args=args, network=network,
                                                           tags=tags, opts=child)
        task = worker_service.create_task_definition(stack_scoped_name(name), config=config, network_mode=mode,
                                                     containers=containers, logical_name=name,
                                                     task_role_arn=task_role.arn,
                                                     execution_role_arn=execution_role.arn, tags=tags, opts=child)
        service = worker_service.create_service(name, cluster=cluster, capacity_provider=capacity,
                                                task_definition=task, network_mode=mode, network=network,
                                                tags=tags, opts=child)
        scaling.create_autoscaling(name, cluster_name=cluster.name, service_name=service.name,
                                   queue_name=queues.jobs.name, max_workers=config.worker.max_workers,
                                   scaling=args.scaling, tags=tags, opts=child)
        return worker_service.WorkerService(cluster=cluster, capacity_provider=capacity, task_definition=task,
                                            service=service, log_group=log_group)

    def _hf_token(self) -> HfToken | None:
        """A new SecureString from a secret value, the existing parameter named by an explicit
        ``transcription.hf_token_ssm_path``, or None: no token (no parameter, no lookup, no secret)."""
        transcription = self._config.transcription
        path_given = "hf_token_ssm_path" in transcription.model_fields_set
        token = self._args.hf_token
        if token.value is not None:
            path = transcription.hf_token_ssm_path if path_given else default_token_parameter(self._name)
            secret = pulumi.Output.secret(token.value)
            parameter = aws.ssm.Parameter(f"{self._name}-hf-token", name=path, type="SecureString", value=secret,
                                          description="Hugging Face token for the podwhisperer worker",
                                          tags=self._tags, opts=self._child)
            return HfToken(parameter_arn=parameter.arn, build_value=secret)
        if not path_given:
            return None
        path = transcription.hf_token_ssm_path
        arn = self._ctx.arn("ssm", "parameter/" + path.lstrip("/"))
        if self._args.worker_image.image_uri is not None or not token.build_secret:
            return HfToken(parameter_arn=arn, build_value=None)
        existing = aws.ssm.get_parameter_output(name=path, with_decryption=True,
                                                opts=pulumi.InvokeOutputOptions(parent=self))
        return HfToken(parameter_arn=arn, build_value=pulumi.Output.secret(existing.value))

    def _alarms(self, queues: storage.Queues, pipeline: PipelineFunction) -> None:
        name, child, tags = self._name, self._child, self._tags
        topic = alarms.create_alarm_topic(name, email=self._args.alarm_email, tags=tags, opts=child)
        self.alarm_topic_arn = topic.arn
        alarm_list = [
            alarms.queue_alarm(f"{name}-jobs-dlq", queue=queues.jobs_dlq, topic=topic, tags=tags, opts=child,
                               what="A transcription job failed every delivery"),
            alarms.queue_alarm(f"{name}-events-dlq", queue=pipeline.events_dlq, topic=topic, tags=tags,
                               opts=child, what="An upload event could not start the pipeline"),
            alarms.function_errors_alarm(name, function_name=pipeline.function.name, topic=topic, tags=tags,
                                         opts=child),
        ]
        rules = []
        if self._config.notification.enabled:
            rules.append(alarms.failure_rule(name, config=self._config, topic=topic, tags=tags, opts=child).arn)
        alarms.allow_publishers(name, topic=topic, rule_arns=rules, alarm_arns=[a.arn for a in alarm_list],
                                account=self._ctx.account, opts=child)


def _validate(name: str, args: PodwhispererPipelineArgs) -> None:
    """Fail before creating anything, with a message that names the option."""
    if not _NAME.match(name):
        raise ValueError(f"pipeline name {name!r}: use 1-28 lowercase letters, digits and '-', starting with a "
                         "letter (it prefixes bucket, function and cluster names)")
    if name.startswith(("aws", "ecs", "fargate")):
        raise ValueError(f"pipeline name {name!r}: ECS capacity provider names may not start with "
                         "'aws', 'ecs' or 'fargate'")
    if args.log_retention_days not in _LOG_RETENTION_DAYS:
        raise ValueError(f"log_retention_days {args.log_retention_days} is not a CloudWatch retention; use one of "
                         f"{sorted(_LOG_RETENTION_DAYS)}")
    config = args.pipeline_config
    lag_margin = 2
    if config.worker.idle_timeout_minutes < args.scaling.scale_in_after_minutes + lag_margin:
        pulumi.log.warn(f"{name}: worker.idle_timeout_minutes ({config.worker.idle_timeout_minutes}) is shorter "
                        f"than scaling.scale_in_after_minutes + {lag_margin}: an idle worker may exit before the "
                        "service scales in, and ECS would restart it once")
    config_env_value(config)
