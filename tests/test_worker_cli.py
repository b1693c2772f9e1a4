"""`podwhisperer worker ...`: help texts, environment parsing for `run`, and `transcribe` on a real file."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fakes.audio import make_media
from fakes.speech import SAMPLE_DIR
from typer.testing import CliRunner

from podwhisperer.runtime.transcript import Transcript
from podwhisperer.worker.cli import WorkerEnv, WorkerEnvError, app, build_poller

runner = CliRunner()
ENV = {"QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123/jobs", "BUCKET_NAME": "media"}


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["transcribe", "--help"]])
def test_help(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 0 and "Usage" in result.output


def test_worker_is_registered_on_the_main_command() -> None:
    result = subprocess.run([sys.executable, "-m", "podwhisperer.cli", "worker", "--help"], capture_output=True,
                            text=True, check=True)
    assert "transcribe" in result.stdout and "run" in result.stdout


def test_env_defaults() -> None:
    env = WorkerEnv.from_env(ENV)
    assert (env.queue_url, env.bucket_name, env.idle_timeout_seconds) == (ENV["QUEUE_URL"], "media", 300.0)
    assert env.config.transcription.model == "large-v2" and env.max_receive_count is None


def test_env_with_config_and_overrides() -> None:
    config = {"transcription": {"model": "large-v3-turbo"}, "worker": {"idle_timeout_minutes": 2}}
    env = WorkerEnv.from_env({**ENV, "PODWHISPERER_CONFIG": json.dumps(config), "WORKER_DEVICE": "cuda",
                              "MAX_RECEIVE_COUNT": "5", "HF_TOKEN": "t"})
    assert env.config.transcription.model == "large-v3-turbo" and env.idle_timeout_seconds == 120
    assert (env.device, env.max_receive_count, env.hf_token) == ("cuda", 5, "t")
    assert WorkerEnv.from_env({**ENV, "IDLE_TIMEOUT_SECONDS": "30"}).idle_timeout_seconds == 30


@pytest.mark.parametrize(("env", "problem"), [
    ({"BUCKET_NAME": "b"}, "missing environment variable(s): QUEUE_URL"),
    ({**ENV, "PODWHISPERER_CONFIG": "{not json"}, "PODWHISPERER_CONFIG"),
    ({**ENV, "PODWHISPERER_CONFIG": '{"transcription": {"modle": "x"}}'}, "did you mean 'model'"),
    ({**ENV, "IDLE_TIMEOUT_SECONDS": "soon"}, "IDLE_TIMEOUT_SECONDS must be a number"),
    ({**ENV, "IDLE_TIMEOUT_SECONDS": "-1"}, "must be positive"),
    ({**ENV, "WORKER_DEVICE": "tpu"}, "WORKER_DEVICE"),
])
def test_env_errors_are_readable(env: dict[str, str], problem: str) -> None:
    with pytest.raises(WorkerEnvError, match=re.escape(problem)):
        WorkerEnv.from_env(env)


def test_run_exits_2_on_a_bad_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QUEUE_URL", raising=False)
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2 and "QUEUE_URL" in result.output


def test_build_poller_derives_heartbeat_and_visibility_from_the_config() -> None:
    config = {"transcription": {"heartbeat_timeout_minutes": 3}}
    env = WorkerEnv.from_env({**ENV, "PODWHISPERER_CONFIG": json.dumps(config)})
    poller: Any = build_poller(env, sqs_client=object(), s3_client=object(), lambda_client=object())
    settings = poller.settings
    assert settings.heartbeat_interval_seconds == 60 and settings.visibility_timeout_seconds == 300
    assert settings.wait_time_seconds == 20 and settings.max_receive_count == 3
    assert settings.idle_timeout_seconds == 300


def test_transcribe_rejects_a_non_audio_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["transcribe", str(make_media(tmp_path, "video")), "-o", str(tmp_path / "o.json")])
    assert result.exit_code == 1 and "no audio stream" in result.output


def test_transcribe_refuses_a_missing_explicit_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = runner.invoke(app, ["transcribe", str(make_media(tmp_path, "tone")), "--model", "large-v3",
                                 "-o", str(tmp_path / "o.json")])
    assert result.exit_code == 1 and "'large-v3' is not a local folder" in result.output


@pytest.mark.speech
def test_transcribe_writes_a_raw_transcript(tmp_path: Path) -> None:
    """The real command in a subprocess (as a user runs it), offline: tiny.en, words from Whisper."""
    output = tmp_path / "out" / "raw.json"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    subprocess.run([sys.executable, "-m", "podwhisperer.cli", "worker", "transcribe", str(SAMPLE_DIR / "sample.wav"),
                    "--model", "tiny.en", "--device", "cpu", "--no-diarize", "--output", str(output)],
                   check=True, env=env, capture_output=True, timeout=300)
    raw = Transcript.from_json(output.read_bytes())
    assert raw.metadata is not None and raw.metadata.model == "tiny.en" and raw.metadata.source_key == "sample.wav"
    assert raw.metadata.diarized is False and len(list(raw.words())) > 50
