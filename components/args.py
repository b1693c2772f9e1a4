"""Typed arguments of :class:`~podwhisperer.components.pipeline.PodwhispererPipeline`.

What the pipeline *does* lives in ``config`` (the same :class:`PipelineConfig` the Lambda, the worker and
the CLI read, so one schema validates a stack config, a YAML file and the runtime). Everything else here
is *where and how* it runs on AWS. Every option has a default; ``PodwhispererPipelineArgs(config={...})``
deploys a complete, scale-to-zero pipeline in a new VPC without a NAT gateway.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi

from podwhisperer.runtime.config import PipelineConfig, parse_config

NetworkMode = Literal["host", "awsvpc"]


@dataclass(frozen=True)
class NetworkArgs:
    """Where the GPU instances run.

    Default (``vpc_id`` unset): a new VPC with public subnets only, an internet gateway and a free S3
    gateway endpoint: no NAT gateway, no interface endpoints, nothing billed while idle. Instances get
    a public IPv4 (billed only while they run); the security group allows no inbound traffic.
    """

    vpc_id: pulumi.Input[str] | None = None
    """Existing VPC. Requires ``subnet_ids``. The subnets need a route to AWS APIs: an internet
    gateway with public IPs (``host`` mode) or a NAT gateway / VPC endpoints (``awsvpc`` mode)."""
    subnet_ids: list[pulumi.Input[str]] | None = None
    """Subnets for the GPU instances (existing VPC only)."""
    security_group_ids: list[pulumi.Input[str]] | None = None
    """Extra security groups for the instances; a no-inbound, HTTPS-outbound group is always created."""
    network_mode: NetworkMode = "host"
    """Task network mode. ``host``: the task shares the instance's (public) address, so it reaches SQS, S3,
    Lambda and Hugging Face without a NAT gateway. ``awsvpc``: the task gets its own private-only ENI and
    therefore needs a NAT gateway or VPC endpoints: only use it with an existing VPC that has them."""
    vpc_cidr: str = "10.42.0.0/16"
    """CIDR of the new VPC (ignored with ``vpc_id``)."""
    availability_zone_count: int = 2
    """Public subnets in this many AZs (more AZs: better odds of finding GPU capacity)."""

    def __post_init__(self) -> None:
        if self.vpc_id is not None and not self.subnet_ids:
            raise ValueError("network.subnet_ids is required when network.vpc_id is set")
        if self.subnet_ids and self.vpc_id is None:
            raise ValueError("network.vpc_id is required when network.subnet_ids is set")
        if self.network_mode == "awsvpc" and self.vpc_id is None:
            raise ValueError("network.network_mode 'awsvpc' needs an existing VPC with a NAT gateway or "
                             "VPC endpoints (network.vpc_id); the default VPC has neither, use 'host'")
        if not 1 <= self.availability_zone_count <= 6:
            raise ValueError("network.availability_zone_count must be between 1 and 6")


@dataclass(frozen=True)
class WorkerImageArgs:
    """The GPU worker's container image: an existing URI, or built from ``worker/`` and pushed to ECR."""

    image_uri: pulumi.Input[str] | None = None
    """Use this image as is (no ECR repository or build). Must be pullable by the execution role."""
    context: str | None = None
    """Docker build context; default: assembled from the installed ``podwhisperer`` package (the layout
    ``podwhisperer image-context`` writes: ``podwhisperer/`` plus a generated ``pyproject.toml``)."""
    dockerfile: str | None = None
    """Dockerfile path; default ``<context>/podwhisperer/worker/Dockerfile``."""
    build_args: Mapping[str, str] = field(default_factory=dict)
    """Extra build args. ``MODEL_NAME`` defaults to ``config.transcription.model``."""
    platform: str = "linux/amd64"
    """GPU instances are x86_64."""


@dataclass(frozen=True)
class HuggingFaceTokenArgs:
    """The Hugging Face token pyannote's diarization models need (optional).

    Three modes:
    * ``value`` set (a Pulumi secret): the component creates the SSM SecureString
      ``config.transcription.hf_token_ssm_path`` if that is set, else ``/podwhisperer/<name>-<hash of project
      and stack>/hf_token`` (so stacks and pipelines never share, or delete, each other's token);
    * no ``value`` but ``config.transcription.hf_token_ssm_path`` set explicitly: that existing parameter is
      used (and read at deploy time for the image build's secret, unless ``build_secret`` is off);
    * neither (the default): **no token** — no parameter, no lookup, no secret in the task or the build;
      the image is built without the diarization models and the worker skips diarization.
    ECS injects a token into the task as the ``HF_TOKEN`` secret (never a plain env var).
    """

    value: pulumi.Input[str] | None = None
    """The token; pass ``pulumi.Config().require_secret(...)`` so it stays encrypted in the state."""
    kms_key_arn: pulumi.Input[str] | None = None
    """Customer-managed KMS key of an existing parameter (grants kms:Decrypt via SSM); default aws/ssm."""
    build_secret: bool = True
    """Also pass the token to the image build as the BuildKit secret ``HF_TOKEN`` (never a layer)."""


@dataclass(frozen=True)
class ScalingArgs:
    """How the worker service follows the queue (capacity bounds come from ``config.worker``)."""

    scale_in_after_minutes: int = 3
    """Scale to zero after the backlog (visible + in-flight messages) has been 0 for this many whole
    minutes. Keep it shorter than ``config.worker.idle_timeout_minutes`` minus ~2 minutes of metric lag,
    so the service stops an idle task before the task exits by itself (which ECS would restart)."""
    instance_idle_seconds: int = 120
    """How long ECS keeps an idle GPU instance (0..3600) so a back-to-back episode skips the image pull."""
    cooldown_seconds: int = 60
    """Cooldown between scaling actions."""
    queue_visibility_timeout_seconds: int = 900
    """Initial visibility of a received job. The worker extends it while the job runs (heartbeat), so
    this only bounds how long a job held by a crashed worker stays hidden before it is retried."""

    def __post_init__(self) -> None:
        if not 1 <= self.scale_in_after_minutes <= 60:
            raise ValueError("scaling.scale_in_after_minutes must be between 1 and 60")
        if not -1 <= self.instance_idle_seconds <= 3600:
            raise ValueError("scaling.instance_idle_seconds must be between -1 and 3600")
        if not 60 <= self.queue_visibility_timeout_seconds <= 43200:
            raise ValueError("scaling.queue_visibility_timeout_seconds must be between 60 and 43200")


@dataclass(frozen=True)
class LambdaArgs:
    """The durable pipeline function."""

    memory_mb: int = 1024
    """Memory (and proportional CPU) for post-processing and caption rendering."""
    invocation_timeout_seconds: int = 900
    """Timeout of one invocation; the durable execution as a whole may run far longer (it is suspended
    while it waits for the worker)."""
    post_processing_minutes: int = 60
    """Margin added to ``transcription.job_timeout_minutes`` for the durable execution timeout."""
    retention_days: int = 14
    """Days a finished durable execution's history is kept (1..90)."""
    bundle_path: str | None = None
    """A prebuilt zip (see ``components/bundle.py``); default: build it under the cache folder
    (``$PODWHISPERER_CACHE_DIR``, else ``~/.cache/podwhisperer``) from the installed package."""
    bundle_boto3: bool = False
    """Bundle boto3/botocore instead of using the runtime's (adds ~15 MB to the zip)."""

    def __post_init__(self) -> None:
        if not 1 <= self.retention_days <= 90:
            raise ValueError("lambda_.retention_days must be between 1 and 90")
        if not 1 <= self.invocation_timeout_seconds <= 900:
            raise ValueError("lambda_.invocation_timeout_seconds must be between 1 and 900")


@dataclass(frozen=True)
class PodwhispererPipelineArgs:
    """Everything :class:`PodwhispererPipeline` needs. Only ``config`` shapes the transcripts."""

    config: PipelineConfig | Mapping[str, Any] = field(default_factory=PipelineConfig)
    """The pipeline configuration, or a mapping validated into one (errors name the key)."""
    bucket_name: pulumi.Input[str] | None = None
    """Use this existing bucket (its policy, encryption and public-access settings are left alone;
    EventBridge notifications are switched on). Default: create a locked-down bucket."""
    force_destroy_bucket: bool = False
    """Let ``pulumi destroy`` delete a bucket that still holds episodes and transcripts. Off by default:
    producer data outlives the stack (predecessor defect 28)."""
    work_expiration_days: int = 7
    """Objects under ``config.storage.work_prefix`` expire after this many days."""
    network: NetworkArgs = field(default_factory=NetworkArgs)
    worker_image: WorkerImageArgs = field(default_factory=WorkerImageArgs)
    hf_token: HuggingFaceTokenArgs = field(default_factory=HuggingFaceTokenArgs)
    scaling: ScalingArgs = field(default_factory=ScalingArgs)
    lambda_: LambdaArgs = field(default_factory=LambdaArgs)
    instance_storage_gib: int = 100
    """Root volume of a GPU instance: the worker image is ~15 GB and audio is staged on local disk."""
    log_retention_days: int = 30
    """Retention of every log group the component creates."""
    alarm_email: str | None = None
    """Subscribe this address to the alarm topic (DLQ messages, pipeline failures). The topic exists
    either way; subscribe other endpoints to the ``alarm_topic_arn`` output."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for every taggable resource (plus ``podwhisperer:pipeline = <component name>``)."""

    def __post_init__(self) -> None:
        if not isinstance(self.config, PipelineConfig):
            object.__setattr__(self, "config", parse_config(self.config, source="config"))
        if self.work_expiration_days < 1:
            raise ValueError("work_expiration_days must be at least 1")
        if self.instance_storage_gib < 30:
            raise ValueError("instance_storage_gib must be at least 30 (the worker image alone is ~15 GB)")

    @property
    def pipeline_config(self) -> PipelineConfig:
        """``config``, validated (``__post_init__`` turns a mapping into a model)."""
        assert isinstance(self.config, PipelineConfig)
        return self.config
