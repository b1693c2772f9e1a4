"""IAM proven by use: the pieces behind the ``iam_proven_by_use`` fixture (conftest.py, aws_calls.py).

The fixture itself runs in every moto end-to-end test of the Lambda workflow and the worker; these tests
check that its evaluation is right (a call the policy would deny is reported, as defect 5 would have been)
and that every action the component grants exists.
"""

from __future__ import annotations

from typing import Any

import botocore.session
import pulumi_mocks
import pytest
from aws_calls import ApiCall, Requirement, denied_calls, is_allowed, requirements, role_policies
from test_deploy_checks import two_pipelines

from podwhisperer.runtime.config import PipelineConfig

IAM_ONLY_ACTIONS = {
    "s3:ListBucket",  # the permission for ListObjects/ListObjectsV2 (and 404s on HEAD/GET)
    "iam:PassRole",  # a permission, not an API operation
}
"""Documented IAM actions that are not the name of an API operation (AWS Service Authorization Reference)."""
CONFIG = PipelineConfig().to_json()
LLM = {"model_id": "eu.anthropic.claude-sonnet-4-20250514-v1:0"}


def real_actions() -> set[str]:
    """``<iam prefix>:<operation>`` for every operation of every service botocore ships."""
    session = botocore.session.get_session()
    actions = set(IAM_ONLY_ACTIONS)
    for service in session.get_available_services():
        model = session.get_service_model(service)
        prefix = model.signing_name or model.endpoint_prefix
        actions.update(f"{prefix}:{operation}".lower() for operation in model.operation_names)
    return {a.lower() for a in actions}


def test_every_granted_action_is_a_real_iam_action() -> None:
    known = real_actions()
    granted = {a for mocks in (two_pipelines(), every_statement())
               for r in mocks.of_type("aws:iam/rolePolicy:RolePolicy")
               for s in pulumi_mocks.policy(r.inputs["policy"])["Statement"]
               for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert {"bedrock:InvokeModel", "kms:Decrypt", "ssm:GetParameters", "iam:PassRole"} <= granted
    assert {a for a in granted if a.lower() not in known} == set()
    assert "lambda:checkpointdurableexecutions" not in known  # the predecessor's misspelt grant


def every_statement() -> Any:
    """A pipeline whose roles carry every optional statement: LLM, existing token with a customer KMS key."""
    from test_deploy_checks import deploy, pipeline_args

    from podwhisperer.components.args import HuggingFaceTokenArgs
    from podwhisperer.components.pipeline import PodwhispererPipeline

    config = {"llm_refinement": LLM, "transcription": {"hf_token_ssm_path": "/shared/hf_token"}}
    key = "arn:aws:kms:us-east-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    return deploy(lambda: PodwhispererPipeline("pod", pipeline_args(
        config=config, hf_token=HuggingFaceTokenArgs(kms_key_arn=key))))


def converse(model_id: str, region: str) -> ApiCall:
    return ApiCall("lambda", "bedrock-runtime", "bedrock", "Converse", {"modelId": model_id}, region)


@pytest.mark.parametrize("model_id", ["eu.anthropic.claude-sonnet-4-20250514-v1:0",
                                      "anthropic.claude-3-haiku-20240307-v1:0"])
def test_the_configured_model_may_be_called_through_its_profile(model_id: str) -> None:
    config = PipelineConfig.model_validate({"llm_refinement": {"model_id": model_id, "region": "eu-central-1"}})
    denied, _ = denied_calls([converse(model_id, "eu-central-1")], config.to_json())
    assert denied == []
    other = "eu.meta.llama3-2-3b-instruct-v1:0"
    denied, _ = denied_calls([converse(other, "eu-central-1")], config.to_json())
    assert len(denied) == 2  # neither the profile nor the model behind it


def head(key: str, status: int, principal: str = "lambda") -> ApiCall:
    return ApiCall(principal, "s3", "s3", "HeadObject", {"Bucket": "media", "Key": key}, "eu-west-1", status=status)


def test_a_missing_key_needs_list_bucket_on_it() -> None:
    assert requirements(head("input/a.mp3", 200)) == [Requirement("s3:GetObject", "arn:aws:s3:::media/input/a.mp3")]
    assert requirements(head("input/a.mp3", 404))[1] == Requirement("s3:ListBucket", "arn:aws:s3:::media",
                                                                    (("s3:prefix", "input/a.mp3"),))


@pytest.mark.parametrize("principal", ["lambda", "worker"])
def test_generated_policies_answer_404_for_a_missing_upload(principal: str) -> None:
    denied, used = denied_calls([head("input/gone.mp3", 404, principal)], CONFIG)
    assert denied == [] and (principal, "s3:ListBucket") in used


def test_defect_5_would_have_been_caught() -> None:
    """The policy before the fix: ListBucket only for the output (and work) prefixes."""
    statements = [s for s in role_policies(CONFIG, "media", "eu-west-1")["lambda"] if s["Sid"] != "ListOwnPrefixes"]
    statements.append({"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": ["arn:aws:s3:::media"],
                       "Condition": {"StringLike": {"s3:prefix": ["output/*", "work/*"]}}})
    needs = requirements(head("input/ep+1.mp3", 404))
    assert [is_allowed(statements, need) for need in needs] == [True, False]


def test_explicit_deny_wins_and_conditions_must_hold() -> None:
    allow = {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/*"]}
    deny = {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    plain = Requirement("s3:GetObject", "arn:aws:s3:::b/k", (("aws:SecureTransport", "false"),))
    tls = Requirement("s3:GetObject", "arn:aws:s3:::b/k", (("aws:SecureTransport", "true"),))
    assert is_allowed([allow], plain) and not is_allowed([allow, deny], plain) and is_allowed([allow, deny], tls)


def test_the_worker_writes_only_raw_transcripts() -> None:
    put = ApiCall("worker", "s3", "s3", "PutObject", {"Bucket": "media", "Key": "output/ep_caption.vtt"}, "eu-west-1")
    denied, _ = denied_calls([put], CONFIG)
    assert denied == ["worker: s3.PutObject needs s3:PutObject on arn:aws:s3:::media/output/ep_caption.vtt"]


def test_an_unmapped_call_is_denied_until_mapped() -> None:
    call = ApiCall("lambda", "dynamodb", "dynamodb", "PutItem", {"TableName": "t"}, "eu-west-1")
    denied, _ = denied_calls([call], CONFIG)
    assert denied == ["lambda: dynamodb.PutItem needs dynamodb:PutItem on *unmapped*"]
