"""A podcast host on 127.0.0.1 for feed tests: real HTTP with Range, ETag/If-Range and failure modes.

``FeedHost.files`` maps a path to ``(body, content type)``. ``cut_after[path] = n`` makes the next
GET of ``path`` send its full headers but only ``n`` body bytes before closing the connection (a
dropped download); ``busy[path] = n`` answers the next ``n`` GETs with 503; ``ignore_range`` paths answer ranges with
the whole file (200); ``requests`` records ``(method, path, Range header)`` for the assertions.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape


@dataclass
class FeedHost:
    base_url: str = ""
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    cut_after: dict[str, int] = field(default_factory=dict)
    ignore_range: set[str] = field(default_factory=set)
    busy: dict[str, int] = field(default_factory=dict)  # path → how many more GETs answer 503
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path

    def gets(self, path: str) -> list[str | None]:
        """The Range header of every GET of ``path``."""
        return [rng for method, p, rng in self.requests if method == "GET" and p == path]


def _handler(host: FeedHost) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            host.requests.append(("GET", self.path, self.headers.get("Range")))
            if host.busy.get(self.path):
                host.busy[self.path] -= 1
                self._send(503, b"try again", "text/plain")
                return
            if self.path not in host.files:
                self._send(404, b"not found", "text/plain")
                return
            body, kind = host.files[self.path]
            etag = '"' + hashlib.md5(body).hexdigest() + '"'
            start = self._range_start(etag) if self.path not in host.ignore_range else None
            end = len(body) - 1
            if start is not None and "-" in (self.headers.get("Range") or ""):
                tail = self.headers["Range"].split("-", 1)[1]
                end = min(end, int(tail)) if tail else end
            cut = host.cut_after.pop(self.path, None)
            if start is None:
                self._send(200, body, kind, etag=etag, cut=cut)
            else:
                self._send(206, body[start:end + 1], kind, etag=etag, cut=cut,
                           content_range=f"bytes {start}-{end}/{len(body)}")

        def _range_start(self, etag: str) -> int | None:
            value = self.headers.get("Range")
            if not value or not value.startswith("bytes="):
                return None
            if_range = self.headers.get("If-Range")
            if if_range and if_range != etag:
                return None  # the file changed: send it whole
            return int(value[6:].split("-", 1)[0])

        def _send(self, status: int, body: bytes, kind: str, *, etag: str | None = None, cut: int | None = None,
                  content_range: str | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Accept-Ranges", "bytes")
            if etag:
                self.send_header("ETag", etag)
            if content_range:
                self.send_header("Content-Range", content_range)
            if cut is not None:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body if cut is None else body[:cut])
            if cut is not None:
                self.wfile.flush()
                self.close_connection = True

        def log_message(self, *args: Any) -> None:
            return

    return Handler


@contextmanager
def serve_feed_host() -> Iterator[FeedHost]:
    host = FeedHost()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(host))
    host.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield host
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Item:
    guid: str
    title: str
    path: str
    published: datetime
    length: int | None = None
    kind: str = "audio/mpeg"
    duration: str | None = None
    description: str = ""
    persons: list[tuple[str, str]] = field(default_factory=list)  # (name, role)


def rss(host: FeedHost, items: list[Item], title: str = "Acme Show", language: str = "en-us") -> bytes:
    """An RSS 2.0 feed with the iTunes and Podcasting 2.0 namespaces."""
    entries = []
    for item in items:
        persons = "".join(f'<podcast:person role="{role}">{escape(name)}</podcast:person>'
                          for name, role in item.persons)
        duration = f"<itunes:duration>{item.duration}</itunes:duration>" if item.duration else ""
        length = f' length="{item.length}"' if item.length is not None else ""
        entries.append(
            f"<item><title>{escape(item.title)}</title><guid isPermaLink=\"false\">{escape(item.guid)}</guid>"
            f"<pubDate>{format_datetime(item.published.astimezone(UTC), usegmt=True)}</pubDate>"
            f"<description>{escape(item.description)}</description>{duration}{persons}"
            f"<enclosure url=\"{escape(host.url(item.path))}\" type=\"{item.kind}\"{length}/></item>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
        'xmlns:podcast="https://podcastindex.org/namespace/1.0">'
        f"<channel><title>{escape(title)}</title><language>{language}</language>{''.join(entries)}</channel></rss>"
    ).encode()
