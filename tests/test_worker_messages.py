"""Job and warm-up message parsing (ports PYW-01…06 and fixes defect 19: bad bodies raise, never crash)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from podwhisperer.worker.messages import JobMessage, MalformedMessageError, WarmupMessage, parse_message

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_job_message_with_every_field() -> None:
    body = json.dumps({"s3_key": "input/a b.mp3", "etag": '"abc"', "callback_id": "cb-1",
                       "config_overrides": {"transcription": {"language": "de"}}})
    message = parse_message(body)
    assert isinstance(message, JobMessage)
    assert (message.s3_key, message.etag, message.callback_id) == ("input/a b.mp3", '"abc"', "cb-1")
    assert message.config_overrides == {"transcription": {"language": "de"}}


def test_job_message_minimal_and_round_trip() -> None:
    message = parse_message(b'{"s3_key": "input/x.wav", "callback_id": "cb"}')
    assert isinstance(message, JobMessage) and message.etag is None and message.config_overrides == {}
    assert parse_message(message.to_body()) == message


@pytest.mark.parametrize(("body", "problem"), [
    (None, "empty message body"),
    ("", "empty message body"),
    ("not json", "not JSON"),
    ("[1, 2]", "must be a JSON object"),
    ('{"callback_id": "cb"}', "s3_key: required field is missing"),
    ('{"s3_key": "input/a.mp3"}', "callback_id: required field is missing"),
    ('{"s3_key": 7, "callback_id": "cb"}', "s3_key: Input should be a valid string"),
    ('{"s3_key": "", "callback_id": "cb"}', "s3_key"),
    ('{"s3_key": "input/a.mp3", "callback_id": "cb", "bucket": "b"}', "bucket: unknown field"),
    ('{"s3_key": "input/a.mp3", "callback_id": "cb", "config_overrides": []}', "config_overrides"),
    ('{"type": "cleanup", "callback_id": "cb"}', "type: must be 'job' or 'warmup'"),
])
def test_malformed_bodies_raise_a_readable_error(body: str | None, problem: str) -> None:
    with pytest.raises(MalformedMessageError) as caught:
        parse_message(body)
    assert problem in str(caught.value)


def test_malformed_job_keeps_the_callback_id_so_the_pipeline_can_be_told() -> None:
    with pytest.raises(MalformedMessageError) as caught:
        parse_message('{"callback_id": "cb-9", "s3_key": ["x"]}')
    assert caught.value.callback_id == "cb-9"
    with pytest.raises(MalformedMessageError) as caught:
        parse_message("{broken")
    assert caught.value.callback_id is None


def test_warmup_defaults_to_thirty_minutes() -> None:
    message = parse_message('{"type": "warmup"}')
    assert isinstance(message, WarmupMessage)
    assert message.deadline(NOW) == NOW + timedelta(minutes=30)


@pytest.mark.parametrize("until", ["2026-11-24T18:00:00+00:00", "2026-11-24T18:00:00Z", "2026-11-24T18:00:00",
                                   "2026-11-24T19:00:00+01:00"])
def test_warmup_until_accepts_offsets_z_and_naive_utc(until: str) -> None:
    message = parse_message(json.dumps({"type": "warmup", "until": until}))
    assert isinstance(message, WarmupMessage)
    assert message.deadline(NOW) == datetime(2026, 11, 24, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize("body", ['{"type": "warmup", "until": "soon"}', '{"type": "warmup", "until": 5}',
                                  '{"type": "warmup", "minutes": 5}'])
def test_bad_warmup_is_malformed_not_a_crash(body: str) -> None:
    with pytest.raises(MalformedMessageError, match="invalid warm-up message"):
        parse_message(body)
