"""Realtime factor of the worker's two decoding paths on this machine.

* batched: whisperx's pipeline (VAD → batches of 30 s chunks); what the worker runs when a wav2vec2
  alignment model exists (words then come from ``whisperx.align``);
* sequential: faster-whisper with ``word_timestamps=True``; what the worker runs when no alignment
  model exists (Whisper's own word timings).

On a 5-minute clip made by repeating the generated two-voice dialogue (seeded noise, 15 dB SNR).
On a CPU it measures tiny.en (the packaged model); with CUDA it measures large-v3-turbo and large-v2
too (when they are cached or downloadable). RTF = processing seconds / audio seconds (lower is faster).

Run: ``python benchmarks/worker_cpu.py [--minutes 5] [--models tiny.en,...] [--device cpu|cuda]``
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


@dataclass
class Row:
    model: str
    path: str
    device: str
    compute_type: str
    load_s: float
    transcribe_s: float
    audio_s: float
    wer: float

    @property
    def rtf(self) -> float:
        return self.transcribe_s / self.audio_s


def long_clip(directory: Path, minutes: float) -> tuple[Path, str, float]:
    """The dialogue clip repeated up to ``minutes``; returns its path, reference text and duration."""
    from fixtures.make_dialogue import synthesize

    one = directory / "dialogue.wav"
    reference = synthesize(one, snr_db=15.0, seed=7)
    with wave.open(str(one)) as handle:
        rate, frames = handle.getframerate(), handle.readframes(handle.getnframes())
    piece = np.frombuffer(frames, dtype=np.int16)
    repeats = max(1, round(minutes * 60 * rate / len(piece)))
    path = directory / f"dialogue-x{repeats}.wav"
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(np.tile(piece, repeats).tobytes())
    return path, " ".join([str(reference["text"])] * repeats), len(piece) * repeats / rate


def normalise(text: str) -> str:
    text = re.sub(r"[^a-z0-9' ]", " ", text.lower().replace("-", " "))
    return " ".join(text.split())


def wer(reference: str, hypothesis: str) -> float:
    import jiwer

    return float(jiwer.wer(normalise(reference), normalise(hypothesis)))


def batched(model_dir: str, device: str, compute_type: str, audio: np.ndarray, threads: int,
            batch_size: int) -> tuple[float, float, str]:
    import whisperx

    start = time.perf_counter()
    pipeline = whisperx.load_model(model_dir, device, compute_type=compute_type, language="en", threads=threads)
    loaded = time.perf_counter()
    result = pipeline.transcribe(audio, batch_size=batch_size, language="en")
    done = time.perf_counter()
    return loaded - start, done - loaded, " ".join(s["text"] for s in result["segments"])


def sequential(model_dir: str, device: str, compute_type: str, audio: np.ndarray,
               threads: int) -> tuple[float, float, str]:
    from faster_whisper import WhisperModel

    start = time.perf_counter()
    model = WhisperModel(model_dir, device=device, compute_type=compute_type, cpu_threads=threads)
    loaded = time.perf_counter()
    segments, _ = model.transcribe(audio, language="en", beam_size=5, word_timestamps=True,
                                   condition_on_previous_text=False, vad_filter=True)
    text = " ".join(s.text for s in segments)  # decoding happens while iterating
    done = time.perf_counter()
    return loaded - start, done - loaded, text


def main() -> None:
    from podwhisperer.worker.models import default_device, resolve_model_source

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--device", default=None)
    parser.add_argument("--models", default=None, help="comma-separated; default depends on the device")
    args = parser.parse_args()
    device = args.device or default_device()
    models = args.models.split(",") if args.models else (
        ["large-v3-turbo", "large-v2", "tiny.en"] if device == "cuda" else ["tiny.en"])
    compute_type = "float16" if device == "cuda" else "int8"
    threads = os.cpu_count() or 2
    batch_size = 16 if device == "cuda" else 4

    import whisperx

    with tempfile.TemporaryDirectory() as temp:
        clip, reference, duration = long_clip(Path(temp), args.minutes)
        audio = whisperx.load_audio(str(clip))
        print(f"clip: {duration:.1f} s ({duration / 60:.1f} min), device {device}, {compute_type}, "
              f"{threads} threads, batch size {batch_size}", flush=True)
        rows: list[Row] = []
        for name in models:
            try:
                source = resolve_model_source(name, allow_fallback=False)
            except Exception as exc:
                print(f"skip {name}: {exc}", flush=True)
                continue
            for path_name, run in (("batched (whisperx)", lambda d=source.path: batched(
                    d, device, compute_type, audio, threads, batch_size)),
                                   ("sequential + words (faster-whisper)", lambda d=source.path: sequential(
                                       d, device, compute_type, audio, threads))):
                load_s, transcribe_s, text = run()
                rows.append(Row(name, path_name, device, compute_type, load_s, transcribe_s, duration,
                                wer(reference, text)))
                print(f"  {name} {path_name}: {transcribe_s:.1f} s", flush=True)
    print()
    print("| model | path | device | load s | transcribe s | audio s | RTF | WER |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r.model} | {r.path} | {r.device} {r.compute_type} | {r.load_s:.1f} | {r.transcribe_s:.1f} | "
              f"{r.audio_s:.0f} | {r.rtf:.3f} | {r.wer:.3f} |")


if __name__ == "__main__":
    main()
