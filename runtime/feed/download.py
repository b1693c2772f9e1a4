"""Download an enclosure to disk: progress, retries, HTTP range resume, length and type checks.

Bytes go to ``<file>.part``; the response's validator (ETag, else Last-Modified) is kept in
``<file>.part.json`` so a resumed request carries ``If-Range``: a server whose file changed in the
meantime sends the whole new file (200) and the download starts over instead of splicing two files.
The file gets its final name only after its size matched what the server announced.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podwhisperer.runtime.feed.http import HttpClient, HttpError, content_type, range_start, total_size

CHUNK_BYTES = 1024 * 1024
NOT_AUDIO_TYPES = ("text/", "application/json", "application/xml", "application/xhtml", "application/rss",
                   "application/atom")

Progress = Callable[[int, int | None], None]
"""Called with (bytes so far, total bytes or None) as the download advances."""


class DownloadError(RuntimeError):
    """An enclosure that could not be downloaded; one line naming the URL."""


@dataclass(frozen=True, slots=True)
class Downloaded:
    path: Path
    size: int
    content_type: str | None
    resumed_from: int  # bytes already on disk when this call started (0: a fresh download)


def check_audio_type(url: str, kind: str | None) -> None:
    """An HTML error page served with status 200 is not an episode."""
    if kind and kind.startswith(NOT_AUDIO_TYPES):
        raise DownloadError(f"{url}: the server sent {kind}, not audio")


def download(client: HttpClient, url: str, dest: Path, on_progress: Progress | None = None) -> Downloaded:
    """Download ``url`` to ``dest`` (resuming a ``.part`` left by an earlier attempt or run)."""
    part = dest.with_name(dest.name + ".part")
    meta = dest.with_name(dest.name + ".part.json")
    dest.parent.mkdir(parents=True, exist_ok=True)
    initial = part.stat().st_size if part.exists() else 0
    try:
        result: Downloaded = client.retrying(url, lambda: _attempt(client, url, part, meta, on_progress))
    except HttpError as exc:
        raise DownloadError(str(exc)) from None
    part.replace(dest)
    meta.unlink(missing_ok=True)
    if on_progress is not None:
        on_progress(result.size, result.size)  # the end, also when the server sent no length
    return Downloaded(path=dest, size=result.size, content_type=result.content_type, resumed_from=initial)


def _attempt(client: HttpClient, url: str, part: Path, meta: Path, on_progress: Progress | None) -> Downloaded:
    offset = part.stat().st_size if part.exists() else 0
    validator = _read_validator(meta) if offset else None
    headers = {"Range": f"bytes={offset}-", **({"If-Range": validator} if validator else {})} if offset else {}
    with client.open_once(url, headers) as response:
        kind = content_type(response.headers)
        check_audio_type(url, kind)
        if offset and (response.status != 206 or range_start(response.headers) != offset):
            offset = 0  # no range support, or the file changed (If-Range): start over
        total = total_size(response.status, response.headers)
        _write_validator(meta, response.headers)
        with part.open("r+b" if offset else "wb") as out:
            out.seek(offset)
            out.truncate()
            done = offset
            while chunk := response.read(CHUNK_BYTES):
                out.write(chunk)
                done += len(chunk)
                if on_progress is not None:
                    on_progress(done, total)
    if total is not None and done != total:
        # the connection ended early: transient, the next attempt resumes from here
        raise ConnectionError(f"got {done} of {total} bytes")
    if done == 0:
        raise DownloadError(f"{url}: the server sent an empty file")
    return Downloaded(path=part, size=done, content_type=kind, resumed_from=offset)


def _read_validator(meta: Path) -> str | None:
    try:
        data: Any = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = data.get("validator") if isinstance(data, dict) else None
    return str(value) if value else None


def _write_validator(meta: Path, headers: Any) -> None:
    etag = headers.get("ETag")
    validator = etag if etag and not etag.startswith("W/") else headers.get("Last-Modified")
    meta.write_text(json.dumps({"validator": validator}), encoding="utf-8")


__all__ = ["DownloadError", "Downloaded", "check_audio_type", "download"]
