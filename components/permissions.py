"""What each principal may do, as IAM statements (see ``iam.py`` for the building blocks).

* pipeline Lambda: read uploads, read/write outputs and its working prefix (it never deletes), enqueue
  jobs, call the one configured Bedrock model/profile, put events on the one configured bus (durable
  checkpoints and logs come from the AWS managed durable-execution policy);
* worker task: read uploads, read/write raw transcripts (the only objects it writes), consume the job
  queue, answer durable callbacks of this function only, toggle scale-in protection of its own tasks;
* task execution (ECS agent): pull the worker image, write the worker's logs, read the HF token parameter
  (only when there is one);

``s3:ListBucket`` covers every prefix a role reads, the input prefix included: without it S3 answers a
HEAD of a missing key with 403 instead of 404, so "not there" would look like "forbidden" (the Lambda's
fallback to a second key candidate and the worker's "upload deleted" check both rely on the 404).
``tests/test_iam_by_use.py`` replays every AWS call the Lambda workflow and the worker make in the moto
end-to-end tests against these statements.
* ECS infrastructure role: the AWS managed policy plus passing the one instance role to EC2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from podwhisperer.components.iam import AwsContext, Statement, bedrock_model_arns, event_bus_arn, objects, statement
from podwhisperer.runtime.config import PipelineConfig


@dataclass(frozen=True)
class Targets:
    """ARNs the statements are scoped to."""

    bucket_arn: pulumi.Input[str]
    queue_arn: pulumi.Input[str]
    dead_letter_queue_arn: pulumi.Input[str]


RAW_TRANSCRIPT_SUFFIX = "_raw_transcript.json"
"""``keys.OutputKeys.raw_transcript``: the one kind of object the worker writes."""


def list_prefixes(*prefixes: str) -> dict[str, Any]:
    """``s3:ListBucket`` condition: only listings under these prefixes."""
    return {"StringLike": {"s3:prefix": [f"{prefix}*" for prefix in prefixes]}}


def lambda_statements(config: PipelineConfig, t: Targets, ctx: AwsContext) -> list[Statement]:
    storage = config.storage
    result = [
        statement("ReadUploads", ["s3:GetObject"], [objects(t.bucket_arn, storage.input_prefix)]),
        statement("ReadWriteResults", ["s3:GetObject", "s3:PutObject"],
                  [objects(t.bucket_arn, storage.output_prefix), objects(t.bucket_arn, storage.work_prefix)]),
        statement("ListOwnPrefixes", ["s3:ListBucket"], [t.bucket_arn],
                  list_prefixes(storage.input_prefix, storage.output_prefix, storage.work_prefix)),
        statement("EnqueueJobs", ["sqs:SendMessage"], [t.queue_arn]),
    ]
    llm = config.llm_refinement
    if llm is not None:
        # The same region the runtime's Converse client uses (bedrock.py: cfg.resolved_region()).
        region = llm.resolved_region()
        arns = pulumi.Output.all(ctx.account, ctx.partition).apply(
            lambda values: bedrock_model_arns(llm.model_id, region, values[0], values[1]))
        result.append(statement("InvokeConfiguredModel",
                                ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"], arns))
    chapters_model = config.chapters.resolved_model(llm) if config.chapters.enabled else None
    if chapters_model is not None and (llm is None or chapters_model != llm.model_id):
        chapters_region = config.chapters.resolved_region(llm)
        chapter_arns = pulumi.Output.all(ctx.account, ctx.partition).apply(
            lambda values: bedrock_model_arns(chapters_model, chapters_region, values[0], values[1]))
        result.append(statement("InvokeChaptersModel",
                                ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"], chapter_arns))
    if config.notification.enabled:
        result.append(statement("PutPipelineEvents", ["events:PutEvents"],
                                [event_bus_arn(config.notification.event_bus_name, ctx)]))
    return result


def task_statements(config: PipelineConfig, t: Targets, ctx: AwsContext, *, function_arn: pulumi.Input[str],
                    cluster_name: pulumi.Input[str]) -> list[Statement]:
    storage = config.storage
    function_and_qualifiers = [function_arn, pulumi.Output.concat(function_arn, ":*")]
    raw_transcripts = pulumi.Output.concat(t.bucket_arn, "/", storage.output_prefix, "*", RAW_TRANSCRIPT_SUFFIX)
    return [
        statement("ReadUploads", ["s3:GetObject"], [objects(t.bucket_arn, storage.input_prefix)]),
        statement("ReadWriteRawTranscripts", ["s3:GetObject", "s3:PutObject"], [raw_transcripts]),
        statement("ListOwnPrefixes", ["s3:ListBucket"], [t.bucket_arn],
                  list_prefixes(storage.input_prefix, storage.output_prefix)),
        # In-progress markers (worker/claims.py): one worker transcribes an upload at a time.
        statement("ClaimJobs", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                  [objects(t.bucket_arn, f"{storage.work_prefix}claims/")]),
        statement("ConsumeJobs", ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                                  "sqs:GetQueueAttributes"], [t.queue_arn]),
        # A malformed job body can never succeed: the worker moves it to the DLQ at once (finding the DLQ's
        # URL from the job queue's redrive policy when DEAD_LETTER_QUEUE_URL is not set).
        statement("DeadLetterMalformedJobs", ["sqs:GetQueueUrl", "sqs:SendMessage"], [t.dead_letter_queue_arn]),
        statement("AnswerDurableCallbacks", ["lambda:SendDurableExecutionCallbackSuccess",
                                             "lambda:SendDurableExecutionCallbackFailure",
                                             "lambda:SendDurableExecutionCallbackHeartbeat"],
                  function_and_qualifiers),
        # Lets a busy worker protect itself from scale-in (ECS agent endpoint); only tasks of this cluster.
        statement("ProtectOwnTask", ["ecs:GetTaskProtection", "ecs:UpdateTaskProtection"],
                  [ctx.arn("ecs", pulumi.Output.concat("task/", cluster_name, "/*"))]),
    ]


def execution_statements(*, repository_arn: pulumi.Input[str] | None, log_group_arn: pulumi.Input[str],
                         parameter_arn: pulumi.Input[str] | None, kms_key_arn: pulumi.Input[str] | None,
                         ctx: AwsContext) -> list[Statement]:
    result = [
        statement("WriteWorkerLogs", ["logs:CreateLogStream", "logs:PutLogEvents"],
                  [pulumi.Output.concat(log_group_arn, ":*")]),
    ]
    if parameter_arn is not None:
        result.append(statement("ReadHfToken", ["ssm:GetParameters"], [parameter_arn]))
    if repository_arn is not None:
        result += [
            # GetAuthorizationToken has no resource type: AWS requires "*" here.
            statement("EcrLogin", ["ecr:GetAuthorizationToken"], ["*"]),
            statement("PullWorkerImage", ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                                          "ecr:GetDownloadUrlForLayer"], [repository_arn]),
        ]
    if kms_key_arn is not None and parameter_arn is not None:
        result.append(statement("DecryptHfToken", ["kms:Decrypt"], [kms_key_arn],
                                {"StringEquals": {"kms:ViaService": pulumi.Output.concat("ssm.", ctx.region,
                                                                                          ".amazonaws.com")}}))
    return result


def infrastructure_statements(instance_role_arn: pulumi.Input[str]) -> list[Statement]:
    return [statement("PassInstanceRole", ["iam:PassRole"], [instance_role_arn],
                      {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}})]

