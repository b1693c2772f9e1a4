"""Helpers for local-mode tests: a fake transcription job (no ASR) and a crash-at-will child process."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from aws_fakes import canned_raw_transcript

from podwhisperer.runtime.adapters.storage import FileObjectStore
from podwhisperer.runtime.config import PipelineConfig
from podwhisperer.runtime.contracts import CallbackResult, JobMessage, transcription_fingerprint
from podwhisperer.runtime.keys import output_keys
from podwhisperer.runtime.transcript import Transcript


class FakeJob:
    """Writes a canned raw transcript like the worker, reusing one by the contracts' reuse rule."""

    def __init__(self, store: FileObjectStore, config: PipelineConfig, crash: bool = False) -> None:
        self.store, self.config, self.crash = store, config, crash
        self.calls: list[JobMessage] = []
        self.transcribed = 0

    def __call__(self, job: JobMessage) -> dict[str, Any]:
        self.calls.append(job)
        key = output_keys(job.s3_key, self.config.storage).raw_transcript
        if self.crash:
            os._exit(3)  # killed in the middle of transcription
        fingerprint = transcription_fingerprint(self.config.transcription)
        if self.store.head(key) is not None:
            meta = Transcript.from_json(self.store.get(key)).metadata
            if meta is not None and meta.reuse_refusal(job.s3_key, job.etag, fingerprint) is None:
                return CallbackResult(raw_transcript_key=key, stats={"reused": True}).to_wire()
        self.transcribed += 1
        raw = canned_raw_transcript(job.s3_key, job.etag, minutes=1, transcription=self.config.transcription)
        self.store.put(key, json.dumps(raw).encode())
        return CallbackResult(raw_transcript_key=key, stats={"reused": False}).to_wire()


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


if __name__ == "__main__":
    crash_child(*sys.argv[1:5])
