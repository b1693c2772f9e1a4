"""Speech test helpers: pyannote's sample reference (STM/RTTM), WER, a known-turns diarizer, and tiny
offline stand-ins for the alignment model and nltk data."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import jiwer

# Located without importing pyannote (that import costs seconds and loads torch).
SAMPLE_DIR = Path(importlib.util.find_spec("pyannote.audio").submodule_search_locations[0]) / "sample"  # type: ignore


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
