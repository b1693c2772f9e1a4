"""CallbackSender against a loopback stand-in of the durable-callback REST API (real boto3 calls)."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config
from fakes.callbacks import CallbackShim, lambda_client

from podwhisperer.worker.callbacks import CallbackDeliveryError, CallbackOutcome, CallbackSender

pytest_plugins = ["worker_fixtures"]


def sender(shim: CallbackShim) -> CallbackSender:
    return CallbackSender(lambda_client(shim), backoff_seconds=0.01)


def test_success_sends_the_result_as_json(worker_callback_shim: CallbackShim) -> None:
    outcome = sender(worker_callback_shim).succeed("cb/1", {"raw_transcript_key": "output/a_raw_transcript.json",
                                                            "stats": {"words": 2}})
    assert outcome is CallbackOutcome.DELIVERED
    [call] = worker_callback_shim.calls
    assert (call["id"], call["kind"]) == ("cb/1", "succeed")
    assert json.loads(call["body"]) == {"raw_transcript_key": "output/a_raw_transcript.json", "stats": {"words": 2}}


def test_failure_sends_error_type_and_message(worker_callback_shim: CallbackShim) -> None:
    sender(worker_callback_shim).fail("cb-2", "InvalidAudio", "The file has no audio stream")
    [call] = worker_callback_shim.calls
    assert call["kind"] == "fail"
    assert json.loads(call["body"]) == {"ErrorType": "InvalidAudio", "ErrorMessage": "The file has no audio stream"}


def test_second_completion_is_answered_already_completed_and_not_raised(worker_callback_shim: CallbackShim) -> None:
    callbacks = sender(worker_callback_shim)
    assert callbacks.succeed("cb-3", {"raw_transcript_key": "k", "stats": {}}) is CallbackOutcome.DELIVERED
    assert callbacks.succeed("cb-3", {"raw_transcript_key": "k", "stats": {}}) is CallbackOutcome.CLOSED
    assert callbacks.fail("cb-3", "X", "late failure") is CallbackOutcome.CLOSED
    assert callbacks.heartbeat("cb-3") is CallbackOutcome.CLOSED


def test_unknown_callback_is_not_found(worker_callback_shim: CallbackShim) -> None:
    worker_callback_shim.unknown.add("cb-old")
    assert sender(worker_callback_shim).fail("cb-old", "X", "y") is CallbackOutcome.NOT_FOUND


def test_throttling_is_retried(worker_callback_shim: CallbackShim) -> None:
    worker_callback_shim.throttle_next = 2
    assert sender(worker_callback_shim).succeed("cb-4", {"stats": {}}) is CallbackOutcome.DELIVERED
    assert worker_callback_shim.kinds("cb-4") == ["succeed"] * 3


def test_heartbeat_problems_are_logged_not_raised(worker_callback_shim: CallbackShim) -> None:
    worker_callback_shim.throttle_next = 1
    assert sender(worker_callback_shim).heartbeat("cb-5") is CallbackOutcome.FAILED


def test_undeliverable_success_raises_a_transient_error() -> None:
    client = boto3.client("lambda", endpoint_url="http://127.0.0.1:9", region_name="eu-west-1",
                          aws_access_key_id="t", aws_secret_access_key="t",
                          config=Config(retries={"total_max_attempts": 1}, connect_timeout=1))
    with pytest.raises(CallbackDeliveryError):
        CallbackSender(client, attempts=2, backoff_seconds=0.01).succeed("cb-6", {"stats": {}})


def test_oversized_result_is_refused_before_sending(worker_callback_shim: CallbackShim) -> None:
    with pytest.raises(ValueError, match="limit"):
        sender(worker_callback_shim).succeed("cb-7", {"stats": {"blob": "x" * 300_000}})
    assert worker_callback_shim.calls == []
