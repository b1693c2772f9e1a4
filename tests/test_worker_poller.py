"""The poller against a moto SQS/S3 server on 127.0.0.1 and the loopback durable-callback shim.

Timings are shrunk (1 s long polls, sub-second heartbeats and idle timeouts) so that each case takes
a few seconds; the behaviour is the production one.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from fakes.audio import make_media
from fakes.callbacks import CallbackShim, lambda_client
from fakes.moto import REGION, aws_client
from fakes.transcripts import fake_transcriber

from podwhisperer.runtime.adapters.storage import S3ObjectStore
from podwhisperer.runtime.config import PipelineConfig
from podwhisperer.worker.callbacks import CallbackSender
from podwhisperer.worker.claims import JobClaims
from podwhisperer.worker.job import JobResult, TranscriptionJob
from podwhisperer.worker.messages import JobMessage
from podwhisperer.worker.models import ModelCache
from podwhisperer.worker.poller import ExitReason, Poller, PollerSettings

pytest_plugins = ["worker_fixtures"]
BUCKET = "media"


class Recorder:
    """Wraps a boto3 client and records the calls made through it."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.received: dict[str, str] = {}  # receipt handle -> body, of every message received

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def call(**kwargs: Any) -> Any:
            self.calls.append((name, kwargs))
            result = method(**kwargs)
            if name == "receive_message":
                self.received.update((m["ReceiptHandle"], m["Body"]) for m in result.get("Messages", []))
            return result

        return call

    def named(self, name: str) -> list[dict[str, Any]]:
        return [kwargs for called, kwargs in self.calls if called == name]


@dataclass
class Aws:
    sqs: Recorder
    s3: Any
    queue_url: str
    dlq_url: str
    shim: CallbackShim
    tmp_path: Path

    @property
    def store(self) -> S3ObjectStore:
        return S3ObjectStore(self.s3, BUCKET)

    def send(self, body: dict[str, Any] | str) -> None:
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body if isinstance(body, str) else json.dumps(body))

    def upload(self, key: str, kind: str = "tone") -> str:
        self.s3.upload_file(str(make_media(self.tmp_path / "media", kind)), BUCKET, key)
        return str(self.s3.head_object(Bucket=BUCKET, Key=key)["ETag"])

    def messages_left(self, queue_url: str | None = None) -> int:
        return sum(self.visible_and_in_flight(queue_url))

    def visible_and_in_flight(self, queue_url: str | None = None) -> tuple[int, int]:
        attributes = self.sqs._client.get_queue_attributes(
            QueueUrl=queue_url or self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def deleted_bodies(self) -> list[str]:
        return [self.sqs.received[c["ReceiptHandle"]] for c in self.sqs.named("delete_message")]

    def poller(self, job: Any, utc_now: Callable[[], datetime] | None = None, claims: JobClaims | None = None,
               **overrides: Any) -> Poller:
        settings = {"queue_url": self.queue_url, "wait_time_seconds": 1, "idle_timeout_seconds": 1.0,
                    "visibility_timeout_seconds": 30, "heartbeat_interval_seconds": 0.3,
                    "transient_retry_delay_seconds": 0, "job_check_interval_seconds": 0.05, **overrides}
        clock = {"utc_now": utc_now} if utc_now is not None else {}
        return Poller(self.sqs, job, CallbackSender(lambda_client(self.shim), backoff_seconds=0.01),
                      PollerSettings(**settings), claims=claims, **clock)

    def job(self, calls: list[str] | None = None, store: Any = None, delay: float = 0.0) -> TranscriptionJob:
        return TranscriptionJob(store or self.store, ModelCache(), PipelineConfig(),
                                transcriber=fake_transcriber(calls, delay))


@pytest.fixture()
def aws(worker_moto: str, worker_callback_shim: CallbackShim, tmp_path: Path) -> Aws:
    return queue_with_dead_letters(worker_moto, worker_callback_shim, tmp_path)


def queue_with_dead_letters(worker_moto: str, worker_callback_shim: CallbackShim, tmp_path: Path) -> Aws:
    """A moto SQS queue with a dead-letter queue (3 receives), the bucket and the callback shim."""
    sqs, s3 = aws_client("sqs", worker_moto), aws_client("s3", worker_moto)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    dlq_url = sqs.create_queue(QueueName="jobs-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})
    queue_url = sqs.create_queue(QueueName="jobs", Attributes={"RedrivePolicy": redrive})["QueueUrl"]
    return Aws(Recorder(sqs), s3, queue_url, dlq_url, worker_callback_shim, tmp_path)


def answers(aws: Aws, callback_id: str) -> list[str]:
    """The success and failure callbacks sent for ``callback_id`` (heartbeats left out)."""
    return [kind for kind in aws.shim.kinds(callback_id) if kind != "heartbeat"]


def job_body(key: str, callback_id: str, etag: str | None = None) -> dict[str, Any]:
    return {"s3_key": key, "callback_id": callback_id, "etag": etag}


def test_success_path_writes_transcript_completes_callback_and_deletes(aws: Aws) -> None:
    etag = aws.upload("input/shows/ep1.wav")
    aws.send(job_body("input/shows/ep1.wav", "cb-1", etag))
    assert aws.poller(aws.job()).run() is ExitReason.IDLE
    [success] = aws.shim.of_kind("succeed")
    result = json.loads(success["body"])
    assert result["raw_transcript_key"] == "output/shows/ep1_raw_transcript.json"
    assert result["stats"]["words"] == 2 and len(success["body"]) < 4096
    assert aws.s3.head_object(Bucket=BUCKET, Key=result["raw_transcript_key"])
    assert aws.messages_left() == 0
    [receive, *_] = aws.sqs.named("receive_message")
    assert receive["MaxNumberOfMessages"] == 1 and receive["VisibilityTimeout"] == 30


def test_heartbeats_extend_visibility_and_reach_the_pipeline_during_a_slow_job(
        aws: Aws, caplog: pytest.LogCaptureFixture) -> None:
    aws.upload("input/long.wav")
    aws.send(job_body("input/long.wav", "cb-slow"))
    with caplog.at_level(logging.INFO, logger="podwhisperer.worker.poller"):
        aws.poller(aws.job(delay=1.3)).run()
    beats = [r.getMessage() for r in caplog.records if r.getMessage().startswith("heartbeat input/long.wav")]
    # the first beat may come while the upload is still being downloaded and probed ("preparing")
    assert any("transcribe 0:01 / 0:02 audio (50%)" in beat and "ETA" in beat for beat in beats), beats
    assert aws.shim.kinds("cb-slow")[:3] == ["heartbeat"] * 3 and aws.shim.kinds("cb-slow")[-1] == "succeed"
    extensions = [c for c in aws.sqs.named("change_message_visibility") if c["VisibilityTimeout"] == 30]
    assert len(extensions) >= 3
    assert aws.messages_left() == 0


def test_exits_when_idle(aws: Aws) -> None:
    started = time.monotonic()
    assert aws.poller(aws.job(), idle_timeout_seconds=1.5).run() is ExitReason.IDLE
    assert 1.4 <= time.monotonic() - started < 4.0
    assert all(c["WaitTimeSeconds"] <= 1 for c in aws.sqs.named("receive_message"))


# ----- warm-up: held in flight until its deadline, so the autoscaler's backlog stays >= 1 ---------------------

def warmup(seconds: float | None = None) -> dict[str, Any]:
    """A warm-up body; ``seconds`` from now (real clock) as ``until``, or none (SentTimestamp + 30 min)."""
    if seconds is None:
        return {"type": "warmup"}
    return {"type": "warmup", "until": (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()}


class Background:
    """Runs ``poller.run()`` on a thread (no signal handlers) and records how long it took."""

    def __init__(self, poller: Poller) -> None:
        self.reason: ExitReason | None = None
        self.seconds = 0.0
        self._thread = threading.Thread(target=self._run, args=(poller,), daemon=True)
        self._thread.start()

    def _run(self, poller: Poller) -> None:
        started = time.monotonic()
        self.reason = poller.run()
        self.seconds = time.monotonic() - started

    def join(self) -> ExitReason | None:
        self._thread.join(30)
        return self.reason


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def warmup_extensions(aws: Aws) -> list[int]:
    """VisibilityTimeout of every change_message_visibility made on a warm-up message."""
    return [c["VisibilityTimeout"] for c in aws.sqs.named("change_message_visibility")
            if json.loads(aws.sqs.received[c["ReceiptHandle"]]).get("type") == "warmup"]


def test_warmup_is_held_in_flight_while_awake_and_deleted_at_its_deadline(aws: Aws) -> None:
    body = warmup(3)
    aws.send(body)
    run = Background(aws.poller(aws.job(), idle_timeout_seconds=0.5))
    for _ in range(2):  # well past the idle timeout, the worker is up and the backlog is 1 (in flight)
        time.sleep(1.0)
        assert aws.visible_and_in_flight() == (0, 1) and run.reason is None
    assert run.join() is ExitReason.IDLE and run.seconds >= 2.9
    assert aws.messages_left() == 0 and aws.shim.calls == []
    assert aws.deleted_bodies() == [json.dumps(body)]
    extensions = warmup_extensions(aws)
    assert len(extensions) >= 2 and all(0 < v <= 3 for v in extensions)  # never past the deadline
    assert extensions == sorted(extensions, reverse=True)
    [receive, *_] = aws.sqs.named("receive_message")
    assert "SentTimestamp" in receive["MessageSystemAttributeNames"]


def test_warmup_without_until_lasts_thirty_minutes_from_its_sent_timestamp(aws: Aws) -> None:
    aws.send(warmup())
    # The worker's clock reads 29 min 58 s after "now": a redelivered 30-minute warm-up has ~2 s left.
    later = timedelta(minutes=30) - timedelta(seconds=2)
    poller = aws.poller(aws.job(), utc_now=lambda: datetime.now(UTC) + later, idle_timeout_seconds=0.2)
    started = time.monotonic()
    assert poller.run() is ExitReason.IDLE
    assert 1.5 <= time.monotonic() - started < 4.0
    assert aws.messages_left() == 0
    assert 0 < warmup_extensions(aws)[0] <= 2


@pytest.mark.parametrize(("body", "clock_offset"), [
    (warmup(-60), timedelta(0)),  # until already past
    (warmup(), timedelta(minutes=31)),  # sent more than 30 minutes ago (e.g. a re-delivery)
], ids=["past-until", "stale-default"])
def test_warmup_whose_deadline_has_passed_is_deleted_at_once(aws: Aws, body: dict[str, Any],
                                                             clock_offset: timedelta) -> None:
    aws.send(body)
    poller = aws.poller(aws.job(), utc_now=lambda: datetime.now(UTC) + clock_offset, idle_timeout_seconds=0.5)
    started = time.monotonic()
    assert poller.run() is ExitReason.IDLE
    assert time.monotonic() - started < 2.0  # not kept awake
    assert aws.messages_left() == 0 and warmup_extensions(aws) == []
    assert len(aws.sqs.named("delete_message")) == 1


def test_a_later_warmup_replaces_the_held_one_and_an_earlier_one_is_deleted(aws: Aws) -> None:
    first, latest, earlier = warmup(2), warmup(4), warmup(3)
    for body in (first, latest, earlier):
        aws.send(body)
    started = time.monotonic()
    run = Background(aws.poller(aws.job(), idle_timeout_seconds=0.3))
    assert wait_for(lambda: len(aws.sqs.named("delete_message")) == 2, timeout=2.0)
    deleted = aws.deleted_bodies()
    assert sorted(deleted) == sorted([json.dumps(first), json.dumps(earlier)])  # only the latest is held
    time.sleep(max(0.0, started + 2.5 - time.monotonic()))  # past the first deadline: still held, still awake
    assert aws.visible_and_in_flight() == (0, 1) and run.reason is None
    assert run.join() is ExitReason.IDLE and run.seconds >= 3.8
    assert aws.deleted_bodies()[2:] == [json.dumps(latest)] and aws.messages_left() == 0


def test_sigterm_releases_the_held_warmup_for_another_worker(aws: Aws) -> None:
    aws.send(warmup(60))
    poller = aws.poller(aws.job(), idle_timeout_seconds=0.3)

    def terminate_when_held() -> None:
        if wait_for(lambda: aws.visible_and_in_flight() == (0, 1)):
            time.sleep(0.3)
            os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=terminate_when_held, daemon=True).start()
    begin = time.monotonic()
    with poller.signal_handlers():
        reason = poller.run()
    assert reason is ExitReason.STOPPED and time.monotonic() - begin < 5
    assert aws.sqs.named("change_message_visibility")[-1]["VisibilityTimeout"] == 0
    assert aws.sqs.named("delete_message") == []
    again = aws.sqs._client.receive_message(QueueUrl=aws.queue_url, WaitTimeSeconds=0)["Messages"]
    assert json.loads(again[0]["Body"])["type"] == "warmup"  # visible again at once


def test_jobs_are_processed_while_a_warmup_is_held(aws: Aws) -> None:
    aws.upload("input/ep.wav")
    aws.send(warmup(4))
    aws.send(job_body("input/ep.wav", "cb-warm"))
    seen: dict[str, Any] = {}
    real = aws.job()

    class ObservedJob:
        def run(self, message: JobMessage) -> JobResult:
            before = len(warmup_extensions(aws))
            time.sleep(1.0)
            seen["queue"] = aws.visible_and_in_flight()  # the job and the warm-up are both in flight
            seen["extensions"] = len(warmup_extensions(aws)) - before
            return real.run(message)

    started = time.monotonic()
    assert aws.poller(ObservedJob(), idle_timeout_seconds=0.3).run() is ExitReason.IDLE
    assert aws.shim.kinds("cb-warm")[-1] == "succeed"
    assert seen["queue"] == (0, 2) and seen["extensions"] >= 2  # the warm-up was tended during the job
    assert time.monotonic() - started >= 3.8  # and still held to its deadline afterwards
    assert aws.messages_left() == 0


def test_sigterm_mid_job_releases_the_message_without_a_callback(aws: Aws) -> None:
    aws.upload("input/ep.wav")
    aws.send(job_body("input/ep.wav", "cb-term"))
    started, finish = threading.Event(), threading.Event()

    class BlockingJob:
        def run(self, message: JobMessage) -> JobResult:
            started.set()
            finish.wait(30)
            return JobResult("never-used", {})

    def terminate_when_started() -> None:
        if started.wait(10):
            os.kill(os.getpid(), signal.SIGTERM)

    poller = aws.poller(BlockingJob())
    threading.Thread(target=terminate_when_started, daemon=True).start()
    begin = time.monotonic()
    with poller.signal_handlers():
        reason = poller.run()
    finish.set()
    assert reason is ExitReason.STOPPED and time.monotonic() - begin < 5
    assert aws.shim.calls == [] or set(aws.shim.kinds()) == {"heartbeat"}
    again = aws.sqs._client.receive_message(QueueUrl=aws.queue_url, WaitTimeSeconds=0)["Messages"]
    assert json.loads(again[0]["Body"])["callback_id"] == "cb-term"  # visible again at once
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_malformed_bodies_are_dead_lettered_and_their_callback_failed(aws: Aws) -> None:
    aws.send("not json at all")
    aws.send({"s3_key": 42, "callback_id": "cb-bad"})
    assert aws.poller(aws.job()).run() is ExitReason.IDLE
    assert aws.messages_left() == 0
    dead = aws.sqs._client.receive_message(QueueUrl=aws.dlq_url, MaxNumberOfMessages=10,
                                           MessageAttributeNames=["All"])["Messages"]
    assert sorted(m["Body"][:8] for m in dead) == ["not json", '{"s3_key']
    assert all("podwhisperer-error" in m["MessageAttributes"] for m in dead)
    [failure] = aws.shim.of_kind("fail")
    assert failure["id"] == "cb-bad" and json.loads(failure["body"])["ErrorType"] == "MalformedJobMessage"


def test_non_audio_upload_fails_the_callback_once_and_deletes_the_message(aws: Aws) -> None:
    aws.upload("input/slides.mp3", kind="text")
    calls: list[str] = []
    aws.send(job_body("input/slides.mp3", "cb-text"))
    assert aws.poller(aws.job(calls)).run() is ExitReason.IDLE
    [failure] = aws.shim.of_kind("fail")
    error = json.loads(failure["body"])
    assert error["ErrorType"] == "InvalidAudio" and "not a readable audio" in error["ErrorMessage"]
    assert aws.messages_left() == 0 and calls == []
    assert "Contents" not in aws.s3.list_objects_v2(Bucket=BUCKET, Prefix="output/")


class FlakyStore:
    """An object store whose first ``failures`` downloads fail like a dropped connection."""

    def __init__(self, store: S3ObjectStore, failures: int) -> None:
        self._store = store
        self.failures = failures

    def download(self, key: str, path: Path) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise EndpointConnectionError(endpoint_url="https://s3.eu-west-1.amazonaws.com")
        self._store.download(key, path)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_transient_s3_error_is_retried_then_succeeds(aws: Aws) -> None:
    aws.upload("input/ep.wav")
    aws.send(job_body("input/ep.wav", "cb-flaky"))
    # heartbeats are not what this test is about: a long interval keeps a slow (loaded) machine from sending one
    job = aws.job(store=FlakyStore(aws.store, failures=1))
    assert aws.poller(job, heartbeat_interval_seconds=30).run() is ExitReason.IDLE
    assert answers(aws, "cb-flaky") == ["succeed"]
    assert aws.messages_left() == 0 and aws.messages_left(aws.dlq_url) == 0
    visibility = [c["VisibilityTimeout"] for c in aws.sqs.named("change_message_visibility")]
    releases = [seconds for seconds in visibility if seconds != 30]
    assert releases == [0]  # released once (30 s: heartbeats extending a slow attempt, on a loaded machine)


def test_transient_errors_until_max_receives_fail_the_callback_and_dead_letter(aws: Aws) -> None:
    aws.upload("input/ep.wav")
    aws.send(job_body("input/ep.wav", "cb-poison"))
    aws.poller(aws.job(store=FlakyStore(aws.store, failures=99))).run()
    assert answers(aws, "cb-poison") == ["fail"]  # told once, on the last allowed delivery
    assert "gave up after 3 attempts" in json.loads(aws.shim.of_kind("fail")[0]["body"])["ErrorMessage"]
    assert aws.messages_left() == 0 and aws.messages_left(aws.dlq_url) == 1


def test_duplicate_delivery_makes_one_transcript_and_tolerates_already_completed(aws: Aws) -> None:
    etag = aws.upload("input/ep.wav")
    calls: list[str] = []
    aws.send(job_body("input/ep.wav", "cb-dup", etag))
    aws.send(job_body("input/ep.wav", "cb-dup", etag))
    assert aws.poller(aws.job(calls)).run() is ExitReason.IDLE
    assert calls == ["input/ep.wav"]
    # the second delivery's pre-job heartbeat found the callback completed: deleted without any work
    assert answers(aws, "cb-dup") == ["succeed"] and aws.shim.kinds("cb-dup")[-1] == "heartbeat"
    assert aws.messages_left() == 0
