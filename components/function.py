"""The durable pipeline Lambda, its ``live`` alias, and the S3 → EventBridge → alias trigger.

Durable functions cannot be invoked through an unqualified ARN (and ``$LATEST`` cannot carry a
permission), so the function is published on every change, the alias ``live`` follows the newest
version, and both the EventBridge target and the invoke permission name the alias.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from podwhisperer.components.args import LambdaArgs
from podwhisperer.runtime.config import PipelineConfig

HANDLER = "podwhisperer.runtime.handler.lambda_handler"
ALIAS_NAME = "live"
EVENT_RETRY_ATTEMPTS = 185  # EventBridge's maximum: keep retrying while Lambda throttles
EVENT_MAX_AGE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class PipelineFunction:
    function: aws.lambda_.Function
    alias: aws.lambda_.Alias
    log_group: aws.cloudwatch.LogGroup
    rule: aws.cloudwatch.EventRule
    events_dlq: aws.sqs.Queue


def execution_timeout_seconds(config: PipelineConfig, args: LambdaArgs) -> int:
    """Durable execution timeout: the worker's callback budget plus post-processing (LLM, captions)."""
    return (config.transcription.job_timeout_minutes + args.post_processing_minutes) * 60


def create_function(name: str, *, config: PipelineConfig, args: LambdaArgs, code: pulumi.Archive,
                    bucket_name: pulumi.Input[str],
                    role_arn: pulumi.Input[str], env: Mapping[str, pulumi.Input[str]], log_retention_days: int,
                    tags: Mapping[str, str], opts: pulumi.ResourceOptions) -> PipelineFunction:
    """Log group, function (published, durable), alias, and the upload trigger."""
    # Physical names are left to Pulumi's auto-naming (or an AWS-made suffix), so any number of stacks and
    # pipelines share an account and region; the function logs to this group via logging_config.
    log_group = aws.cloudwatch.LogGroup(f"{name}-pipeline", name_prefix=f"/aws/lambda/{name}-pipeline-",
                                        retention_in_days=log_retention_days, tags=dict(tags), opts=opts)
    function = aws.lambda_.Function(
        f"{name}-pipeline", runtime="python3.13", architectures=["x86_64"],
        handler=HANDLER, code=code, role=role_arn, memory_size=args.memory_mb,
        timeout=args.invocation_timeout_seconds, publish=True,
        durable_config={"execution_timeout": execution_timeout_seconds(config, args),
                        "retention_period": args.retention_days},
        environment={"variables": dict(env)},
        logging_config={"log_format": "JSON", "log_group": log_group.name},
        tags=dict(tags),
        # Deleting a durable function waits for its executions to drain (AWS documents up to 60 min).
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
            depends_on=[log_group], custom_timeouts=pulumi.CustomTimeouts(delete="60m"))))
    alias = aws.lambda_.Alias(f"{name}-live", name=ALIAS_NAME, function_name=function.name,
                              function_version=function.version, description="What EventBridge invokes",
                              opts=opts)
    rule, events_dlq = _upload_trigger(name, config=config, bucket_name=bucket_name, alias=alias, tags=tags,
                                       opts=opts)
    return PipelineFunction(function=function, alias=alias, log_group=log_group, rule=rule, events_dlq=events_dlq)


def upload_event_pattern(bucket_name: str, config: PipelineConfig) -> str:
    """Object Created in the bucket, under the input prefix, with an audio suffix (any case)."""
    suffixes = sorted({*config.storage.audio_extensions, *(e.upper() for e in config.storage.audio_extensions)})
    return json.dumps({
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": [bucket_name]},
            "object": {"key": [{"wildcard": f"{_wildcard_escape(config.storage.input_prefix)}*{suffix}"}
                               for suffix in suffixes]},
        },
    })


def _wildcard_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("*", "\\*")


def _upload_trigger(name: str, *, config: PipelineConfig, bucket_name: pulumi.Input[str], alias: aws.lambda_.Alias,
                    tags: Mapping[str, str], opts: pulumi.ResourceOptions
                    ) -> tuple[aws.cloudwatch.EventRule, aws.sqs.Queue]:
    rule = aws.cloudwatch.EventRule(
        f"{name}-upload", description="New episode under the input prefix → durable pipeline",
        event_pattern=pulumi.Output.from_input(bucket_name).apply(lambda bucket: upload_event_pattern(bucket, config)),
        tags=dict(tags), opts=opts)
    dlq = aws.sqs.Queue(f"{name}-events-dlq", sqs_managed_sse_enabled=True,
                        message_retention_seconds=14 * 24 * 3600, tags=dict(tags), opts=opts)
    aws.sqs.QueuePolicy(f"{name}-events-dlq", queue_url=dlq.url, policy=pulumi.Output.json_dumps({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "EventBridgeDeadLetters", "Effect": "Allow",
                       "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
                       "Resource": dlq.arn, "Condition": {"ArnEquals": {"aws:SourceArn": rule.arn}}}],
    }), opts=opts)
    aws.cloudwatch.EventTarget(
        f"{name}-upload", rule=rule.name, arn=alias.arn,
        retry_policy={"maximum_retry_attempts": EVENT_RETRY_ATTEMPTS,
                      "maximum_event_age_in_seconds": EVENT_MAX_AGE_SECONDS},
        dead_letter_config={"arn": dlq.arn}, opts=opts)
    aws.lambda_.Permission(f"{name}-upload", action="lambda:InvokeFunction", function=alias.function_name,
                           qualifier=alias.name, principal="events.amazonaws.com", source_arn=rule.arn, opts=opts)
    return rule, dlq

