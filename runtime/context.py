"""Per-episode context: this week's title, guests, vocabulary and language, merged over the stack config.

A strict, validated subset of the configuration. It comes from a sidecar uploaded next to the
audio (``input/ep42.mp3`` + ``input/ep42.podwhisperer.yaml``, the sidecar first) or, locally, from
``--context FILE`` and ``--speaker "Name: description"``. Keys::

    title: "Episode 42: Serverless GPUs"
    description: "Ada and Grace on running Whisper without servers."
    speakers: [{name: Grace Hopper, description: "guest, compiler pioneer"}]
    vocabulary: [WhisperX, Bedrock]
    language: en

Merging: ``title`` and ``description`` set ``episode`` (and, with LLM refinement configured, are added to
its ``additional_context``); speakers are added to the stack's list (a speaker of the same name takes the
episode's description); vocabulary extends ``transcription.hotwords``; ``language`` sets
``transcription.language``.
"""

from __future__ import annotations

import difflib
import posixpath
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from podwhisperer.runtime.config import ConfigError, PipelineConfig, Speaker, check_unique_speaker_names

SIDECAR_SUFFIX = ".podwhisperer.yaml"
MAX_SIDECAR_BYTES = 64 * 1024
LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$"


class EpisodeContext(BaseModel):
    """What may change from one episode to the next."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    title: Annotated[str, Field(min_length=1, max_length=300)] | None = None
    description: Annotated[str, Field(max_length=5000)] | None = None
    speakers: list[Speaker] = Field(default_factory=list)
    vocabulary: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=list)
    language: Annotated[str, Field(pattern=LANGUAGE_PATTERN)] | None = Field(
        None, description="BCP 47 tag such as en or pt-BR; Whisper gets the primary subtag.")

    @model_validator(mode="after")
    def _unique_speakers(self) -> EpisodeContext:
        check_unique_speaker_names(self.speakers)
        return self

    @property
    def is_empty(self) -> bool:
        return self == EpisodeContext()

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_defaults=True)

    def with_speakers(self, extra: Sequence[Speaker]) -> EpisodeContext:
        """This context plus ``extra`` speakers (a name given again replaces the earlier entry)."""
        merged = {speaker.name: speaker for speaker in (*self.speakers, *extra)}
        return self.model_copy(update={"speakers": list(merged.values())})


def parse_context(data: Any, source: str = "context") -> EpisodeContext:
    """Validate a mapping into an :class:`EpisodeContext`, or raise :class:`ConfigError` naming each bad key."""
    if data is None:
        return EpisodeContext()
    if not isinstance(data, Mapping):
        raise ConfigError([f"expected a mapping of context keys, got {type(data).__name__}"], source)
    try:
        return EpisodeContext.model_validate(dict(data))
    except ValidationError as exc:
        raise ConfigError([_readable(error) for error in exc.errors()], source) from None


def _readable(error: Any) -> str:
    location = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        key = str(error["loc"][-1])
        known = list(EpisodeContext.model_fields) if len(error["loc"]) == 1 else list(Speaker.model_fields)
        match = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        hint = f" (did you mean '{match[0]}'?)" if match else f" (valid keys: {', '.join(known)})"
        return f"{location}: unknown key{hint}"
    return f"{location}: {error['msg'].removeprefix('Value error, ')}"


def context_from_text(text: str | bytes, source: str) -> EpisodeContext:
    """Parse YAML (JSON is YAML too) text into a context."""
    if len(text) > MAX_SIDECAR_BYTES:
        raise ConfigError([f"larger than {MAX_SIDECAR_BYTES // 1024} KiB; a context file holds a few keys"], source)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError([f"not valid YAML: {exc}"], source) from None
    return parse_context(data, source)


def load_context(path: str | Path) -> EpisodeContext:
    file = Path(path)
    try:
        text = file.read_bytes()
    except OSError as exc:
        raise ConfigError([f"cannot read file: {exc.strerror or exc}"], str(file)) from None
    return context_from_text(text, str(file))


def parse_speaker_flag(value: str) -> Speaker:
    """``"Grace Hopper: guest, compiler pioneer"`` (or just a name) as a speaker."""
    name, _, description = value.partition(":")
    if not name.strip():
        raise ConfigError([f"{value!r}: expected 'Name: description'"], "--speaker")
    return Speaker(name=" ".join(name.split()), description=description.strip())


def merge_context(config: PipelineConfig, context: EpisodeContext) -> PipelineConfig:
    """The stack config with the episode context merged over it (validated like a config file)."""
    if context.is_empty:
        return config
    return config.with_overrides(context_overrides(config, context))


def context_overrides(config: PipelineConfig, context: EpisodeContext) -> dict[str, Any]:
    """The config overrides a context amounts to (see the module docstring)."""
    overrides: dict[str, Any] = {}
    episode = {key: value for key, value in (("title", context.title), ("description", context.description)) if value}
    if episode:
        overrides["episode"] = episode
    if context.speakers:
        merged = {speaker.name: speaker for speaker in (*config.speakers, *context.speakers)}
        overrides["speakers"] = [speaker.model_dump() for speaker in merged.values()]
    transcription: dict[str, Any] = {}
    if context.vocabulary:
        existing = list(config.transcription.hotwords)
        transcription["hotwords"] = existing + [term for term in context.vocabulary if term not in existing]
    if context.language:
        transcription["language"] = context.language.split("-")[0]
    if transcription:
        overrides["transcription"] = transcription
    about = _episode_note(context)
    if about and config.llm_refinement is not None:  # refinement and speaker naming read it in their prompt
        before = (config.llm_refinement.additional_context or "").strip()
        overrides["llm_refinement"] = {"additional_context": f"{before}\n\n{about}".strip()}
    return overrides


def _episode_note(context: EpisodeContext) -> str:
    parts = []
    if context.title:
        parts.append(f"This episode: {context.title}.")
    if context.description:
        parts.append(context.description.strip())
    return " ".join(parts)


def sidecar_key(input_key: str) -> str:
    """``input/ep42.mp3`` → ``input/ep42.podwhisperer.yaml`` (the audio's extension is replaced)."""
    folder, filename = posixpath.split(input_key)
    stem, dot, _ = filename.rpartition(".")
    return posixpath.join(folder, (stem if dot and stem else filename) + SIDECAR_SUFFIX)


def is_sidecar(key: str) -> bool:
    """True for a per-episode context file (never audio, whatever the configured extensions say)."""
    return key.lower().endswith((SIDECAR_SUFFIX, ".podwhisperer.yml", ".podwhisperer.json"))

