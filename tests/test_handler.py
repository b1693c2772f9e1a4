"""The Lambda entry point: environment, config validation, lazy clients, event parsing."""

from __future__ import annotations

import json

import pytest

from podwhisperer.runtime.config import ConfigError
from podwhisperer.runtime.handler import LambdaRuntime, MissingEnvironmentError, config_from_env, lambda_handler
from podwhisperer.runtime.upload import UploadEventError, key_candidates, object_created_event, parse_upload_event


def test_handler_is_a_durable_entry_point_and_builds_nothing_at_import() -> None:
    assert callable(lambda_handler)
    runtime = LambdaRuntime({}, client_factory=lambda *_a, **_k: pytest.fail("no client before first use"))
    assert "deps" not in vars(runtime)


def test_clients_are_built_once_on_first_use() -> None:
    made: list[str] = []
    env = {"BUCKET_NAME": "b", "QUEUE_URL": "https://sqs/q", "PODWHISPERER_CONFIG": json.dumps(
        {"notification": {"detail_type": "Episode Ready"}})}
    runtime = LambdaRuntime(env, client_factory=lambda service, **_: made.append(service) or object())

    deps = runtime.deps
    assert runtime.deps is deps
    assert sorted(made) == ["events", "s3", "sqs"]
    assert deps.bucket == "b" and deps.config.notification.detail_type == "Episode Ready"


def test_missing_environment_and_bad_config_fail_with_readable_messages() -> None:
    with pytest.raises(MissingEnvironmentError, match="BUCKET_NAME"):
        _ = LambdaRuntime({"QUEUE_URL": "q"}, client_factory=lambda *a, **k: object()).deps
    with pytest.raises(ConfigError, match="did you mean"):
        config_from_env({"PODWHISPERER_CONFIG": json.dumps({"captions": {"generate_vtt_": True}})})
    with pytest.raises(ConfigError, match="not valid JSON"):
        config_from_env({"PODWHISPERER_CONFIG": "{"})
    assert config_from_env({}).captions.generate_vtt


def test_event_parsing_takes_key_size_and_etag_from_either_spelling() -> None:
    event = object_created_event("bucket", "input/a b.mp3", 12, "abc")
    upload = parse_upload_event(event)
    assert (upload.bucket, upload.event_key, upload.size, upload.etag) == ("bucket", "input/a b.mp3", 12, "abc")
    del event["detail"]["object"]["etag"]
    event["detail"]["object"]["eTag"] = '"quoted"'  # moto's spelling, S3's quotes
    assert parse_upload_event(event).etag == "quoted"
    with pytest.raises(UploadEventError):
        parse_upload_event({"detail-type": "Something else"})


@pytest.mark.parametrize(("delivered", "expected_first"), [
    ("input/my+episode.mp3", "input/my episode.mp3"),
    ("input/c%2B%2B.mp3", "input/c++.mp3"),
    ("input/%C3%A9pisode.mp3", "input/épisode.mp3"),
    ("input/plain.mp3", "input/plain.mp3"),
])
def test_key_candidates_try_the_documented_form_decoding_first(delivered: str, expected_first: str) -> None:
    candidates = key_candidates(delivered)
    assert candidates[0] == expected_first
    assert candidates[-1] == delivered
