"""Durable-step plumbing shared by the workflow's modules: the checkpoint size guard and retry helpers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TypeVar

from aws_durable_execution_sdk_python.retries import RetryDecision

CHECKPOINT_LIMIT_BYTES = 256 * 1024
"""The durable service rejects an operation payload over 256 KiB (the local runner does not check)."""

T = TypeVar("T")
RetryStrategy = Callable[[Exception, int], RetryDecision]


class CheckpointTooLargeError(ValueError):
    """A step tried to checkpoint more than the service accepts; it must pass an S3 key instead."""


def guard_checkpoint(payload: T) -> T:
    """Return ``payload`` unchanged, or raise when its JSON would exceed the checkpoint limit."""
    size = len(json.dumps(payload, ensure_ascii=False).encode())
    if size >= CHECKPOINT_LIMIT_BYTES:
        raise CheckpointTooLargeError(f"checkpoint payload of {size} bytes exceeds {CHECKPOINT_LIMIT_BYTES}")
    return payload


def limited(strategy: RetryStrategy, max_attempts: int) -> RetryStrategy:
    """``strategy``, but never more than ``max_attempts`` attempts."""
    def decide(error: Exception, attempt: int) -> RetryDecision:
        if attempt >= max_attempts:
            return RetryDecision.no_retry()
        return strategy(error, attempt)

    return decide
