"""Peak memory and speed of `podwhisperer transcribe` as episodes get longer.

Builds episodes of real and generated speech of the requested lengths by repeating one unit: the
shipped ``samples/two-voices.mp3``, pyannote's ``sample.wav`` (a real phone call) and the generated
two-voice dialogue (``tests/fixtures/make_dialogue.py``), with a second of silence between them.
Each episode is transcribed by the real command in a fresh process (tiny.en, CPU by default);
the peak RSS of that process comes from ``os.wait4`` (the kernel's own accounting), RTF is wall
time / audio time, and WER compares the raw transcript with the concatenated references.

It prints one row per length and the slope of peak RSS against audio minutes (least squares),
which is the number that says whether memory stays flat in episode length.

Run: ``python benchmarks/long_episode.py [--minutes 5,20,60] [--device cpu] [--keep DIR]``
(``--command`` runs another command line instead, e.g. an older checkout's ``podwhisperer``).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
RATE = 16000


@dataclass
class Row:
    minutes: float
    audio_s: float
    wall_s: float
    peak_rss_mb: float
    wer: float | None

    @property
    def rtf(self) -> float:
        return self.wall_s / self.audio_s


def decode(path: Path) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1",
                          "-ar", str(RATE), "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=np.int16)


def unit(directory: Path) -> tuple[np.ndarray, str]:
    """One pass of the three recordings (int16, 16 kHz) and its reference text."""
    from fakes.speech import SAMPLE_DIR, stm_reference
    from fixtures.make_dialogue import synthesize

    shipped = json.loads((REPO / "samples" / "two-voices.reference.json").read_text())["text"]
    dialogue = directory / "dialogue.wav"
    generated = synthesize(dialogue, snr_db=20.0, seed=3)
    silence = np.zeros(RATE, dtype=np.int16)
    parts = [decode(REPO / "samples" / "two-voices.mp3"), silence, decode(SAMPLE_DIR / "sample.wav"), silence,
             decode(dialogue), silence]
    return np.concatenate(parts), " ".join([shipped, stm_reference(), str(generated["text"])])


def episode(directory: Path, minutes: float, piece: np.ndarray, reference: str) -> tuple[Path, str, float]:
    repeats = max(1, round(minutes * 60 * RATE / len(piece)))
    path = directory / f"episode-{minutes:g}min.wav"
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(RATE)
        for _ in range(repeats):
            handle.writeframes(piece.tobytes())
    return path, " ".join([reference] * repeats), repeats * len(piece) / RATE


def transcribe(command: list[str], audio: Path, output: Path) -> tuple[float, float]:
    """Run the command on ``audio``; (wall seconds, peak RSS in MB of that process)."""
    started = time.perf_counter()
    process = subprocess.Popen([*command, str(audio), "--output-dir", str(output)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        error = process.stderr.read().decode()[-2000:] if process.stderr else ""
        raise SystemExit(f"{shlex.join(command)} failed on {audio.name}:\n{error}")
    return wall, usage.ru_maxrss / 1024  # Linux reports kilobytes


def word_error_rate(output: Path, audio: Path, reference: str) -> float | None:
    from fakes.speech import wer

    raw = output / "output" / f"{audio.stem}_raw_transcript.json"
    if not raw.is_file():
        return None
    segments = json.loads(raw.read_text())["segments"]
    return wer(reference, " ".join(s["text"] for s in segments))


def slope(rows: list[Row]) -> float | None:
    if len(rows) < 2:
        return None
    minutes = np.array([r.audio_s / 60 for r in rows])
    peaks = np.array([r.peak_rss_mb for r in rows])
    return float(np.polyfit(minutes, peaks, 1)[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", default="5,20,60", help="comma-separated episode lengths")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--command", default=None,
                        help="command line to run (default: this checkout's `podwhisperer transcribe`)")
    parser.add_argument("--keep", type=Path, default=None, help="keep episodes and outputs in this folder")
    args = parser.parse_args()
    command = shlex.split(args.command) if args.command else [
        sys.executable, "-m", "podwhisperer.cli", "transcribe", "--model", "tiny.en", "--device", args.device]
    lengths = [float(m) for m in args.minutes.split(",") if m.strip()]

    with tempfile.TemporaryDirectory() as temp:
        work = args.keep or Path(temp)
        work.mkdir(parents=True, exist_ok=True)
        piece, reference = unit(work)
        rows: list[Row] = []
        for minutes in lengths:
            audio, text, seconds = episode(work, minutes, piece, reference)
            output = work / f"out-{minutes:g}"
            wall, peak = transcribe(command, audio, output)
            rows.append(Row(minutes, seconds, wall, peak, word_error_rate(output, audio, text)))
            print(f"  {minutes:g} min: {wall:.1f} s, peak RSS {peak:.0f} MB", flush=True)
    print()
    print(f"command: {shlex.join(command)}")
    print("| audio min | wall s | RTF | peak RSS MB | WER |")
    print("|---|---|---|---|---|")
    for r in rows:
        wer_text = f"{r.wer:.3f}" if r.wer is not None else "n/a"
        print(f"| {r.audio_s / 60:.1f} | {r.wall_s:.1f} | {r.rtf:.3f} | {r.peak_rss_mb:.0f} | {wer_text} |")
    fitted = slope(rows)
    if fitted is not None:
        print(f"\npeak RSS slope: {fitted:.1f} MB per audio minute")


if __name__ == "__main__":
    main()
