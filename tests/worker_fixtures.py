"""Shared, expensive fixtures for the worker tests. Test modules load them with
``pytest_plugins = ["worker_fixtures"]`` (so each is built once per session, however many modules use
it) and import plain helpers from ``worker_helpers``.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from callback_api import serve_callbacks
from worker_helpers import CallbackShim


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
def worker_moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture()
def worker_moto(worker_moto_server: str) -> str:
    """The session's moto server on 127.0.0.1, reset before every test."""
    request = urllib.request.Request(f"{worker_moto_server}/moto-api/reset", method="POST")
    urllib.request.urlopen(request).read()
    return worker_moto_server


@pytest.fixture()
def worker_callback_shim() -> Iterator[CallbackShim]:
    """A fresh loopback durable-callback API per test."""
    shim = CallbackShim()
    with serve_callbacks(shim.answer) as endpoint:
        shim.endpoint = endpoint
        yield shim
