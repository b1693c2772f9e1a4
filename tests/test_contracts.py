"""The wire contracts: one job message, one callback result, one reuse rule, one place for env-var names."""

from __future__ import annotations

import json

import pytest

from podwhisperer.runtime.config import ConfigError, TranscriptionConfig
from podwhisperer.runtime.contracts import (
    CONFIG_ENV,
    CallbackResult,
    CallbackResultError,
    JobMessage,
    RawMetadata,
    config_from_env,
    parse_message,
    transcription_fingerprint,
)
from podwhisperer.runtime.transcript import Transcript

FINGERPRINT = transcription_fingerprint(TranscriptionConfig())


def test_the_job_message_the_lambda_sends_is_the_one_the_worker_parses() -> None:
    sent = JobMessage(s3_key="input/ep 1.mp3", etag="abc", callback_id="cb-1")
    assert sent.to_json() == '{"callback_id": "cb-1", "etag": "abc", "s3_key": "input/ep 1.mp3"}'
    assert parse_message(sent.to_json()) == sent
    overrides = {"transcription": {"language": "de"}}
    overridden = JobMessage(s3_key="input/a.mp3", callback_id="cb", config_overrides=overrides)
    assert parse_message(overridden.to_json()) == overridden


def test_callback_result_round_trips_and_rejects_what_the_workflow_cannot_use() -> None:
    result = CallbackResult(raw_transcript_key="output/a_raw_transcript.json", stats={"reused": True})
    assert CallbackResult.parse(json.dumps(result.to_wire())) == result and result.reused
    assert CallbackResult.parse({"rawTranscriptKey": "k"}).raw_transcript_key == "k"
    for bad in ("{", [], {"stats": {}}, {"raw_transcript_key": ""}):
        with pytest.raises(CallbackResultError):
            CallbackResult.parse(bad)


def test_one_reuse_rule_same_object_version_and_transcription_settings() -> None:
    meta = RawMetadata(source_key="input/a.mp3", source_etag='"e1"').with_fingerprint(FINGERPRINT)
    assert meta.transcription_fingerprint == FINGERPRINT
    assert meta.reuse_refusal("input/a.mp3", "e1", FINGERPRINT) is None
    assert meta.reuse_refusal("input/b.mp3", "e1", FINGERPRINT) == "made from 'input/a.mp3'"
    assert "etag differs" in (meta.reuse_refusal("input/a.mp3", "e2", FINGERPRINT) or "")
    assert meta.reuse_refusal("input/a.mp3", None, FINGERPRINT) == "the object's version (etag) is unknown"
    other = transcription_fingerprint(TranscriptionConfig(language="de"))
    assert meta.reuse_refusal("input/a.mp3", "e1", other) == "made with other transcription settings"
    older = RawMetadata(source_key="input/a.mp3", source_etag="e1")
    assert older.reuse_refusal("input/a.mp3", "e1", FINGERPRINT) == "made with other transcription settings"


def test_the_fingerprint_reads_back_where_earlier_versions_wrote_it() -> None:
    document = ('{"segments": [], "podwhisperer": {"source_key": "input/a.mp3", "word_timing": "aligned", '
                f'"transcription_fingerprint": "{FINGERPRINT}", "input_audio": {{"codec": "mp3"}}}}}}')
    transcript = Transcript.from_json(document)
    assert transcript.metadata is not None and transcript.metadata.transcription_fingerprint == FINGERPRINT
    assert json.loads(transcript.to_json()) == json.loads(document)
    assert list(json.loads(transcript.to_json())["podwhisperer"]) == list(json.loads(document)["podwhisperer"])


def test_config_from_env_is_shared_by_lambda_and_worker() -> None:
    assert config_from_env({}).transcription.language == "en"
    assert config_from_env({CONFIG_ENV: '{"transcription": {"language": "de"}}'}).transcription.language == "de"
    with pytest.raises(ConfigError, match="PODWHISPERER_CONFIG: not valid JSON"):
        config_from_env({CONFIG_ENV: "{"})
