"""The transcription job queue: SQS in the cloud, an in-process queue on a laptop and in tests.

The durable workflow only ever calls :meth:`JobQueue.submit` from inside the ``wait_for_callback``
submitter, with the callback id the worker must complete. What consumes the job is not the
workflow's business: a GPU worker polling SQS, or a function run on a background thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, wait
from pathlib import Path
from typing import Any, Protocol

from podwhisperer.runtime.contracts import JobMessage
from podwhisperer.runtime.keys import safe_name


class JobQueue(Protocol):
    """Where the workflow sends transcription jobs."""

    def submit(self, job: JobMessage) -> None: ...


class SqsJobQueue:
    """Sends each job as one JSON message to an SQS queue, through an injected boto3 SQS client."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self.queue_url = queue_url

    def submit(self, job: JobMessage) -> None:
        self._client.send_message(QueueUrl=self.queue_url, MessageBody=job.to_json())


JobConsumer = Callable[[JobMessage], None]


class InProcessJobQueue:
    """Runs each job with ``consumer`` on one background thread, one at a time (local mode and tests).

    The submitter must return quickly (the callback only completes after the submitter step has
    been checkpointed), so jobs never run on the caller's thread. With ``spool_dir`` every job is
    also written to a file that is removed only once the consumer has returned, that is once the
    callback was delivered: a job cut off by a crash or Ctrl-C, or one whose answer could not be
    delivered, is still there on the next start, and :meth:`redeliver_pending` runs it again, the
    way SQS redelivers a message whose consumer died.

    The consumer thread is a daemon: on Ctrl-C the process exits at once instead of waiting for a
    transcription nobody will receive (the job's spool file stays for the next run).
    """

    def __init__(self, consumer: JobConsumer, *, spool_dir: Path | None = None) -> None:
        self._consumer = consumer
        self._spool_dir = spool_dir
        self._jobs: queue.SimpleQueue[tuple[JobMessage, Future[None]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._futures: list[Future[None]] = []
        self._started: set[str] = set()
        self._closed = False

    def submit(self, job: JobMessage) -> None:
        self._spool(job)
        self._start(job)

    def pending(self) -> list[JobMessage]:
        """Jobs spooled by an earlier process that never finished."""
        if self._spool_dir is None or not self._spool_dir.is_dir():
            return []
        jobs = []
        for path in sorted(self._spool_dir.glob("*.json")):
            jobs.append(JobMessage.model_validate_json(path.read_text(encoding="utf-8")))
        return jobs

    def redeliver_pending(self) -> list[JobMessage]:
        """Run every spooled job again; returns them."""
        jobs = self.pending()
        for job in jobs:
            self._start(job)
        return jobs

    def drain(self, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` s for the jobs started so far; True when all finished.

        Consumers report through callbacks, so their exceptions are not re-raised here.
        """
        with self._lock:
            futures = list(self._futures)
        _, not_done = wait(futures, timeout=timeout)
        return not not_done

    def close(self) -> None:
        """Take no more jobs; queued ones are cancelled (their spool files stay), a running one is abandoned."""
        with self._lock:
            self._closed = True
            for future in self._futures:
                future.cancel()
        self._jobs.put(None)

    def _start(self, job: JobMessage) -> None:
        """Start ``job`` unless this process already runs one for its callback.

        A submitter re-run after a crash (its checkpoint was lost) and the spooled copy of the same
        job would otherwise both run; one callback can only be answered once.
        """
        with self._lock:
            if self._closed or job.callback_id in self._started:
                return
            self._started.add(job.callback_id)
            future: Future[None] = Future()
            self._futures.append(future)
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="podwhisperer-job", daemon=True)
                self._thread.start()
        self._jobs.put((job, future))

    def _work(self) -> None:
        while (item := self._jobs.get()) is not None:
            job, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                self._consume(job)
            except BaseException as exc:  # reported through the future; the spool file stays
                future.set_exception(exc)
            else:
                future.set_result(None)

    def _consume(self, job: JobMessage) -> None:
        self._consumer(job)  # raises when the callback could not be delivered: keep the job spooled
        self._unspool(job)

    def _spool_path(self, job: JobMessage) -> Path | None:
        if self._spool_dir is None:
            return None
        return self._spool_dir / f"{safe_name(job.callback_id, keep='-_', replacement='_')[-150:]}.json"

    def _spool(self, job: JobMessage) -> None:
        path = self._spool_path(job)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(job.to_json(), encoding="utf-8")

    def _unspool(self, job: JobMessage) -> None:
        path = self._spool_path(job)
        if path is not None:
            path.unlink(missing_ok=True)
