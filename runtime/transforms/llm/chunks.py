"""LLM refinement, part 1: cut a transcript into chunks the model sees one at a time (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from podwhisperer.runtime.config import LlmRefinementConfig
from podwhisperer.runtime.transcript import Transcript
from podwhisperer.runtime.transforms.text import segment_words_text, text_to_words


@dataclass(frozen=True, slots=True)
class LlmChunk:
    """Segments ``first_segment..last_segment`` are editable; ``context_start..first_segment-1`` are context."""

    index: int
    first_segment: int
    last_segment: int
    context_start: int

    @property
    def editable(self) -> range:
        """Indices of the segments the model may correct."""
        return range(self.first_segment, self.last_segment + 1)

    @property
    def context(self) -> range:
        """Indices of the read-only segments shown before the editable ones."""
        return range(self.context_start, self.first_segment)

    def to_dict(self) -> dict[str, int]:
        """A small JSON-able form, to pass through a durable ``map`` and back with :meth:`from_dict`."""
        return {"index": self.index, "first_segment": self.first_segment,
                "last_segment": self.last_segment, "context_start": self.context_start}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LlmChunk:
        """The chunk :meth:`to_dict` described."""
        return cls(index=int(data["index"]), first_segment=int(data["first_segment"]),
                   last_segment=int(data["last_segment"]), context_start=int(data["context_start"]))


def plan_chunks(transcript: Transcript, cfg: LlmRefinementConfig) -> list[LlmChunk]:
    """Split the segments into chunks of about ``cfg.chunk_max_words`` words; none when there are no words."""
    counts = [len(text_to_words(segment_words_text(segment))) for segment in transcript.segments]
    if sum(counts) == 0:
        return []
    chunks: list[LlmChunk] = []
    first, words = 0, 0
    for idx, count in enumerate(counts):
        if idx > first and words + count > cfg.chunk_max_words:
            chunks.append(_chunk(len(chunks), first, idx - 1, cfg))
            first, words = idx, 0
        words += count
    chunks.append(_chunk(len(chunks), first, len(counts) - 1, cfg))
    return chunks


def _chunk(index: int, first: int, last: int, cfg: LlmRefinementConfig) -> LlmChunk:
    return LlmChunk(index=index, first_segment=first, last_segment=last,
                    context_start=max(0, first - cfg.chunk_overlap_segments))
