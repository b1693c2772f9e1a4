"""Pulumi mocks for the component and program tests: record every resource, answer every invoke.

``set_mocks`` is process-global, so each test module installs a fresh :class:`RecordingMocks` in an
autouse fixture (:func:`install`) instead of at import time; the last one installed wins.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

ACCOUNT = "123456789012"
REGION = "us-east-2"
LAST: RecordingMocks | None = None
"""The most recently installed mocks (for tests whose program fails before returning them)."""
AUTO_SUFFIX = "uniq"
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # Pulumi's marker for a serialized secret value


@dataclass
class Recorded:
    typ: str
    name: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]


class RecordingMocks(pulumi.runtime.Mocks):
    """Echo inputs as outputs, add the computed outputs the component reads, keep a list of everything."""

    def __init__(self, region: str = REGION) -> None:
        self.region = region
        self.resources: list[Recorded] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []

    # -- resources -------------------------------------------------------------------------------

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        outputs = {**inputs, **self._computed(args.typ, args.name, inputs)}
        self.resources.append(Recorded(args.typ, args.name, inputs, outputs))
        return f"{args.name}-id", outputs

    def _computed(self, typ: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        arn = f"arn:aws:{typ.split(':')[1].split('/')[0]}:{self.region}:{ACCOUNT}:{name}"
        # A name prefix gets a suffix from AWS (modelled as "uniq"); no name at all: Pulumi's auto-name,
        # modelled as the logical name (unique within a program; a random suffix makes it unique across stacks).
        resource_name = inputs.get("name") or (inputs["namePrefix"] + AUTO_SUFFIX if "namePrefix" in inputs else name)
        computed: dict[str, Any] = {"arn": arn, "name": resource_name}
        if typ == "aws:lambda/function:Function":
            computed.update(arn=f"arn:aws:lambda:{self.region}:{ACCOUNT}:function:{resource_name}", version="1")
        elif typ == "aws:lambda/alias:Alias":
            function = inputs["functionName"]
            computed["arn"] = f"arn:aws:lambda:{self.region}:{ACCOUNT}:function:{function}:{resource_name}"
        elif typ == "aws:sqs/queue:Queue":
            computed.update(arn=f"arn:aws:sqs:{self.region}:{ACCOUNT}:{name}",
                            url=f"https://sqs.{self.region}.amazonaws.com/{ACCOUNT}/{name}")
        elif typ == "aws:s3/bucket:Bucket":
            computed.update(bucket=f"{name}-bucket", arn=f"arn:aws:s3:::{name}-bucket")
        elif typ == "aws:ecr/repository:Repository":
            computed.update(repositoryUrl=f"{ACCOUNT}.dkr.ecr.{self.region}.amazonaws.com/{name}",
                            registryId=ACCOUNT)
        elif typ == "docker-build:index:Image":
            computed = {"digest": "sha256:" + "0" * 64, "ref": "image-ref"}
        elif typ == "aws:ssm/parameter:Parameter":
            computed["arn"] = f"arn:aws:ssm:{self.region}:{ACCOUNT}:parameter{inputs.get('name', '')}"
        elif typ == "aws:cloudwatch/logGroup:LogGroup":
            computed["arn"] = f"arn:aws:logs:{self.region}:{ACCOUNT}:log-group:{resource_name}"
        return computed

    # -- invokes ---------------------------------------------------------------------------------

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]] | dict[str, Any]:
        self.calls.append((args.token, dict(args.args)))
        answers: dict[str, dict[str, Any]] = {
            "aws:index/getCallerIdentity:getCallerIdentity": {
                "accountId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:user/test", "userId": "AIDATEST", "id": ACCOUNT},
            "aws:index/getRegion:getRegion": {"name": self.region, "region": self.region, "id": self.region,
                                              "endpoint": f"ec2.{self.region}.amazonaws.com", "description": ""},
            "aws:index/getPartition:getPartition": {"partition": "aws", "dnsSuffix": "amazonaws.com",
                                                    "reverseDnsPrefix": "com.amazonaws", "id": "aws"},
            "aws:index/getAvailabilityZones:getAvailabilityZones": {
                "names": [f"{self.region}{z}" for z in "abc"], "zoneIds": ["z1", "z2", "z3"], "id": self.region},
            "aws:ecr/getAuthorizationToken:getAuthorizationToken": {
                "userName": "AWS", "password": "ecr-password", "authorizationToken": "tok",
                "proxyEndpoint": "https://ecr", "expiresAt": "never", "id": ACCOUNT, "registryId": ACCOUNT},
            "aws:ssm/getParameter:getParameter": {
                "name": args.args.get("name", ""), "value": "hf_existing_parameter_token", "type": "SecureString",
                "arn": f"arn:aws:ssm:{self.region}:{ACCOUNT}:parameter{args.args.get('name', '')}",
                "id": args.args.get("name", ""), "version": 1, "insecureValue": "", "withDecryption": True},
        }
        return answers.get(args.token, {})

    # -- queries for the tests -----------------------------------------------------------------

    def of_type(self, typ: str) -> list[Recorded]:
        return [r for r in self.resources if r.typ == typ]

    def one(self, typ: str, name_suffix: str = "") -> Recorded:
        found = [r for r in self.of_type(typ) if r.name.endswith(name_suffix)]
        assert len(found) == 1, f"expected one {typ} ending {name_suffix!r}, got {[r.name for r in found]}"
        return found[0]


def install(project: str = "podwhisperer", stack: str = "test", region: str = REGION) -> RecordingMocks:
    """A fresh recorder, installed as the process's Pulumi mocks."""
    global LAST
    mocks = RecordingMocks(region=region)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False)
    LAST = mocks
    return mocks


def unsecret(value: Any) -> Any:
    """A recorded input with Pulumi's secret envelopes removed (the plain value underneath)."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG) == "1b47061264138c4ac30d75fd1eb44270":
            return unsecret(value.get("value"))
        return {k: unsecret(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unsecret(v) for v in value]
    return value


def policy(value: Any) -> dict[str, Any]:
    """A policy input (a JSON string under mocks) as a dict."""
    return json.loads(value) if isinstance(value, str) else dict(value)


@functools.cache
def session_bundle() -> Path:
    """The Lambda zip, built once per test session into a folder of its own (pip downloads stay cached
    in the build cache): two suites running at once from different checkouts must not read each
    other's zip."""
    import tempfile

    from podwhisperer.components.bundle import build_lambda_bundle

    return build_lambda_bundle(tempfile.mkdtemp(prefix="podwhisperer-test-bundle-"))
