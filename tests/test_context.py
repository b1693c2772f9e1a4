"""Per-episode context: a strict subset of the config, merged over the stack config."""

from __future__ import annotations

import pytest

from podwhisperer.runtime.config import ConfigError, PipelineConfig
from podwhisperer.runtime.context import (
    EpisodeContext,
    context_from_text,
    is_sidecar,
    load_context,
    merge_context,
    parse_speaker_flag,
    sidecar_key,
)

SIDECAR = """\
title: "Episode 42: Serverless GPUs"
description: Ada and Grace on running Whisper without servers.
speakers:
  - {name: Grace Hopper, description: "guest, compiler pioneer"}
  - {name: Ada Lovelace, description: "host (this week from Paris)"}
vocabulary: [WhisperX, Bedrock]
language: pt-BR
"""


def stack() -> PipelineConfig:
    return PipelineConfig.model_validate({
        "speakers": [{"name": "Ada Lovelace", "description": "host"},
                     {"name": "Alan Turing", "description": "co-host"}],
        "transcription": {"hotwords": ["Bedrock", "Lambda"], "language": "en"},
    })


def test_a_sidecar_merges_over_the_stack_config() -> None:
    merged = merge_context(stack(), context_from_text(SIDECAR, "input/ep42.podwhisperer.yaml"))
    assert merged.episode.title == "Episode 42: Serverless GPUs"
    assert merged.episode.description.startswith("Ada and Grace")
    assert [(s.name, s.description) for s in merged.speakers] == [
        ("Ada Lovelace", "host (this week from Paris)"), ("Alan Turing", "co-host"),
        ("Grace Hopper", "guest, compiler pioneer")]
    assert merged.transcription.hotwords == ["Bedrock", "Lambda", "WhisperX"]
    assert merged.transcription.language == "pt"


def test_title_and_description_reach_the_refinement_prompt_context() -> None:
    config = stack().with_overrides({"llm_refinement": {"model_id": "eu.anthropic.claude-x-v1:0",
                                                        "additional_context": "A show about the cloud."}})
    merged = merge_context(config, context_from_text(SIDECAR, "ep.yaml"))
    assert merged.llm_refinement.additional_context == (
        "A show about the cloud.\n\nThis episode: Episode 42: Serverless GPUs. "
        "Ada and Grace on running Whisper without servers.")
    assert merge_context(stack(), context_from_text(SIDECAR, "ep.yaml")).llm_refinement is None


def test_an_empty_context_changes_nothing() -> None:
    assert merge_context(stack(), context_from_text("", "empty.yaml")) == stack()


@pytest.mark.parametrize("text, message", [
    ("titel: x", "titel: unknown key (did you mean 'title'?)"),
    ("speakers: [{name: A, role: guest}]", "speakers.0.role: unknown key"),
    ("speakers: [{name: A}, {name: A}]", "speaker names must be unique: A"),
    ("language: no", "language: Input should be a valid string"),  # YAML reads `no` as false
    ("language: English", "language: String should match pattern"),
    ("vocabulary: WhisperX", "vocabulary: Input should be a valid list"),
    ("transcription: {model: large-v3}", "transcription: unknown key"),
    ("- a list", "expected a mapping of context keys"),
    ("title: [unclosed", "not valid YAML"),
])
def test_bad_context_is_one_readable_line_naming_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        context_from_text(text, "input/ep.podwhisperer.yaml")
    assert message in str(error.value)
    assert str(error.value).startswith("input/ep.podwhisperer.yaml: ")


def test_load_context_names_a_missing_file(tmp_path) -> None:
    with pytest.raises(ConfigError, match="cannot read file"):
        load_context(tmp_path / "nope.yaml")
    (tmp_path / "ep.yaml").write_text(SIDECAR)
    assert load_context(tmp_path / "ep.yaml").vocabulary == ["WhisperX", "Bedrock"]


def test_speaker_flags() -> None:
    assert parse_speaker_flag("Grace Hopper: guest: compilers").model_dump() == {
        "name": "Grace Hopper", "description": "guest: compilers"}
    assert parse_speaker_flag("  Ada  ").name == "Ada"
    with pytest.raises(ConfigError):
        parse_speaker_flag(": nobody")
    context = EpisodeContext(speakers=[parse_speaker_flag("Ada: old")]).with_speakers([parse_speaker_flag("Ada: new")])
    assert [(s.name, s.description) for s in context.speakers] == [("Ada", "new")]


def test_sidecar_naming_and_detection() -> None:
    assert sidecar_key("input/shows/ep 42.mp3") == "input/shows/ep 42.podwhisperer.yaml"
    assert sidecar_key("input/noext") == "input/noext.podwhisperer.yaml"
    assert is_sidecar("input/ep42.podwhisperer.yaml") and is_sidecar("input/EP.PODWHISPERER.YML")
    assert not is_sidecar("input/ep42.mp3") and not is_sidecar("input/podwhisperer.yaml.mp3")
