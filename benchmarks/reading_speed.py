"""How many caption cues break a broadcast guideline, with and without the reading-speed timing pass.

Run: .venv/bin/python benchmarks/reading_speed.py [--hours 3] [--speech]

Guidelines (runtime/captions/quality.py): at most 2 lines of the format's line length, at most
20 characters per second (text as shown), 0.8 to 7 seconds on screen, no overlap. The synthetic
transcript is benchmarks/synthetic.py (3 speakers, WhisperX-shaped, 3 hours by default), refined
with the default config. ``--speech`` also transcribes the shipped samples with Whisper tiny.en on
the CPU (Whisper's own word times; no alignment model offline) and reports the same figures.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.synthetic import make_transcript
from podwhisperer.runtime.captions.cues import build_cues
from podwhisperer.runtime.captions.quality import Guidelines, check_cues, cues_in_seconds
from podwhisperer.runtime.captions.reading_speed import ReadingSpeed
from podwhisperer.runtime.captions.srt import srt_style
from podwhisperer.runtime.captions.vtt import vtt_style
from podwhisperer.runtime.config import PipelineConfig
from podwhisperer.runtime.refine import refine_transcript
from podwhisperer.runtime.transcript import Transcript

REPO = Path(__file__).resolve().parents[1]


def figures(raw: Transcript, config: PipelineConfig) -> list[tuple[str, str, dict[str, object]]]:
    """Per format, the quality report with the timing pass off and on."""
    refined = refine_transcript(raw, config).refined
    rows = []
    for name, style in (("vtt", vtt_style(config.captions)), ("srt", srt_style(config.captions))):
        rules = Guidelines(max_chars_per_line=style.max_chars, max_lines=style.max_lines)
        for label, retimed in (("before", None), ("after", style.reading_speed or ReadingSpeed())):
            cues = build_cues(refined, replace(style, reading_speed=retimed))
            rows.append((name, label, check_cues(cues_in_seconds(cues), rules).to_dict()))
    return rows


def speech_transcript(audio: Path) -> Transcript:
    from podwhisperer.worker.models import ModelCache
    from podwhisperer.worker.speech import transcribe_file

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    cfg = PipelineConfig.model_validate({"transcription": {"model": "tiny.en", "diarize": False}}).transcription
    return transcribe_file(audio, cfg, ModelCache(device="cpu", allow_fallback=True), source_key=audio.name, etag=None)


def print_rows(title: str, rows: list[tuple[str, str, dict[str, object]]]) -> None:
    print(f"\n{title}")
    print(f"{'format':<7}{'timing':<8}{'cues':>6}{'breaking':>10}{'%':>8}  reasons")
    for name, label, report in rows:
        print(f"{name:<7}{label:<8}{report['cues']:>6}{report['breaking']:>10}{report['breaking_percent']:>8}  "
              f"{report['reasons']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=3.0)
    parser.add_argument("--speech", action="store_true", help="also transcribe the shipped samples (tiny.en, CPU)")
    args = parser.parse_args()
    config = PipelineConfig()
    raw = Transcript.from_dict(make_transcript(args.hours))
    print_rows(f"synthetic {args.hours:g} h transcript (benchmarks/synthetic.py, default config)", figures(raw, config))
    if args.speech:
        import importlib.util

        spec = importlib.util.find_spec("pyannote.audio")  # locate its sample without importing torch
        pyannote_dir = Path(spec.origin).parent if spec and spec.origin else REPO
        samples = [REPO / "samples" / "two-voices.mp3", pyannote_dir / "sample" / "sample.wav"]
        for audio in samples:
            rows = figures(speech_transcript(audio), config)
            print_rows(f"real speech: {audio.name} (Whisper tiny.en word times)", rows)


if __name__ == "__main__":
    main()
