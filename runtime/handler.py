"""The Lambda entry point: ``podwhisperer.runtime.handler.lambda_handler`` (invoked through an alias).

Environment:

* ``BUCKET_NAME``: the bucket holding ``input/``, ``output/`` and ``work/`` (S3 calls never use the
  bucket named in the event, so a misrouted event cannot make the function touch another bucket).
* ``QUEUE_URL``: the SQS queue the GPU worker polls.
* ``PODWHISPERER_CONFIG``: the pipeline configuration as JSON, validated on first use; a bad
  config fails the first invocation with every problem listed.

Clients are built lazily, once per Lambda sandbox, inside :class:`LambdaRuntime` (the only state
this module holds is that one object; nothing is created at import time except the decorator).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any

from podwhisperer.runtime.adapters.events import EventBridgeSink
from podwhisperer.runtime.adapters.queue import SqsJobQueue
from podwhisperer.runtime.adapters.storage import S3ObjectStore
from podwhisperer.runtime.bedrock import ConverseClient, make_converse_client
from podwhisperer.runtime.config import LlmRefinementConfig, PipelineConfig
from podwhisperer.runtime.contracts import BUCKET_ENV, QUEUE_URL_ENV, config_from_env
from podwhisperer.runtime.pipeline import PipelineDeps, make_durable_handler


class MissingEnvironmentError(RuntimeError):
    """A required environment variable is missing."""


class LambdaRuntime:
    """Builds the pipeline's dependencies from the environment on first use and keeps them warm."""

    def __init__(self, environ: Mapping[str, str], client_factory: Callable[..., Any] | None = None) -> None:
        self._environ = environ
        self._client_factory = client_factory

    def _client(self, service: str, **kwargs: Any) -> Any:
        if self._client_factory is not None:
            return self._client_factory(service, **kwargs)
        import boto3

        return boto3.client(service, **kwargs)

    def _require(self, name: str) -> str:
        value = self._environ.get(name, "").strip()
        if not value:
            raise MissingEnvironmentError(f"environment variable {name} is required")
        return value

    @cached_property
    def config(self) -> PipelineConfig:
        return config_from_env(self._environ)

    @cached_property
    def deps(self) -> PipelineDeps:
        bucket = self._require(BUCKET_ENV)
        return PipelineDeps(
            config=self.config,
            store=S3ObjectStore(self._client("s3"), bucket),
            queue=SqsJobQueue(self._client("sqs"), self._require(QUEUE_URL_ENV)),
            events=EventBridgeSink(self._client("events")),
            bucket=bucket,
            bedrock_factory=self._bedrock_client,
            lambda_memory_mb=int(self._environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE") or 0) or None,
        )

    def _bedrock_client(self, cfg: LlmRefinementConfig) -> ConverseClient:
        return make_converse_client(cfg)


_RUNTIME = LambdaRuntime(os.environ)

__all__ = ["LambdaRuntime", "MissingEnvironmentError", "config_from_env", "lambda_handler"]

lambda_handler = make_durable_handler(lambda: _RUNTIME.deps)
"""The function's handler: ``@durable_execution`` around :func:`podwhisperer.runtime.pipeline.run_pipeline`."""
