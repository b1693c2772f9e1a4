"""Offline AWS for pipeline tests: a moto server on 127.0.0.1 and a loopback durable-callback shim.

* :class:`MotoStack`: S3 (bucket with EventBridge notifications), SQS (job queue), EventBridge
  with two rules delivering to SQS inboxes: S3 "Object Created" events (which the test feeds to
  the durable runner, as the Lambda alias would receive them) and the pipeline's own events (so
  completion and failure events are really observed after EventBridge routing).
* :class:`CallbackShim`: moto does not implement the durable-execution callback APIs, so a tiny
  HTTP server answers ``POST /2025-12-01/durable-execution-callbacks/{id}/succeed|fail|heartbeat``
  and forwards to the ``DurableFunctionTestRunner``; workers use a plain boto3 ``lambda`` client
  pointed at it.
* :class:`FakeWorker`: polls the job queue like the GPU worker, writes a canned raw transcript (the
  real WhisperX shape with ``podwhisperer`` metadata) and completes the callback through the shim.
"""

from __future__ import annotations

import json
import random
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import boto3
from fakes.callbacks import CallbackShim

from podwhisperer.runtime.config import TranscriptionConfig
from podwhisperer.runtime.contracts import METADATA_KEY, CallbackResult, RawMetadata, transcription_fingerprint

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
        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST"))
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
        import time

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


def canned_raw_transcript(source_key: str, etag: str | None, minutes: float = 2.0, seed: int = 7,
                          transcription: TranscriptionConfig | None = None) -> dict[str, Any]:
    """A WhisperX-shaped raw transcript: two speakers, ~150 words a minute, some unaligned numerals.

    Its metadata is the worker's :class:`RawMetadata`, fingerprinted with ``transcription`` (default settings)."""
    rng = random.Random(seed)
    vocabulary = ["podcast", "cloud", "lambda", "durable", "function", "serverless", "episode", "today",
                  "we", "talk", "about", "the", "new", "feature", "and", "it", "is", "really", "great", "so"]
    segments, t, speaker = [], 0.0, 0
    end_time = minutes * 60
    while t < end_time:
        words = []
        for i in range(rng.randint(6, 18)):
            text = str(rng.randint(2, 99)) if rng.random() < 0.03 else rng.choice(vocabulary)
            duration = rng.uniform(0.15, 0.45)
            if text.isdigit():  # WhisperX leaves numerals unaligned
                words.append({"word": text})
            else:
                words.append({"word": text + ("." if i and rng.random() < 0.08 else ""), "start": round(t, 3),
                              "end": round(t + duration, 3), "score": round(rng.uniform(0.5, 1), 3),
                              "speaker": f"SPEAKER_0{speaker}"})
            t += duration + rng.uniform(0.02, 0.12)
        timed = [w for w in words if "start" in w]
        start = timed[0]["start"] if timed else t
        segments.append({"start": start, "end": round(t, 3), "text": " " + " ".join(w["word"] for w in words),
                         "speaker": f"SPEAKER_0{speaker}", "words": words})
        if rng.random() < 0.3:
            speaker = 1 - speaker
        t += rng.uniform(0.2, 1.0)
    return {
        "segments": segments,
        "word_segments": [w for s in segments for w in s["words"]],
        METADATA_KEY: RawMetadata(
            source_key=source_key, source_etag=etag, model="fake", language="en", audio_duration=round(t, 3),
            aligned=True, diarized=True, device="cpu",
        ).with_fingerprint(transcription_fingerprint(transcription or TranscriptionConfig())).to_dict(),
    }


@dataclass
class FakeWorker:
    """Polls the job queue and answers each job the way the GPU worker does (without ASR).

    ``behaviour(job)`` may return ``"succeed"`` (default), ``"fail"``, ``"silent"`` (take the job and
    never answer, like a dead worker) or ``"heartbeat-then-silent"``.
    """

    stack: MotoStack
    lambda_client: Any
    minutes: float = 2.0
    transcription: TranscriptionConfig = field(default_factory=TranscriptionConfig)
    behaviour: Callable[[dict[str, Any]], str] = field(default=lambda job: "succeed")
    jobs: list[dict[str, Any]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> FakeWorker:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        sqs = self.stack.client("sqs")
        while not self._stop.is_set():
            resp = sqs.receive_message(QueueUrl=self.stack.job_queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=0)
            for message in resp.get("Messages", []):
                sqs.delete_message(QueueUrl=self.stack.job_queue_url, ReceiptHandle=message["ReceiptHandle"])
                self.handle(json.loads(message["Body"]))
            if not resp.get("Messages"):
                self._stop.wait(0.05)

    def handle(self, job: dict[str, Any]) -> None:
        self.jobs.append(job)
        action = self.behaviour(job)
        callback_id = job["callback_id"]
        if action == "fail":
            self.lambda_client.send_durable_execution_callback_failure(
                CallbackId=callback_id, Error={"ErrorType": "AudioDecodeError", "ErrorMessage": "cannot decode audio"})
            return
        if action == "silent":
            return
        self.lambda_client.send_durable_execution_callback_heartbeat(CallbackId=callback_id)
        if action == "heartbeat-then-silent":
            return
        raw_key = raw_key_for(job["s3_key"])
        head = self.stack.s3.head_object(Bucket=BUCKET, Key=job["s3_key"])
        raw = canned_raw_transcript(job["s3_key"], head["ETag"].strip('"'), minutes=self.minutes,
                                    transcription=self.transcription)
        self.stack.s3.put_object(Bucket=BUCKET, Key=raw_key, Body=json.dumps(raw).encode())
        result = CallbackResult(raw_transcript_key=raw_key, stats=[{"step": "transcription", "status": "success",
                                                                    "duration_ms": 1234}])
        self.lambda_client.send_durable_execution_callback_success(
            CallbackId=callback_id, Result=json.dumps(result.to_wire()).encode())


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


class PipelineHarness:
    """A moto stack + callback shim + ``DurableFunctionTestRunner`` around the real workflow."""

    def __init__(self, endpoint: str, config: Any = None, *, worker_minutes: float = 2.0,
                 faults: dict[str, str] | None = None, bedrock: FakeBedrock | None = None,
                 callback_seconds: tuple[int, int] | None = None) -> None:
        from aws_durable_execution_sdk_python.config import Duration
        from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy
        from aws_durable_execution_sdk_python_testing import DurableFunctionTestRunner

        from podwhisperer.runtime.adapters.events import EventBridgeSink
        from podwhisperer.runtime.adapters.queue import SqsJobQueue
        from podwhisperer.runtime.adapters.storage import S3ObjectStore
        from podwhisperer.runtime.config import PipelineConfig
        from podwhisperer.runtime.pipeline import PipelineDeps, make_durable_handler

        self.stack = MotoStack(endpoint).setup()
        self.shim = CallbackShim().__enter__()  # the one shim; the runner is attached below
        self.bedrock = bedrock or FakeBedrock()
        self.store = FaultyStore(S3ObjectStore(self.stack.client("s3"), BUCKET), faults)
        timeouts = None
        if callback_seconds:
            timeouts = lambda _cfg: (Duration(callback_seconds[0]), Duration(callback_seconds[1]))  # noqa: E731
        self.deps = PipelineDeps(
            config=config or PipelineConfig(),
            store=self.store,
            queue=SqsJobQueue(self.stack.client("sqs"), self.stack.job_queue_url),
            events=EventBridgeSink(self.stack.client("events")),
            bucket=BUCKET,
            bedrock_factory=lambda _cfg: self.bedrock,
            step_retry=create_retry_strategy(RetryStrategyConfig(max_attempts=3, initial_delay=Duration(1))),
            callback_timeouts=timeouts,
        )
        self.runner = DurableFunctionTestRunner(handler=make_durable_handler(lambda: self.deps), poll_interval=0.05)
        self.shim.runner = self.runner
        self.worker = FakeWorker(self.stack, self.shim.lambda_client(), minutes=worker_minutes,
                                 transcription=self.deps.config.transcription)

    def start_worker(self, behaviour: Callable[[dict[str, Any]], str] | None = None) -> FakeWorker:
        if behaviour is not None:
            self.worker.behaviour = behaviour
        return self.worker.start()

    def run(self, event: dict[str, Any], timeout: int = 60, name: str = "execution-name") -> Any:
        arn = self.runner.run_async(input=json.dumps(event), execution_timeout=timeout, execution_name=name)
        return self.runner.wait_for_result(arn, timeout=timeout)

    def close(self) -> None:
        self.worker.stop()
        self.runner.close()
        self.shim.__exit__(None, None, None)
