"""Cut a long recording into blocks at silences, so each model sees a bounded piece of it.

faster-whisper computes the log-mel features of everything it is given at once (a full STFT of the
episode: tens of MB per audio minute), and whisperx's alignment and VAD also take the whole array.
Feeding them one block of at most ``MAX_BLOCK_SECONDS`` at a time keeps peak memory constant in
episode length. Blocks partition the recording and are cut in the middle of the pauses between the
speech regions found by VAD, so no word is split; Whisper does not carry context across 30 s
windows here anyway (``condition_on_previous_text=False``), so a cut in a pause changes little.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from podwhisperer.worker.vad import SAMPLE_RATE, Region

MAX_BLOCK_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class Block:
    """Samples ``start``..``end`` (end exclusive) of the recording."""

    start: int
    end: int

    @property
    def offset_seconds(self) -> float:
        return self.start / SAMPLE_RATE

    @property
    def seconds(self) -> float:
        return (self.end - self.start) / SAMPLE_RATE


def plan_blocks(regions: list[Region], total: int, max_seconds: float = MAX_BLOCK_SECONDS) -> list[Block]:
    """Blocks covering ``0..total`` samples, each at most ``max_seconds`` long where the pauses allow.

    A cut goes in the middle of the last pause that keeps the block short enough; speech that runs
    longer than ``max_seconds`` without a pause is cut hard (VAD finds pauses in any real speech).
    """
    limit = int(max_seconds * SAMPLE_RATE)
    cuts = [(a.end + b.start) // 2 for a, b in pairwise(regions)]  # mid-pause positions
    blocks: list[Block] = []
    start = 0
    while total - start > limit:
        fitting = [c for c in cuts if start < c <= start + limit]
        end = fitting[-1] if fitting else start + limit
        blocks.append(Block(start, end))
        start = end
    if total > start:
        blocks.append(Block(start, total))
    return blocks


def shift_times(segments: list[dict[str, Any]], seconds: float) -> list[dict[str, Any]]:
    """Segments (and their words) of a block, moved from block time to recording time."""
    if not seconds:
        return segments
    moved = []
    for segment in segments:
        segment = dict(segment)
        for key in ("start", "end"):
            if _is_number(segment.get(key)):
                segment[key] = round(float(segment[key]) + seconds, 3)
        if "words" in segment:
            segment["words"] = [_shift_word(w, seconds) for w in segment["words"]]
        moved.append(segment)
    return moved


def _shift_word(word: dict[str, Any], seconds: float) -> dict[str, Any]:
    word = dict(word)
    for key in ("start", "end"):
        if _is_number(word.get(key)):
            word[key] = round(float(word[key]) + seconds, 3)
    return word


def _is_number(value: Any) -> bool:
    """Python or numpy numbers (whisperx returns both); not None, bools or strings."""
    return value is not None and not isinstance(value, bool | str) and hasattr(value, "__float__")


def segments_in(segments: list[dict[str, Any]], block: Block) -> list[dict[str, Any]]:
    """The segments whose middle lies in ``block`` (recording time)."""
    lo, hi = block.start / SAMPLE_RATE, block.end / SAMPLE_RATE
    return [s for s in segments if lo <= (float(s["start"]) + float(s["end"])) / 2 < hi]
