"""The loopback HTTP layer of the durable-callback API (moto lacks it), shared by the test shims.

A shim supplies ``answer(callback_id, kind, body) -> (status, payload)``; this module serves
``POST /2025-12-01/durable-execution-callbacks/{id}/succeed|fail|heartbeat`` on 127.0.0.1 and writes
answers the way the service does (JSON body, ``x-amzn-ErrorType`` on errors).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

Answer = Callable[[str, str, bytes], tuple[int, dict[str, Any]]]

_ROUTE = re.compile(r"^/2025-12-01/durable-execution-callbacks/(?P<id>[^/]+)/(?P<kind>succeed|fail|heartbeat)$")


def callback_handler_for(answer: Answer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            match = _ROUTE.match(self.path)
            status, payload = (404, {"__type": "UnknownOperationException"}) if match is None else answer(
                unquote(match["id"]), match["kind"], body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if status >= 400:
                self.send_header("x-amzn-ErrorType", payload["__type"])
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            return

    return Handler


@contextmanager
def serve_callbacks(answer: Answer) -> Iterator[str]:
    """Serve the callback routes on 127.0.0.1 while the block runs; yields the endpoint URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), callback_handler_for(answer))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
