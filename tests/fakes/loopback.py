"""The one loopback HTTP layer of the test doubles for AWS APIs that moto lacks.

A double supplies ``route(method, path, body) -> (status, payload)`` (``path`` with its query string);
:func:`serve_json` serves it on 127.0.0.1 and writes answers the way AWS's JSON APIs do (JSON body,
``x-amzn-ErrorType`` on errors). ``callback_api`` (the durable-callback API) and ``durable_api`` (the
durable-executions read API) are the two routes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Route = Callable[[str, str, bytes], tuple[int, dict[str, Any]]]


def json_handler_for(route: Route) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def _answer(self, method: str) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, payload = route(method, self.path, body)
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
def serve_json(route: Route) -> Iterator[str]:
    """Serve ``route`` on 127.0.0.1 while the block runs; yields the endpoint URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), json_handler_for(route))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
