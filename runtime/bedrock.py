"""A small adapter over the Bedrock Converse API.

The LLM step talks to anything with a ``converse(**kwargs)`` method, so tests inject a fake or a
stubbed boto3 client and production injects the client built by :func:`make_converse_client`.
Which botocore errors are worth retrying is decided here, next to the client, so the transform
code never imports botocore.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, cast

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

from podwhisperer.runtime.config import LlmRefinementConfig

DEFAULT_READ_TIMEOUT_S = 300
"""An 8k-token answer takes minutes on large models; botocore's 60 s default cuts it off."""

DEFAULT_CONNECT_TIMEOUT_S = 10
DEFAULT_CLIENT_MAX_ATTEMPTS = 3

BEDROCK_ERRORS: tuple[type[Exception], ...] = (ClientError, BotoCoreError)
"""Everything botocore raises for a failed call; catch these, let our own bugs propagate."""

RETRYABLE_ERROR_CODES = frozenset({
    "ThrottlingException",
    "TooManyRequestsException",
    "ServiceUnavailableException",
    "InternalServerException",
    "ModelTimeoutException",
    "ModelNotReadyException",
    "ModelErrorException",
})


class ConverseClient(Protocol):
    """What the LLM step needs from Bedrock: a boto3 ``bedrock-runtime`` client satisfies it."""

    def converse(self, **kwargs: Any) -> Mapping[str, Any]: ...


def make_converse_client(
    cfg: LlmRefinementConfig,
    session: boto3.Session | None = None,
    *,
    read_timeout: int = DEFAULT_READ_TIMEOUT_S,
    max_attempts: int = DEFAULT_CLIENT_MAX_ATTEMPTS,
) -> ConverseClient:
    """A ``bedrock-runtime`` client in the model's region, with adaptive retries and a long read timeout."""
    client_config = Config(
        retries={"mode": "adaptive", "max_attempts": max_attempts},
        read_timeout=read_timeout,
        connect_timeout=DEFAULT_CONNECT_TIMEOUT_S,
        # One pooled connection per concurrent chunk, so parallel requests never wait on the pool.
        max_pool_connections=max(10, cfg.max_concurrency),
    )
    boto_session = session or boto3.Session()
    client = boto_session.client("bedrock-runtime", region_name=cfg.resolved_region(), config=client_config)
    return cast(ConverseClient, client)


def is_retryable_error(error: BaseException) -> bool:
    """True for throttling, server-side and connection failures; False for errors a retry cannot fix."""
    if isinstance(error, ConnectionError | HTTPClientError):
        return True
    if not isinstance(error, ClientError):
        return False
    code = str(error.response.get("Error", {}).get("Code", ""))
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in RETRYABLE_ERROR_CODES or (isinstance(status, int) and (status == 429 or status >= 500))


def describe_error(error: BaseException) -> str:
    """A short readable reason: the Bedrock error code and message, or the exception text."""
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{details.get('Code', 'ClientError')}: {details.get('Message', '')}".strip()
    return f"{type(error).__name__}: {error}"
