"""The chapters step as post-processing stage parts: settings, plan → chunk → apply, and the offline fallback.

The step runs last, on the caption-grade transcript (chapter starts snap to its cue starts), and
changes no words: it records its result on the transcript under :data:`CHAPTERS_KEY`, so the
refined transcript carries it and the renderers (chapters JSON, show notes, page, RSS snippet)
read it from there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from podwhisperer.runtime.config import ChaptersConfig, EpisodeConfig, LlmRefinementConfig, PipelineConfig, Speaker
from podwhisperer.runtime.podcast.chapters import (
    FALLBACK_NOTICE,
    ChapterChunk,
    ChaptersResult,
    fallback_chapters,
    plan_chapter_chunks,
)
from podwhisperer.runtime.transcript import StepOutcome, Transcript

if TYPE_CHECKING:
    from podwhisperer.runtime.bedrock import ConverseClient

CHAPTERS_KEY = "chapters"
"""Where a transcript carries its chapters, summary, people, things and keywords."""


@dataclass(frozen=True, slots=True)
class ChaptersSettings:
    """The chapters stage's slice of the config."""

    chapters: ChaptersConfig
    model_id: str
    region: str
    episode: EpisodeConfig
    speakers: tuple[Speaker, ...]
    vocabulary: tuple[str, ...]

    def client_config(self) -> LlmRefinementConfig:
        """Model and region in the shape the Bedrock client factory takes."""
        return LlmRefinementConfig(model_id=self.model_id, region=self.region, max_retries=self.chapters.max_retries)


def chapters_settings(cfg: PipelineConfig) -> ChaptersSettings | None:
    """Settings when chapters are enabled and a model is configured (else None)."""
    model = cfg.chapters.resolved_model(cfg.llm_refinement)
    if not cfg.chapters.enabled or model is None:
        return None
    return ChaptersSettings(cfg.chapters, model, cfg.chapters.resolved_region(cfg.llm_refinement), cfg.episode,
                            tuple(cfg.speakers), tuple(cfg.transcription.hotwords))


def fallback_settings(cfg: PipelineConfig) -> ChaptersConfig | None:
    """The offline fallback's settings: chapters enabled, no model configured, fallback allowed."""
    chapters = cfg.chapters
    if not chapters.enabled or not chapters.offline_fallback or chapters.resolved_model(cfg.llm_refinement):
        return None
    return chapters


def plan(transcript: Transcript, settings: ChaptersSettings) -> list[dict[str, Any]]:
    chunks = plan_chapter_chunks(transcript, settings.chapters)
    return [{**chunk.to_dict(), "of": len(chunks)} for chunk in chunks]


def ask(transcript: Transcript, chunk: Mapping[str, Any], settings: ChaptersSettings,
        client: ConverseClient) -> dict[str, Any]:
    from podwhisperer.runtime.podcast.chapters_bedrock import ask_for_chunk

    return ask_for_chunk(transcript, ChapterChunk.from_dict(chunk), int(chunk["of"]), settings.chapters,
                         settings.model_id, settings.episode, list(settings.speakers), client,
                         vocabulary=list(settings.vocabulary))


def apply(transcript: Transcript, results: Sequence[Mapping[str, Any]], settings: ChaptersSettings) -> StepOutcome:
    from podwhisperer.runtime.podcast.chapters_bedrock import combine_results

    result, stats = combine_results(transcript, results, settings.chapters)
    if result is None:
        stats["notice"] = "chapters: skipped (" + "; ".join(stats["problems"] or ["no text"]) + ")"
        return StepOutcome(transcript, stats)
    return StepOutcome(with_chapters(transcript, result), stats)


def offline(transcript: Transcript, chapters: ChaptersConfig) -> StepOutcome:
    result = fallback_chapters(transcript, chapters)
    stats = {"status": "fallback", "chapters": len(result.chapters),
             "notice": FALLBACK_NOTICE.format(count=len(result.chapters))}
    return StepOutcome(with_chapters(transcript, result) if result.chapters else transcript, stats)


def with_chapters(transcript: Transcript, result: ChaptersResult) -> Transcript:
    return transcript.copy(extra={**transcript.extra, CHAPTERS_KEY: result.to_dict()})


def chapters_of(transcript: Transcript) -> ChaptersResult | None:
    """The chapters a transcript carries (None when the step did not run or was skipped)."""
    data = transcript.extra.get(CHAPTERS_KEY)
    return ChaptersResult.from_dict(data) if isinstance(data, Mapping) and data.get("chapters") else None
