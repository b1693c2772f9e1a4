"""Differential check: refine + every renderer on thousands of random transcripts and configs, two trees.

    python scripts/differential.py --old /path/to/old/checkout [--cases 3000]

runs this script's ``--emit`` mode once with ``PYTHONPATH=<old tree>`` and once with this checkout,
each printing one line of SHA-256 digests per case (refined transcript bytes, every caption file,
every renderer called on its own, stage stats without timings), and reports the cases that differ.
The cases are generated from a fixed seed, so both runs see the same inputs; they cover line widths,
line counts, punctuation, highlighting, voice tags, speaker-name modes, untimed/reversed/empty words,
NaN scores, integer times, replacement rules and an LLM stage answered by a deterministic fake model,
plus the fixed samples under ``tests/fixtures``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORDS = ["so", "the", "GPU", "okay.", "really?", "(aside)", "\"quoted.\"", "2026", "£13.60", "&", "<b>", "wait—",
         "end...", "Owen", "sage", "maker", "Pneumonoultramicroscopic", "and,", "yes!", "well;", "a:", "", " ",
         "lamb", "da", "I'm", "it's", "Ärger", "日本", "—", "-", "'", "x" * 50]
SPEAKERS = ["SPEAKER_00", "SPEAKER_01", "SPEAKER_02", "Alice"]
TIMING_KEYS = frozenset({"latency_ms", "llm_response_time_ms", "duration_ms"})


# ------------------------------------------------------------------------------------------ generation


def _time(rng: random.Random, seconds: float) -> float | int:
    return math.floor(seconds) if rng.random() < 0.1 else round(seconds, 3)


def raw_transcript(rng: random.Random) -> str:
    segments: list[dict[str, Any]] = []
    clock = rng.uniform(0, 3)
    for _ in range(rng.choice([0, 1, 2, 3, 5, 8, 12, 20])):
        start = clock
        words: list[dict[str, Any]] = []
        for _ in range(rng.choice([0, 1, 2, 4, 7, 12, 25, 40])):
            word: dict[str, Any] = {"word": rng.choice(WORDS)}
            shape = rng.choice(["timed"] * 6 + ["untimed", "nan-score", "reversed", "null-speaker", "extra"])
            duration = rng.uniform(0.05, 0.9)
            if shape != "untimed":
                word["start"], word["end"] = _time(rng, clock), _time(rng, clock + duration)
                word["score"] = float("nan") if shape == "nan-score" else rng.choice([0.5, 1, 0.93])
                word["speaker"] = None if shape == "null-speaker" else rng.choice(SPEAKERS)
            if shape == "reversed":
                word["start"], word["end"] = word["end"], word["start"]
            if shape == "extra":
                word["chars"] = [1, 2]
            words.append(word)
            clock += duration + rng.uniform(0.0, 0.4) * (rng.random() < 0.9) + 3 * (rng.random() < 0.03)
        segment: dict[str, Any] = {"start": rng.choice([round(start, 3), math.floor(start)]), "end": round(clock, 3),
                                   "text": " " + " ".join(w["word"] for w in words)}
        if rng.random() < 0.7:
            segment["speaker"] = rng.choice(SPEAKERS)
        if words or rng.random() < 0.5:
            segment["words"] = words
        segments.append(segment)
        clock += rng.uniform(0.0, 2.0)
    document = {"segments": segments, "word_segments": [w for s in segments for w in s.get("words", [])],
                "language": "en"}
    return json.dumps(document)


def config(rng: random.Random) -> dict[str, Any]:
    lines = rng.randint(1, 3)
    cfg: dict[str, Any] = {
        "timing_gaps": {"enabled": rng.random() < 0.85},
        "normalization": {
            "normalize": rng.random() < 0.85,
            "max_chars_per_line": rng.choice([8, 16, 24, 32, 42, 60]),
            "max_lines_per_segment": lines,
            "max_chars_per_segment": rng.choice([None, None, 30, 70]),
            "max_words_per_segment": rng.choice([3, 8, 20]),
            "max_duration_seconds": rng.choice([2.0, 7.0, 12.0]),
            "min_duration_seconds": rng.choice([0.0, 0.8, 1.5]),
            "split_segment_at_speaker_change": rng.random() < 0.7,
            "balance_pieces": rng.random() < 0.7,
            "punctuation_split_threshold": rng.choice([0.0, 0.5, 0.7, 1.0]),
            "punctuation_chars": rng.choice([[".", ",", "?", "!", ";", ":"], ["."], ["?", "!"]]),
        },
        "captions": {
            "generate_vtt": rng.random() < 0.85, "generate_srt": rng.random() < 0.85,
            "generate_simplified_json": rng.random() < 0.85, "generate_text": rng.random() < 0.85,
            "generate_markdown": rng.random() < 0.85,
            "highlight_words": rng.random() < 0.4,
            "highlight_with": rng.choice(["underline", "bold", "italic"]),
            "include_speaker_names": rng.choice(["never", "always", "when-changes"]),
            "vtt_voice_tags": rng.random() < 0.4,
            "max_chars_per_line": rng.choice([10, 20, 32, 42, 80]),
            "max_lines_per_cue": rng.randint(1, 3),
        },
    }
    if rng.random() < 0.5:
        cfg["replacement_rules"] = [
            {"type": "literal", "search": "sage maker", "replacement": "SageMaker"},
            {"type": "literal", "search": "Owen", "replacement": "Eoin", "whole_word": True},
            {"type": "regex", "search": r"lamb\s*da", "replacement": "Lambda", "flags": ["IGNORECASE"]},
        ][: rng.randint(1, 3)]
    if rng.random() < 0.35:
        cfg["speakers"] = [{"name": "Eoin", "description": "host"}, {"name": "Luciano"}][: rng.randint(0, 2)]
        cfg["transcription"] = {"hotwords": ["SageMaker", "Lambda"][: rng.randint(0, 2)]}
        cfg["llm_refinement"] = {"model_id": "eu.anthropic.claude-test", "chunk_max_words": rng.choice([50, 80, 2000]),
                                 "chunk_overlap_segments": rng.randint(0, 2),
                                 "identify_speakers": rng.random() < 0.7,
                                 "max_concurrency": rng.randint(1, 3),
                                 "suggestion_validation": {"enabled": rng.random() < 0.8}}
    return cfg


class FakeModel:
    """A deterministic Bedrock stand-in: its answer depends only on the request text."""

    def converse(self, **kwargs: Any) -> dict[str, Any]:
        text = kwargs["messages"][0]["content"][0]["text"]
        seed = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)
        rng = random.Random(seed)
        lines = json.loads(text[text.index("{"):])["lines"]
        updates, speakers = [], {}
        for line in lines:
            idx_part, _, rest = line.partition("] ")
            label, _, said = rest.partition("] ")
            idx = int(idx_part.lstrip("["))
            choice = rng.random()
            if choice < 0.2:
                updates.append({"idx": idx, "text": said.replace("sage", "Sage").replace("the the", "the")})
            elif choice < 0.3:
                updates.append({"idx": idx, "text": " ".join(said.split()[1:])})
            elif choice < 0.35:
                updates.append({"idx": idx + 100, "text": "out of range"})
            if rng.random() < 0.3:
                speakers[label.lstrip("[")] = rng.choice(["Eoin", "Luciano", "Nobody", None])
        body = json.dumps({"speakers": speakers, "updates": updates})
        shape = rng.random()
        if shape < 0.05:
            return {"output": {"message": {"content": [{"text": "not json"}]}}, "stopReason": "end_turn"}
        if shape < 0.08:
            return {"output": {"message": {"content": [{"text": body[:10]}]}}, "stopReason": "max_tokens"}
        if shape < 0.2:
            body = f"Here you go:\n```json\n{body}\n```"
        return {"output": {"message": {"content": [{"text": body}]}}, "stopReason": "end_turn",
                "usage": {"inputTokens": len(text), "outputTokens": len(body)}}


def fixed_cases() -> list[tuple[str, dict[str, Any]]]:
    from benchmarks.synthetic import make_transcript

    samples = sorted([*(ROOT / "tests" / "fixtures").rglob("*.json"), *(ROOT / "samples").rglob("*.json")])
    cases = [(json.dumps(make_transcript(hours=0.25, speakers=n, seed=n)), {}) for n in (2, 3, 5)]
    cases.append((json.dumps(make_transcript(hours=0.1, seed=11)), {"captions": {"highlight_words": True}}))
    for path in samples:
        try:
            text = path.read_text()
            if "segments" not in json.loads(text):
                continue
        except (ValueError, UnicodeDecodeError, AttributeError, TypeError):
            continue
        cases.append((text, {}))
        cases.append((text, {"captions": {"highlight_words": True, "vtt_voice_tags": True}}))
    return cases


# ------------------------------------------------------------------------------------------ digests


def _digest(data: str | bytes) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()[:20]


def _no_timings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _no_timings(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [_no_timings(v) for v in value]
    return value


def emit(cases: int, seed: int) -> None:
    from podwhisperer.runtime import captions
    from podwhisperer.runtime.config import parse_config
    from podwhisperer.runtime.refine import refine_transcript
    from podwhisperer.runtime.transcript import Transcript

    singles = {"vtt": captions.render_vtt, "srt": captions.render_srt, "json": captions.render_simplified_json,
               "txt": captions.render_text, "md": captions.render_markdown}
    rng = random.Random(seed)
    inputs = fixed_cases() + [(raw_transcript(rng), config(rng)) for _ in range(cases)]
    for number, (raw, cfg_data) in enumerate(inputs):
        cfg = parse_config(cfg_data)
        model = FakeModel() if cfg.llm_refinement else None
        try:
            result = refine_transcript(Transcript.from_json(raw), cfg, model)
        except ImportError:
            raise
        except Exception as exc:  # a raised error is an outcome to compare too
            print(json.dumps({"case": number, "error": f"{type(exc).__name__}: {exc}"}))
            continue
        line: dict[str, Any] = {"case": number, "refined": _digest(result.refined.to_json())}
        line["captions"] = {ext: _digest(text) for ext, text in result.captions.items()}
        line["single"] = {ext: _digest(render(result.refined, cfg.captions)) for ext, render in singles.items()}
        line["stages"] = _digest(json.dumps(
            [[s.name, s.status, s.reason, _no_timings(s.stats)] for s in result.stages], sort_keys=True, default=str))
        print(json.dumps(line, sort_keys=True))


def run_tree(tree: Path, cases: int, seed: int) -> list[str]:
    env = {**os.environ, "PYTHONPATH": f"{tree}{os.pathsep}{ROOT}"}
    done = subprocess.run([sys.executable, __file__, "--emit", "--cases", str(cases), "--seed", str(seed)],
                          env=env, capture_output=True, text=True, check=False, cwd=tree)
    if done.returncode:
        sys.exit(f"{tree}: --emit failed:\n{done.stderr[-3000:]}")
    return done.stdout.splitlines()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", type=Path, help="checkout of the reference tree")
    parser.add_argument("--new", type=Path, default=ROOT)
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--emit", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.emit:
        emit(args.cases, args.seed)
        return
    if args.old is None:
        parser.error("--old is required")
    old, new = run_tree(args.old, args.cases, args.seed), run_tree(args.new, args.cases, args.seed)
    differing = [(a, b) for a, b in zip(old, new, strict=False) if a != b]
    errors = sum('"error"' in line for line in new)
    print(f"{len(new)} cases compared ({errors} raise the same error in both), {len(differing)} differ"
          + ("" if len(old) == len(new) else f"; case counts differ: {len(old)} vs {len(new)}"))
    for a, b in differing[:5]:
        print(f"  old: {a}\n  new: {b}")
    sys.exit(1 if differing or len(old) != len(new) else 0)


if __name__ == "__main__":
    main()
