"""Guards against text Whisper invents: loops, degenerate segments, speech-less segments.

The decoders already gate on VAD (only speech reaches Whisper) and, with word timestamps, skip
silences longer than ``hallucination_silence_threshold`` that hold invented words. What still gets
through is cleaned here, on the raw segments (whisperx's dict shape), as a pure function that also
counts what it dropped:

* **no speech**: a segment Whisper itself rates as probably silent (``no_speech_prob`` above
  ``NO_SPEECH_PROB`` while its ``avg_logprob`` is below ``LOW_LOGPROB``: Whisper's own rule, kept
  here because the batched path does not apply it);
* **loops**: a phrase of 2–8 words repeated 3+ times in a row, or one word 4+ times, keeps its first
  occurrence ("Thank you. Thank you. Thank you." → "Thank you."); a run of 3+ consecutive segments
  with the same text keeps the first;
* **degenerate text**: a segment whose text still compresses more than ``MAX_COMPRESSION_RATIO``
  times with zlib (Whisper's own measure of repetitive output) after loops are removed.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from typing import Any

NO_SPEECH_PROB = 0.6
LOW_LOGPROB = -1.0
MAX_COMPRESSION_RATIO = 2.4
MIN_CHARS_FOR_COMPRESSION = 40  # short texts compress badly whatever they say
MAX_PHRASE_WORDS = 8
SILENCE_THRESHOLD_SECONDS = 2.0  # faster-whisper's hallucination_silence_threshold (word timestamps on)


def filter_hallucinations(segments: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The segments without invented text, and counts of what was dropped (all zero when nothing was)."""
    stats: Counter[str] = Counter()
    kept: list[dict[str, Any]] = []
    for segment in segments:
        if _no_speech(segment):
            stats["segments_dropped_no_speech"] += 1
            stats["words_dropped"] += _word_count(segment)
            continue
        cleaned, removed = _collapse_loops(segment)
        if removed:
            stats["loop_words_removed"] += removed
            stats["words_dropped"] += removed
        if _compression_ratio(cleaned.get("text", "")) > MAX_COMPRESSION_RATIO:
            stats["segments_dropped_repetitive"] += 1
            stats["words_dropped"] += _word_count(cleaned)
            continue
        if cleaned.get("text", "").strip():
            kept.append(cleaned)
    kept = _drop_repeated_segments(kept, stats)
    names = ("segments_dropped_no_speech", "segments_dropped_repetitive", "segments_dropped_repeated",
             "loop_words_removed", "words_dropped")
    return kept, {name: stats[name] for name in names}


def _no_speech(segment: dict[str, Any]) -> bool:
    no_speech = segment.get("no_speech_prob")
    logprob = segment.get("avg_logprob")
    return no_speech is not None and logprob is not None and no_speech > NO_SPEECH_PROB and logprob < LOW_LOGPROB


def _normal(token: str) -> str:
    return re.sub(r"[^\w']", "", token.lower())


def _tokens(segment: dict[str, Any]) -> list[str]:
    if segment.get("words"):
        return [str(w.get("word", "")) for w in segment["words"]]
    return str(segment.get("text", "")).split()


def _word_count(segment: dict[str, Any]) -> int:
    return len(_tokens(segment))


def _collapse_loops(segment: dict[str, Any]) -> tuple[dict[str, Any], int]:
    tokens = _tokens(segment)
    keep = _loop_free_indices([_normal(t) for t in tokens])
    removed = len(tokens) - len(keep)
    if not removed:
        return segment, 0
    out = dict(segment)
    if segment.get("words"):
        out["words"] = [segment["words"][i] for i in keep]
    out["text"] = " " + " ".join(tokens[i].strip() for i in keep)
    return out, removed


def _loop_free_indices(words: list[str]) -> list[int]:
    """Indices to keep: every run of a repeated phrase keeps its first copy."""
    drop: set[int] = set()
    i = 0
    while i < len(words):
        advanced = False
        for size in range(1, MAX_PHRASE_WORDS + 1):  # the shortest period first: "a b a b a b" is "a b" x3
            phrase = words[i:i + size]
            if len(phrase) < size or not any(phrase):
                continue
            copies = 1
            while words[i + copies * size:i + (copies + 1) * size] == phrase:
                copies += 1
            if copies >= (4 if size == 1 else 3):
                drop.update(range(i + size, i + copies * size))
                i += copies * size
                advanced = True
                break
        if not advanced:
            i += 1
    return [k for k in range(len(words)) if k not in drop]


def _compression_ratio(text: str) -> float:
    data = text.strip().encode()
    if len(data) < MIN_CHARS_FOR_COMPRESSION:
        return 0.0
    return len(data) / len(zlib.compress(data))


def _drop_repeated_segments(segments: list[dict[str, Any]], stats: Counter[str]) -> list[dict[str, Any]]:
    """A run of 3+ consecutive segments with the same words keeps its first."""
    kept: list[dict[str, Any]] = []
    run_start = 0
    for index, segment in enumerate(segments):
        key = [_normal(t) for t in _tokens(segment)]
        if index and key == [_normal(t) for t in _tokens(segments[run_start])]:
            continue
        kept += _run(segments, run_start, index, stats)
        run_start = index
    kept += _run(segments, run_start, len(segments), stats)
    return kept


def _run(segments: list[dict[str, Any]], start: int, end: int, stats: Counter[str]) -> list[dict[str, Any]]:
    if end <= start:
        return []
    if end - start >= 3:
        stats["segments_dropped_repeated"] += end - start - 1
        stats["words_dropped"] += sum(_word_count(s) for s in segments[start + 1:end])
        return [segments[start]]
    return segments[start:end]
