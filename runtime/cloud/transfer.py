"""Into S3: local files (``cloud upload``) and enclosures streamed straight from the podcast host
(``cloud backfill``), both as multipart uploads with progress.

Streaming keeps one part in memory and nothing on disk. It is resumable: the multipart upload's id
and the enclosure's identity are kept in a small state object under the work prefix, so a new run
(from any machine) lists the parts already in S3 and asks the host for the rest with a range
request. A host that ignores ranges, or a changed enclosure, starts a fresh upload (the stale one is
aborted). The object gets its final key only at ``CompleteMultipartUpload``: the pipeline never sees
half an episode.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podwhisperer.runtime.feed.download import check_audio_type
from podwhisperer.runtime.feed.http import HttpClient, HttpError, content_type, range_start, total_size

PART_BYTES = 8 * 1024 * 1024  # S3's minimum part is 5 MiB (except the last)
IDENTITY_KEY = "podwhisperer-enclosure"  # user metadata on the uploaded object

Progress = Callable[[int, int | None], None]


class TransferError(RuntimeError):
    """An upload that failed for good (one line naming the episode or file)."""


def upload_file(s3: Any, bucket: str, path: Path, key: str, content_type: str | None = None,
                on_progress: Progress | None = None) -> None:
    """A local file to ``key`` (boto3's managed transfer: multipart above 8 MiB, parts in parallel)."""
    from boto3.s3.transfer import TransferConfig

    size = path.stat().st_size
    state = {"done": 0}

    def advance(count: int) -> None:
        state["done"] += count
        if on_progress is not None:
            on_progress(state["done"], size)

    extra = {"ContentType": content_type} if content_type else {}
    s3.upload_file(str(path), bucket, key, ExtraArgs=extra, Callback=advance,
                   Config=TransferConfig(multipart_threshold=PART_BYTES, multipart_chunksize=PART_BYTES))


@dataclass(frozen=True)
class Streamed:
    key: str
    size: int
    resumed_from: int


class EnclosureStreamer:
    """Streams enclosures into one bucket through injected S3 and HTTP clients."""

    def __init__(self, s3: Any, bucket: str, http: HttpClient, state_prefix: str, part_bytes: int = PART_BYTES) -> None:
        self.s3, self.bucket, self.http = s3, bucket, http
        self.state_prefix = state_prefix
        self.part_bytes = part_bytes

    def uploaded_identity(self, key: str) -> str | None:
        """The enclosure identity recorded on an object already at ``key`` (None: absent or not ours)."""
        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=key)
        except self.s3.exceptions.ClientError as exc:
            if _code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        value = (head.get("Metadata") or {}).get(IDENTITY_KEY)
        return str(value) if value else None

    def stream(self, url: str, key: str, identity: str, kind: str | None = None,
               on_progress: Progress | None = None) -> Streamed:
        """Upload the enclosure at ``url`` to ``key`` (continuing an interrupted upload of the same identity)."""
        try:
            result: Streamed = self.http.retrying(url, lambda: self._attempt(url, key, identity, kind, on_progress))
        except HttpError as exc:
            raise TransferError(str(exc)) from None
        return result

    # region one attempt

    def _attempt(self, url: str, key: str, identity: str, kind: str | None, on_progress: Progress | None) -> Streamed:
        upload_id, parts = self._resume_point(key, identity)
        offset = len(parts) * self.part_bytes
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        with self.http.open_once(url, headers) as response:
            served = content_type(response.headers)
            check_audio_type(url, served)
            if offset and (response.status != 206 or range_start(response.headers) != offset):
                self._abort(key, upload_id)  # no range support: start over
                upload_id, parts, offset = None, [], 0
            total = total_size(response.status, response.headers)
            resumed_from = offset
            if upload_id is None:
                upload_id = self._create(key, identity, served or kind)
            done = offset
            while chunk := _read_exactly(response, self.part_bytes):
                if total is not None and len(chunk) < self.part_bytes and done + len(chunk) != total:
                    raise ConnectionError(f"got {done + len(chunk)} of {total} bytes")  # resumable: parts kept
                number = len(parts) + 1
                answer = self.s3.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number,
                                             Body=chunk)
                parts.append({"PartNumber": number, "ETag": answer["ETag"]})
                done += len(chunk)
                if on_progress is not None:
                    on_progress(done, total)
        if total is not None and done != total:
            raise ConnectionError(f"got {done} of {total} bytes")  # transient: the next attempt resumes
        if done == 0:
            raise TransferError(f"{url}: the server sent an empty file")
        self.s3.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                          MultipartUpload={"Parts": parts})
        self._forget(key)
        return Streamed(key=key, size=done, resumed_from=resumed_from)

    def _resume_point(self, key: str, identity: str) -> tuple[str | None, list[dict[str, Any]]]:
        """(upload id, parts so far) of an interrupted upload of this same enclosure, else (None, [])."""
        state = self._state(key)
        if state is None:
            return None, []
        if state.get("identity") != identity or state.get("partBytes") != self.part_bytes:
            self._abort(key, state.get("uploadId"))
            return None, []
        try:
            listed = self.s3.list_parts(Bucket=self.bucket, Key=key, UploadId=state["uploadId"])
        except self.s3.exceptions.ClientError:
            self._forget(key)  # completed or aborted meanwhile
            return None, []
        parts = sorted(listed.get("Parts") or [], key=lambda p: p["PartNumber"])
        kept: list[dict[str, Any]] = []
        for expected, part in enumerate(parts, start=1):
            if part["PartNumber"] != expected or part["Size"] != self.part_bytes:
                break  # only whole, contiguous parts are a safe place to continue from
            kept.append({"PartNumber": expected, "ETag": part["ETag"]})
        return str(state["uploadId"]), kept

    def _create(self, key: str, identity: str, kind: str | None) -> str:
        extra = {"ContentType": kind} if kind else {}
        upload_id = str(self.s3.create_multipart_upload(Bucket=self.bucket, Key=key, Metadata={IDENTITY_KEY: identity},
                                                        **extra)["UploadId"])
        state = {"uploadId": upload_id, "identity": identity, "partBytes": self.part_bytes}
        self.s3.put_object(Bucket=self.bucket, Key=self._state_key(key), Body=json.dumps(state).encode(),
                           ContentType="application/json")
        return upload_id

    def _abort(self, key: str, upload_id: Any) -> None:
        if upload_id:
            with contextlib.suppress(self.s3.exceptions.ClientError):  # already gone
                self.s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=str(upload_id))
        self._forget(key)

    def _state(self, key: str) -> Mapping[str, Any] | None:
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=self._state_key(key))["Body"].read()
        except self.s3.exceptions.ClientError:
            return None
        try:
            data = json.loads(body)
        except ValueError:
            return None
        return data if isinstance(data, dict) and data.get("uploadId") else None

    def _forget(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=self._state_key(key))

    def _state_key(self, key: str) -> str:
        return f"{self.state_prefix}backfill/{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"

    # endregion


def _read_exactly(response: Any, size: int) -> bytes:
    """Up to ``size`` bytes: fewer only at the end of the body."""
    buffer = bytearray()
    while len(buffer) < size:
        chunk = response.read(size - len(buffer))
        if not chunk:
            break
        buffer += chunk
    return bytes(buffer)


def _code(exc: Any) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


__all__ = ["IDENTITY_KEY", "PART_BYTES", "EnclosureStreamer", "Streamed", "TransferError", "upload_file"]
