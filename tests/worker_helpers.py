"""Helpers for the worker tests: reference data, WER, media files, the callback-API shim, fakes.

The pytest fixtures built from these live in ``worker_fixtures.py`` (loaded with ``pytest_plugins``).
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import boto3
import jiwer

# Located without importing pyannote (that import costs seconds and loads torch).
SAMPLE_DIR = Path(importlib.util.find_spec("pyannote.audio").submodule_search_locations[0]) / "sample"  # type: ignore
REGION = "eu-west-1"


# ----- speech ------------------------------------------------------------------------------------------------

def normalise(text: str) -> str:
    """The WER normalisation of the reference notes: lowercase, '-' → space, keep [a-z0-9' ]."""
    text = text.lower().replace("-", " ")
    text = re.sub(r"[^a-z0-9' ]", " ", text)
    return " ".join(text.split())


def wer(reference: str, hypothesis: str) -> float:
    return float(jiwer.wer(normalise(reference), normalise(hypothesis)))


def stm_reference() -> str:
    """sample.stm: ``file channel speaker start end <label>? text...``, in time order."""
    rows = []
    for line in (SAMPLE_DIR / "sample.stm").read_text().splitlines():
        if not line.strip() or line.startswith(";;"):
            continue
        parts = line.split()
        text = " ".join(p for p in parts[5:] if not (p.startswith("<") and p.endswith(">")))
        rows.append((float(parts[3]), text))
    return " ".join(text for _, text in sorted(rows))


def rttm_turns() -> list[dict[str, Any]]:
    turns = []
    for line in (SAMPLE_DIR / "sample.rttm").read_text().splitlines():
        parts = line.split()
        start, duration = float(parts[3]), float(parts[4])
        turns.append({"start": start, "end": start + duration, "speaker": parts[7]})
    return turns


def turns_diarizer(turns: list[dict[str, Any]]) -> Any:
    """A :class:`Diarizer` that returns known turns (as pyannote would), recording the speaker bounds."""
    import pandas as pd

    frame = pd.DataFrame(turns)[["start", "end", "speaker"]]
    calls: list[dict[str, Any]] = []

    def diarize(audio: Any, **bounds: Any) -> Any:
        calls.append(bounds)
        return frame

    diarize.calls = calls  # type: ignore[attr-defined]
    return diarize


def make_media(directory: Path, kind: str) -> Path:
    """Small real files made with ffmpeg/sox: tone (2 s), video (no audio), text, empty wav, long (silence)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / {"tone": "tone.wav", "video": "video.mp4", "text": "notes.mp3", "empty": "empty.wav",
                        "long": "long.mp3", "mp3": "tone.mp3"}[kind]
    commands = {
        "tone": ["sox", "-n", "-r", "16000", "-c", "1", str(path), "synth", "2", "sine", "440"],
        "mp3": ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=2", str(path)],
        "video": ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=duration=1:size=64x64:rate=5",
                  "-c:v", "mpeg4", str(path)],
        "empty": ["sox", "-n", "-r", "16000", "-c", "1", str(path), "trim", "0", "0"],
        "long": ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "130",
                 "-b:a", "8k", str(path)],
    }
    if kind == "text":
        path.write_text("this is not audio, just a text file named .mp3\n")
    else:
        subprocess.run(commands[kind], check=True)
    return path


# ----- AWS: moto server and the durable-callback shim --------------------------------------------------------

def aws_client(service: str, endpoint: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="testing",
                        aws_secret_access_key="testing")


# ----- fast stand-ins for the speech stages ------------------------------------------------------------------

def fake_transcriber(calls: list[str] | None = None, delay: float = 0.0) -> Any:
    """A ``transcribe_file`` stand-in: a two-word transcript with real-looking metadata, after ``delay`` s."""
    import time

    from podwhisperer.runtime.transcript import RawMetadata, Segment, Transcript, Word

    def transcribe(audio_path: Path, cfg: Any, models: Any, *, source_key: str, etag: str | None,
                   diarizer: Any = None) -> Transcript:
        if calls is not None:
            calls.append(source_key)
        time.sleep(delay)
        words = [Word("Hello", 0.1, 0.5, 0.9, "SPEAKER_00"), Word("there.", 0.6, 1.0, 0.9, "SPEAKER_00")]
        meta = RawMetadata(source_key=source_key, source_etag=etag, model="fake", language="en", audio_duration=2.0,
                           aligned=False, diarized=True, device="cpu",
                           stage_timings=[{"stage": "transcribe", "status": "success", "seconds": delay}])
        return Transcript(segments=[Segment(0.1, 1.0, " Hello there.", "SPEAKER_00", words)], metadata=meta)

    return transcribe


def tiny_wav2vec2(directory: Path) -> Path:
    """A 170 KB random-weight wav2vec2 CTC model and processor: exercises ``whisperx.align`` offline.

    The timings it gives mean nothing (random weights); it checks the data flow of the align stage.
    """
    from transformers import (
        Wav2Vec2Config,
        Wav2Vec2CTCTokenizer,
        Wav2Vec2FeatureExtractor,
        Wav2Vec2ForCTC,
        Wav2Vec2Processor,
    )

    directory.mkdir(parents=True, exist_ok=True)
    vocab = {c: i for i, c in enumerate(["<pad>", "<s>", "</s>", "<unk>", "|", *"abcdefghijklmnopqrstuvwxyz'"])}
    (directory / "vocab.json").write_text(json.dumps(vocab))
    tokenizer = Wav2Vec2CTCTokenizer(str(directory / "vocab.json"), unk_token="<unk>", pad_token="<pad>",
                                     word_delimiter_token="|")
    features = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True,
                                        return_attention_mask=False)
    Wav2Vec2Processor(feature_extractor=features, tokenizer=tokenizer).save_pretrained(directory)
    config = Wav2Vec2Config(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                            intermediate_size=64, conv_dim=(32,) * 7, num_conv_pos_embeddings=16,
                            num_conv_pos_embedding_groups=4, pad_token_id=0)
    Wav2Vec2ForCTC(config).save_pretrained(directory)
    return directory


def empty_punkt_tab(directory: Path) -> Path:
    """nltk's punkt_tab with no abbreviations (whisperx.align needs it; nltk would download it)."""
    english = directory / "tokenizers" / "punkt_tab" / "english"
    english.mkdir(parents=True, exist_ok=True)
    for name in ("collocations.tab", "sent_starters.txt", "abbrev_types.txt", "ortho_context.tab"):
        (english / name).touch()
    return directory
