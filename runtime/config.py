"""The one typed configuration model shared by the component, the Lambda, the worker and the CLI.

Every section has defaults, so ``PipelineConfig()`` is a working configuration. Unknown keys
are rejected (``extra="forbid"``) and :func:`parse_config` turns pydantic's errors into
readable lines that name the dotted path of the key and, for typos, the closest valid name.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import regex
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from podwhisperer.runtime.pricing import CostConfig

SQS_MAX_VISIBILITY_MINUTES = 720
"""SQS caps a message's visibility timeout at 12 hours; the job timeout may not exceed it."""

# Limits that keep a hostile or mistaken config from exhausting memory or recursion (issue 12). They
# are far above any real podcast's needs: a config file is a few kB, nested a handful of levels.
MAX_CONFIG_FILE_BYTES = 1024 * 1024
MAX_CONFIG_DEPTH = 32
MAX_CONFIG_VALUES = 100_000
"""Values in a whole config after YAML aliases are expanded (a "billion laughs" file stops here)."""
MAX_FREE_FORM_DEPTH = 8
MAX_FREE_FORM_VALUES = 1_000
MAX_FREE_FORM_JSON_BYTES = 16 * 1024
"""Free-form mappings passed to other services unchanged (``additional_model_request_fields``)."""
MAX_TEXT_CHARS = 20_000
MAX_NAME_CHARS = 100
MAX_LIST_ITEMS = 1_000
MAX_PREFIX_CHARS = 256
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveInt = Annotated[int, Field(gt=0)]
Text = Annotated[str, Field(max_length=MAX_TEXT_CHARS)]
Term = Annotated[str, Field(max_length=MAX_NAME_CHARS)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class TranscriptionConfig(_Section):
    """How the worker runs WhisperX on one episode."""

    model: str = Field(
        "large-v2",
        description="Whisper model name (tiny.en … large-v3, large-v3-turbo) or a local CTranslate2 directory.",
    )
    language: str | None = Field("en", description="ISO language code, or null to detect it per file.")
    batch_size: PositiveInt | None = Field(
        None, description="Batch size; null picks 4 on CPU and, on CUDA, the largest batch the free GPU memory "
                          "allows (1-32; 16 if unreadable)."
    )
    compute_type: Literal["default", "float16", "float32", "int8", "int8_float16"] = Field(
        "default", description="CTranslate2 compute type; default means float16 on CUDA and int8 on CPU."
    )
    min_speakers: PositiveInt | None = Field(1, description="Lower bound on the number of speakers.")
    max_speakers: PositiveInt | None = Field(None, description="Upper bound on the number of speakers (null: auto).")
    num_speakers: PositiveInt | None = Field(None, description="Exact number of speakers, when known.")
    initial_prompt: Text | None = Field(None, description="Text that primes Whisper with the show's vocabulary.")
    hotwords: list[Term] = Field(default_factory=list, max_length=MAX_LIST_ITEMS,
                                 description="Podcast vocabulary: names and terms to favour.")
    suppress_numerals: bool = Field(False, description="Spell numbers as words (they then align reliably).")
    vad_onset: Fraction = Field(0.5, description="Voice activity onset threshold.")
    vad_offset: Fraction = Field(0.363, description="Voice activity offset threshold.")
    align: bool = Field(True, description="Run wav2vec2 word alignment when a model exists for the language.")
    diarize: bool = Field(True, description="Run pyannote speaker diarization when a model or token is available.")
    diarization_model: str = Field(
        "pyannote/speaker-diarization-community-1", description="pyannote pipeline name or local directory."
    )
    job_timeout_minutes: Annotated[int, Field(gt=0, le=SQS_MAX_VISIBILITY_MINUTES)] = Field(
        60, description="How long the pipeline waits for the worker's transcript (queue wait included)."
    )
    heartbeat_timeout_minutes: PositiveInt = Field(
        10, description="A worker silent for this long is considered dead and the job fails."
    )
    max_audio_minutes: PositiveInt = Field(360, description="Longer uploads are rejected with a clear message.")
    skip_if_output_exists: bool = Field(
        False, description="Reuse an existing raw transcript made from the same object version (etag)."
    )
    hf_token_ssm_path: str = Field(
        "/podwhisperer/hf_token", description="SSM SecureString holding the Hugging Face token."
    )

    @model_validator(mode="after")
    def _speaker_bounds(self) -> TranscriptionConfig:
        if self.min_speakers and self.max_speakers and self.min_speakers > self.max_speakers:
            raise ValueError(
                f"min_speakers ({self.min_speakers}) is greater than max_speakers ({self.max_speakers})"
            )
        if self.num_speakers is not None:
            if self.max_speakers is not None and self.num_speakers > self.max_speakers:
                raise ValueError("num_speakers is greater than max_speakers")
            if self.min_speakers is not None and self.num_speakers < self.min_speakers:
                raise ValueError("num_speakers is smaller than min_speakers")
        if self.heartbeat_timeout_minutes > self.job_timeout_minutes:
            raise ValueError("heartbeat_timeout_minutes is longer than job_timeout_minutes")
        return self


class Speaker(_Section):
    """A person who may appear on the show; the LLM step names diarized speakers from this list."""

    name: Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS)]
    description: Text = Field("", description="Role, voice, how they introduce themselves: helps the LLM.")


class LiteralRule(_Section):
    """Replace exact text. The replacement is used verbatim (no ``$`` or ``\\1`` expansion)."""

    type: Literal["literal"]
    search: Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS * 10)]
    replacement: Annotated[str, Field(max_length=MAX_NAME_CHARS * 10)]
    whole_word: bool = Field(False, description="Only match where the search text is not inside a longer word.")
    ignore_case: bool = False


RegexFlag = Literal["IGNORECASE", "MULTILINE", "DOTALL", "VERBOSE", "ASCII"]


REGEX_PROBE_TIMEOUT_SECONDS = 0.1
"""How long a regex rule may take on one probe text at validation (real rules take microseconds)."""

_REGEX_PROBES = tuple(unit * 60 + tail for unit in ("a", "1", "a ", "ab", ". ", "-") for tail in ("!", "\n"))
"""Texts that make backtracking patterns such as ``(a|aa)+$`` explode."""


class RegexRule(_Section):
    """Replace matches of a Python regular expression; ``\\1`` and ``\\g<name>`` refer to groups.

    Patterns run on the ``regex`` engine (Python ``re`` syntax, with a time limit): one that
    backtracks catastrophically on a probe text is rejected here, and any rule that still runs
    too long on a transcript fails the step with an error naming it.
    """

    type: Literal["regex"]
    search: Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS * 10)]
    replacement: Annotated[str, Field(max_length=MAX_NAME_CHARS * 10)]
    flags: list[RegexFlag] = Field(default_factory=list)

    @model_validator(mode="after")
    def _compiles(self) -> RegexRule:
        try:
            pattern = self.compiled()
        except regex.error as exc:
            raise ValueError(f"invalid regular expression {self.search!r}: {exc}") from exc
        if pattern.fullmatch("") is not None:
            raise ValueError(f"regular expression {self.search!r} matches the empty string")
        try:
            pattern.sub(self.replacement, self.search)
        except (regex.error, IndexError) as exc:
            raise ValueError(f"invalid replacement {self.replacement!r}: {exc}") from exc
        for probe in _REGEX_PROBES:
            try:
                pattern.subn(self.replacement, probe, timeout=REGEX_PROBE_TIMEOUT_SECONDS)
            except TimeoutError:
                raise ValueError(f"regular expression {self.search!r} backtracks catastrophically (over "
                                 f"{REGEX_PROBE_TIMEOUT_SECONDS} s on {probe.strip()[:12]!r}…): "
                                 "simplify it, e.g. avoid nested or overlapping repeats such as (a|aa)+") from None
        return self

    def compiled(self) -> regex.Pattern[str]:
        flags = regex.VERSION0  # the re-compatible behaviour
        for name in self.flags:
            flags |= getattr(regex, name)
        return regex.compile(self.search, flags)


ReplacementRule = Annotated[LiteralRule | RegexRule, Field(discriminator="type")]


class SuggestionValidation(_Section):
    """Bounds on what any single LLM suggestion may change (predecessor defaults)."""

    enabled: bool = True
    max_word_change_ratio: Fraction = 0.4
    max_normalized_edit_distance: Fraction = 0.5
    max_consecutive_changes: Annotated[int, Field(ge=0)] = 3
    min_words_for_ratio_check: Annotated[int, Field(ge=0)] = 5
    max_changed_words: Annotated[int, Field(ge=0)] = Field(
        6, description="Words of one line a suggestion may replace or remove, however long the line "
        "(the ratio alone lets 8 of 20 words change).")
    max_inserted_words: Annotated[int, Field(ge=0)] = Field(
        1, description="Words a suggestion may add to a line beyond those it replaces (splitting a run-together "
        "word adds one); stops text being appended or inserted.")


class ModelSettings(_Section):
    """Inference settings sent to the Converse API."""

    max_tokens: PositiveInt = Field(8192, description="Output token limit per chunk.")
    temperature: Annotated[float, Field(ge=0.0, le=1.0)] = 0.2
    top_p: Fraction | None = None
    stop_sequences: list[Term] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    additional_model_request_fields: dict[str, Any] = Field(
        default_factory=dict, description="Model-specific fields passed through to Converse unchanged "
        f"(JSON, at most {MAX_FREE_FORM_JSON_BYTES // 1024} KiB and {MAX_FREE_FORM_DEPTH} levels deep)."
    )

    @field_validator("additional_model_request_fields")
    @classmethod
    def _bounded_free_form(cls, value: dict[str, Any]) -> dict[str, Any]:
        problem = shape_problem(value, max_depth=MAX_FREE_FORM_DEPTH, max_values=MAX_FREE_FORM_VALUES)
        if problem:
            raise ValueError(problem)
        try:
            size = len(json.dumps(value, allow_nan=False).encode())
        except (TypeError, ValueError) as exc:
            raise ValueError(f"must be plain JSON: {exc}") from None
        if size > MAX_FREE_FORM_JSON_BYTES:
            raise ValueError(f"is {size} bytes of JSON; the limit is {MAX_FREE_FORM_JSON_BYTES}")
        return value


class LlmRefinementConfig(_Section):
    """Bedrock refinement: fix misheard terms and name the speakers."""

    model_id: Annotated[str, Field(min_length=1)] = Field(
        description="Bedrock model id, inference profile id or ARN, e.g. eu.anthropic.claude-sonnet-4-20250514-v1:0."
    )
    region: str | None = Field(None, description="Bedrock region; null derives it from the profile prefix.")
    additional_context: Text | None = Field(None, description="Show notes, guest names, jargon for the prompt.")
    model_settings: ModelSettings = Field(default_factory=ModelSettings)
    suggestion_validation: SuggestionValidation = Field(default_factory=SuggestionValidation)
    identify_speakers: bool = True
    chunk_max_words: Annotated[int, Field(ge=50)] = Field(2000, description="Words per LLM request.")
    chunk_overlap_segments: Annotated[int, Field(ge=0)] = Field(2, description="Context segments shared by chunks.")
    max_concurrency: Annotated[int, Field(ge=1, le=32)] = 4
    max_retries: Annotated[int, Field(ge=0, le=10)] = 3
    on_error: Literal["skip", "fail"] = Field(
        "skip", description="After retries: skip the LLM step (keep the transcript) or fail the pipeline."
    )

    def resolved_region(self, default: str = "us-east-1") -> str:
        if self.region:
            return self.region
        return region_from_model_id(self.model_id, default)


PROFILE_REGIONS = {"eu": "eu-west-1", "us": "us-east-1", "apac": "ap-northeast-1", "global": "us-east-1",
                   "us-gov": "us-gov-west-1", "ca": "ca-central-1", "jp": "ap-northeast-1", "au": "ap-southeast-2"}
"""Cross-region inference profile prefixes (``eu.anthropic.claude-…``) and the region each one calls."""


def region_from_model_id(model_id: str, default: str = "us-east-1") -> str:
    """Region for a Bedrock id: taken from an ARN, else from a cross-region profile prefix, else ``default``."""
    if model_id.startswith("arn:"):
        parts = model_id.split(":")
        if len(parts) > 3 and parts[3]:
            return parts[3]
    prefix = model_id.split(".", 1)[0]
    return PROFILE_REGIONS.get(prefix, default)


class TimingGapsConfig(_Section):
    """Interpolate start/end for words WhisperX could not align (numerals, symbols)."""

    enabled: bool = True


class NormalizationConfig(_Section):
    """Split segments into caption-grade pieces."""

    normalize: bool = True
    max_chars_per_line: PositiveInt = Field(42, description="Netflix guideline: 42 characters per line.")
    max_lines_per_segment: Annotated[int, Field(ge=1, le=3)] = 2
    max_chars_per_segment: PositiveInt | None = Field(
        None, description="Extra cap on characters per segment; null means lines x chars per line."
    )
    max_words_per_segment: PositiveInt = 20
    max_duration_seconds: Annotated[float, Field(gt=0)] = 7.0
    min_duration_seconds: Annotated[float, Field(ge=0)] = 0.8
    split_segment_at_speaker_change: bool = True
    balance_pieces: bool = Field(
        True, description="Move a forced cut that would leave a one- or two-word piece to a clause end or the middle."
    )
    punctuation_split_threshold: Fraction = 0.7
    punctuation_chars: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=lambda: [".", ",", "?", "!", ";", ":"]
    )

    @model_validator(mode="after")
    def _durations(self) -> NormalizationConfig:
        if self.min_duration_seconds > self.max_duration_seconds:
            raise ValueError("min_duration_seconds is greater than max_duration_seconds")
        return self

    @property
    def segment_char_limit(self) -> int:
        lines_total = self.max_chars_per_line * self.max_lines_per_segment
        return min(lines_total, self.max_chars_per_segment or lines_total)


class CaptionsConfig(_Section):
    """Which caption files to write and how they look."""

    generate_vtt: bool = True
    generate_srt: bool = True
    generate_simplified_json: bool = True
    generate_text: bool = Field(True, description="Readable transcript as plain text (.txt).")
    generate_markdown: bool = Field(True, description="Readable transcript as Markdown (.md).")
    highlight_words: bool = False
    highlight_with: Literal["underline", "bold", "italic"] = "underline"
    include_speaker_names: Literal["never", "always", "when-changes"] = "when-changes"
    vtt_voice_tags: bool = Field(
        True, description="Mark speakers in VTT with <v Name> voice spans (Apple Podcasts reads speakers from them) "
        "instead of a 'Name: ' prefix.")
    max_chars_per_line: PositiveInt = Field(42, description="Cue text is wrapped into balanced lines.")
    vtt_max_chars_per_line: PositiveInt | None = Field(
        None, description="Line length for VTT only (null: max_chars_per_line). Podcasting 2.0 suggests at most 65.")
    srt_max_chars_per_line: PositiveInt | None = Field(
        None, description="Line length for SRT only (null: max_chars_per_line). Podcasting 2.0 suggests 2 lines of "
        "at most 32 characters for podcast SRT.")
    max_lines_per_cue: Annotated[int, Field(ge=1, le=3)] = 2
    generate_podcast_json: bool = Field(True, description="Podcasting 2.0 JSON transcript (application/json).")
    podcast_json_word_level: bool = Field(
        False, description="One JSON segment per word (word-by-word highlighting) instead of one per cue.")
    generate_podcast_html: bool = Field(True, description="Podcasting 2.0 HTML transcript (<cite>, <time>, <p>).")
    generate_transcript_page: bool = Field(
        True, description="<name>_transcript.html: a self-contained page with a player and a clickable transcript.")
    generate_rss_snippet: bool = Field(
        True, description="<name>_podcast.xml: <podcast:transcript> and <podcast:chapters> tags for the feed item.")
    generate_chapters: bool = Field(
        True, description="<name>_chapters.json (Podcasting 2.0 chapters, application/json+chapters) when the "
        "chapters step produced chapters (see the chapters section).")
    generate_show_notes: bool = Field(
        True, description="<name>_show_notes.md: summary, HH:MM:SS chapter list, people and things mentioned, "
        "keywords (only from a model: the offline fallback has no summary).")
    reading_speed_timing: bool = Field(
        True, description="Keep cues on screen long enough to read: extend them into pauses and borrow time from "
        "slower neighbours (at most 7 s, never overlapping). Highlight cues follow the words and are not retimed.")
    target_chars_per_second: Annotated[float, Field(ge=5, le=40)] = Field(
        17.0, description="Reading speed the timing aims for (Netflix's adult template: 17).")


class EpisodeConfig(_Section):
    """This episode's title and description (usually from a per-episode context file, not the stack config)."""

    title: str | None = Field(None, description="Episode title: the page, the show notes and the chapters file.")
    description: str | None = Field(None, description="What the episode is about; helps the LLM steps.")


def _http_url(value: str | None) -> str | None:
    if value is None:
        return None
    if not value.startswith(("https://", "http://")) or len(value.split("://", 1)[1].strip("/")) == 0:
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value.rstrip("/")


class PublishingConfig(_Section):
    """The public URLs the published files are served from (which files: ``captions.generate_*``)."""

    public_base_url: str | None = Field(
        None, description="Public URL of the output folder (e.g. a CDN in front of output/); the RSS snippet's URLs "
        "start with it. Null writes names relative to the output folder.")
    audio_base_url: str | None = Field(
        None, description="Public URL of the folder holding the episode audio, for the page's player. Null: the page "
        "plays the audio file of the same name next to it.")

    @field_validator("public_base_url", "audio_base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return _http_url(value)


class ChaptersConfig(_Section):
    """Chapters, summary, show notes and keywords from a Bedrock model (same Converse API as refinement)."""

    enabled: bool = True
    model_id: str | None = Field(
        None, description="Bedrock model for chapters; null uses llm_refinement.model_id. Without either, an offline "
        "fallback places chapters at long pauses (titled by their first words) and skips the summary and show notes.")
    region: str | None = Field(None, description="Bedrock region; null derives it from the model id.")
    min_chapter_seconds: Annotated[float, Field(ge=0)] = Field(
        60.0, description="Chapters start at least this far apart.")
    max_chapters: Annotated[int, Field(ge=1, le=100)] = 20
    chunk_max_words: Annotated[int, Field(ge=200)] = Field(
        6000, description="Words per request; longer episodes are summarised chunk by chunk, then combined.")
    max_tokens: Annotated[int, Field(ge=256)] = 2048
    temperature: Annotated[float, Field(ge=0.0, le=1.0)] = 0.3
    max_retries: Annotated[int, Field(ge=0, le=10)] = 3
    offline_fallback: bool = Field(True, description="Without a model, still write pause-based chapters.")
    on_error: Literal["skip", "fail"] = Field(
        "skip", description="A malformed answer is asked again once; then skip these outputs (reported) or fail.")

    def resolved_model(self, refinement: LlmRefinementConfig | None) -> str | None:
        return self.model_id or (refinement.model_id if refinement else None)

    def resolved_region(self, refinement: LlmRefinementConfig | None, default: str = "us-east-1") -> str:
        if self.region:
            return self.region
        if not self.model_id and refinement is not None:
            return refinement.resolved_region(default)
        model = self.resolved_model(refinement)
        return region_from_model_id(model, default) if model else default


class NotificationConfig(_Section):
    """EventBridge events on completion and failure."""

    enabled: bool = True
    event_bus_name: str = Field("default", description="Bus name or ARN.")
    source: str = "podwhisperer.pipeline"
    detail_type: str = "Pipeline Completed"
    failure_detail_type: str = "Pipeline Failed"


class StorageConfig(_Section):
    """Where uploads are read and results written (S3 prefixes, or folders in local mode)."""

    input_prefix: str = "input/"
    output_prefix: str = "output/"
    work_prefix: str = Field("work/", description="Per-execution intermediate files; expired by a lifecycle rule.")
    output_naming: Literal["stem", "filename"] = Field(
        "stem",
        description="stem: output/ep1_caption.vtt; filename keeps the extension (output/ep1.mp3_caption.vtt) "
        "so ep1.mp3 and ep1.m4a never overwrite each other.",
    )
    audio_extensions: list[Annotated[str, Field(min_length=1, max_length=16)]] = Field(
        max_length=100,
        default_factory=lambda: [".mp3", ".m4a", ".wav", ".flac", ".ogg", ".opus", ".aac", ".mp4", ".webm", ".mka"]
    )

    @field_validator("input_prefix", "output_prefix", "work_prefix")
    @classmethod
    def _safe_prefix(cls, value: str) -> str:
        problem = prefix_problem(value)
        if problem:
            raise ValueError(f"{problem} (got {value[:80]!r}); use a relative prefix such as 'input/' or 'shows/in/'")
        return value if value.endswith("/") else value + "/"

    @field_validator("audio_extensions")
    @classmethod
    def _dotted_lowercase(cls, value: list[str]) -> list[str]:
        extensions = [ext.lower() if ext.startswith(".") else "." + ext.lower() for ext in value]
        sidecars = sorted({ext for ext in extensions if ext in (".yaml", ".yml", ".json")})
        if sidecars:  # the upload trigger would start a run for every per-episode context file
            raise ValueError(f"{', '.join(sidecars)} is not audio (per-episode context files use it)")
        return extensions

    @model_validator(mode="after")
    def _disjoint(self) -> StorageConfig:
        prefixes = [self.input_prefix, self.output_prefix, self.work_prefix]
        for i, a in enumerate(prefixes):
            for b in prefixes[i + 1:]:
                if a.startswith(b) or b.startswith(a):
                    raise ValueError("input_prefix, output_prefix and work_prefix must not contain one another")
        return self


AcceleratorManufacturer = Literal["nvidia", "amd", "amazon-web-services", "xilinx", "habana"]


def _nvidia_only() -> list[AcceleratorManufacturer]:
    return ["nvidia"]


class InstanceRequirements(_Section):
    """What EC2 instances ECS Managed Instances may launch for the GPU worker."""

    vcpu_min: PositiveInt = 4
    vcpu_max: PositiveInt | None = 16
    memory_mib_min: PositiveInt = 16384
    memory_mib_max: PositiveInt | None = None
    accelerator_manufacturers: list[AcceleratorManufacturer] = Field(default_factory=_nvidia_only)
    accelerator_names: list[str] = Field(default_factory=list, description="e.g. a10g, t4, l4.")
    accelerator_count: PositiveInt = 1
    allowed_instance_types: list[str] = Field(default_factory=list, description="e.g. g5.*, g6.xlarge.")

    @model_validator(mode="after")
    def _ranges(self) -> InstanceRequirements:
        if self.vcpu_max is not None and self.vcpu_min > self.vcpu_max:
            raise ValueError("vcpu_min is greater than vcpu_max")
        if self.memory_mib_max is not None and self.memory_mib_min > self.memory_mib_max:
            raise ValueError("memory_mib_min is greater than memory_mib_max")
        return self


class WorkerConfig(_Section):
    """The GPU worker fleet."""

    instance_requirements: InstanceRequirements = Field(default_factory=InstanceRequirements)
    capacity: Literal["on-demand", "spot"] = "on-demand"
    max_workers: Annotated[int, Field(ge=1, le=100)] = 2
    idle_timeout_minutes: Annotated[float, Field(gt=0, le=60)] = 5.0
    max_receive_count: Annotated[int, Field(ge=1, le=1000)] = Field(
        3, description="Deliveries before a failing job message moves to the dead-letter queue."
    )
    task_cpu: PositiveInt = 4096
    task_memory_mib: PositiveInt = 15360


class PipelineConfig(_Section):
    """Everything that shapes a podwhisperer run. All sections are optional."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True,
                              json_schema_extra={"title": "podwhisperer configuration"})

    transcription: TranscriptionConfig = Field(default_factory=TranscriptionConfig)
    speakers: list[Speaker] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    replacement_rules: list[ReplacementRule] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    llm_refinement: LlmRefinementConfig | None = None
    timing_gaps: TimingGapsConfig = Field(default_factory=TimingGapsConfig)
    normalization: NormalizationConfig = Field(default_factory=NormalizationConfig)
    captions: CaptionsConfig = Field(default_factory=CaptionsConfig)
    publishing: PublishingConfig = Field(default_factory=PublishingConfig)
    chapters: ChaptersConfig = Field(default_factory=ChaptersConfig)
    episode: EpisodeConfig = Field(default_factory=EpisodeConfig)
    notification: NotificationConfig = Field(default_factory=NotificationConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    worker: WorkerConfig = Field(default_factory=WorkerConfig)
    cost: CostConfig = Field(default_factory=CostConfig, description="Price table for cost reports and estimates.")

    @model_validator(mode="after")
    def _unique_speaker_names(self) -> PipelineConfig:
        check_unique_speaker_names(self.speakers)
        return self

    def to_json(self) -> str:
        """Compact JSON that :func:`parse_config` reads back to an equal config."""
        return self.model_dump_json(exclude_defaults=False)

    def with_overrides(self, overrides: Mapping[str, Any]) -> PipelineConfig:
        """A new config with ``overrides`` deep-merged over this one, validated like a file."""
        return parse_config(deep_merge(self.model_dump(mode="json"), overrides), source="overrides")


class ConfigError(ValueError):
    """A configuration that failed validation; ``errors`` holds one readable line per problem."""

    def __init__(self, errors: Sequence[str], source: str = "config") -> None:
        self.errors = list(errors)
        self.source = source
        super().__init__(f"{source}: " + "; ".join(self.errors))

    def report(self) -> str:
        lines = [f"{self.source}: {len(self.errors)} problem(s)"]
        lines += [f"  - {e}" for e in self.errors]
        return "\n".join(lines)


def check_unique_speaker_names(speakers: Sequence[Speaker]) -> None:
    """ValueError naming the speaker names used twice (the config's and the per-episode context's rule)."""
    names = [s.name for s in speakers]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"speaker names must be unique: {', '.join(duplicates)}")


def deep_merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``overrides`` over ``base``; mappings merge recursively, everything else is replaced."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


_PREFIX_SEGMENT = re.compile(r"[A-Za-z0-9._\-]+")


def prefix_problem(value: str) -> str | None:
    """Why ``value`` cannot be a storage prefix (None: it can): it must stay inside the bucket or output
    folder, so no absolute path, no ``.``/``..`` or empty segment, only letters, digits, ``.``, ``_``, ``-``."""
    if not value:
        return "must not be empty"
    if len(value) > MAX_PREFIX_CHARS:
        return f"is longer than {MAX_PREFIX_CHARS} characters"
    if value.startswith("/") or value.startswith("\\") or re.match(r"[A-Za-z]:", value):
        return "must be relative, not an absolute path"
    for segment in value.removesuffix("/").split("/"):
        if segment in ("", ".", ".."):
            return "must not contain empty, '.' or '..' path segments"
        if not _PREFIX_SEGMENT.fullmatch(segment):
            return "may only contain letters, digits, '.', '_', '-' and '/'"
    return None


def shape_problem(data: Any, *, max_depth: int, max_values: int) -> str | None:
    """Why ``data`` (parsed YAML/JSON) is too deep or too big, naming where; None when it is fine.

    Walks iteratively (no recursion to exhaust) and counts a value each time it is reached, so YAML
    aliases are counted as expanded: a "billion laughs" document stops after ``max_values`` values.
    """
    stack: list[tuple[Any, tuple[object, ...]]] = [(data, ())]
    seen = 0
    while stack:
        value, path = stack.pop()
        seen += 1
        if seen > max_values:
            return _at(path, f"too large: more than {max_values} values (YAML aliases count as expanded)")
        if len(path) > max_depth:
            return _at(path, f"nested deeper than {max_depth} levels")
        if isinstance(value, Mapping):
            stack.extend((item, (*path, str(key))) for key, item in value.items())
        elif isinstance(value, list | tuple):
            stack.extend((item, (*path, index)) for index, item in enumerate(value))
    return None


def _at(path: Sequence[object], message: str) -> str:
    where = _dotted(path[:6]) + ("…" if len(path) > 6 else "")
    return f"{where}: {message}" if where else message


def transcription_flags(model: str | None = None, language: str | None = None) -> dict[str, Any]:
    """``transcription`` overrides for the CLIs' ``--model`` and ``--language`` (``auto`` detects it)."""
    overrides: dict[str, Any] = {}
    if model:
        overrides["model"] = model
    if language:
        overrides["language"] = None if language == "auto" else language
    return overrides


def parse_config(data: Any, source: str = "config") -> PipelineConfig:
    """Validate ``data`` (a mapping) into a :class:`PipelineConfig`, or raise :class:`ConfigError`."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError([f"expected a mapping of sections, got {type(data).__name__}"], source)
    problem = shape_problem(data, max_depth=MAX_CONFIG_DEPTH, max_values=MAX_CONFIG_VALUES)
    if problem:
        raise ConfigError([problem], source)
    try:
        return PipelineConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_readable_errors(exc), source) from None


def load_config(path: str | Path) -> PipelineConfig:
    """Read a YAML or JSON file (chosen by extension; YAML otherwise) into a validated config."""
    file = Path(path)
    kind = "JSON" if file.suffix.lower() == ".json" else "YAML"
    try:
        with file.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_FILE_BYTES + 1)
        text = raw.decode("utf-8")
    except OSError as exc:
        raise ConfigError([f"cannot read file: {exc.strerror or exc}"], str(file)) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"not UTF-8 text: {exc.reason} at byte {exc.start}"], str(file)) from None
    if len(raw) > MAX_CONFIG_FILE_BYTES:
        raise ConfigError([f"larger than {MAX_CONFIG_FILE_BYTES // 1024} KiB: not a podwhisperer config"], str(file))
    try:
        data = json.loads(text) if kind == "JSON" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError([f"not valid {kind}: {_first_line(str(exc))}"], str(file)) from None
    except RecursionError:
        raise ConfigError([f"{kind} nested deeper than {MAX_CONFIG_DEPTH} levels"], str(file)) from None
    return parse_config(data, source=str(file))


def _first_line(text: str) -> str:
    return " ".join(text.split())[:300]


def config_json_schema() -> dict[str, Any]:
    """JSON Schema for ``podwhisperer.yaml`` (editors use it for completion and checks)."""
    schema = PipelineConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def _readable_errors(exc: ValidationError) -> list[str]:
    lines = []
    for error in exc.errors():
        location = [part for part in error["loc"] if not _is_union_tag(part)]
        path = _dotted(location)
        if error["type"] == "extra_forbidden":
            lines.append(_unknown_key_message(location))
        else:
            message = error["msg"].removeprefix("Value error, ")
            lines.append(f"{path}: {message}" if path else message)
    return lines


def _is_union_tag(part: object) -> bool:
    return part in ("literal", "regex")


def _dotted(location: Sequence[object]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _unknown_key_message(location: Sequence[object]) -> str:
    key = str(location[-1])
    candidates = _valid_keys_at(location[:-1])
    message = f"{_dotted(location)}: unknown option"
    suggestion = _closest(key, candidates)
    if suggestion:
        message += f" (did you mean '{suggestion}'?)"
    elif candidates:
        message += f" (valid options: {', '.join(sorted(candidates))})"
    return message


def _valid_keys_at(parent: Sequence[object]) -> list[str]:
    model: Any = PipelineConfig
    for part in parent:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        model = _model_of(field.annotation)
        if model is None:
            return []
    return list(model.model_fields)


def _model_of(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    for meta in getattr(annotation, "__metadata__", ()):
        found = _model_of(meta)
        if found is not None:
            return found
    return None


_PREDECESSOR_NAMES = {"modelconfig": "model_settings", "bedrockinferenceprofileid": "model_id",
                      "generatesimplifiedjson": "generate_simplified_json"}


def _closest(key: str, candidates: Sequence[str]) -> str | None:
    def squash(name: str) -> str:
        return name.replace("_", "").replace("-", "").lower()

    renamed = _PREDECESSOR_NAMES.get(squash(key))
    if renamed in candidates:
        return renamed
    by_squashed = {squash(c): c for c in candidates}
    if squash(key) in by_squashed:
        return by_squashed[squash(key)]
    match = difflib.get_close_matches(squash(key), list(by_squashed), n=1, cutoff=0.6)
    return by_squashed[match[0]] if match else None
