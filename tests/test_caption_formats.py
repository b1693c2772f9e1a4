"""The caption-format registry is the one place a format is declared: flags, names, file names, renderers."""

from __future__ import annotations

import pytest

from podwhisperer.runtime.captions import (
    CAPTION_FORMATS,
    enabled_formats,
    render_captions,
    render_markdown,
    render_simplified_json,
    render_srt,
    render_text,
    render_vtt,
)
from podwhisperer.runtime.config import CaptionsConfig, StorageConfig
from podwhisperer.runtime.keys import output_keys
from podwhisperer.runtime.transcript import Segment, Transcript, Word


def sample() -> Transcript:
    words = [Word("Hello", 0.0, 0.4, 0.9, "SPEAKER_00"), Word("there.", 0.5, 0.9, 0.9, "SPEAKER_00")]
    other = [Word("Hi", 1.5, 1.8, 0.9, "SPEAKER_01"), Word("Alice.", 1.9, 2.4, 0.9, "SPEAKER_01")]
    return Transcript(segments=[Segment(0.0, 0.9, " Hello there.", "SPEAKER_00", words),
                                Segment(1.5, 2.4, " Hi Alice.", "SPEAKER_01", other)])


def test_every_generate_flag_has_exactly_one_format_and_every_format_a_real_flag() -> None:
    flags = {name for name in CaptionsConfig.model_fields if name.startswith("generate_")}
    assert sorted(fmt.flag for fmt in CAPTION_FORMATS) == sorted(flags)
    assert len({fmt.name for fmt in CAPTION_FORMATS}) == len(CAPTION_FORMATS)
    assert len({fmt.suffix for fmt in CAPTION_FORMATS}) == len(CAPTION_FORMATS)
    assert all(fmt.content_type for fmt in CAPTION_FORMATS)


def test_output_keys_come_from_the_registry_and_reject_unknown_formats() -> None:
    keys = output_keys("input/shows/ep 1.mp3", StorageConfig())
    assert [keys.caption(fmt.name) for fmt in CAPTION_FORMATS] == [
        *(f"output/shows/ep 1_caption.{ext}" for ext in ("vtt", "srt", "json", "txt", "md")),
        "output/shows/ep 1_podcast_transcript.json", "output/shows/ep 1_podcast_transcript.html",
        "output/shows/ep 1_transcript.html", "output/shows/ep 1_chapters.json", "output/shows/ep 1_show_notes.md",
        "output/shows/ep 1_podcast.xml"]
    with pytest.raises(ValueError, match="unknown caption format 'docx'"):
        keys.caption("docx")


@pytest.mark.parametrize("voice_tags", [False, True])
def test_rendering_all_formats_together_equals_each_renderer_alone(voice_tags: bool) -> None:
    cfg = CaptionsConfig(vtt_voice_tags=voice_tags, highlight_words=True)
    together = render_captions(sample(), cfg)
    alone = {"vtt": render_vtt, "srt": render_srt, "json": render_simplified_json, "txt": render_text,
             "md": render_markdown}
    assert enabled_formats(cfg)[:5] == ["vtt", "srt", "json", "txt", "md"]
    # no chapters on this transcript: the chapters and show-notes formats have nothing to publish
    assert list(together) == [name for name in enabled_formats(cfg) if name not in ("chapters", "show_notes")]
    assert {name: together[name] for name in alone} == {name: render(sample(), cfg) for name, render in alone.items()}


def test_a_disabled_flag_drops_only_its_format() -> None:
    cfg = CaptionsConfig(generate_srt=False, generate_text=False)
    assert list(render_captions(sample(), cfg)) == ["vtt", "json", "md", "podcast_json", "podcast_html", "page", "rss"]
