"""Time the post-processing of a 3-hour, 3-speaker transcript, step by step and as a whole command.

Run: .venv/bin/python benchmarks/postprocess.py [--repeat 5]
Prints one table; every number comes from this one run on this machine. The floor is parsing and
writing the same JSON with orjson, which no implementation can beat.

The steps are timed with the cycle collector paused, as ``podwhisperer refine`` runs them (see
``run_refine``); one more row repeats the in-process total with the collector on, as the Lambda
steps run (each transform, renderer and the serialiser pause it themselves).

The issue's yardstick is the predecessor's TypeScript doing the same work (~130 ms): parse,
replacements, normalization, VTT/SRT/JSON captions, serialize. Timing gaps and the readable
TXT/MD transcripts are ours alone, so the table gives that total both with and without them.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.synthetic import make_transcript
from podwhisperer.runtime.captions import (
    render_captions,
    render_markdown,
    render_simplified_json,
    render_srt,
    render_text,
    render_vtt,
)
from podwhisperer.runtime.config import PipelineConfig, parse_config
from podwhisperer.runtime.transcript import Transcript, paused_gc
from podwhisperer.runtime.transforms.normalize import normalize_segments
from podwhisperer.runtime.transforms.replacements import apply_replacements
from podwhisperer.runtime.transforms.timing_gaps import fill_timing_gaps

CONFIG = {
    "replacement_rules": [
        {"type": "literal", "search": "sage maker", "replacement": "SageMaker"},
        {"type": "literal", "search": "Owen", "replacement": "Eoin", "whole_word": True},
        {"type": "regex", "search": r"\bstep functions\b", "replacement": "Step Functions", "flags": ["IGNORECASE"]},
    ],
}


def best_ms(action: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median wall time of ``repeat`` runs, and the last result."""
    timings = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    config = parse_config(CONFIG)
    payload = orjson.dumps(make_transcript(hours=3, speakers=3))

    floor, _ = best_ms(lambda: orjson.dumps(orjson.loads(payload)), args.repeat)
    rows: list[tuple[str, float]] = [("floor: orjson parse + write", floor)]
    with paused_gc():  # as `podwhisperer refine` runs
        step_rows, raw, transcript = time_steps(payload, config, args.repeat)
    rows += step_rows
    rows.append(("in-process total (parse → serialize)", sum(ms for _, ms in step_rows)))
    rows.append(("  predecessor's scope (no gaps, no TXT/MD)",
                 sum(ms for name, ms in step_rows if name not in OURS_ALONE)))
    collector_on, _, _ = time_steps(payload, config, args.repeat)
    rows.append(("  same, cycle collector on (as Lambda)", sum(ms for _, ms in collector_on)))
    with paused_gc():
        for name, render in [("VTT", render_vtt), ("SRT", render_srt), ("JSON captions", render_simplified_json),
                             ("TXT", render_text), ("Markdown", render_markdown)]:
            elapsed, _ = best_ms(lambda r=render: r(transcript, config.captions), args.repeat)  # type: ignore[misc]
            rows.append((f"  (alone: render {name})", elapsed))
    rows.append(("whole `podwhisperer refine` command", whole_command_ms(payload, args.repeat)))
    v8_json = v8_json_ms(payload, args.repeat)
    if v8_json is not None:
        rows.append(("for scale: V8 JSON.parse + stringify (node)", v8_json))

    words = sum(len(s.words or []) for s in raw.segments)
    print(f"3-hour transcript: {len(raw.segments)} segments, {words} words, {len(payload) / 1e6:.1f} MB JSON")
    print(f"{'step':<44} {'ms (median)':>12} {'x floor':>8}")
    for name, ms in rows:
        print(f"{name:<44} {ms:>12.1f} {ms / floor:>8.1f}")


class StepTimer:
    """Wall times of named steps, gathered over several passes."""

    def __init__(self) -> None:
        self.timings: dict[str, list[float]] = {}

    def __call__(self, name: str, action: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        result = action()
        self.timings.setdefault(name, []).append((time.perf_counter() - started) * 1000)
        return result

    def medians(self) -> list[tuple[str, float]]:
        return [(name, statistics.median(times)) for name, times in self.timings.items()]


def time_steps(payload: bytes, config: PipelineConfig,
               repeat: int) -> tuple[list[tuple[str, float]], Transcript, Transcript]:
    """Median time of each step of `refine` (no LLM) over ``repeat`` passes; the last parsed and final transcripts.

    Each pass runs every step once on the previous step's output, as the command does. (Timing one
    step again and again on a fixed input measured it on objects scattered by the earlier repeats,
    up to 2x slower to walk.) Each pass's objects are freed outside the timings.
    """
    timer = StepTimer()
    for _ in range(repeat):
        raw, transcript = refine_pass(payload, config, timer)
    return timer.medians(), raw, transcript


GAPS, READABLE = "fill timing gaps", "render TXT + MD"
OURS_ALONE = (GAPS, READABLE)
"""Steps the predecessor does not have."""


def refine_pass(payload: bytes, config: PipelineConfig, timer: StepTimer) -> tuple[Transcript, Transcript]:
    """The work of ``podwhisperer refine`` (no LLM); captions in two calls that together render all five formats."""
    captions = config.captions.model_copy(update={"generate_text": False, "generate_markdown": False})
    readable = config.captions.model_copy(update={"generate_vtt": False, "generate_srt": False,
                                                  "generate_simplified_json": False})
    raw: Transcript = timer("parse into Transcript", lambda: Transcript.from_json(payload))
    gaps = timer(GAPS, lambda: fill_timing_gaps(raw, config.timing_gaps).transcript)
    replaced = timer("replacements (3 rules)", lambda: apply_replacements(gaps, config.replacement_rules).transcript)
    normalized = timer("normalization", lambda: normalize_segments(replaced, config.normalization).transcript)
    final: Transcript = timer("rebuild word_segments", normalized.with_word_segments_rebuilt)
    timer("render VTT + SRT + JSON", lambda: render_captions(final, captions))
    timer(READABLE, lambda: render_captions(final, readable))
    timer("serialize refined transcript", final.to_json)
    return raw, final


def whole_command_ms(payload: bytes, repeat: int) -> float:
    """Wall time of the CLI process, interpreter start-up and imports included."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "episode_raw_transcript.json"
        raw.write_bytes(payload)
        config_file = Path(tmp) / "podwhisperer.yaml"
        config_file.write_text(yaml.safe_dump(CONFIG))
        command = [str(Path(sys.executable).parent / "podwhisperer"), "refine", str(raw), "--config",
                   str(config_file), "--output-dir", str(Path(tmp) / "out")]
        elapsed, _ = best_ms(lambda: subprocess.run(command, check=True, capture_output=True), repeat)
        return elapsed


V8_JSON_ROUND_TRIP = """
const text = require("fs").readFileSync(process.argv[1], "utf8");
const times = [];
for (let i = 0; i < Number(process.argv[2]); i++) {
  const started = process.hrtime.bigint();
  JSON.stringify(JSON.parse(text));
  times.push(Number(process.hrtime.bigint() - started) / 1e6);
}
times.sort((a, b) => a - b);
console.log(times[Math.floor(times.length / 2)]);
"""


def v8_json_ms(payload: bytes, repeat: int) -> float | None:
    """Median time of V8 parsing and writing the same JSON, when ``node`` is installed (else None).

    The issue puts the predecessor at ~130 ms "of which V8 spends ~40 ms in JSON alone": this row
    shows what that JSON share costs on the machine running the benchmark.
    """
    node = shutil.which("node")
    if node is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        document = Path(tmp) / "transcript.json"
        document.write_bytes(payload)
        done = subprocess.run([node, "-e", V8_JSON_ROUND_TRIP, str(document), str(repeat)], check=True,
                              capture_output=True, text=True)
        return float(done.stdout)


if __name__ == "__main__":
    main()
