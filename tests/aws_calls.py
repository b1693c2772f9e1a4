"""IAM proven by use: record the AWS calls production code makes and check them against the component's policies.

:class:`CallRecorder` hooks every botocore client created while it is installed (``before-parameter-build``
for the request, ``after-call`` for the status) and attributes each call to the principal whose code made
it, from the call stack: the outermost ``podwhisperer.worker`` frame → the worker's task role; the
outermost ``podwhisperer.runtime`` frame outside :data:`OPERATOR_MODULES` → the pipeline Lambda's role.
Calls the tests make themselves (setup, assertions, fakes) have no such frame and are not attributed.

:func:`requirements` maps a call to what IAM checks: action, resource ARN and condition keys (``s3:prefix``
for listings). A HEAD/GET of a missing key also needs ``s3:ListBucket`` on that key: without it S3 answers
403, not 404, and the code would take "forbidden" for "not there".

:func:`role_policies` runs the real component under Pulumi mocks for the test's config and bucket and returns
the inline policy of each role; :func:`is_allowed` evaluates a requirement against it (Allow/Deny,
``*``/``?`` wildcards, the String/Arn/Bool condition operators the component uses).
"""

from __future__ import annotations

import fnmatch
import functools
import json
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

import botocore.session

ACCOUNT = "123456789012"  # moto's default account, also the Pulumi mocks' account
PIPELINE = "pw"
"""The component name the policies are generated for: test queue ``jobs`` is the component's ``pw-jobs``."""
FUNCTION_VERSION = "1"
OPERATOR_MODULES = ("podwhisperer.runtime.adapters", "podwhisperer.runtime.local", "podwhisperer.runtime.cloud",
                    "podwhisperer.runtime.feed")
"""Runtime code that is not the Lambda: adapters, local mode, and the operator's ``cloud``/feed commands
(they run with the user's own credentials)."""
ROLE_POLICY = {"lambda": f"{PIPELINE}-pipeline-policy", "worker": f"{PIPELINE}-task-policy"}


@dataclass
class ApiCall:
    principal: str  # "lambda" | "worker"
    service: str  # botocore service name ("s3", "bedrock-runtime")
    signing_name: str  # the IAM prefix ("s3", "bedrock")
    operation: str
    params: dict[str, Any]
    region: str
    status: int | None = None
    error_code: str | None = None


@dataclass(frozen=True)
class Requirement:
    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()


@dataclass
class CallRecorder:
    calls: list[ApiCall] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self, monkeypatch: Any) -> CallRecorder:
        original = botocore.session.Session.create_client
        recorder = self

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            client.meta.events.register("before-parameter-build", recorder._before)
            client.meta.events.register("after-call", recorder._after)
            return client

        monkeypatch.setattr(botocore.session.Session, "create_client", create_client)
        return self

    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        principal = principal_of_caller()
        if principal is None:
            return
        service_model = model.service_model
        call = ApiCall(principal, service_model.service_name, service_model.signing_name or
                       service_model.endpoint_prefix, model.name, json.loads(json.dumps(params, default=str)),
                       region=context.get("client_region") or "")
        context["podwhisperer_call"] = call
        with self._lock:
            self.calls.append(call)

    def _after(self, http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        call = context.get("podwhisperer_call")
        if call is not None:
            call.status = http_response.status_code
            call.error_code = (parsed.get("Error") or {}).get("Code")


def principal_of_caller() -> str | None:
    """"worker" or "lambda" from the outermost podwhisperer frame of this thread's stack, else None."""
    frame = sys._getframe(2)
    outermost = None
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.startswith("podwhisperer."):
            outermost = module
        frame = frame.f_back
    if outermost is None:
        return None
    if outermost.startswith("podwhisperer.worker"):
        return "worker"
    if outermost.startswith("podwhisperer.runtime") and not outermost.startswith(OPERATOR_MODULES):
        return "lambda"
    return None


# -- a call → what IAM checks ---------------------------------------------------------------------------

_S3_WRITES = {"PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"}
_S3_READS = {"GetObject", "HeadObject"}


def requirements(call: ApiCall) -> list[Requirement]:
    p, op = call.params, call.operation
    if call.service == "s3":
        bucket = f"arn:aws:s3:::{p.get('Bucket', '')}"
        if op in _S3_READS:
            needed = [Requirement("s3:GetObject", f"{bucket}/{p['Key']}")]
            if call.status == 404 or call.error_code in ("NoSuchKey", "404", "NotFound"):
                needed.append(Requirement("s3:ListBucket", bucket, (("s3:prefix", p["Key"]),)))
            return needed
        if op in _S3_WRITES:
            return [Requirement("s3:PutObject", f"{bucket}/{p['Key']}")]
        if op == "CopyObject":
            source = p["CopySource"]
            source_arn = (f"arn:aws:s3:::{source['Bucket']}/{source['Key']}" if isinstance(source, dict)
                          else "arn:aws:s3:::" + source.lstrip("/").split("?")[0])
            return [Requirement("s3:GetObject", source_arn), Requirement("s3:PutObject", f"{bucket}/{p['Key']}")]
        if op in ("ListObjectsV2", "ListObjects"):
            return [Requirement("s3:ListBucket", bucket, (("s3:prefix", p.get("Prefix", "")),))]
        if op in ("DeleteObject", "AbortMultipartUpload"):
            return [Requirement(f"s3:{op}", f"{bucket}/{p['Key']}")]
    if call.service == "sqs":
        queue = p.get("QueueUrl", "").rstrip("/").rsplit("/", 1)[-1] or p.get("QueueName", "")
        action = op.removesuffix("Batch")
        return [Requirement(f"sqs:{action}", f"arn:aws:sqs:{call.region}:{ACCOUNT}:{PIPELINE}-{queue}")]
    if call.service == "events" and op == "PutEvents":
        return [Requirement("events:PutEvents", _bus_arn(entry.get("EventBusName") or "default", call.region))
                for entry in p.get("Entries", [])]
    if call.service == "lambda" and op.startswith("SendDurableExecutionCallback"):
        function = f"arn:aws:lambda:{call.region}:{ACCOUNT}:function:{PIPELINE}-pipeline:{FUNCTION_VERSION}"
        return [Requirement(f"lambda:{op}", function)]
    if call.service == "bedrock-runtime" and op in ("Converse", "InvokeModel", "ConverseStream",
                                                     "InvokeModelWithResponseStream"):
        action = "bedrock:InvokeModelWithResponseStream" if "Stream" in op else "bedrock:InvokeModel"
        return [Requirement(action, arn) for arn in _model_resources(p["modelId"], call.region)]
    return [Requirement(f"{call.signing_name}:{op}", "*unmapped*")]  # fails until it is mapped here


_GEO_PROFILES = ("us.", "eu.", "apac.", "jp.", "au.", "ca.", "us-gov.", "global.")
_SOME_OTHER_REGION = "ap-south-2"


def _model_resources(model_id: str, region: str) -> list[str]:
    """What Bedrock authorizes for a Converse call (written independently of components/iam.py): a
    cross-region inference profile needs the profile in the caller's region *and* the foundation model in
    whichever region the profile routes to (modelled as a region the caller does not know)."""
    if model_id.startswith("arn:"):
        return [model_id]
    if model_id.startswith(_GEO_PROFILES):
        base = model_id.split(".", 1)[1]
        return [f"arn:aws:bedrock:{region}:{ACCOUNT}:inference-profile/{model_id}",
                f"arn:aws:bedrock:{_SOME_OTHER_REGION}::foundation-model/{base}"]
    return [f"arn:aws:bedrock:{region}::foundation-model/{model_id}"]


def _bus_arn(bus: str, region: str) -> str:
    return bus if bus.startswith("arn:") else f"arn:aws:events:{region}:{ACCOUNT}:event-bus/{bus}"


# -- policy evaluation ----------------------------------------------------------------------------------------

def is_allowed(statements: list[dict[str, Any]], need: Requirement) -> bool:
    """IAM's rule for one identity policy: an explicit Deny wins, else some Allow must match."""
    matching = [s for s in statements if _matches(s, need)]
    return bool(matching) and all(s.get("Effect") == "Allow" for s in matching)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _pattern(pattern: str, value: str, *, case: bool = True) -> bool:
    translated = pattern.replace("[", "[[]")  # IAM has only * and ?
    return fnmatch.fnmatchcase(value if case else value.lower(), translated if case else translated.lower())


def _matches(statement: dict[str, Any], need: Requirement) -> bool:
    if not any(_pattern(a, need.action, case=False) for a in _as_list(statement.get("Action", []))):
        return False
    if not any(_pattern(r, need.resource) for r in _as_list(statement.get("Resource", []))):
        return False
    context = dict(need.context)
    for operator, tests in (statement.get("Condition") or {}).items():
        for key, expected in tests.items():
            if not _condition(operator, context.get(key), [str(e) for e in _as_list(expected)]):
                return False
    return True


def _condition(operator: str, actual: str | None, expected: list[str]) -> bool:
    if actual is None:
        return operator.endswith("IfExists")
    operator = operator.removesuffix("IfExists")
    if operator in ("StringLike", "ArnLike"):
        return any(_pattern(e, actual) for e in expected)
    if operator in ("StringEquals", "ArnEquals", "Bool"):
        return actual in expected
    raise AssertionError(f"condition operator {operator} is not modelled")


# -- the policies the component generates --------------------------------------------------------------------

@functools.cache
def role_policies(config_json: str, bucket: str, region: str) -> dict[str, list[dict[str, Any]]]:
    """{"lambda": statements, "worker": statements} from the real component under Pulumi mocks."""
    import pulumi
    import pulumi_mocks

    from podwhisperer.components.args import LambdaArgs, PodwhispererPipelineArgs
    from podwhisperer.components.pipeline import PodwhispererPipeline
    from podwhisperer.runtime.config import parse_config

    mocks = pulumi_mocks.install(region=region)

    @pulumi.runtime.test
    def program() -> None:
        PodwhispererPipeline(PIPELINE, PodwhispererPipelineArgs(
            config=parse_config(json.loads(config_json)), bucket_name=bucket,
            lambda_=LambdaArgs(bundle_path=str(pulumi_mocks.session_bundle()))))

    program()
    return {principal: pulumi_mocks.policy(mocks.one("aws:iam/rolePolicy:RolePolicy", name).inputs["policy"])
            ["Statement"] for principal, name in ROLE_POLICY.items()}


def denied_calls(calls: list[ApiCall], config_json: str) -> tuple[list[str], set[tuple[str, str]]]:
    """(a line per requirement the generated policy denies, the (principal, action) pairs used)."""
    denied: list[str] = []
    used: set[tuple[str, str]] = set()
    for call in calls:
        bucket = call.params.get("Bucket") or "unused-bucket"
        statements = role_policies(config_json, bucket, call.region)[call.principal]
        for need in requirements(call):
            used.add((call.principal, need.action))
            if not is_allowed(statements, need):
                context = "".join(f" {k}={v!r}" for k, v in need.context)
                denied.append(f"{call.principal}: {call.service}.{call.operation} needs {need.action} on "
                              f"{need.resource}{context}")
    return denied, used


def granted_actions(config_json: str, region: str) -> dict[str, set[str]]:
    policies = role_policies(config_json, "unused-bucket", region)
    return {principal: {a for s in statements for a in _as_list(s["Action"])}
            for principal, statements in policies.items()}
