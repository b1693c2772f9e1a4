"""Scale the worker service 0..max on the job backlog, without ever stopping a running job (defect 21).

The signal is the *backlog*: ``ApproximateNumberOfMessagesVisible + ApproximateNumberOfMessagesNotVisible``
(metric math). A job being transcribed is invisible, so it still counts; the predecessor scaled on
visible messages alone and could stop a task mid-episode.

* Scale out: as soon as one 1-minute datapoint shows a backlog ≥ 1, start a worker; a backlog of k ≥ 2
  asks for ``min(k - 1, max_workers)`` workers (ExactCapacity steps). The "- 1" is for warm-up messages:
  a worker holds a warm-up in flight (so it counts in the backlog) *and* keeps taking jobs, so a warm-up
  plus one episode needs one GPU, not two. Without a warm-up, a second queued episode waits for the first
  GPU to finish (or for the third upload to start a second one).
* Scale in: only to **zero**, and only after the backlog has been 0 for ``scale_in_after_minutes``
  consecutive minutes. Backlog 0 means no message is queued *or in flight*, so no task has work.
  Missing data counts as empty (SQS stops publishing metrics for a queue nobody polls).
* Partial scale-in (e.g. 2 → 1 while one job still runs) happens through the scale-out steps; ECS may pick
  the busy task, so the worker should set ECS task scale-in protection while it holds a job (the task role
  may). Without it the SIGTERM path releases the message and the job is retried, never lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_aws as aws

from podwhisperer.components.args import ScalingArgs

MAX_STEPS = 20  # Application Auto Scaling's limit on step adjustments per policy
PERIOD_SECONDS = 60


def workers_for_backlog(backlog: int, max_workers: int) -> int:
    """The desired count the scale-out policy sets for a backlog (the rule the steps encode)."""
    if backlog < 1:
        return 0
    workers = max(1, backlog - 1)
    # Past MAX_STEPS exact steps, the last (open-ended) step jumps to max_workers.
    return max_workers if workers >= min(max_workers, MAX_STEPS) else workers


def scale_out_steps(max_workers: int) -> list[dict[str, Any]]:
    """ExactCapacity steps relative to the alarm threshold of 1 (bounds: metric − 1, lower inclusive,
    upper exclusive): backlog 1 or 2 → 1 worker, backlog k ≥ 3 → k − 1, capped at ``max_workers``."""
    exact = min(max_workers, MAX_STEPS)
    steps: list[dict[str, Any]] = []
    for workers in range(1, exact + 1):
        last = workers == exact
        lower = 0 if workers == 1 else workers  # backlog (workers + 1) is (workers) above the threshold
        step: dict[str, Any] = {"metric_interval_lower_bound": str(lower),
                                "scaling_adjustment": max_workers if last else workers}
        if not last:
            step["metric_interval_upper_bound"] = str(workers + 1)
        steps.append(step)
    return steps


def backlog_queries(queue_name: pulumi.Input[str]) -> list[Any]:
    """Metric math: visible + in-flight messages of the job queue, 1-minute maximum."""
    def metric(query_id: str, metric_name: str) -> dict[str, Any]:
        return {"id": query_id, "return_data": False, "metric": {
            "namespace": "AWS/SQS", "metric_name": metric_name, "dimensions": {"QueueName": queue_name},
            "period": PERIOD_SECONDS, "stat": "Maximum"}}

    return [metric("visible", "ApproximateNumberOfMessagesVisible"),
            metric("inflight", "ApproximateNumberOfMessagesNotVisible"),
            {"id": "backlog", "expression": "visible + inflight", "label": "Jobs queued or running",
             "return_data": True}]


def create_autoscaling(name: str, *, cluster_name: pulumi.Input[str], service_name: pulumi.Input[str],
                       queue_name: pulumi.Input[str], max_workers: int, scaling: ScalingArgs,
                       tags: Mapping[str, str], opts: pulumi.ResourceOptions) -> aws.appautoscaling.Target:
    """Scalable target 0..max_workers, the two step policies and the two backlog alarms."""
    target = aws.appautoscaling.Target(
        f"{name}-worker", min_capacity=0, max_capacity=max_workers, service_namespace="ecs",
        scalable_dimension="ecs:service:DesiredCount",
        resource_id=pulumi.Output.concat("service/", cluster_name, "/", service_name), tags=dict(tags), opts=opts)
    scale_out = _policy(f"{name}-scale-out", target, scale_out_steps(max_workers), scaling.cooldown_seconds, opts)
    scale_in = _policy(f"{name}-scale-in", target, [{"metric_interval_upper_bound": "0", "scaling_adjustment": 0}],
                       scaling.cooldown_seconds, opts)
    aws.cloudwatch.MetricAlarm(
        f"{name}-backlog-high", alarm_description="A job is waiting: start GPU workers (scale out)",
        metric_queries=backlog_queries(queue_name), comparison_operator="GreaterThanOrEqualToThreshold",
        threshold=1, evaluation_periods=1, datapoints_to_alarm=1, treat_missing_data="notBreaching",
        alarm_actions=[scale_out.arn], tags=dict(tags), opts=opts)
    aws.cloudwatch.MetricAlarm(
        f"{name}-backlog-empty", alarm_description="No job queued or running: stop GPU workers (scale in to 0)",
        metric_queries=backlog_queries(queue_name), comparison_operator="LessThanOrEqualToThreshold",
        threshold=0, evaluation_periods=scaling.scale_in_after_minutes,
        datapoints_to_alarm=scaling.scale_in_after_minutes, treat_missing_data="breaching",
        alarm_actions=[scale_in.arn], tags=dict(tags), opts=opts)
    return target


def _policy(name: str, target: aws.appautoscaling.Target, steps: list[dict[str, Any]], cooldown: int,
            opts: pulumi.ResourceOptions) -> aws.appautoscaling.Policy:
    configuration: Any = {"adjustment_type": "ExactCapacity", "cooldown": cooldown,
                          "metric_aggregation_type": "Maximum", "step_adjustments": steps}
    return aws.appautoscaling.Policy(
        name, policy_type="StepScaling", resource_id=target.resource_id,
        scalable_dimension=target.scalable_dimension, service_namespace=target.service_namespace,
        step_scaling_policy_configuration=configuration, opts=opts)
