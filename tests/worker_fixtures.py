"""Shared, expensive fixtures for the worker tests. Test modules load them with
``pytest_plugins = ["worker_fixtures"]`` (so each is built once per session, however many modules use
it) and import plain helpers from the ``fakes`` package.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.callbacks import CallbackShim
from fakes.moto import reset


@pytest.fixture(scope="session")
def worker_models() -> Any:
    """One CPU ModelCache for the session: tiny.en is loaded on first use and then kept."""
    from podwhisperer.worker.models import ModelCache

    return ModelCache(device="cpu", compute_type="int8", threads=2)


@pytest.fixture(scope="session")
def worker_dialogue(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The generated two-voice clip with seeded 15 dB noise, and its reference text and turns."""
    from fixtures.make_dialogue import synthesize

    path = tmp_path_factory.mktemp("dialogue") / "dialogue-15db.wav"
    return path, synthesize(path, snr_db=15.0, seed=7)


@pytest.fixture(scope="session")
def worker_moto_server(moto_endpoint: str) -> str:
    """The session's one moto server (conftest), under the name the worker tests use."""
    return moto_endpoint


@pytest.fixture()
def worker_moto(worker_moto_server: str) -> str:
    """The session's moto server on 127.0.0.1, reset before every test."""
    reset(worker_moto_server)
    return worker_moto_server


@pytest.fixture()
def worker_callback_shim() -> Iterator[CallbackShim]:
    """A fresh loopback durable-callback API per test."""
    with CallbackShim() as shim:
        yield shim
