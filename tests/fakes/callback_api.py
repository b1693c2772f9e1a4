"""The durable-callback API's routes (moto lacks it), served by the shared loopback layer.

A shim supplies ``answer(callback_id, kind, body) -> (status, payload)``; this module routes
``POST /2025-12-01/durable-execution-callbacks/{id}/succeed|fail|heartbeat`` to it through
:func:`fakes.loopback.serve_json`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import unquote

from fakes.loopback import serve_json

Answer = Callable[[str, str, bytes], tuple[int, dict[str, Any]]]

_ROUTE = re.compile(r"^/2025-12-01/durable-execution-callbacks/(?P<id>[^/]+)/(?P<kind>succeed|fail|heartbeat)$")


def serve_callbacks(answer: Answer) -> AbstractContextManager[str]:
    """Serve the callback routes on 127.0.0.1 while the block runs; yields the endpoint URL."""

    def route(method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        match = _ROUTE.match(path) if method == "POST" else None
        if match is None:
            return 404, {"__type": "UnknownOperationException"}
        return answer(unquote(match["id"]), match["kind"], body)

    return serve_json(route)
