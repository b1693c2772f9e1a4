"""The upload that starts a run: parsed from the EventBridge "Object Created" event.

Key decoding. S3 *notification* payloads form-URL-encode object keys (``red flower.mp3`` arrives
as ``red+flower.mp3``, a literal ``+`` as ``%2B``, non-ASCII as UTF-8 percent escapes); AWS
documents this for the classic notification format and users report the same in the
EventBridge ``detail.object.key``. moto's EventBridge emulation, on the other hand, sends the raw
key. A wrong guess either way is silent data loss for names with ``+`` or spaces, so the
workflow does not guess: :func:`key_candidates` lists the form-decoded key first and the key as
delivered second, and the ``resolve-input`` step keeps the first one that exists in the bucket
(a ``HeadObject`` each). Ambiguity would need two objects, ``a b.mp3`` and ``a+b.mp3``, *and* an
event for the second one, in which case the decoded reading is the documented one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import S3EventNotificationEventBridgeModel
from pydantic import ValidationError

from podwhisperer.runtime.contracts import normalize_etag


class UploadEventError(ValueError):
    """The event is not an S3 "Object Created" event delivered by EventBridge."""


@dataclass(frozen=True, slots=True)
class Upload:
    """What the event says about the uploaded object."""

    bucket: str
    event_key: str  # as delivered; see the module docstring
    size: int | None
    etag: str | None


def parse_upload_event(event: Mapping[str, Any]) -> Upload:
    """The bucket, key, size and etag of an EventBridge S3 "Object Created" event."""
    try:
        model = parse(event=dict(event), model=S3EventNotificationEventBridgeModel)
    except (ValidationError, ValueError, TypeError) as exc:
        raise UploadEventError(f"not an S3 Object Created event from EventBridge: {exc}") from None
    obj = model.detail.object
    size = int(obj.size) if obj.size is not None else None
    etag = obj.etag or _raw_object_field(event, "eTag")  # AWS documents "etag"; moto sends "eTag"
    return Upload(bucket=model.detail.bucket.name, event_key=obj.key, size=size, etag=normalize_etag(etag) or None)


def _raw_object_field(event: Mapping[str, Any], name: str) -> str:
    value = event.get("detail", {}).get("object", {}).get(name)
    return str(value) if value else ""


def key_candidates(event_key: str) -> list[str]:
    """Keys the event may mean, most likely first: form-decoded, then as delivered."""
    decoded = unquote_plus(event_key)
    return [decoded] if decoded == event_key else [decoded, event_key]


def object_created_event(bucket: str, key: str, size: int, etag: str | None, region: str = "local") -> dict[str, Any]:
    """An EventBridge-shaped "Object Created" event (local mode feeds the workflow the same input)."""
    return {
        "version": "0",
        "id": f"local-{etag or 'noetag'}",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "000000000000",
        "time": "1970-01-01T00:00:00Z",
        "region": region,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": key, "size": size, "etag": etag or "", "sequencer": "0"},
            "request-id": "local",
            "requester": "local",
            "source-ip-address": "127.0.0.1",
            "reason": "PutObject",
        },
    }
