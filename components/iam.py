"""Least-privilege IAM for the pipeline: one role per principal, every statement scoped.

The policy *documents* are built by small pure functions (plain dicts whose leaves may be Outputs), so
tests can read them without AWS; :func:`role` turns a document into a role with an inline policy.
No statement uses a ``*`` action; ``*`` resources appear only where AWS offers nothing narrower
(``ecr:GetAuthorizationToken``) and in the foundation-model region of a cross-region inference profile.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from podwhisperer.runtime.config import PROFILE_REGIONS

DURABLE_EXECUTION_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicDurableExecutionRolePolicy"
ECS_INFRASTRUCTURE_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForManagedInstances"
ECS_INSTANCE_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonECSInstanceRolePolicyForManagedInstances"

_GEO_PREFIXES = frozenset(PROFILE_REGIONS)
"""Cross-region inference profile prefixes (``eu.anthropic.claude-…``), as the config knows them."""

Statement = dict[str, Any]


@dataclass(frozen=True)
class AwsContext:
    """Account, region and partition of the deployment (Outputs, from the provider)."""

    account: pulumi.Input[str]
    region: pulumi.Input[str]
    partition: pulumi.Input[str] = "aws"

    def arn(self, service: str, resource: pulumi.Input[str], *, region: bool = True,
            account: bool = True) -> pulumi.Output[str]:
        """``arn:<partition>:<service>:<region>:<account>:<resource>``."""
        return pulumi.Output.concat("arn:", self.partition, ":", service, ":", self.region if region else "",
                                    ":", self.account if account else "", ":", resource)


def statement(sid: str, actions: Sequence[str],
              resources: Sequence[pulumi.Input[str]] | pulumi.Output[list[str]],
              condition: Mapping[str, Any] | None = None) -> Statement:
    """An Allow statement; refuses wildcard actions so a typo can never widen a role."""
    for action in actions:
        if "*" in action:
            raise ValueError(f"wildcard action {action!r} in statement {sid}")
    result: Statement = {"Sid": sid, "Effect": "Allow", "Action": sorted(actions),
                          "Resource": resources if isinstance(resources, pulumi.Output) else list(resources)}
    if condition:
        result["Condition"] = dict(condition)
    return result


def document(statements: Sequence[Statement]) -> pulumi.Output[str]:
    """A policy document as JSON (resolves the Outputs inside)."""
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})


def assume_role_policy(service: str, conditions: Mapping[str, Any] | None = None) -> pulumi.Output[str]:
    """Trust policy for one AWS service principal."""
    trust: Statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if conditions:
        trust["Condition"] = dict(conditions)
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": [trust]})


def objects(bucket_arn: pulumi.Input[str], prefix: str) -> pulumi.Output[str]:
    """ARN of every object under ``prefix`` (``arn:…:bucket/input/*``)."""
    return pulumi.Output.concat(bucket_arn, "/", prefix, "*")


def bedrock_model_arns(model_id: str, region: str, account: str, partition: str = "aws") -> list[str]:
    """The ARNs ``bedrock:InvokeModel`` must allow for ``model_id`` (id, profile id, or ARN).

    A cross-region profile (``eu.anthropic.claude-…``) needs the profile ARN *and* the foundation model
    in every region the profile routes to, hence ``*`` in the model ARN's region field only.
    """
    if model_id.startswith("arn:"):
        resource = model_id.split(":", 5)[-1]
        kind, _, name = resource.partition("/")
        if kind == "inference-profile" and name.split(".", 1)[0] in _GEO_PREFIXES:
            return [model_id, f"arn:{partition}:bedrock:*::foundation-model/{name.split('.', 1)[1]}"]
        return [model_id]  # foundation model, provisioned throughput or application profile ARN
    prefix, _, rest = model_id.partition(".")
    if prefix in _GEO_PREFIXES and rest:
        return [f"arn:{partition}:bedrock:{region}:{account}:inference-profile/{model_id}",
                f"arn:{partition}:bedrock:*::foundation-model/{rest}"]
    return [f"arn:{partition}:bedrock:{region}::foundation-model/{model_id}"]


def event_bus_arn(bus: str, ctx: AwsContext) -> pulumi.Output[str]:
    """ARN of the configured bus, given its name or its ARN (predecessor defect 29)."""
    if bus.startswith("arn:"):
        return pulumi.Output.from_input(bus)
    return ctx.arn("events", f"event-bus/{bus}")


@dataclass(frozen=True)
class Role:
    """A role and the policy resources that grant its permissions (depend on these, not on the role
    alone, when AWS checks the permissions as the dependent resource is created)."""

    resource: aws.iam.Role
    policies: list[pulumi.Resource]

    @property
    def arn(self) -> pulumi.Output[str]:
        return self.resource.arn

    @property
    def name(self) -> pulumi.Output[str]:
        return self.resource.name


def role(name: str, *, service: str, statements: Sequence[Statement], managed_policy_arns: Sequence[str] = (),
         description: str, opts: pulumi.ResourceOptions, tags: Mapping[str, str],
         trust_conditions: Mapping[str, Any] | None = None) -> Role:
    """A role for ``service`` with one inline policy (``statements``) and the given managed policies."""
    created = aws.iam.Role(name, assume_role_policy=assume_role_policy(service, trust_conditions),
                           description=description, tags=dict(tags), opts=opts)
    policies: list[pulumi.Resource] = []
    if statements:
        policies.append(aws.iam.RolePolicy(f"{name}-policy", role=created.id, policy=document(statements),
                                           opts=opts))
    for index, arn in enumerate(managed_policy_arns):
        policies.append(aws.iam.RolePolicyAttachment(f"{name}-managed-{index}", role=created.name, policy_arn=arn,
                                                     opts=opts))
    return Role(resource=created, policies=policies)
