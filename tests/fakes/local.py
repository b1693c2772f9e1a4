"""Local-mode fakes: the real worker job without ASR, and a child process that crashes at will."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fakes.transcripts import fake_transcriber
from podwhisperer.runtime.adapters.storage import FileObjectStore
from podwhisperer.runtime.config import PipelineConfig
from podwhisperer.runtime.contracts import JobMessage
from podwhisperer.worker.job import TranscriptionJob
from podwhisperer.worker.models import ModelCache


class FakeJob:
    """A local-mode job runner: the real :class:`TranscriptionJob` (probe, reuse rule, upload) with the
    fake transcriber (a one-minute canned transcript) — what ``worker_job_runner`` builds, minus ASR.

    ``calls``: the job messages received; ``transcribed``: how many were transcribed (not reused);
    ``crash``: the process dies (``os._exit``) in the middle of transcription."""

    def __init__(self, store: FileObjectStore, config: PipelineConfig, crash: bool = False) -> None:
        self.calls: list[JobMessage] = []
        self.transcriptions: list[str] = []
        transcriber = fake_transcriber(self.transcriptions, minutes=1)
        if crash:
            def transcriber(*_args: Any, **_kwargs: Any) -> Any:
                os._exit(3)  # killed in the middle of transcription

        self._job = TranscriptionJob(store, ModelCache(), config, transcriber=transcriber)

    @property
    def transcribed(self) -> int:
        return len(self.transcriptions)

    def __call__(self, job: JobMessage) -> dict[str, Any]:
        self.calls.append(job)
        return self._job.run(job).to_wire()


def crash_child(output_dir: str, audio: str, crash_at: str, worker: str = "fake") -> None:
    """Run one local transcription and die (``os._exit``) at ``crash_at``: ``job`` or a key substring."""
    from podwhisperer.runtime.local.runner import LocalPipeline

    config = PipelineConfig()
    real_put = FileObjectStore.put

    def dying_put(self: FileObjectStore, key: str, data: bytes, content_type: str = "") -> None:
        real_put(self, key, data, content_type)
        if crash_at in key:
            os._exit(4)  # killed right after this write

    FileObjectStore.put = dying_put  # type: ignore[method-assign]
    pipeline = LocalPipeline(Path(output_dir), config, lambda job: job_runner(job))
    if worker == "real":
        from podwhisperer.runtime.local.runner import worker_job_runner

        job_runner: Any = worker_job_runner(pipeline.store, config)
    else:
        job_runner = FakeJob(pipeline.store, config, crash=crash_at == "job")
    pipeline.transcribe(Path(audio), timeout=60)
    os._exit(0)
