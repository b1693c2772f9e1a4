"""Checks that make Pulumi mocks as strict as the real deployment where the rule is knowable offline.

* :func:`unknown_inputs`: every (nested) input key a resource was declared with exists in the installed
  provider SDK's input types (``pulumi_aws.<module>.<Resource>Args`` and its ``_inputs``), so a typo or a
  field the pinned pulumi-aws does not have fails here instead of at ``pulumi up``.
* :func:`enum_violations`: every enum-valued field is one of the values of the AWS service model botocore
  ships, found by walking the inputs next to the request shape of the API call that creates the resource.
* :func:`physical_names`: the names a resource claims in the account and region (explicit ``name``,
  ``bucket``, ``family``; a ``namePrefix`` or Pulumi's auto-name gets a unique suffix and claims nothing).
"""

from __future__ import annotations

import collections.abc
import importlib
import json
import typing
from collections.abc import Iterator
from typing import Any

import botocore.session
import pulumi._types as pulumi_types

# The API call that creates each resource type (service, operation, member path to the resource's inputs).
CREATE_CALLS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "aws:ecs/capacityProvider:CapacityProvider": ("ecs", "CreateCapacityProvider", ()),
    "aws:ecs/taskDefinition:TaskDefinition": ("ecs", "RegisterTaskDefinition", ()),
    "aws:ecs/service:Service": ("ecs", "CreateService", ()),
    "aws:ecs/cluster:Cluster": ("ecs", "CreateCluster", ()),
    "aws:appautoscaling/target:Target": ("application-autoscaling", "RegisterScalableTarget", ()),
    "aws:appautoscaling/policy:Policy": ("application-autoscaling", "PutScalingPolicy", ()),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("cloudwatch", "PutMetricAlarm", ()),
    "aws:lambda/function:Function": ("lambda", "CreateFunction", ()),
    "aws:ssm/parameter:Parameter": ("ssm", "PutParameter", ()),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("ec2", "CreateVpcEndpoint", ()),
    "aws:ecr/repository:Repository": ("ecr", "CreateRepository", ()),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "s3", "PutBucketEncryption", ("ServerSideEncryptionConfiguration",)),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": ("s3", "PutBucketOwnershipControls",
                                                               ("OwnershipControls",)),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (
        "s3", "PutBucketLifecycleConfiguration", ("LifecycleConfiguration",)),
    "aws:cloudwatch/eventTarget:EventTarget": ("events", "PutTargets", ("Targets",)),
}
NAME_INPUTS = {"aws:s3/bucket:Bucket": "bucket", "aws:ecs/taskDefinition:TaskDefinition": "family"}
"""Where a resource's physical name is, when it is not ``name``."""
SCOPED_NAMES = {"aws:lambda/alias:Alias", "aws:iam/rolePolicy:RolePolicy", "aws:lambda/permission:Permission"}
"""Names that only need to be unique within a parent (a function's alias, a role's inline policy)."""


# -- strict input keys -------------------------------------------------------------------------------

def args_class(typ: str) -> type | None:
    """``aws:ecs/capacityProvider:CapacityProvider`` → ``pulumi_aws.ecs.CapacityProviderArgs``."""
    package, module_path, resource = typ.split(":")
    if package == "aws":
        module = importlib.import_module(f"pulumi_aws.{_python_module(module_path.split('/')[0])}")
    elif package == "docker-build":
        module = importlib.import_module("pulumi_docker_build")
    else:
        return None  # awsx and other component packages: not checked here
    # The args class next to the resource class: a nested input type may have the same name in ``_inputs``
    # (``s3.BucketServerSideEncryptionConfigurationArgs`` is both).
    # The generator then names the resource's own class ``<Resource>InitArgs``.
    resource_module = importlib.import_module(getattr(module, resource).__module__)
    return getattr(resource_module, f"{resource}InitArgs", None) or getattr(resource_module, f"{resource}Args", None)


def _python_module(name: str) -> str:
    return name + "_" if name in ("lambda",) else name


def unknown_inputs(typ: str, inputs: dict[str, Any]) -> list[str]:
    """Input paths that the installed SDK's input types do not declare."""
    cls = args_class(typ)
    if cls is None:
        return []
    return list(_unknown(inputs, cls, typ))


def _unknown(value: Any, hint: Any, path: str) -> Iterator[str]:
    hint = _unwrap(hint)
    if isinstance(hint, type) and pulumi_types.is_input_type(hint):
        if not isinstance(value, dict):
            return
        declared = pulumi_types.input_type_types(hint)
        for key, item in value.items():
            if key not in declared:
                yield f"{path}.{key}"
            else:
                yield from _unknown(item, declared[key], f"{path}.{key}")
    elif typing.get_origin(hint) in (collections.abc.Sequence, list) and isinstance(value, list):
        (member,) = typing.get_args(hint)[:1]
        for index, item in enumerate(value):
            yield from _unknown(item, member, f"{path}[{index}]")
    elif typing.get_origin(hint) in (collections.abc.Mapping, dict) and isinstance(value, dict):
        member = typing.get_args(hint)[1]
        for key, item in value.items():
            yield from _unknown(item, member, f"{path}.{key}")


def _unwrap(hint: Any) -> Any:
    """``Input[X]`` / ``Optional[X]`` / ``Union[X, Awaitable[X], Output]`` → ``X``."""
    while typing.get_origin(hint) is typing.Union:
        options = [a for a in typing.get_args(hint) if a is not type(None) and typing.get_origin(a)
                   is not collections.abc.Awaitable and getattr(a, "__name__", "") != "Output"
                   and "Output" not in str(a)]
        hint = options[0] if options else typing.Any
    return hint


# -- enum values from botocore's service models ---------------------------------------------------------

def enum_violations(typ: str, inputs: dict[str, Any], checked: list[str] | None = None) -> list[str]:
    """``path: value not in [...]`` for every enum field whose value AWS would reject."""
    if typ not in CREATE_CALLS:
        return []
    service, operation, root = CREATE_CALLS[typ]
    shape = botocore.session.get_session().get_service_model(service).operation_model(operation).input_shape
    for member in root:
        shape = shape.members[member]
    errors: list[str] = []
    _walk_enums(inputs, shape, typ, errors, checked if checked is not None else [])
    return errors


def _key(name: str) -> str:
    return name.lower().rstrip("s")


def _walk_enums(value: Any, shape: Any, path: str, errors: list[str], checked: list[str]) -> None:
    if isinstance(value, str) and shape.type_name in ("structure", "list") and value[:1] in "[{":
        try:
            value = json.loads(value)  # container definitions, policies: JSON strings in the inputs
        except ValueError:
            return
    if shape.type_name == "structure" and isinstance(value, dict):
        members = {_key(name): member for name, member in shape.members.items()}
        for key, item in value.items():
            member = members.get(_key(key))
            if member is not None:
                _walk_enums(item, member, f"{path}.{key}", errors, checked)
    elif shape.type_name == "list":
        for index, item in enumerate(value if isinstance(value, list) else [value]):
            _walk_enums(item, shape.member, f"{path}[{index}]", errors, checked)
    elif shape.type_name == "string" and shape.enum and isinstance(value, str):
        checked.append(path)
        if value not in shape.enum:
            errors.append(f"{path}: {value!r} is not one of {sorted(shape.enum)}")


# -- physical names -----------------------------------------------------------------------------------

def physical_names(typ: str, inputs: dict[str, Any]) -> list[tuple[str, str]]:
    """(type, name) for every name this resource claims in the account and region."""
    if typ in SCOPED_NAMES:
        return []
    value = inputs.get(NAME_INPUTS.get(typ, "name"))
    return [(typ, value)] if isinstance(value, str) else []
