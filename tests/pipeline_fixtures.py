"""Fixtures shared by the durable-pipeline tests (load with ``pytest_plugins = ["pipeline_fixtures"]``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakes.audio import AudioClips
from fakes.moto import moto_server
from fakes.pipeline import PipelineHarness


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """A moto server on 127.0.0.1 (S3, SQS, EventBridge) for one test module."""
    with moto_server() as url:
        yield url


@pytest.fixture(scope="session")
def audio_clips(tmp_path_factory: pytest.TempPathFactory) -> AudioClips:
    """Real MP3 tones (ffmpeg) to upload: the real worker job probes what it transcribes."""
    return AudioClips(tmp_path_factory.mktemp("audio"))


@pytest.fixture()
def harness(endpoint: str, request: pytest.FixtureRequest) -> Iterator[PipelineHarness]:
    """A fresh pipeline harness; parametrize indirectly with a dict of PipelineHarness options."""
    h = PipelineHarness(endpoint, **getattr(request, "param", {}))
    yield h
    h.close()
