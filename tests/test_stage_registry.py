"""One stage registry: ``refine`` and the durable workflow run the same stages, in the same order, to the same bytes."""

from __future__ import annotations

import json

import pytest
from aws_durable_execution_sdk_python.lambda_service import InvocationStatus
from fakes.audio import AudioClips
from fakes.aws import FakeBedrock
from fakes.pipeline import PipelineHarness

from podwhisperer.runtime.captions import caption_format
from podwhisperer.runtime.config import PipelineConfig, parse_config
from podwhisperer.runtime.keys import output_keys
from podwhisperer.runtime.publish import publication
from podwhisperer.runtime.refine import refine_transcript
from podwhisperer.runtime.stages import STAGES, hash_material
from podwhisperer.runtime.transcript import Transcript

pytestmark = pytest.mark.timeout(120)
pytest_plugins = ["pipeline_fixtures"]

CONFIG = parse_config({
    "speakers": [{"name": "Alice"}, {"name": "Bob"}],
    "transcription": {"hotwords": ["Lambda"]},
    "replacement_rules": [{"type": "literal", "search": "lambda", "replacement": "Lambda", "whole_word": True}],
    "llm_refinement": {"model_id": "eu.anthropic.claude-test", "chunk_max_words": 120},
    "normalization": {"max_chars_per_line": 32},
    "captions": {"highlight_words": True, "vtt_voice_tags": True, "include_speaker_names": "always"},
})


@pytest.mark.parametrize("harness", [{"config": CONFIG}], indirect=True)
def test_the_durable_workflow_publishes_exactly_what_refine_produces(
    harness: PipelineHarness, audio_clips: AudioClips,
) -> None:
    harness.start_worker()
    result = harness.run(harness.stack.upload("input/same.mp3", audio_clips.tone()))
    assert result.status is InvocationStatus.SUCCEEDED, result.error
    outputs = json.loads(result.result)["outputKeys"]
    objects = harness.stack.objects("output/")

    raw = Transcript.from_json(objects[outputs["rawTranscript"]])
    episode = publication(CONFIG, output_keys("input/same.mp3", CONFIG.storage), raw)
    expected = refine_transcript(raw, CONFIG, FakeBedrock(), episode)
    assert objects[outputs["refinedTranscript"]] == expected.refined.to_json()
    assert set(outputs["captions"]) == set(expected.captions)
    for name, key in outputs["captions"].items():
        assert objects[key] == expected.captions[name].encode(), name
    refine_order = [report.name for report in expected.stages if report.name != "captions"]
    workflow_order = [op.name for op in result.operations if op.name in {s.name for s in STAGES}]
    assert refine_order == [stage.report_name for stage in STAGES]
    # a stage that is not configured leaves no step (here the offline chapters: a model is configured)
    assert workflow_order == [stage.name for stage in STAGES if stage.settings(CONFIG) is not None]


def test_a_stage_hashes_exactly_the_settings_its_transform_receives() -> None:
    cfg = PipelineConfig()
    for stage in STAGES:
        settings = stage.settings(cfg)
        changed = stage.settings(CONFIG)
        if settings is None or changed is None:
            continue
        assert (hash_material(settings) == hash_material(changed)) == (settings == changed), stage.name


def test_refine_reports_disabled_and_unconfigured_stages_as_skipped() -> None:
    cfg = parse_config({"timing_gaps": {"enabled": False}, "normalization": {"normalize": False}})
    reports = refine_transcript(Transcript(segments=[]), cfg).stages
    assert [(r.name, r.status, r.reason) for r in reports] == [
        ("fill_timing_gaps", "done", None),  # never skipped: it still drops times outside the audio (issue 12)
        ("replacements", "skipped", "no replacement rules configured"),
        ("llm_refinement", "skipped", "llm_refinement not configured"),
        ("normalization", "skipped", "disabled in config"),
        ("chapters", "skipped", "chapters not configured"),  # no model: the offline fallback runs instead
        ("chapters_offline", "done", None),
        ("captions", "done", None),
    ]
    assert caption_format("vtt").content_type.startswith("text/vtt")
