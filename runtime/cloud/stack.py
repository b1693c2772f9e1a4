"""Find a deployed pipeline: its bucket, region, queue and function.

From ``pulumi stack output --json --stack NAME`` (the component exports every name the operator
commands need), or from explicit ``--bucket``/``--region`` flags. AWS clients are made here, once,
from one boto3 session; missing credentials are one clear line, not a botocore traceback.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from podwhisperer.runtime.config import ConfigError, PipelineConfig, parse_config


class StackError(RuntimeError):
    """The stack (or its outputs, or AWS credentials) cannot be used; one line for the user."""


Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


def _run(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(command), capture_output=True, text=True, timeout=120, check=False)


@dataclass(frozen=True)
class StackInfo:
    """Names of one deployed pipeline."""

    bucket: str
    region: str | None
    input_prefix: str = "input/"
    output_prefix: str = "output/"
    queue_url: str | None = None
    function_name: str | None = None
    source: str = "flags"  # "stack NAME" or "flags"

    def require(self, attribute: str, flag: str) -> str:
        value = getattr(self, attribute)
        if not value:
            raise StackError(f"this command needs the pipeline's {attribute.replace('_', ' ')}: pass --stack NAME "
                             f"(a deployed podwhisperer stack) or {flag}")
        return str(value)


def from_pulumi(stack: str, cwd: str | None = None, runner: Runner = _run) -> StackInfo:
    """Read the stack's outputs with the Pulumi CLI."""
    if runner is _run and shutil.which("pulumi") is None:
        raise StackError("the pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/install/) or "
                         "pass --bucket and --region instead of --stack")
    command = ["pulumi", "stack", "output", "--json", "--stack", stack, *(["--cwd", cwd] if cwd else [])]
    try:
        done = runner(command)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StackError(f"pulumi stack output --stack {stack}: {exc}") from None
    if done.returncode != 0:
        reason = next((line.strip() for line in done.stderr.splitlines() if line.strip()), "failed")
        raise StackError(f"stack {stack!r}: {reason.removeprefix('error: ')}")
    try:
        outputs = json.loads(done.stdout or "{}")
    except ValueError:
        raise StackError(f"stack {stack!r}: pulumi printed no JSON outputs") from None
    return from_outputs(outputs, f"stack {stack}")


def from_outputs(outputs: Mapping[str, Any], source: str) -> StackInfo:
    bucket = outputs.get("bucket_name")
    if not isinstance(bucket, str) or not bucket:
        raise StackError(f"{source} has no bucket_name output: is it a podwhisperer stack, and was `pulumi up` run?")
    function = outputs.get("function_name") or _function_from_arn(outputs.get("function_arn"))
    region = outputs.get("region") or _region_from_arn(outputs.get("function_arn"))
    return StackInfo(bucket=bucket, region=region, input_prefix=str(outputs.get("input_prefix") or "input/"),
                     output_prefix=str(outputs.get("output_prefix") or "output/"),
                     queue_url=outputs.get("queue_url"), function_name=function, source=source)


def from_flags(bucket: str, region: str | None, queue_url: str | None = None, function_name: str | None = None,
               input_prefix: str = "input/", output_prefix: str = "output/") -> StackInfo:
    return StackInfo(bucket=bucket, region=region, queue_url=queue_url, function_name=function_name,
                     input_prefix=input_prefix, output_prefix=output_prefix)


def _function_from_arn(arn: Any) -> str | None:
    return str(arn).split(":")[6] if isinstance(arn, str) and arn.count(":") >= 6 else None


def _region_from_arn(arn: Any) -> str | None:
    return str(arn).split(":")[3] if isinstance(arn, str) and arn.count(":") >= 6 else None


@dataclass
class Aws:
    """boto3 clients for one stack, made on first use from one session."""

    stack: StackInfo
    session_factory: Callable[..., Any] | None = None
    _clients: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def session(self) -> Any:
        if self.session_factory is not None:
            return self.session_factory(region_name=self.stack.region)
        import boto3

        session = boto3.Session(region_name=self.stack.region)
        if session.get_credentials() is None:
            raise StackError("no AWS credentials found: set AWS_PROFILE, run `aws sso login` or `aws configure`, "
                             "or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")
        if session.region_name is None:
            raise StackError("no AWS region: pass --region or set AWS_REGION")
        return session

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service)
        return self._clients[service]

    def pipeline_config(self) -> PipelineConfig:
        """The deployed config, read from the function's ``PODWHISPERER_CONFIG`` (all defaults without one)."""
        name = self.stack.function_name
        if not name:
            return PipelineConfig()
        response = self.client("lambda").get_function_configuration(FunctionName=name)
        text = ((response.get("Environment") or {}).get("Variables") or {}).get("PODWHISPERER_CONFIG", "")
        try:
            return parse_config(json.loads(text) if text.strip() else {}, source=f"{name} PODWHISPERER_CONFIG")
        except (ValueError, ConfigError) as exc:
            raise StackError(f"the deployed config of {name} is unreadable: {exc}") from None
