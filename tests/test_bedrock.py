"""The Bedrock adapter: region resolution, client settings, error classification, a stubbed round trip."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ParamValidationError, ReadTimeoutError
from botocore.stub import ANY, Stubber

from podwhisperer.runtime.adapters.llm import refine_chunk
from podwhisperer.runtime.bedrock import describe_error, is_retryable_error, make_converse_client
from podwhisperer.runtime.config import LlmRefinementConfig, region_from_model_id
from podwhisperer.runtime.transcript import Segment, Transcript
from podwhisperer.runtime.transforms.llm import plan_chunks

SESSION_KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def session() -> boto3.Session:
    return boto3.Session(**SESSION_KEYS)


def boto_client(cfg: LlmRefinementConfig, **options: Any) -> Any:
    """The boto3 client behind the ConverseClient protocol, to inspect its settings."""
    return make_converse_client(cfg, session(), **options)


@pytest.mark.parametrize("model_id, region", [
    ("eu.anthropic.claude-sonnet-4-20250514-v1:0", "eu-west-1"),
    ("us.anthropic.claude-3-5-haiku-20241022-v1:0", "us-east-1"),
    ("apac.anthropic.claude-sonnet-4-20250514-v1:0", "ap-northeast-1"),
    ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", "us-east-1"),
    ("arn:aws:bedrock:ap-south-1:123456789012:application-inference-profile/abc123", "ap-south-1"),
    ("anthropic.claude-3-haiku-20240307-v1:0", "us-east-1"),
])
def test_region_from_profile_prefix_or_arn(model_id: str, region: str) -> None:
    assert region_from_model_id(model_id) == region
    assert boto_client(LlmRefinementConfig(model_id=model_id)).meta.region_name == region


def test_explicit_region_wins_over_prefix() -> None:
    cfg = LlmRefinementConfig(model_id="eu.anthropic.claude-sonnet-4-20250514-v1:0", region="eu-central-1")
    assert boto_client(cfg).meta.region_name == "eu-central-1"


def test_client_uses_adaptive_retries_long_read_timeout_and_enough_connections() -> None:
    cfg = LlmRefinementConfig(model_id="eu.model", max_concurrency=16)
    client = boto_client(cfg, max_attempts=5, read_timeout=420)
    config = client.meta.config
    assert config.retries == {"mode": "adaptive", "total_max_attempts": 6}
    assert config.read_timeout == 420
    assert config.max_pool_connections == 16
    assert client.meta.service_model.service_name == "bedrock-runtime"


def client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "boom"}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "Converse")


@pytest.mark.parametrize("error, retryable", [
    (client_error("ThrottlingException", 429), True),
    (client_error("ServiceUnavailableException", 503), True),
    (client_error("ModelTimeoutException", 408), True),
    (client_error("SomethingNew", 502), True),
    (client_error("AccessDeniedException", 403), False),
    (client_error("ValidationException", 400), False),
    (client_error("ResourceNotFoundException", 404), False),
    (EndpointConnectionError(endpoint_url="https://bedrock-runtime.eu-west-1.amazonaws.com"), True),
    (ReadTimeoutError(endpoint_url="https://bedrock-runtime.eu-west-1.amazonaws.com"), True),
    (ParamValidationError(report="bad"), False),
    (ValueError("not a botocore error"), False),
])
def test_retryable_errors(error: Exception, retryable: bool) -> None:
    assert is_retryable_error(error) is retryable


def test_describe_error_names_the_code_and_message() -> None:
    assert describe_error(client_error("ThrottlingException", 429)) == "ThrottlingException: boom"


def test_stubbed_round_trip_through_the_real_client() -> None:
    cfg = LlmRefinementConfig(model_id="eu.anthropic.claude-sonnet-4-20250514-v1:0")
    client = boto_client(cfg)
    transcript = Transcript(segments=[Segment(0.0, 2.0, "sage maker rocks", speaker="SPEAKER_00")])
    answer = {"speakers": {}, "updates": [{"idx": 0, "text": "SageMaker rocks"}]}
    response = {"output": {"message": {"role": "assistant", "content": [{"text": json.dumps(answer)}]}},
                "stopReason": "end_turn", "usage": {"inputTokens": 321, "outputTokens": 12, "totalTokens": 333},
                "metrics": {"latencyMs": 850}}
    with Stubber(client) as stubber:
        stubber.add_response("converse", response, {"modelId": cfg.model_id, "system": ANY, "messages": ANY,
                                                    "inferenceConfig": ANY})
        result = refine_chunk(transcript, plan_chunks(transcript, cfg)[0], cfg, [], client)
        stubber.assert_no_pending_responses()
    assert result["status"] == "succeeded"
    assert result["updates"] == [{"idx": 0, "text": "SageMaker rocks"}]
    assert result["usage"] == {"input_tokens": 321, "output_tokens": 12}
