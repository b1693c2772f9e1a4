"""The GPU worker on ECS Managed Instances: cluster, capacity provider, task definition, service.

ECS Managed Instances launches (and terminates) the EC2 GPU instances itself from the instance
requirements below, so the service is the only thing that scales: desired count 0 means no instance,
no cost. The capacity provider belongs to the cluster when it is created (Managed Instances providers
cannot, and need not, be attached with ``ClusterCapacityProviders``).

Updates (what a changed setting replaces; the README's "What a change replaces" lists them all):
* ``worker.capacity`` (on-demand ↔ spot) is the one GPU setting ECS cannot update in place
  (``UpdateCapacityProvider`` has no ``capacityOptionType``): a new capacity provider is created first,
  the service moves to it **in place** (``force_new_deployment``: without it a changed capacity-provider
  strategy would replace the service), and the old provider is deleted after;
* instance requirements, storage, network and idle time are updatable fields of the capacity provider;
* task CPU/memory, image and config are a new task-definition revision: a rolling deployment, in which a
  worker holding a job keeps its task scale-in protection, so ECS waits for the job instead of stopping it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from podwhisperer.components import iam
from podwhisperer.components.args import PodwhispererPipelineArgs
from podwhisperer.components.network import Network
from podwhisperer.components.permissions import infrastructure_statements
from podwhisperer.runtime.config import InstanceRequirements, PipelineConfig
from podwhisperer.runtime.contracts import HF_TOKEN_ENV

CONTAINER_NAME = "worker"
STOP_TIMEOUT_SECONDS = 120  # SIGTERM → SIGKILL: time for the worker to release its message and exit


@dataclass(frozen=True)
class WorkerService:
    cluster: aws.ecs.Cluster
    capacity_provider: aws.ecs.CapacityProvider
    task_definition: aws.ecs.TaskDefinition
    service: aws.ecs.Service
    log_group: aws.cloudwatch.LogGroup


def instance_requirements(req: InstanceRequirements) -> dict[str, Any]:
    """``config.worker.instance_requirements`` in the provider's shape: exactly ``accelerator_count`` GPUs."""
    result: dict[str, Any] = {
        "vcpu_count": _range(req.vcpu_min, req.vcpu_max),
        "memory_mib": _range(req.memory_mib_min, req.memory_mib_max),
        "accelerator_types": ["gpu"],
        "accelerator_manufacturers": list(req.accelerator_manufacturers),
        "accelerator_count": {"min": req.accelerator_count, "max": req.accelerator_count},
        "instance_generations": ["current"],
        "burstable_performance": "excluded",
        "bare_metal": "excluded",
    }
    if req.accelerator_names:
        result["accelerator_names"] = list(req.accelerator_names)
    if req.allowed_instance_types:
        result["allowed_instance_types"] = list(req.allowed_instance_types)
    return result


def _range(low: int, high: int | None) -> dict[str, int]:
    return {"min": low} if high is None else {"min": low, "max": high}


def create_log_group(name: str, *, retention_days: int, tags: Mapping[str, str],
                     opts: pulumi.ResourceOptions) -> aws.cloudwatch.LogGroup:
    # A prefix, not a name: AWS appends a unique suffix, so stacks never share a log group.
    return aws.cloudwatch.LogGroup(f"{name}-worker", name_prefix=f"/ecs/{name}-worker-",
                                   retention_in_days=retention_days, tags=dict(tags), opts=opts)


def create_cluster(name: str, *, tags: Mapping[str, str], opts: pulumi.ResourceOptions) -> aws.ecs.Cluster:
    # Container Insights bills per metric even for an idle service: off, to keep idle cost at zero.
    return aws.ecs.Cluster(f"{name}-cluster", settings=[{"name": "containerInsights", "value": "disabled"}],
                           tags=dict(tags), opts=opts)


def create_capacity_provider(name: str, *, cluster: aws.ecs.Cluster, args: PodwhispererPipelineArgs,
                             network: Network, tags: Mapping[str, str],
                             opts: pulumi.ResourceOptions) -> aws.ecs.CapacityProvider:
    """Managed Instances capacity for exactly the configured GPU, on-demand or spot."""
    worker = args.pipeline_config.worker
    instance_role = iam.role(f"{name}-instance", service="ec2.amazonaws.com", statements=[],
                             managed_policy_arns=[iam.ECS_INSTANCE_POLICY_ARN], tags=tags, opts=opts,
                             description="podwhisperer GPU instances (ECS agent)")
    profile = aws.iam.InstanceProfile(f"{name}-instance", role=instance_role.name, tags=dict(tags), opts=opts)
    infrastructure = iam.role(f"{name}-infrastructure", service="ecs.amazonaws.com",
                              statements=infrastructure_statements(instance_role.arn),
                              managed_policy_arns=[iam.ECS_INFRASTRUCTURE_POLICY_ARN], tags=tags, opts=opts,
                              description="ECS Managed Instances: launch and retire podwhisperer GPU instances")
    # ECS checks the roles while it creates the provider: wait for their policies, not just the roles.
    ready = [profile, *instance_role.policies, *infrastructure.policies]
    provider: Any = {
        "infrastructure_role_arn": infrastructure.arn,
        "propagate_tags": "CAPACITY_PROVIDER",
        "infrastructure_optimization": {"scale_in_after": args.scaling.instance_idle_seconds},
        "instance_launch_template": {
            "ec2_instance_profile_arn": profile.arn,
            "capacity_option_type": "SPOT" if worker.capacity == "spot" else "ON_DEMAND",
            "network_configuration": {"subnets": network.subnet_ids,
                                      "security_groups": network.security_group_ids},
            "instance_requirements": instance_requirements(worker.instance_requirements),
            "storage_configuration": {"storage_size_gib": args.instance_storage_gib},
            "monitoring": "BASIC",
        },
    }
    return aws.ecs.CapacityProvider(f"{name}-gpu", cluster=cluster.name, managed_instances_provider=provider,
                                    tags=dict(tags),
                                    opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=ready)))


def container_definitions(*, image: pulumi.Input[str], env: Mapping[str, pulumi.Input[str]],
                          hf_token_parameter_arn: pulumi.Input[str] | None, log_group: pulumi.Input[str],
                          region: pulumi.Input[str]) -> pulumi.Output[str]:
    """The one worker container: 1 GPU, config in env, the HF token (if any) as an SSM secret, awslogs."""
    return pulumi.Output.all(image=image, env=dict(env), token=hf_token_parameter_arn, logs=log_group,
                             region=region).apply(lambda v: json.dumps([{
        "name": CONTAINER_NAME,
        "image": v["image"],
        "essential": True,
        "resourceRequirements": [{"type": "GPU", "value": "1"}],
        "environment": [{"name": key, "value": value} for key, value in sorted(v["env"].items())],
        # No token: no secret at all (ECS would refuse to start a task whose secret does not exist).
        "secrets": [{"name": HF_TOKEN_ENV, "valueFrom": v["token"]}] if v["token"] else [],
        "stopTimeout": STOP_TIMEOUT_SECONDS,
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": v["logs"], "awslogs-region": v["region"], "awslogs-stream-prefix": "worker"}},
    }]))


def create_task_definition(family_name: str, *, config: PipelineConfig, network_mode: str,
                           containers: pulumi.Input[str], task_role_arn: pulumi.Input[str],
                           execution_role_arn: pulumi.Input[str], tags: Mapping[str, str],
                           opts: pulumi.ResourceOptions, logical_name: str) -> aws.ecs.TaskDefinition:
    """``family_name`` is stack-scoped (a family is a physical name: two stacks must not share one)."""
    return aws.ecs.TaskDefinition(
        f"{logical_name}-worker", family=f"{family_name}-worker", requires_compatibilities=["MANAGED_INSTANCES"],
        network_mode=network_mode, cpu=str(config.worker.task_cpu), memory=str(config.worker.task_memory_mib),
        runtime_platform={"operating_system_family": "LINUX", "cpu_architecture": "X86_64"},
        container_definitions=containers, task_role_arn=task_role_arn, execution_role_arn=execution_role_arn,
        tags=dict(tags), opts=opts)


def create_service(name: str, *, cluster: aws.ecs.Cluster, capacity_provider: aws.ecs.CapacityProvider,
                   task_definition: aws.ecs.TaskDefinition, network_mode: str, network: Network,
                   tags: Mapping[str, str], opts: pulumi.ResourceOptions) -> aws.ecs.Service:
    """Desired count 0: autoscaling owns it from then on (``ignore_changes`` keeps Pulumi from resetting it)."""
    awsvpc: Any = {"subnets": network.subnet_ids, "security_groups": network.security_group_ids,
              "assign_public_ip": False} if network_mode == "awsvpc" else None
    return aws.ecs.Service(
        f"{name}-worker", cluster=cluster.arn, task_definition=task_definition.arn, desired_count=0,
        capacity_provider_strategies=[{"capacity_provider": capacity_provider.name, "weight": 1, "base": 0}],
        # A new capacity provider (on-demand ↔ spot) then updates the service in place instead of replacing it.
        force_new_deployment=True,
        # A deployment replaces tasks one by one without ever running a second GPU next to the first.
        deployment_minimum_healthy_percent=0, deployment_maximum_percent=100,
        network_configuration=awsvpc, propagate_tags="SERVICE", enable_ecs_managed_tags=True,
        tags=dict(tags),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(ignore_changes=["desiredCount"])))
