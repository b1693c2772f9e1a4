"""The publish outputs from one refined transcript: every word present, chapters recorded on the transcript."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from html import unescape

import webvtt
from publish_helpers import parse_html, validate_schema

from benchmarks.synthetic import make_transcript
from podwhisperer.runtime.captions import render_vtt
from podwhisperer.runtime.config import PipelineConfig
from podwhisperer.runtime.podcast import outputs
from podwhisperer.runtime.podcast.chapters import FALLBACK_NOTICE
from podwhisperer.runtime.podcast.chapters_stage import (
    chapters_of,
    chapters_settings,
    fallback_settings,
    offline,
)
from podwhisperer.runtime.podcast.outputs import Publication
from podwhisperer.runtime.podcast.rss import NAMESPACE
from podwhisperer.runtime.refine import refine_transcript
from podwhisperer.runtime.transcript import Transcript

FILES = {"vtt": "shows/ep 42_caption.vtt", "srt": "shows/ep 42_caption.srt",
         "podcast_json": "shows/ep 42_podcast_transcript.json", "podcast_html": "shows/ep 42_podcast_transcript.html",
         "chapters": "shows/ep 42_chapters.json"}


def refined(hours: float = 0.25) -> Transcript:
    """Refined with the default config except chapters (the tests add them where they want them)."""
    config = PipelineConfig.model_validate({"chapters": {"enabled": False}})
    return refine_transcript(Transcript.from_dict(make_transcript(hours)), config).refined


def publication(config: PipelineConfig | None = None) -> Publication:
    return Publication.for_episode(config or PipelineConfig.model_validate({
        "episode": {"title": "Ep 42 & friends"}, "publishing": {"public_base_url": "https://cdn.example.com/pod"}}),
        "ep 42.mp3", FILES, language="en")


def test_every_refined_word_is_in_the_vtt_the_html_transcript_and_the_podcast_json() -> None:
    transcript = refined()
    cfg = PipelineConfig().captions
    words = [token for segment in transcript.segments for token in segment.text.split()]
    cues = webvtt.from_buffer(io.StringIO(render_vtt(transcript, cfg)))
    vtt_words = unescape(" ".join(c.text for c in cues)).split()  # webvtt-py leaves &amp; as written
    assert vtt_words == words
    html = parse_html(outputs.podcast_html(transcript, cfg, publication()))
    assert html.text_of("p").split() == words
    for word_level in (False, True):
        cfg_words = cfg.model_copy(update={"podcast_json_word_level": word_level})
        document = json.loads(outputs.podcast_json(transcript, cfg_words, publication()))
        validate_schema(document, "podcast_transcript.schema.json")
        assert " ".join(s["body"] for s in document["segments"]).split() == words
    page = parse_html(outputs.transcript_page(transcript, cfg, publication()))
    assert page.text_of("span").split() == words  # no chapters: the only spans are the transcript lines
    assert page.text_of("cite").split()[0] == "Speaker"


def test_without_a_model_the_offline_fallback_records_chapters_and_the_outputs_follow() -> None:
    config = PipelineConfig()
    assert chapters_settings(config) is None and fallback_settings(config) is not None
    outcome = offline(refined(1.0), config.chapters)
    assert outcome.stats["notice"] == FALLBACK_NOTICE.format(count=outcome.stats["chapters"])
    chapters = chapters_of(outcome.transcript)
    assert chapters is not None and chapters.source == "fallback" and len(chapters.chapters) == 6
    assert json.loads(outcome.transcript.to_json())["chapters"]["source"] == "fallback"
    cfg = config.captions
    document = json.loads(outputs.chapters_json(outcome.transcript, cfg, publication()) or "")
    validate_schema(document, "podcast_chapters.schema.json")
    assert document["title"] == "Ep 42 & friends" and document["fileName"] == "ep 42.mp3"
    assert outputs.show_notes(outcome.transcript, cfg, publication()) is None  # nothing honest to say offline
    nav = parse_html(outputs.transcript_page(outcome.transcript, cfg, publication())).text_of("nav")
    assert nav.startswith("Chapters 0:00:00")
    item = ET.fromstring(f'<item xmlns:podcast="{NAMESPACE}">'
                         f"{outputs.rss_snippet(outcome.transcript, cfg, publication())}</item>")
    [chapters_tag] = item.findall(f"{{{NAMESPACE}}}chapters")
    assert chapters_tag.get("url") == "https://cdn.example.com/pod/shows/ep%2042_chapters.json"


def test_without_chapters_nothing_chapter_shaped_is_published() -> None:
    transcript, cfg = refined(), PipelineConfig().captions
    assert outputs.chapters_json(transcript, cfg, publication()) is None
    assert outputs.show_notes(transcript, cfg, publication()) is None
    assert "podcast:chapters" not in outputs.rss_snippet(transcript, cfg, publication())


def test_a_model_from_refinement_or_chapters_selects_the_bedrock_stage() -> None:
    config = PipelineConfig.model_validate({"llm_refinement": {"model_id": "eu.anthropic.claude-x-v1:0"},
                                            "episode": {"title": "Ep"}, "speakers": [{"name": "Ada"}]})
    settings = chapters_settings(config)
    assert settings is not None and settings.model_id == "eu.anthropic.claude-x-v1:0"
    assert settings.region == "eu-west-1" and settings.episode.title == "Ep"
    assert fallback_settings(config) is None
    own = config.with_overrides({"chapters": {"model_id": "us.amazon.nova-pro-v1:0"}})
    assert chapters_settings(own).model_id == "us.amazon.nova-pro-v1:0" and chapters_settings(own).region == "us-east-1"
    off = config.with_overrides({"chapters": {"enabled": False}})
    assert chapters_settings(off) is None and fallback_settings(off) is None


def test_the_page_plays_the_public_audio_url_when_configured() -> None:
    transcript, cfg = refined(0.05), PipelineConfig().captions
    local = parse_html(outputs.transcript_page(transcript, cfg, publication()))
    assert dict(local.tags)["audio"]["src"] == "ep%2042.mp3"
    config = PipelineConfig.model_validate({"publishing": {"audio_base_url": "https://media.example.com/ep/"}})
    public = parse_html(outputs.transcript_page(transcript, cfg, publication(config)))
    assert dict(public.tags)["audio"]["src"] == "https://media.example.com/ep/ep%2042.mp3"
    assert public.text_of("title") == "ep 42"  # no episode title: the audio's name
