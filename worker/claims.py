"""In-progress markers, so two workers never transcribe the same upload at the same time.

SQS delivers a message at least once: a duplicate delivery, a second job for the same upload, or a
visibility timeout that ran out while a worker was stalled can hand a job to a second worker while
the first is still transcribing it: an hour of GPU time spent twice. Before transcribing, a worker
claims the job with a small object ``<work prefix>claims/<sha256 of key and etag>.json`` written with
S3's conditional put (``If-None-Match: *``), so exactly one writer wins. The holder refreshes the claim
on every heartbeat and deletes it when done. A claim not refreshed for ``ttl_seconds`` belongs to a
dead worker and is taken over with ``If-Match`` on the stale object's ETag: again exactly one wins.

A worker that finds a live claim hands its message back for later; by then the holder has written
the transcript (which the job reuses, a few seconds) or has died (and its claim can be taken over).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import ClientError

log = logging.getLogger(__name__)

_LOST_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}


@dataclass(frozen=True, slots=True)
class Claim:
    """A claim this worker holds: the marker's key and the ETag of the version it wrote."""

    key: str
    etag: str


@dataclass(frozen=True, slots=True)
class Busy:
    """Another worker holds a live claim on the job, for the callback ending in ``callback_tail``."""

    owner: str
    callback_tail: str

    def same_callback(self, callback_id: str) -> bool:
        return bool(self.callback_tail) and callback_id[-64:] == self.callback_tail


class JobClaims(Protocol):
    """What the poller needs: claim a job, keep the claim alive, give it back."""

    def acquire(self, s3_key: str, etag: str | None, callback_id: str) -> Claim | Busy | None: ...

    def refresh(self, claim: Claim, s3_key: str, callback_id: str) -> Claim | None: ...

    def release(self, claim: Claim) -> None: ...


class S3JobClaims:
    """Claims on one bucket through an injected boto3 S3 client; one instance per worker process."""

    def __init__(self, client: Any, bucket: str, prefix: str, owner: str, *, ttl_seconds: float,
                 clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self.bucket = bucket
        self.prefix = prefix
        self.owner = owner
        self.ttl_seconds = ttl_seconds
        self._clock = clock

    def key_for(self, s3_key: str, etag: str | None) -> str:
        digest = hashlib.sha256(f"{s3_key}\0{etag or ''}".encode()).hexdigest()[:40]
        return f"{self.prefix}claims/{digest}.json"

    def acquire(self, s3_key: str, etag: str | None, callback_id: str) -> Claim | Busy | None:
        """Claim the job; :class:`Busy` when another worker holds a live claim on it; None when another
        worker won a race for it at this very moment."""
        key = self.key_for(s3_key, etag)
        body = self._body(s3_key, callback_id)
        created = self._put(key, body, IfNoneMatch="*")
        if created is not None:
            return created
        current = self._read(key)
        if current is None:  # released between our put and our read: try once more
            return self._put(key, body, IfNoneMatch="*")
        etag_now, holder = current
        if holder.get("owner") == self.owner:
            return self._put(key, body, IfMatch=etag_now)  # our own claim (a redelivery to this worker)
        if float(holder.get("expires_at", 0)) > self._clock():
            log.info("job %s is being transcribed by %s: leaving it to that worker", s3_key, holder.get("owner"))
            return Busy(str(holder.get("owner", "")), str(holder.get("callback_id", "")))
        log.warning("taking over the stale claim of %s on %s", holder.get("owner"), s3_key)
        return self._put(key, body, IfMatch=etag_now)

    def refresh(self, claim: Claim, s3_key: str, callback_id: str) -> Claim | None:
        """Extend the claim (on each heartbeat); None when another worker has taken it over."""
        return self._put(claim.key, self._body(s3_key, callback_id), IfMatch=claim.etag)

    def release(self, claim: Claim) -> None:
        """Delete the claim if it is still ours (a failed delete only leaves it to expire)."""
        current = self._read(claim.key)
        if current is None or current[1].get("owner") != self.owner:
            return
        try:
            self._client.delete_object(Bucket=self.bucket, Key=claim.key)
        except ClientError as exc:
            log.warning("could not delete claim %s: %s", claim.key, exc)

    def _body(self, s3_key: str, callback_id: str) -> bytes:
        return json.dumps({"owner": self.owner, "s3_key": s3_key, "callback_id": callback_id[-64:],
                           "expires_at": round(self._clock() + self.ttl_seconds, 3)}).encode()

    def _put(self, key: str, body: bytes, **condition: str) -> Claim | None:
        try:
            response = self._client.put_object(Bucket=self.bucket, Key=key, Body=body,
                                               ContentType="application/json", **condition)
        except ClientError as exc:
            if _code(exc) in _LOST_CODES or _status(exc) in (404, 409, 412):
                return None
            raise
        return Claim(key=key, etag=str(response["ETag"]).strip('"'))

    def _read(self, key: str) -> tuple[str, dict[str, Any]] | None:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in ("NoSuchKey", "404") or _status(exc) == 404:
                return None
            raise
        try:
            holder = json.loads(response["Body"].read())
        except ValueError:
            holder = {}
        return str(response["ETag"]).strip('"'), holder if isinstance(holder, dict) else {}


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int | None:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return int(status) if status is not None else None
