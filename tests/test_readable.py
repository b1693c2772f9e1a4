"""Readable transcripts (.txt and .md) and render_captions' format selection."""

from __future__ import annotations

from typing import Any

from podwhisperer.runtime.captions import render_captions, render_markdown, render_text
from podwhisperer.runtime.config import CaptionsConfig
from podwhisperer.runtime.transcript import Transcript

CFG = CaptionsConfig()


def t(*segments: dict[str, Any]) -> Transcript:
    return Transcript.from_dict({"segments": list(segments)})


DIALOGUE = t(
    {"start": 0.0, "end": 2.0, "text": " Welcome back to the show.", "speaker": "Alice"},
    {"start": 2.0, "end": 4.0, "text": "Today: serverless GPUs.", "speaker": "Alice"},
    {"start": 4.5, "end": 6.0, "text": "Thanks for having me!", "speaker": "Bob"},
    {"start": 3725.0, "end": 3727.0, "text": "Bye *everyone*_", "speaker": "Alice"},
)


def test_text_joins_consecutive_segments_into_speaker_paragraphs() -> None:
    assert render_text(DIALOGUE, CFG) == (
        "[00:00:00] Alice: Welcome back to the show. Today: serverless GPUs.\n\n"
        "[00:00:04] Bob: Thanks for having me!\n\n"
        "[01:02:05] Alice: Bye *everyone*_\n")


def test_markdown_paragraphs_with_name_and_time() -> None:
    assert render_markdown(DIALOGUE, CFG) == (
        "**Alice** · `00:00:00`\\\nWelcome back to the show. Today: serverless GPUs.\n\n"
        "**Bob** · `00:00:04`\\\nThanks for having me!\n\n"
        "**Alice** · `01:02:05`\\\nBye \\*everyone\\*\\_\n")


def test_unlabelled_transcript_breaks_paragraphs_at_long_pauses() -> None:
    plain = t({"start": 0.0, "end": 1.0, "text": "One."}, {"start": 1.2, "end": 2.0, "text": "Two."},
              {"start": 5.0, "end": 6.0, "text": "Three."})
    assert render_text(plain, CFG) == "[00:00:00] One. Two.\n\n[00:00:05] Three.\n"
    assert render_markdown(plain, CFG) == "`00:00:00`\\\nOne. Two.\n\n`00:00:05`\\\nThree.\n"


def test_empty_segments_are_skipped_and_empty_transcript_is_empty() -> None:
    assert render_text(t({"start": 0, "end": 1, "text": "  ", "speaker": "A"}), CFG) == ""
    assert render_markdown(t(), CFG) == ""


def test_word_level_speaker_names_a_segment() -> None:
    one = t({"start": 0, "end": 1, "text": "Hi", "words": [{"word": "Hi", "start": 0, "end": 1, "speaker": "Eoin"}]})
    assert render_text(one, CFG) == "[00:00:00] Eoin: Hi\n"


def test_render_captions_returns_only_enabled_formats() -> None:
    assert list(render_captions(DIALOGUE, CFG))[:5] == ["vtt", "srt", "json", "txt", "md"]
    only = CaptionsConfig(generate_vtt=False, generate_simplified_json=False, generate_markdown=False,
                          generate_podcast_json=False, generate_podcast_html=False, generate_transcript_page=False,
                          generate_rss_snippet=False)
    outputs = render_captions(DIALOGUE, only)
    assert list(outputs) == ["srt", "txt"]
    assert outputs["srt"].startswith("1\n00:00:00,000 --> 00:00:02,000\nAlice: Welcome back to the show.\n")


def test_render_captions_matches_the_single_renderers() -> None:
    from podwhisperer.runtime.captions import render_srt, render_vtt

    for cfg in (CFG, CaptionsConfig(vtt_voice_tags=True), CaptionsConfig(highlight_words=True)):
        outputs = render_captions(DIALOGUE, cfg)
        assert outputs["vtt"] == render_vtt(DIALOGUE, cfg)
        assert outputs["srt"] == render_srt(DIALOGUE, cfg)
