"""Per-step overhead of the local durable run on a synthetic 3-hour transcript (no ASR, no LLM).

For each step it reports the wall time the step took inside the durable run (from the operation's
start/end timestamps), and next to it the time of the bare transform on the same transcript, so the
difference is what orchestration costs: reading the previous object, writing its own, the
checkpoint. Run: ``.venv/bin/python benchmarks/orchestrator.py [--minutes 180] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fakes.transcripts import canned_raw_transcript

from podwhisperer.runtime.config import PipelineConfig
from podwhisperer.runtime.contracts import JobMessage
from podwhisperer.runtime.keys import output_keys
from podwhisperer.runtime.local.runner import LocalPipeline
from podwhisperer.runtime.transcript import Transcript


def bare_transforms(raw: Transcript, cfg: PipelineConfig) -> dict[str, float]:
    """Milliseconds of each pure transform alone (what the step would cost without orchestration)."""
    from podwhisperer.runtime.captions import render_captions
    from podwhisperer.runtime.stages import STAGES

    timings: dict[str, float] = {}
    t = raw
    for stage in STAGES:
        settings = stage.settings(cfg)
        if settings is None or stage.chunked is not None:  # the benchmark runs without a model
            continue
        began = time.perf_counter()
        t = stage.run(t, settings).transcript
        timings[stage.name] = (time.perf_counter() - began) * 1000
    began = time.perf_counter()
    render_captions(t, cfg.captions)
    timings["captions"] = (time.perf_counter() - began) * 1000
    return timings


def timed_steps(durations: dict[str, float]) -> Any:
    """Patch ``DurableContext.step`` to record each named step's wall time (function + checkpoint)."""
    from aws_durable_execution_sdk_python.context import DurableContext

    original = DurableContext.step

    def step(self: DurableContext, func: Any, name: str | None = None, config: Any = None) -> Any:
        began = time.perf_counter()
        try:
            return original(self, func, name=name, config=config)
        finally:
            durations[name or "?"] = (time.perf_counter() - began) * 1000

    DurableContext.step = step  # type: ignore[method-assign]
    return original


def one_run(raw_bytes: bytes, cfg: PipelineConfig) -> tuple[dict[str, float], float]:
    """Step durations (ms) of one fresh local durable run, and its total wall time (s)."""
    from aws_durable_execution_sdk_python.context import DurableContext

    durations: dict[str, float] = {}
    original = timed_steps(durations)
    with tempfile.TemporaryDirectory() as folder:
        audio = Path(folder) / "marathon.mp3"
        audio.write_bytes(b"pretend three hours of audio")

        def job(request: JobMessage) -> dict[str, Any]:
            key = output_keys(request.s3_key, cfg.storage).raw_transcript
            pipeline.store.put(key, raw_bytes.replace(b"__ETAG__", (request.etag or "").encode()))
            return {"raw_transcript_key": key, "stats": {}}

        with LocalPipeline(Path(folder) / "out", cfg, job, logger=logging.getLogger("bench")) as pipeline:
            began = time.perf_counter()
            result = pipeline.transcribe(audio, timeout=600)
            wall = time.perf_counter() - began
            assert result.status == "completed", result.error
    DurableContext.step = original  # type: ignore[method-assign]
    return durations, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=180.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cfg = PipelineConfig()
    raw = canned_raw_transcript("input/marathon.mp3", "__ETAG__", minutes=args.minutes)
    raw_bytes = json.dumps(raw).encode()
    words = sum(len(s["words"]) for s in raw["segments"])
    print(f"synthetic transcript: {args.minutes:.0f} min, {len(raw['segments'])} segments, {words} words, "
          f"{len(raw_bytes) / 1e6:.1f} MB")
    bare = bare_transforms(Transcript.from_json(raw_bytes), cfg)
    runs = [one_run(raw_bytes, cfg) for _ in range(args.repeat)]
    print(f"\n{'step':22} {'durable step ms (median)':>24} {'bare transform ms':>18} {'overhead ms':>12}")
    for name in runs[0][0]:
        median = statistics.median(r[0].get(name, 0.0) for r in runs)
        base = bare.get(name)
        overhead = f"{median - base:12.1f}" if base is not None else " " * 12
        print(f"{name:22} {median:24.1f} {base if base is not None else float('nan'):18.1f} {overhead}")
    print(f"\nwhole local run (no ASR, no LLM): median {statistics.median(r[1] for r in runs):.2f} s "
          f"over {args.repeat} runs")


if __name__ == "__main__":
    main()
