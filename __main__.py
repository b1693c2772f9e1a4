"""The podwhisperer Pulumi program: one ``PodwhispererPipeline`` per stack (one stack per podcast).

Stack configuration (namespace ``podwhisperer``; see ``Pulumi.yaml`` for every key):

    pulumi config set --path podwhisperer:pipeline.transcription.model large-v3
    pulumi config set --path 'podwhisperer:pipeline.speakers[0].name' 'Ada Host'
    pulumi config set --secret podwhisperer:hfToken hf_xxx

Everything is validated **before** any resource is declared: a typo in the pipeline section fails the
preview with the config model's message (``podwhisperer:pipeline: … transcripton: unknown option (did
you mean 'transcription'?)``), not with a half-created stack.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pulumi

from podwhisperer.components.args import (
    HuggingFaceTokenArgs,
    LambdaArgs,
    NetworkArgs,
    PodwhispererPipelineArgs,
    ScalingArgs,
    WorkerImageArgs,
)
from podwhisperer.runtime.config import ConfigError, parse_config

NAMESPACE = "podwhisperer"


def _section(config: pulumi.Config, key: str, cls: type[Any], **extra: Any) -> Any:
    """``cls(**podwhisperer:<key>)``, with unknown or invalid fields reported by their config key."""
    raw = config.get_object(key) or {}
    if not isinstance(raw, Mapping):
        raise pulumi.RunError(f"{NAMESPACE}:{key}: expected an object, got {type(raw).__name__}")
    valid = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - valid)
    if unknown:
        raise pulumi.RunError(f"{NAMESPACE}:{key}: unknown option(s) {', '.join(unknown)} "
                              f"(valid options: {', '.join(sorted(valid))})")
    try:
        return cls(**{**raw, **extra})
    except (TypeError, ValueError) as exc:
        raise pulumi.RunError(f"{NAMESPACE}:{key}: {exc}") from None


def read_args(config: pulumi.Config) -> PodwhispererPipelineArgs:
    """The component's args from stack config, fully validated."""
    try:
        pipeline = parse_config(config.get_object("pipeline"), source=f"{NAMESPACE}:pipeline")
    except ConfigError as exc:
        raise pulumi.RunError(exc.report()) from None
    image_uri = config.get("workerImageUri")
    hf_token = config.get_secret("hfToken")
    try:
        return PodwhispererPipelineArgs(
            config=pipeline,
            bucket_name=config.get("bucketName"),
            force_destroy_bucket=config.get_bool("forceDestroyBucket") or False,
            work_expiration_days=config.get_int("workExpirationDays") or 7,
            network=_section(config, "network", NetworkArgs),
            worker_image=_section(config, "workerImage", WorkerImageArgs, **({"image_uri": image_uri}
                                                                             if image_uri else {})),
            hf_token=HuggingFaceTokenArgs(value=hf_token, kms_key_arn=config.get("hfTokenKmsKeyArn")),
            scaling=_section(config, "scaling", ScalingArgs),
            lambda_=_section(config, "lambda", LambdaArgs),
            instance_storage_gib=config.get_int("instanceStorageGib") or 100,
            log_retention_days=config.get_int("logRetentionDays") or 30,
            alarm_email=config.get("alarmEmail"),
            tags=config.get_object("tags") or {},
        )
    except ValueError as exc:
        raise pulumi.RunError(f"{NAMESPACE}: {exc}") from None


def main() -> None:
    config = pulumi.Config(NAMESPACE)
    args = read_args(config)
    name = config.get("name") or pulumi.get_stack()
    from podwhisperer.components.pipeline import PodwhispererPipeline

    try:
        pipeline = PodwhispererPipeline(name, args)
    except ValueError as exc:  # name or option checks that run before the first child resource
        raise pulumi.RunError(f"{NAMESPACE}: {exc}") from None
    for key, value in pipeline.outputs().items():
        pulumi.export(key, value)


main()
