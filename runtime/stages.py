"""The post-processing stages, in order: the one list ``podwhisperer refine`` and the durable workflow iterate.

Each :class:`Stage` declares its name (the durable step's name; ``refine`` reports it with
underscores), the slice of the config it depends on (:attr:`Stage.settings` — the transform's
argument *and* its content-address material, so the two cannot drift), whether it is enabled, and
how it runs: a pure ``transform``, or — for the LLM stage — a :class:`ChunkedRun` (plan → map →
apply) whose middle part calls a model once per chunk.

To add a post-processing step: write its transform module (``(Transcript, settings) -> StepOutcome``),
add its config model to ``config.py`` and one :class:`Stage` entry to :data:`STAGES`.

Workflow rule: a stage whose settings are ``None`` (not configured) leaves no step behind; every
other stage runs as a step even when disabled (its transform passes the transcript through and says
so in its stats), so the step list depends on the config only through what is configured.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel

from podwhisperer.runtime.config import LlmRefinementConfig, PipelineConfig, Speaker
from podwhisperer.runtime.podcast import chapters_stage
from podwhisperer.runtime.podcast.chapters_stage import ChaptersSettings
from podwhisperer.runtime.transcript import StepOutcome, Transcript
from podwhisperer.runtime.transforms.llm import LlmChunk, apply_refinements, plan_chunks
from podwhisperer.runtime.transforms.normalize import normalize_segments
from podwhisperer.runtime.transforms.replacements import apply_replacements
from podwhisperer.runtime.transforms.timing_gaps import fill_timing_gaps

if TYPE_CHECKING:  # the Bedrock edge pulls in boto3, which a run without an LLM never needs
    from podwhisperer.runtime.bedrock import ConverseClient

S = TypeVar("S")
Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class LlmSettings:
    """The LLM stage's slice of the config: the model settings, the speakers and the show's vocabulary."""

    llm: LlmRefinementConfig
    speakers: tuple[Speaker, ...]
    vocabulary: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ChunkedRun(Generic[S]):
    """plan → map → apply. ``plan`` and ``apply`` are pure; ``refine_chunk`` is the one call that does I/O
    (through the injected client) and returns a small JSON-able result a durable ``map`` can checkpoint."""

    step_prefix: str  # steps: <prefix>-plan, map <prefix>-chunks of <prefix>-chunk-N, then the stage's own name
    plan: Callable[[Transcript, S], list[Json]]
    refine_chunk: Callable[[Transcript, Json, S, ConverseClient], Json]
    apply: Callable[[Transcript, Sequence[Mapping[str, Any]], S], StepOutcome]
    model: Callable[[S], LlmRefinementConfig]  # which model (and client settings) the chunks talk to
    concurrency: Callable[[S], int]
    max_attempts: Callable[[S], int]  # per chunk step; the chunk spends its own client retries first


@dataclass(frozen=True, slots=True)
class Stage(Generic[S]):
    """One post-processing stage (see the module docstring)."""

    name: str
    settings: Callable[[PipelineConfig], S | None]  # None: not configured
    skip_reason: Callable[[S], str | None]  # why ``refine`` skips a configured stage; None when enabled
    transform: Callable[[Transcript, S], StepOutcome] | None = None
    chunked: ChunkedRun[S] | None = None

    @property
    def report_name(self) -> str:
        """The name ``refine`` reports (``fill_timing_gaps``)."""
        return self.name.replace("-", "_")

    def why_skipped(self, settings: S | None) -> str | None:
        """Why ``refine`` skips this stage for ``settings`` (None: run it)."""
        if settings is None:
            return f"{self.report_name} not configured"
        return self.skip_reason(settings)

    def run(self, transcript: Transcript, settings: S) -> StepOutcome:
        """Run an unchunked stage's transform."""
        assert self.transform is not None, f"{self.name} is chunked"
        return self.transform(transcript, settings)


def hash_material(settings: Any) -> Any:
    """JSON-able form of a stage's settings: what its content address is computed from."""
    if isinstance(settings, BaseModel):
        return settings.model_dump(mode="json")
    if isinstance(settings, LlmSettings):
        return [hash_material(settings.llm), hash_material(settings.speakers), list(settings.vocabulary)]
    if isinstance(settings, ChaptersSettings):
        return [hash_material(settings.chapters), settings.model_id, settings.region, hash_material(settings.episode),
                hash_material(settings.speakers), list(settings.vocabulary)]
    if isinstance(settings, list | tuple):
        return [hash_material(item) for item in settings]
    return settings


# ------------------------------------------------------------------------------------------ the LLM stage


def _llm_settings(cfg: PipelineConfig) -> LlmSettings | None:
    if cfg.llm_refinement is None:
        return None
    return LlmSettings(cfg.llm_refinement, tuple(cfg.speakers), tuple(cfg.transcription.hotwords))


def _plan_llm(transcript: Transcript, s: LlmSettings) -> list[Json]:
    return [chunk.to_dict() for chunk in plan_chunks(transcript, s.llm)]


def _refine_llm_chunk(transcript: Transcript, chunk: Json, s: LlmSettings, client: ConverseClient) -> Json:
    from podwhisperer.runtime.adapters.llm import refine_chunk

    return refine_chunk(transcript, LlmChunk.from_dict(chunk), s.llm, list(s.speakers), client,
                        vocabulary=list(s.vocabulary))


def _apply_llm(transcript: Transcript, results: Sequence[Mapping[str, Any]], s: LlmSettings) -> StepOutcome:
    return apply_refinements(transcript, results, s.llm, list(s.speakers))


LLM_CHUNKS: ChunkedRun[LlmSettings] = ChunkedRun(
    step_prefix="llm", plan=_plan_llm, refine_chunk=_refine_llm_chunk, apply=_apply_llm,
    model=lambda s: s.llm, concurrency=lambda s: s.llm.max_concurrency, max_attempts=lambda s: s.llm.max_retries + 1,
)


# ------------------------------------------------------------------------------------------ the chapters stage

CHAPTERS_CHUNKS: ChunkedRun[ChaptersSettings] = ChunkedRun(
    step_prefix="chapters", plan=chapters_stage.plan, refine_chunk=chapters_stage.ask, apply=chapters_stage.apply,
    model=lambda s: s.client_config(), concurrency=lambda s: 4, max_attempts=lambda s: s.chapters.max_retries + 1,
)


# ------------------------------------------------------------------------------------------ the registry


STAGES: tuple[Stage[Any], ...] = (
    # never skipped: with gap filling disabled it still drops times outside the audio (Infinity, 1e15, < 0)
    Stage("fill-timing-gaps", lambda cfg: cfg.timing_gaps, lambda s: None, transform=fill_timing_gaps),
    Stage("replacements", lambda cfg: list(cfg.replacement_rules),
          lambda s: None if s else "no replacement rules configured", transform=apply_replacements),
    Stage("llm-refinement", _llm_settings,
          lambda s: None, chunked=LLM_CHUNKS),
    Stage("normalization", lambda cfg: cfg.normalization,
          lambda s: None if s.normalize else "disabled in config", transform=normalize_segments),
    # Chapters run last, on caption-grade segments (their starts snap to cue starts), and change no words:
    # the result rides on the transcript for the chapters, show-notes, page and RSS formats.
    Stage("chapters", chapters_stage.chapters_settings, lambda s: None, chunked=CHAPTERS_CHUNKS),
    Stage("chapters-offline", chapters_stage.fallback_settings, lambda s: None, transform=chapters_stage.offline),
)
"""Every post-processing stage, in the order they run (captions are rendered after the last)."""
