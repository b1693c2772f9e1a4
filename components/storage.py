"""The episode bucket and the job queues.

The bucket is private (public access blocked, owner-enforced objects, SSE-S3, TLS-only policy), sends
"Object Created" events to EventBridge, and expires the per-execution working prefix. The job queue is
SSE-encrypted, long-polled and redrives poison messages to a dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from podwhisperer.runtime.config import PipelineConfig

DLQ_RETENTION_SECONDS = 14 * 24 * 3600  # the SQS maximum: time to inspect a poison message


@dataclass(frozen=True)
class Bucket:
    name: pulumi.Output[str]
    arn: pulumi.Output[str]


@dataclass(frozen=True)
class Queues:
    jobs: aws.sqs.Queue
    jobs_dlq: aws.sqs.Queue


def create_bucket(name: str, *, existing: pulumi.Input[str] | None, force_destroy: bool, config: PipelineConfig,
                  work_expiration_days: int, partition: pulumi.Input[str], tags: Mapping[str, str],
                  opts: pulumi.ResourceOptions) -> Bucket:
    """A new locked-down bucket, or ``existing`` with EventBridge notifications switched on."""
    if existing is not None:
        bucket_name = pulumi.Output.from_input(existing)
        # Replaces the bucket's notification configuration (see the README before pointing at a shared bucket).
        aws.s3.BucketNotification(f"{name}-events", bucket=bucket_name, eventbridge=True, opts=opts)
        return Bucket(name=bucket_name, arn=pulumi.Output.concat("arn:", partition, ":s3:::", bucket_name))
    bucket = aws.s3.Bucket(f"{name}-media", force_destroy=force_destroy, tags=dict(tags), opts=opts)
    aws.s3.BucketOwnershipControls(f"{name}-media", bucket=bucket.id,
                                   rule={"object_ownership": "BucketOwnerEnforced"}, opts=opts)
    block = aws.s3.BucketPublicAccessBlock(f"{name}-media", bucket=bucket.id, block_public_acls=True,
                                           block_public_policy=True, ignore_public_acls=True,
                                           restrict_public_buckets=True, opts=opts)
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-media", bucket=bucket.id,
        rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}, "bucket_key_enabled": True}],
        opts=opts)
    aws.s3.BucketPolicy(f"{name}-media", bucket=bucket.id, policy=tls_only_policy(bucket.arn),
                        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[block])))
    aws.s3.BucketLifecycleConfiguration(f"{name}-media", bucket=bucket.id, rules=[
        {"id": "expire-work", "status": "Enabled", "filter": {"prefix": config.storage.work_prefix},
         "expiration": {"days": work_expiration_days}},
        {"id": "abort-incomplete-uploads", "status": "Enabled", "filter": {"prefix": ""},
         "abort_incomplete_multipart_upload": {"days_after_initiation": 2}},
    ], opts=opts)
    aws.s3.BucketNotification(f"{name}-events", bucket=bucket.id, eventbridge=True, opts=opts)
    return Bucket(name=bucket.bucket, arn=bucket.arn)


def tls_only_policy(bucket_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    """Deny every request that does not use TLS, on the bucket and its objects."""
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }]})


def create_queues(name: str, *, config: PipelineConfig, visibility_timeout_seconds: int,
                  tags: Mapping[str, str], opts: pulumi.ResourceOptions) -> Queues:
    """The job queue and its dead-letter queue (``config.worker.max_receive_count`` deliveries)."""
    dlq = aws.sqs.Queue(f"{name}-jobs-dlq", sqs_managed_sse_enabled=True,
                        message_retention_seconds=DLQ_RETENTION_SECONDS, tags=dict(tags), opts=opts)
    jobs = aws.sqs.Queue(
        f"{name}-jobs", sqs_managed_sse_enabled=True, receive_wait_time_seconds=20,
        visibility_timeout_seconds=visibility_timeout_seconds,
        message_retention_seconds=job_retention_seconds(config),
        redrive_policy=pulumi.Output.json_dumps({"deadLetterTargetArn": dlq.arn,
                                                 "maxReceiveCount": config.worker.max_receive_count}),
        tags=dict(tags), opts=opts)
    return Queues(jobs=jobs, jobs_dlq=dlq)


def job_retention_seconds(config: PipelineConfig) -> int:
    """A job nobody picked up within the callback timeout is worthless (its callback has expired):
    let SQS drop it rather than burn GPU time on it. 15 minutes of slack cover clock and metric lag."""
    return max(60, config.transcription.job_timeout_minutes * 60 + 15 * 60)
