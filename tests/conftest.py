"""Suite-wide safety (dummy AWS credentials so no test can reach a real account) and the one moto server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

_DUMMY_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}

for _name, _value in _DUMMY_AWS_ENV.items():
    os.environ[_name] = _value
os.environ.pop("AWS_PROFILE", None)


@pytest.fixture()
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """The one moto server of the session (S3, SQS, EventBridge on 127.0.0.1); each user resets it first."""
    from fakes.moto import moto_server

    with moto_server() as url:
        yield url


@pytest.fixture(scope="session")
def audio_clips(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Real MP3 tones (ffmpeg) to upload or transcribe where the real worker job probes the audio."""
    from fakes.audio import AudioClips

    return AudioClips(tmp_path_factory.mktemp("audio"))


# -- IAM proven by use (tests/aws_calls.py) ---------------------------------------------------------------
# Every test that runs against a moto server records the AWS calls the Lambda workflow and the worker make;
# at teardown each call is checked against the policy the component generates for that role. A call the
# policy would deny fails the test. Unused grants are listed in the terminal summary.
_MOTO_FIXTURES = {"harness", "endpoint", "moto_endpoint", "worker_moto", "worker_moto_server"}
_IAM_USED = pytest.StashKey[set]()


@pytest.fixture(autouse=True)
def iam_proven_by_use(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    if not _MOTO_FIXTURES & set(request.fixturenames):
        yield None
        return
    from aws_calls import CallRecorder, denied_calls

    recorder = CallRecorder().install(monkeypatch)
    config_json = _config_json_of(request)  # builds the harness now, so its clients are recorded
    yield recorder
    if not recorder.calls:
        return
    denied, used = denied_calls(recorder.calls, config_json)
    request.config.stash.setdefault(_IAM_USED, set()).update(used)
    if denied:
        pytest.fail("the component's IAM policies would deny:\n  " + "\n  ".join(sorted(set(denied))),
                    pytrace=False)


def _config_json_of(request: pytest.FixtureRequest) -> str:
    from podwhisperer.runtime.config import PipelineConfig

    if "harness" in request.fixturenames:
        return str(request.getfixturevalue("harness").deps.config.to_json())
    return str(PipelineConfig().to_json())


def pytest_terminal_summary(terminalreporter, config) -> None:  # type: ignore[no-untyped-def]
    used = config.stash.get(_IAM_USED, None)
    if not used:
        return
    from aws_calls import granted_actions

    from podwhisperer.runtime.config import PipelineConfig

    granted = granted_actions(str(PipelineConfig().to_json()), "eu-west-1")
    lines = [f"  {principal}: {action}" for principal, actions in sorted(granted.items())
             for action in sorted(actions) if (principal, action) not in used]
    if lines:
        terminalreporter.write_sep("-", "IAM grants no recorded call used (tests/aws_calls.py)")
        terminalreporter.write_line("\n".join(lines))
