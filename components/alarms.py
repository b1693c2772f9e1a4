"""Tell a human when an episode did not make it.

One SNS topic (optionally with an e-mail subscription) receives:
* the pipeline's own "Pipeline Failed" events (an EventBridge rule on the configured bus), with the
  episode key and the error in the message;
* a CloudWatch alarm when the job dead-letter queue or the upload-event dead-letter queue holds a message;
* a CloudWatch alarm on the function's ``Errors`` metric, for the failures that never reach the point of
  sending an event (bad deployment, crash before the first checkpoint).
The topic is not KMS-encrypted: EventBridge and CloudWatch cannot publish to a topic encrypted with the
AWS-managed SNS key, and the messages carry object keys and error text, not audio or transcripts.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from podwhisperer.runtime.config import PipelineConfig


def create_alarm_topic(name: str, *, email: str | None, tags: Mapping[str, str],
                       opts: pulumi.ResourceOptions) -> aws.sns.Topic:
    topic = aws.sns.Topic(f"{name}-alarms", display_name=f"podwhisperer {name}", tags=dict(tags), opts=opts)
    if email:
        aws.sns.TopicSubscription(f"{name}-alarms-email", topic=topic.arn, protocol="email", endpoint=email,
                                  opts=opts)
    return topic


def allow_publishers(name: str, *, topic: aws.sns.Topic, rule_arns: list[pulumi.Output[str]],
                     alarm_arns: list[pulumi.Output[str]], account: pulumi.Input[str],
                     opts: pulumi.ResourceOptions) -> aws.sns.TopicPolicy:
    """Only this pipeline's EventBridge rules and CloudWatch alarms may publish."""
    statements = [{"Sid": "OwnerManages", "Effect": "Allow", "Principal": {"AWS": account},
                   "Action": ["sns:GetTopicAttributes", "sns:Subscribe", "sns:ListSubscriptionsByTopic"],
                   "Resource": topic.arn}]
    if rule_arns:
        statements.append({"Sid": "PipelineFailedEvents", "Effect": "Allow",
                           "Principal": {"Service": "events.amazonaws.com"}, "Action": "sns:Publish",
                           "Resource": topic.arn, "Condition": {"ArnEquals": {"aws:SourceArn": rule_arns}}})
    statements.append({"Sid": "PipelineAlarms", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
                       "Action": "sns:Publish", "Resource": topic.arn,
                       "Condition": {"ArnEquals": {"aws:SourceArn": alarm_arns}}})
    policy = pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements})
    return aws.sns.TopicPolicy(f"{name}-alarms", arn=topic.arn, policy=policy, opts=opts)


def failure_rule(name: str, *, config: PipelineConfig, topic: aws.sns.Topic, tags: Mapping[str, str],
                 opts: pulumi.ResourceOptions) -> aws.cloudwatch.EventRule:
    """The pipeline's failure events → the alarm topic, as a readable one-liner."""
    notification = config.notification
    rule = aws.cloudwatch.EventRule(
        f"{name}-failed", event_bus_name=notification.event_bus_name,
        description="podwhisperer pipeline failures → alarm topic",
        event_pattern=pulumi.Output.json_dumps({"source": [notification.source],
                                                "detail-type": [notification.failure_detail_type]}),
        tags=dict(tags), opts=opts)
    aws.cloudwatch.EventTarget(
        f"{name}-failed", rule=rule.name, event_bus_name=notification.event_bus_name, arn=topic.arn,
        input_transformer={"input_paths": {"detail": "$.detail", "time": "$.time"},
                           "input_template": '"podwhisperer: an episode failed at <time>: <detail>"'},
        opts=opts)
    return rule


def queue_alarm(name: str, *, queue: aws.sqs.Queue, what: str, topic: aws.sns.Topic, tags: Mapping[str, str],
                opts: pulumi.ResourceOptions) -> aws.cloudwatch.MetricAlarm:
    """Any message in a dead-letter queue is an episode that needs a human."""
    return aws.cloudwatch.MetricAlarm(
        name, alarm_description=f"{what} (inspect the dead-letter queue)", namespace="AWS/SQS",
        metric_name="ApproximateNumberOfMessagesVisible", dimensions={"QueueName": queue.name}, statistic="Maximum",
        period=300, evaluation_periods=1, threshold=0, comparison_operator="GreaterThanThreshold",
        treat_missing_data="notBreaching", alarm_actions=[topic.arn], ok_actions=[topic.arn], tags=dict(tags),
        opts=opts)


def function_errors_alarm(name: str, *, function_name: pulumi.Input[str], topic: aws.sns.Topic,
                          tags: Mapping[str, str], opts: pulumi.ResourceOptions) -> aws.cloudwatch.MetricAlarm:
    return aws.cloudwatch.MetricAlarm(
        f"{name}-pipeline-errors", alarm_description="The pipeline Lambda raised errors", namespace="AWS/Lambda",
        metric_name="Errors", dimensions={"FunctionName": function_name}, statistic="Sum", period=300,
        evaluation_periods=1, threshold=0, comparison_operator="GreaterThanThreshold",
        treat_missing_data="notBreaching", alarm_actions=[topic.arn], tags=dict(tags), opts=opts)
