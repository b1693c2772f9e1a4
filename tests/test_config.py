"""PipelineConfig: predecessor parity (CFG-01..18), the stricter validation, files and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from podwhisperer.cli import app
from podwhisperer.runtime.config import (
    ConfigError,
    LiteralRule,
    PipelineConfig,
    RegexRule,
    config_json_schema,
    load_config,
    parse_config,
    region_from_model_id,
)

REPO = Path(__file__).resolve().parents[1]


def errors_of(data: object) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    return info.value.errors


def test_cfg01_transcription_defaults() -> None:
    t = parse_config({}).transcription
    assert (t.model, t.language, t.min_speakers, t.max_speakers) == ("large-v2", "en", 1, None)
    assert (t.job_timeout_minutes, t.skip_if_output_exists) == (60, False)
    assert t.hf_token_ssm_path == "/podwhisperer/hf_token"


def test_cfg02_transcription_overrides_kept() -> None:
    t = parse_config({"transcription": {"model": "large-v3", "language": "es", "min_speakers": 2,
                                        "max_speakers": 4, "job_timeout_minutes": 120}}).transcription
    assert (t.model, t.language, t.min_speakers, t.max_speakers, t.job_timeout_minutes) == ("large-v3", "es", 2, 4, 120)


def test_cfg03_any_model_string_accepted() -> None:
    assert parse_config({"transcription": {"model": "/opt/models/my-finetune"}}).transcription.model == (
        "/opt/models/my-finetune")


def test_cfg04_hf_token_path_override() -> None:
    cfg = parse_config({"transcription": {"hf_token_ssm_path": "/show/hf"}})
    assert cfg.transcription.hf_token_ssm_path == "/show/hf"


def test_cfg05_normalization_defaults_are_caption_grade() -> None:
    # The predecessor used 48 chars / 10 words per segment; Netflix's guideline is 2 lines of 42.
    n = parse_config({}).normalization
    assert (n.normalize, n.max_chars_per_line, n.max_lines_per_segment, n.segment_char_limit) == (True, 42, 2, 84)
    assert (n.split_segment_at_speaker_change, n.punctuation_split_threshold) == (True, 0.7)
    assert n.punctuation_chars == [".", ",", "?", "!", ";", ":"]
    assert (n.max_duration_seconds, n.min_duration_seconds) == (7.0, 0.8)


def test_cfg06_partial_normalization_keeps_other_defaults() -> None:
    n = parse_config({"normalization": {"max_words_per_segment": 5}}).normalization
    assert n.max_words_per_segment == 5 and n.max_chars_per_line == 42


def test_cfg07_captions_defaults() -> None:
    c = parse_config({}).captions
    assert (c.generate_vtt, c.generate_srt, c.generate_simplified_json) == (True, True, True)
    assert (c.highlight_words, c.highlight_with, c.include_speaker_names) == (False, "underline", "when-changes")
    # Changed deliberately (issue #8): voice tags and reading-speed timing are on by default.
    assert (c.generate_text, c.generate_markdown, c.vtt_voice_tags, c.reading_speed_timing) == (True, True, True, True)
    assert (c.generate_podcast_json, c.generate_podcast_html, c.generate_transcript_page, c.generate_rss_snippet,
            c.generate_chapters, c.podcast_json_word_level) == (True, True, True, True, True, False)


def test_cfg08_captions_override_keeps_rest() -> None:
    c = parse_config({"captions": {"generate_vtt": False, "highlight_with": "bold",
                                   "include_speaker_names": "always"}}).captions
    assert (c.generate_vtt, c.generate_srt) == (False, True)
    assert (c.highlight_with, c.include_speaker_names) == ("bold", "always")


def test_cfg09_empty_config_has_all_sections() -> None:
    cfg = parse_config({})
    assert cfg == PipelineConfig()
    assert cfg.replacement_rules == [] and cfg.llm_refinement is None


def test_cfg10_nested_partial_overrides_merge() -> None:
    cfg = parse_config({"transcription": {"language": "de"}, "captions": {"generate_srt": False}})
    assert cfg.transcription.language == "de" and cfg.transcription.model == "large-v2"
    assert cfg.captions.generate_srt is False and cfg.captions.generate_vtt is True


def test_cfg11_regex_rule_kept_verbatim() -> None:
    rule = parse_config({"replacement_rules": [{"type": "regex", "search": r"E\s+C\s+2",
                                                "replacement": "EC2"}]}).replacement_rules[0]
    assert isinstance(rule, RegexRule) and rule.search == r"E\s+C\s+2"


def test_cfg12_literal_rule_accepted_with_defaults() -> None:
    rule = parse_config({"replacement_rules": [{"type": "literal", "search": "Owen",
                                                "replacement": "Eoin"}]}).replacement_rules[0]
    assert isinstance(rule, LiteralRule) and (rule.whole_word, rule.ignore_case) == (False, False)


def test_cfg13_unknown_rule_type_rejected() -> None:
    errors = errors_of({"replacement_rules": [{"type": "glob", "search": "a", "replacement": "b"}]})
    assert errors and errors[0].startswith("replacement_rules[0]")
    assert "literal" in errors[0] and "regex" in errors[0]


def test_cfg14_llm_model_settings_defaults() -> None:
    llm = parse_config({"llm_refinement": {"model_id": "eu.anthropic.claude-sonnet-4-20250514-v1:0"}}).llm_refinement
    assert llm is not None
    assert (llm.model_settings.max_tokens, llm.model_settings.temperature) == (8192, 0.2)
    assert (llm.on_error, llm.max_concurrency) == ("skip", 4)


def test_cfg15_partial_model_settings_get_defaults() -> None:
    llm = parse_config({"llm_refinement": {"model_id": "m", "model_settings": {"max_tokens": 1000}}}).llm_refinement
    assert llm is not None and llm.model_settings.temperature == 0.2


def test_cfg16_extra_model_fields_go_through_a_declared_field() -> None:
    # Predecessor kept unknown modelConfig keys and then never sent them (defect 12).
    llm = parse_config({"llm_refinement": {"model_id": "m", "model_settings": {
        "top_p": 0.9, "additional_model_request_fields": {"top_k": 50}}}}).llm_refinement
    assert llm is not None and llm.model_settings.top_p == 0.9
    assert llm.model_settings.additional_model_request_fields == {"top_k": 50}
    assert errors_of({"llm_refinement": {"model_id": "m", "model_settings": {"top_k": 50}}}) == [
        "llm_refinement.model_settings.top_k: unknown option (did you mean 'top_p'?)"]


def test_cfg17_18_additional_context_optional() -> None:
    assert parse_config({"llm_refinement": {"model_id": "m", "additional_context": "AWS show"}}).llm_refinement
    llm = parse_config({"llm_refinement": {"model_id": "m"}}).llm_refinement
    assert llm is not None and llm.additional_context is None


def test_unknown_keys_name_the_dotted_path_and_closest_option() -> None:
    assert errors_of({"transcription": {"modle": "x"}}) == [
        "transcription.modle: unknown option (did you mean 'model'?)"]
    assert errors_of({"normalisation": {}}) == ["normalisation: unknown option (did you mean 'normalization'?)"]
    assert errors_of({"captions": {"generateVtt": False}}) == [
        "captions.generateVtt: unknown option (did you mean 'generate_vtt'?)"]
    assert errors_of({"llm_refinement": {"model_id": "m", "modelConfig": {}}}) == [
        "llm_refinement.modelConfig: unknown option (did you mean 'model_settings'?)"]


def test_every_error_is_reported_at_once() -> None:
    errors = errors_of({"transcription": {"job_timeout_minutes": 721}, "captions": {"highlight_with": "blink"},
                        "normalization": {"max_words_per_segment": 0}})
    assert len(errors) == 3
    assert any(e.startswith("transcription.job_timeout_minutes") and "720" in e for e in errors)
    assert any(e.startswith("normalization.max_words_per_segment") for e in errors)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"transcription": {"min_speakers": 3, "max_speakers": 2}},
         "min_speakers (3) is greater than max_speakers (2)"),
        ({"transcription": {"num_speakers": 5, "max_speakers": 2}}, "num_speakers is greater than max_speakers"),
        ({"normalization": {"punctuation_split_threshold": 1.5}}, "less than or equal to 1"),
        ({"llm_refinement": {"model_id": "m", "suggestion_validation": {"max_word_change_ratio": -0.1}}},
         "greater than or equal to 0"),
        ({"replacement_rules": [{"type": "literal", "search": "", "replacement": "x"}]}, "at least 1 character"),
        ({"replacement_rules": [{"type": "regex", "search": "(unclosed", "replacement": "x"}]},
         "invalid regular expression '(unclosed': missing )"),
        ({"replacement_rules": [{"type": "regex", "search": "a*", "replacement": "x"}]}, "matches the empty string"),
        ({"replacement_rules": [{"type": "regex", "search": "(a)", "replacement": r"\2"}]}, "invalid replacement"),
        ({"storage": {"input_prefix": "media/", "output_prefix": "media/out/"}}, "must not contain one another"),
        ({"worker": {"instance_requirements": {"vcpu_min": 8, "vcpu_max": 4}}}, "vcpu_min is greater than vcpu_max"),
        ({"speakers": [{"name": "Eoin"}, {"name": "Eoin"}]}, "speaker names must be unique: Eoin"),
        ({"transcription": {"heartbeat_timeout_minutes": 90}}, "heartbeat_timeout_minutes is longer"),
    ],
)
def test_cross_field_and_range_checks(data: dict[str, object], fragment: str) -> None:
    assert any(fragment in e for e in errors_of(data)), errors_of(data)


def test_regex_flags_compile() -> None:
    rule = parse_config({"replacement_rules": [{"type": "regex", "search": "aws", "replacement": "AWS",
                                                "flags": ["IGNORECASE"]}]}).replacement_rules[0]
    assert isinstance(rule, RegexRule) and rule.compiled().sub(rule.replacement, "Aws lambda") == "AWS lambda"


@pytest.mark.parametrize(
    ("model_id", "region"),
    [("eu.anthropic.claude-sonnet-4-20250514-v1:0", "eu-west-1"), ("us.x", "us-east-1"),
     ("apac.x", "ap-northeast-1"), ("anthropic.claude-3-haiku", "us-east-1"),
     ("arn:aws:bedrock:ap-south-1:123456789012:inference-profile/apac.x", "ap-south-1")],
)
def test_bedrock_region_from_model_id(model_id: str, region: str) -> None:
    assert region_from_model_id(model_id) == region


def test_overrides_are_validated_like_files() -> None:
    cfg = PipelineConfig().with_overrides({"transcription": {"language": "fr"}})
    assert cfg.transcription.language == "fr" and cfg.transcription.model == "large-v2"
    with pytest.raises(ConfigError, match=r"transcription\.langauge"):
        PipelineConfig().with_overrides({"transcription": {"langauge": "fr"}})


def test_json_round_trip_is_lossless() -> None:
    cfg = load_config(REPO / "podwhisperer.example.yaml")
    assert parse_config(json.loads(cfg.to_json())) == cfg


def test_example_file_documents_every_option_with_its_default() -> None:
    example = yaml.safe_load((REPO / "podwhisperer.example.yaml").read_text())
    defaults = PipelineConfig().model_dump(mode="json")
    for section, values in defaults.items():
        assert section in example, f"example lacks section {section}"
        if isinstance(values, dict):
            for key, value in values.items():
                assert key in example[section], f"example lacks {section}.{key}"
                assert example[section][key] == value, f"{section}.{key} differs from its default"


def test_load_config_reads_yaml_and_json(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("transcription:\n  language: de\n")
    (tmp_path / "b.json").write_text('{"transcription": {"language": "it"}}')
    assert load_config(tmp_path / "a.yaml").transcription.language == "de"
    assert load_config(tmp_path / "b.json").transcription.language == "it"
    (tmp_path / "c.yaml").write_text("transcription: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(tmp_path / "c.yaml")


def test_cli_validate_lists_every_error_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "podwhisperer.yaml"
    bad.write_text("transcription:\n  modle: tiny\n  min_speakers: 0\ncaptions:\n  generate_vt: true\n")
    result = CliRunner().invoke(app, ["config", "validate", str(bad)])
    assert result.exit_code == 1
    assert "transcription.modle: unknown option (did you mean 'model'?)" in result.output
    assert "captions.generate_vt: unknown option (did you mean 'generate_vtt'?)" in result.output
    assert "transcription.min_speakers" in result.output
    good = CliRunner().invoke(app, ["config", "validate", str(REPO / "podwhisperer.example.yaml")])
    assert good.exit_code == 0 and "valid" in good.output


def test_cli_schema_is_the_models_schema() -> None:
    result = CliRunner().invoke(app, ["config", "schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema == config_json_schema()
    assert schema["additionalProperties"] is False
    assert "replacement_rules" in schema["properties"]
