"""Runs the real ``podwhisperer`` command in a child process with a fake transcription job (no ASR).

Used by the hostile-input tests that need a real process: a real SIGINT, a real exit code, what a
user sees on stderr. ``HOSTILE_JOB_SECONDS`` makes the fake job take that long (an interruptible
"transcription"); the job writes a small WhisperX-shaped transcript made from the job's etag.

    python tests/hostile_child.py transcribe AUDIO... --output-dir OUT
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any


def fake_transcript(source_key: str, etag: str | None) -> dict[str, Any]:
    words = [{"word": w, "start": 0.5 + i * 0.4, "end": 0.8 + i * 0.4, "score": 0.9, "speaker": "SPEAKER_00"}
             for i, w in enumerate(f"hello this is episode {etag or 'x'}".split())]
    return {"segments": [{"start": 0.5, "end": words[-1]["end"], "text": " ".join(w["word"] for w in words),
                          "speaker": "SPEAKER_00", "words": words}],
            "word_segments": words,
            "podwhisperer": {"source_key": source_key, "source_etag": etag, "model": "fake", "language": "en",
                             "audio_duration": 3.0}}


def fake_worker_job_runner(store: Any, config: Any, **_: Any) -> Any:
    from podwhisperer.runtime.keys import output_keys

    seconds = float(os.environ.get("HOSTILE_JOB_SECONDS", "0"))

    def run(job: Any) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:  # a long "transcription"
            time.sleep(0.05)
        key = output_keys(job.s3_key, config.storage).raw_transcript
        store.put(key, json.dumps(fake_transcript(job.s3_key, job.etag)).encode())
        return {"raw_transcript_key": key, "stats": {"reused": False}}

    return run


def main() -> None:
    from podwhisperer import cli
    from podwhisperer.runtime.local import runner

    runner.worker_job_runner = fake_worker_job_runner  # type: ignore[assignment]
    sys.argv = ["podwhisperer", *sys.argv[1:]]
    cli.main()


if __name__ == "__main__":
    main()
