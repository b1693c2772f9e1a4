"""The real GPU worker in a thread: :class:`Poller` and :class:`TranscriptionJob` with the fake transcriber.

Nothing of the worker's queue or callback protocol is re-implemented here: the poller receives, heartbeats,
reports and deletes exactly as in production, and the job downloads, probes (ffprobe), applies the reuse
rule and uploads the raw transcript. Only speech recognition is replaced by
:func:`~fakes.transcripts.fake_transcriber` (a seeded canned transcript).

Misbehaving workers are faults injected into that real worker, chosen per job by ``behaviour(job)``:

* ``"succeed"``: no fault;
* ``"fail"``: the transcriber cannot decode the audio (:class:`InvalidAudioError`), so the poller sends
  the failure callback;
* ``"silent"``: the job hangs (a stuck GPU) and the callback client loses every call: the pipeline
  hears nothing;
* ``"heartbeat-then-silent"``: the job hangs; the first heartbeat gets through, later ones are lost.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from fakes.transcripts import fake_transcriber
from podwhisperer.runtime.adapters.storage import ObjectStore
from podwhisperer.runtime.config import PipelineConfig
from podwhisperer.runtime.contracts import JobMessage
from podwhisperer.worker.callbacks import CallbackSender
from podwhisperer.worker.errors import InvalidAudioError
from podwhisperer.worker.job import JobResult, TranscriptionJob
from podwhisperer.worker.models import ModelCache
from podwhisperer.worker.poller import Poller, PollerSettings

Behaviour = Callable[[dict[str, Any]], str]
BEHAVIOURS = ("succeed", "fail", "silent", "heartbeat-then-silent")
HANGING = ("silent", "heartbeat-then-silent")

# Test timings: 1 s long polls (the longest a stop waits), heartbeats well inside a 1 s heartbeat timeout.
FAST_SETTINGS = {"wait_time_seconds": 1, "idle_timeout_seconds": 3600.0, "visibility_timeout_seconds": 30,
                 "heartbeat_interval_seconds": 0.2, "transient_retry_delay_seconds": 0,
                 "job_check_interval_seconds": 0.02}


class WorkerStopped(RuntimeError):
    """Raised inside a hanging job when the test stops the worker, so that it writes nothing afterwards."""


class _Faults:
    """The behaviour of the job being run, and what it means for the transcriber and the callback client."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.current = "succeed"
        self.by_callback: dict[str, str] = {}
        self.heartbeats_sent: dict[str, int] = {}
        self.stopped = threading.Event()
        self.lock = threading.Lock()

    def choose(self, job: dict[str, Any]) -> str:
        action = self.behaviour(job)
        if action not in BEHAVIOURS:
            raise ValueError(f"unknown worker behaviour {action!r}; use one of {BEHAVIOURS}")
        with self.lock:
            self.current = action
            self.by_callback[job["callback_id"]] = action
        return action

    def transcriber(self, inner: Callable[..., Any]) -> Callable[..., Any]:
        def transcribe(audio_path: Path, *args: Any, **kwargs: Any) -> Any:
            if self.current == "fail":
                raise InvalidAudioError("cannot decode audio")
            if self.current in HANGING:
                self.stopped.wait()
                raise WorkerStopped("the test stopped the worker during a hanging job")
            return inner(audio_path, *args, **kwargs)

        return transcribe

    def delivers(self, callback_id: str, kind: str) -> bool:
        """Whether a callback call gets through (a lost call is never sent)."""
        with self.lock:
            action = self.by_callback.get(callback_id, "succeed")
            if action == "silent":
                return False
            if action == "heartbeat-then-silent":
                sent = self.heartbeats_sent.get(callback_id, 0)
                self.heartbeats_sent[callback_id] = sent + 1
                return kind == "heartbeat" and sent == 0
            return True


class _LossyLambdaClient:
    """A boto3 ``lambda`` client that loses the callback calls the faults say are lost."""

    _KINDS: ClassVar[dict[str, str]] = {"send_durable_execution_callback_success": "succeed",
                                         "send_durable_execution_callback_failure": "fail",
                                         "send_durable_execution_callback_heartbeat": "heartbeat"}

    def __init__(self, inner: Any, faults: _Faults) -> None:
        self._inner, self._faults = inner, faults

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)
        kind = self._KINDS.get(name)
        if kind is None:
            return method

        def call(**kwargs: Any) -> Any:
            if not self._faults.delivers(kwargs["CallbackId"], kind):
                return {}
            return method(**kwargs)

        return call


class _RecordingJob:
    """The real job, recording each message it is given (as its wire dict) and choosing its faults."""

    def __init__(self, job: TranscriptionJob, faults: _Faults) -> None:
        self._job, self._faults = job, faults
        self.jobs: list[dict[str, Any]] = []

    def run(self, message: JobMessage) -> JobResult:
        wire: dict[str, Any] = json.loads(message.to_json())
        self.jobs.append(wire)
        self._faults.choose(wire)
        return self._job.run(message)


class PollerWorker:
    """The real poller and job on their own thread, answering through ``lambda_client``.

    ``jobs`` lists the job messages the worker ran, as wire dicts (``s3_key``, ``etag``, ``callback_id``…).
    """

    def __init__(self, sqs_client: Any, queue_url: str, store: ObjectStore, lambda_client: Any,
                 config: PipelineConfig | None = None, *, minutes: float = 2.0,
                 behaviour: Behaviour | None = None, **settings: Any) -> None:
        self._faults = _Faults(behaviour or (lambda job: "succeed"))
        job = TranscriptionJob(store, ModelCache(), config or PipelineConfig(),
                               transcriber=self._faults.transcriber(fake_transcriber(minutes=minutes)))
        self._job = _RecordingJob(job, self._faults)
        callbacks = CallbackSender(_LossyLambdaClient(lambda_client, self._faults), backoff_seconds=0.01)
        self.poller = Poller(sqs_client, self._job, callbacks,
                             PollerSettings(queue_url=queue_url, **{**FAST_SETTINGS, **settings}))
        self._sqs, self._queue_url = sqs_client, queue_url
        self._thread: threading.Thread | None = None

    @property
    def jobs(self) -> list[dict[str, Any]]:
        return self._job.jobs

    @property
    def behaviour(self) -> Behaviour:
        return self._faults.behaviour

    @behaviour.setter
    def behaviour(self, behaviour: Behaviour) -> None:
        self._faults.behaviour = behaviour

    def start(self) -> PollerWorker:
        self._thread = threading.Thread(target=self.poller.run, daemon=True, name="poller-worker")
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop polling (a running job's message is released, as on SIGTERM) and end any hanging job."""
        self.poller.request_stop("test finished")
        self._faults.stopped.set()
        # Wake a long poll now rather than after up to a second: a stopping poller releases what it receives.
        self._sqs.send_message(QueueUrl=self._queue_url, MessageBody='{"type": "wake-up"}')
        if self._thread is not None:
            self._thread.join(timeout=10)
            assert not self._thread.is_alive(), "the poller did not stop within 10 s"
