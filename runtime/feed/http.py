"""HTTP for feeds and enclosures: retries with backoff, range requests, one-line errors.

Only the standard library (``urllib``): redirects are followed, ``Range``/``If-Range`` are plain
headers. Client errors (404, 410, 403) are permanent; server errors, 429 and network trouble are
retried ``retries`` times.
"""

from __future__ import annotations

import http.client
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

USER_AGENT = "podwhisperer/0.1 (+https://github.com/; feed ingest)"
RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}
TRANSIENT_ERRORS = (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError,
                    http.client.IncompleteRead, http.client.RemoteDisconnected)
MAX_FEED_BYTES = 50 * 1024 * 1024


class HttpError(RuntimeError):
    """A request that failed for good; ``str()`` is one line naming the URL."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Probe:
    """What a small range request tells about a file without downloading it."""

    size: int | None
    content_type: str | None
    head: bytes


@dataclass
class HttpClient:
    """Opens URLs; retries what :meth:`retrying` wraps. ``sleep`` is injectable so tests do not wait."""

    timeout: float = 30.0
    retries: int = 3
    backoff_seconds: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    user_agent: str = USER_AGENT
    _opener: urllib.request.OpenerDirector = field(default_factory=urllib.request.build_opener, repr=False)

    def retrying(self, url: str, attempt: Callable[[], Any]) -> Any:
        """``attempt()`` retried on transient errors with exponential backoff; permanent ones raise at once."""
        for number in range(self.retries + 1):
            try:
                return attempt()
            except HttpError as exc:
                if exc.status not in RETRYABLE_STATUS or number == self.retries:
                    raise
            except TRANSIENT_ERRORS as exc:
                if number == self.retries:
                    raise HttpError(f"{url}: {_reason(exc)} (after {self.retries + 1} attempts)") from None
            self.sleep(self.backoff_seconds * 2 ** number)
        raise AssertionError("unreachable")

    def fetch(self, url: str, max_bytes: int = MAX_FEED_BYTES) -> bytes:
        """The whole body (a feed): at most ``max_bytes``."""
        def read() -> bytes:
            with self.open_once(url, {}) as response:
                data: bytes = response.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise HttpError(f"{url}: larger than {max_bytes // (1024 * 1024)} MiB, not a feed")
            return data

        result: bytes = self.retrying(url, read)
        return result

    def probe(self, url: str, head_bytes: int = 65536, start: int = 0) -> Probe:
        """Size, type and ``head_bytes`` from ``start`` in one range request (a server that ignores
        ranges sends the whole file from byte 0; only what is needed is read)."""
        def read() -> Probe:
            with self.open_once(url, {"Range": f"bytes={start}-{start + head_bytes - 1}"}) as response:
                skip = start if response.status == 200 else 0
                while skip > 0:
                    chunk = response.read(min(skip, 1 << 20))
                    if not chunk:
                        break
                    skip -= len(chunk)
                head = response.read(head_bytes)
                return Probe(size=total_size(response.status, response.headers),
                             content_type=content_type(response.headers), head=head)

        result: Probe = self.retrying(url, read)
        return result

    def open_once(self, url: str, headers: dict[str, str]) -> Any:
        """One request, no retry (for callers that retry a larger unit of work themselves)."""
        request = urllib.request.Request(url, headers={"User-Agent": self.user_agent, **headers})
        try:
            return self._opener.open(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            exc.close()
            raise HttpError(f"{url}: HTTP {exc.code} {exc.reason}", status=exc.code) from None
        except ValueError as exc:  # unknown url type, malformed URL
            raise HttpError(f"{url}: {exc}") from None


def total_size(status: int, headers: Message) -> int | None:
    """The full size of the resource: from ``Content-Range`` on a 206, else ``Content-Length``."""
    if status == 206:
        value = headers.get("Content-Range", "")
        total = value.rsplit("/", 1)[-1]
        return int(total) if total.isdigit() else None
    length = headers.get("Content-Length")
    return int(length) if length and length.isdigit() else None


def range_start(headers: Message) -> int | None:
    """First byte of a 206 body (``Content-Range: bytes 100-199/200`` → 100)."""
    value = headers.get("Content-Range", "")
    if not value.startswith("bytes "):
        return None
    start = value[6:].split("-", 1)[0]
    return int(start) if start.isdigit() else None


def content_type(headers: Message) -> str | None:
    value = headers.get("Content-Type")
    return value.split(";", 1)[0].strip().lower() if value else None


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason or exc) or type(exc).__name__
