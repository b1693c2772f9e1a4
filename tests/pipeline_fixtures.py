"""Fixtures shared by the durable-pipeline tests (load with ``pytest_plugins = ["pipeline_fixtures"]``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakes.pipeline import PipelineHarness


@pytest.fixture()
def endpoint(moto_endpoint: str) -> str:
    """The session's moto server (conftest); every PipelineHarness resets it when it starts."""
    return moto_endpoint


@pytest.fixture()
def harness(endpoint: str, request: pytest.FixtureRequest) -> Iterator[PipelineHarness]:
    """A fresh pipeline harness; parametrize indirectly with a dict of PipelineHarness options."""
    h = PipelineHarness(endpoint, **getattr(request, "param", {}))
    yield h
    h.close()
