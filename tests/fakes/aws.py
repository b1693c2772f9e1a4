"""Offline AWS for pipeline tests: the moto stack, an S3 store with injected faults, a Converse fake.

* :class:`MotoStack`: S3 (bucket with EventBridge notifications), SQS (job queue), EventBridge
  with two rules delivering to SQS inboxes: S3 "Object Created" events (which the test feeds to
  the durable runner, as the Lambda alias would receive them) and the pipeline's own events (so
  completion and failure events are really observed after EventBridge routing).
* :class:`FaultyStore`: an ObjectStore whose writes fail once, before or after writing.
* :class:`FakeBedrock`: a Converse client answering every chunk.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import boto3

from fakes.moto import reset

REGION = "eu-west-1"
BUCKET = "podwhisperer-test"
PIPELINE_SOURCE = "podwhisperer.pipeline"


@dataclass
class MotoStack:
    """Clients and resource names of one reset moto server."""

    endpoint: str
    s3: Any = None
    sqs: Any = None
    events: Any = None
    job_queue_url: str = ""
    s3_inbox_url: str = ""
    events_inbox_url: str = ""

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=self.endpoint)

    def setup(self) -> MotoStack:
        reset(self.endpoint)
        self.s3, self.sqs, self.events = self.client("s3"), self.client("sqs"), self.client("events")
        self.s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        self.s3.put_bucket_notification_configuration(
            Bucket=BUCKET, NotificationConfiguration={"EventBridgeConfiguration": {}})
        self.job_queue_url = self.sqs.create_queue(QueueName="jobs")["QueueUrl"]
        self.s3_inbox_url = self._routed_queue("s3-inbox", {"source": ["aws.s3"], "detail-type": ["Object Created"]})
        self.events_inbox_url = self._routed_queue("pipeline-events", {"source": [PIPELINE_SOURCE]})
        return self

    def _routed_queue(self, name: str, pattern: dict[str, Any]) -> str:
        url: str = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.events.put_rule(Name=f"to-{name}", EventPattern=json.dumps(pattern))
        self.events.put_targets(Rule=f"to-{name}", Targets=[{"Id": name, "Arn": arn}])
        return url

    def upload(self, key: str, data: bytes) -> dict[str, Any]:
        """Put an object and return the "Object Created" event EventBridge delivered for it."""
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=data)
        for event in self.drain(self.s3_inbox_url, expect=1):
            if event["detail"]["object"]["key"] in (key,) or unquote(event["detail"]["object"]["key"]) == key:
                return event
        raise AssertionError(f"no Object Created event for {key!r}")

    def drain(self, queue_url: str, expect: int = 0, wait: float = 2.0) -> list[dict[str, Any]]:
        """Receive every message (JSON bodies); waits up to ``wait`` s while fewer than ``expect`` came."""
        bodies: list[dict[str, Any]] = []
        deadline = time.monotonic() + wait
        while True:
            resp = self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            messages = resp.get("Messages", [])
            for message in messages:
                bodies.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            if not messages and (len(bodies) >= expect or time.monotonic() > deadline):
                return bodies
            if not messages:
                time.sleep(0.05)

    def pipeline_events(self, expect: int = 0, wait: float = 2.0) -> list[dict[str, Any]]:
        return self.drain(self.events_inbox_url, expect=expect, wait=wait)

    def objects(self, prefix: str = "") -> dict[str, bytes]:
        out = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
            for item in page.get("Contents", []):
                out[item["Key"]] = self.s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
        return out


def raw_key_for(input_key: str) -> str:
    from podwhisperer.runtime.config import StorageConfig
    from podwhisperer.runtime.keys import output_keys

    return output_keys(input_key, StorageConfig()).raw_transcript


class FaultyStore:
    """Wraps an ObjectStore; ``faults`` maps a key substring to "before" (the put fails once, nothing
    written) or "after" (the put succeeds, then the step dies once, as if killed after its write)."""

    def __init__(self, inner: Any, faults: dict[str, str] | None = None) -> None:
        self.inner = inner
        self.faults = dict(faults or {})
        self.fired: list[tuple[str, str]] = []
        self.puts: list[str] = []

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self._write(key, lambda: self.inner.put(key, data, content_type))

    def copy(self, source: str, destination: str, content_type: str) -> None:
        self._write(destination, lambda: self.inner.copy(source, destination, content_type))

    def _write(self, key: str, write: Callable[[], None]) -> None:
        fault = self._take(key)
        if fault == "before":
            raise ConnectionError(f"injected: S3 write of {key} failed")
        write()
        self.puts.append(key)
        if fault == "after":
            raise RuntimeError(f"injected: step killed after writing {key}")

    def _take(self, key: str) -> str | None:
        for pattern, fault in list(self.faults.items()):
            if pattern in key:
                del self.faults[pattern]
                self.fired.append((pattern, fault))
                return fault
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class FakeBedrock:
    """A Converse client: answers every chunk with no updates (or fails, to test on_error)."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.calls = 0
        self.system_prompts: list[str] = []
        self._lock = threading.Lock()

    def converse(self, **kwargs: Any) -> dict[str, Any]:
        with self._lock:
            self.calls += 1
            self.system_prompts.append(kwargs["system"][0]["text"])
        if self.fail:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no model access"},
                               "ResponseMetadata": {"HTTPStatusCode": 403}}, "Converse")
        answer = {"updates": [], "speakers": {"SPEAKER_00": "Alice", "SPEAKER_01": "Bob"}}
        return {"output": {"message": {"role": "assistant", "content": [{"text": json.dumps(answer)}]}},
                "stopReason": "end_turn", "usage": {"inputTokens": 100, "outputTokens": 20, "totalTokens": 120}}
