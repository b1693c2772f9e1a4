"""LLM refinement, part 4: merge every chunk's answer into a new transcript, validating each suggestion (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from podwhisperer.runtime.config import LlmRefinementConfig, Speaker
from podwhisperer.runtime.transcript import Segment, StepOutcome, Transcript, Word
from podwhisperer.runtime.transforms.llm.chunks import LlmChunk
from podwhisperer.runtime.transforms.reconcile import is_empty_segment, reconcile_segment
from podwhisperer.runtime.transforms.text import segment_words_text, text_to_words
from podwhisperer.runtime.transforms.validator import speaker_name_verdict, validate_correction

MAX_LISTED_SUGGESTIONS = 20
"""Ignored suggestions listed in the stats, with their texts cut to :data:`MAX_QUOTED_CHARS`; the rest are counted."""
MAX_QUOTED_CHARS = 200


def apply_refinements(
    transcript: Transcript,
    results: Sequence[Mapping[str, Any]],
    cfg: LlmRefinementConfig,
    speakers: Sequence[Speaker],
) -> StepOutcome:
    """A new transcript with the chunk results applied: speaker names first, then validated line updates."""
    ordered = sorted(results, key=lambda result: int(result["chunk"]["index"]))
    answered = [result for result in ordered if result["status"] == "succeeded"]
    mapping, rejected_speakers = merge_speaker_mappings(transcript, answered, cfg, speakers)
    segments = rename_speakers(transcript.segments, mapping)
    updates: list[dict[str, Any]] = []
    ignored: list[dict[str, Any]] = []
    for result in answered:
        chunk = _chunk_of(result, transcript)
        for update in result["updates"]:
            _apply_update(segments, chunk, int(update["idx"]), str(update["text"]), cfg, updates, ignored)
    updated = {update["idx"] for update in updates}
    # An accepted suggestion may delete a short segment's every word; an empty cue helps nobody (defect 11).
    kept = [segment for idx, segment in enumerate(segments) if idx not in updated or not is_empty_segment(segment)]
    stats = {
        "segments_processed": len(transcript.segments),
        "segments_updated": len(updated),
        "segments_emptied": len(segments) - len(kept),
        "speakers_identified": len(mapping),
        "speaker_mapping": mapping,
        "updates": updates,
        **_ignored_summary(ignored, rejected_speakers),
        **_chunk_stats(ordered),
    }
    return StepOutcome(transcript.copy(segments=kept), stats)


def _chunk_of(result: Mapping[str, Any], transcript: Transcript) -> LlmChunk:
    chunk = LlmChunk.from_dict(result["chunk"])
    if chunk.last_segment >= len(transcript.segments):
        raise ValueError(f"chunk {chunk.index} ends at segment {chunk.last_segment} but the transcript has "
                         f"{len(transcript.segments)}: results must be applied to the transcript they were made from")
    return chunk


def _apply_update(segments: list[Segment], chunk: LlmChunk, idx: int, text: str, cfg: LlmRefinementConfig,
                  updates: list[dict[str, Any]], ignored: list[dict[str, Any]]) -> None:
    if idx not in chunk.editable:
        original = segment_words_text(segments[idx]) if 0 <= idx < len(segments) else None
        reason = "read-only-context" if idx in chunk.context else "unknown-line"
        ignored.append(_suggestion(idx, original, text, reason))
        return
    original = segment_words_text(segments[idx])
    if text == original:
        ignored.append(_suggestion(idx, original, text, "no-change"))
        return
    verdict = validate_correction(original, text, cfg.suggestion_validation)
    if not verdict.valid:
        ignored.append(_suggestion(idx, original, text, verdict.reason or "invalid"))
        return
    segments[idx] = reconcile_segment(segments[idx], text_to_words(text))
    updates.append({"idx": idx, "original_text": original, "corrected_text": text})


def _suggestion(idx: int, original: str | None, corrected: str, reason: str) -> dict[str, Any]:
    return {"idx": idx, "original_text": original, "corrected_text": _quoted(corrected), "reason": reason}


def _quoted(text: str) -> str:
    return text if len(text) <= MAX_QUOTED_CHARS else text[:MAX_QUOTED_CHARS] + f"… ({len(text)} characters)"


def _ignored_summary(suggestions: list[dict[str, Any]], speakers: list[dict[str, Any]]) -> dict[str, Any]:
    """Ignored suggestions and speaker names, summarised: a hostile answer cannot fill the stats with megabytes."""
    return {
        "ignored_suggestions": suggestions[:MAX_LISTED_SUGGESTIONS],
        "ignored_speaker_mappings": speakers[:MAX_LISTED_SUGGESTIONS],
        "ignored_counts": {
            "suggestions": len(suggestions),
            "speaker_mappings": len(speakers),
            "by_reason": dict(Counter(str(entry["reason"]) for entry in suggestions + speakers)),
        },
    }


def _chunk_stats(results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    statuses = Counter(str(result["status"]) for result in results)
    return {
        "chunks": {"total": len(results), "succeeded": statuses["succeeded"],
                   "skipped": statuses["skipped"], "failed": statuses["failed"]},
        "chunk_problems": [{"chunk": int(r["chunk"]["index"]), "status": r["status"], "reason": r["reason"]}
                           for r in results if r["status"] != "succeeded"],
        "usage": {key: sum(int(r["usage"][key]) for r in results) for key in ("input_tokens", "output_tokens")},
        "llm_response_time_ms": sum(int(r["latency_ms"]) for r in results),
    }


def merge_speaker_mappings(
    transcript: Transcript,
    results: Sequence[Mapping[str, Any]],
    cfg: LlmRefinementConfig,
    speakers: Sequence[Speaker],
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """One label → name mapping from all chunks (majority vote, ties to the earliest chunk) and the rejects."""
    if not cfg.identify_speakers:
        return {}, []
    labels = transcript.speaker_labels()
    known_names = {speaker.name.casefold(): speaker.name for speaker in speakers}
    votes: dict[str, list[str]] = {}
    rejected: list[dict[str, Any]] = []
    for result in results:
        for label, name in result["speakers"].items():
            resolved, reason = _resolve_speaker(label, name, labels, known_names)
            if reason:
                rejected.append({"chunk": int(result["chunk"]["index"]), "label": _quoted(label),
                                 "name": _quoted(name), "reason": reason})
            elif resolved:
                votes.setdefault(label, []).append(resolved)
    return {label: _majority(names) for label, names in votes.items()}, rejected


def _resolve_speaker(label: str, name: str, labels: set[str],
                     known_names: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(name to use, None), (None, None) for "unknown", or (None, why it was rejected).

    Names come only from the configured speakers (:func:`speaker_name_verdict`)."""
    name = name.strip()
    if label not in labels:
        return None, "unknown-label"
    if name == label:
        return None, None
    if name in labels:
        return None, "not-a-name"
    return speaker_name_verdict(name, known_names)


def _majority(names: Sequence[str]) -> str:
    counts = Counter(names)
    best = max(counts.values())
    return next(name for name in names if counts[name] == best)


def rename_speakers(segments: Sequence[Segment], mapping: Mapping[str, str]) -> list[Segment]:
    """Segments with mapped speaker labels replaced on the segment and its words; untouched ones are reused."""
    if not mapping:
        return list(segments)
    return [_renamed(segment, mapping) for segment in segments]


def _renamed(segment: Segment, mapping: Mapping[str, str]) -> Segment:
    words = segment.words
    word_hit = words is not None and any(word.speaker in mapping for word in words)
    if segment.speaker not in mapping and not word_hit:
        return segment
    new_words = None if words is None else [_renamed_word(word, mapping) for word in words]
    return segment.copy(speaker=_mapped(segment.speaker, mapping), words=new_words)


def _renamed_word(word: Word, mapping: Mapping[str, str]) -> Word:
    return word.copy(speaker=mapping[word.speaker]) if word.speaker is not None and word.speaker in mapping else word


def _mapped(label: str | None, mapping: Mapping[str, str]) -> str | None:
    return mapping.get(label, label) if label is not None else None
