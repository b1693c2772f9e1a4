"""Podcasting 2.0 JSON and HTML transcripts, the RSS snippet and chapters JSON, read back by independent readers."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from publish_helpers import parse_html, sample_transcript, validate_schema

from podwhisperer.runtime.podcast.chapters import Chapter, ChaptersResult, render_chapters_json, render_show_notes
from podwhisperer.runtime.podcast.html_transcript import render_html_transcript
from podwhisperer.runtime.podcast.page import render_transcript_page
from podwhisperer.runtime.podcast.podcast_json import render_podcast_json
from podwhisperer.runtime.podcast.rss import NAMESPACE, render_rss_snippet
from podwhisperer.runtime.podcast.speakers import display_name
from podwhisperer.runtime.transcript import Segment, Transcript, Word

TRICKY = "Fish & chips <b>not bold</b> \"quoted\" 'single' — ünïcode </script>"


def tricky_transcript() -> Transcript:
    return Transcript([
        Segment(0.0, 2.5, TRICKY, "SPEAKER_00", [Word(w, 0.1 * i, 0.1 * i + 0.1, 0.9, "SPEAKER_00")
                                                   for i, w in enumerate(TRICKY.split())]),
        Segment(2.5, 5.0, "Thanks for having me!", "Grace <Hopper>", None),
        Segment(5.0, 6.0, "   ", None, None),
    ])


def all_words(transcript: Transcript) -> list[str]:
    return [token for segment in transcript.segments for token in segment.text.split()]


def test_display_names() -> None:
    assert display_name("SPEAKER_00") == "Speaker 1"
    assert display_name("SPEAKER_11") == "Speaker 12"
    assert display_name("  Ada   Lovelace ") == "Ada Lovelace"
    assert display_name(None) is None and display_name(" ") is None


def test_podcast_json_is_valid_cue_level_with_display_names_and_every_word() -> None:
    transcript = sample_transcript()
    document = json.loads(render_podcast_json(transcript))
    validate_schema(document, "podcast_transcript.schema.json")
    assert document["version"] == "1.0.0"
    assert {segment["speaker"] for segment in document["segments"]} == {"Alice", "Bob"}
    assert " ".join(s["body"] for s in document["segments"]).split() == all_words(transcript)
    starts = [s["startTime"] for s in document["segments"]]
    assert starts == sorted(starts) and all(s["endTime"] > s["startTime"] for s in document["segments"])


def test_podcast_json_word_level_has_one_segment_per_word() -> None:
    transcript = sample_transcript()
    document = json.loads(render_podcast_json(transcript, word_level=True))
    validate_schema(document, "podcast_transcript.schema.json")
    assert [s["body"] for s in document["segments"]] == all_words(transcript)


def test_podcast_json_leaves_speaker_out_when_nobody_is_known_and_keeps_untimed_words() -> None:
    transcript = Transcript([Segment(1.0, 2.0, "about 42 % more", None,
                                     [Word("about", 1.0, 1.2), Word("42"), Word("%"), Word("more", 1.6, 2.0)])])
    for word_level in (False, True):
        document = json.loads(render_podcast_json(transcript, word_level=word_level))
        validate_schema(document, "podcast_transcript.schema.json")
        assert all("speaker" not in s for s in document["segments"])
        assert " ".join(s["body"] for s in document["segments"]).split() == ["about", "42", "%", "more"]


def test_podcast_json_names_unnamed_diarization_labels_and_escapes_nothing() -> None:
    document = json.loads(render_podcast_json(tricky_transcript()))
    validate_schema(document, "podcast_transcript.schema.json")
    assert document["segments"][0] == {"speaker": "Speaker 1", "startTime": 0, "endTime": 2.5,
                                       "body": " ".join(TRICKY.split())}
    assert len(document["segments"]) == 2  # the blank segment is left out


def test_html_transcript_is_valid_escaped_html5_with_cite_time_p() -> None:
    transcript = tricky_transcript()
    document = render_html_transcript(transcript, title="Ep <1> & more", language="en")
    html = parse_html(document)
    assert html.text_of("title") == "Ep <1> & more"
    assert html.text_of("cite") == "Speaker 1: Grace <Hopper>:"
    assert html.text_of("time") == "0:00:00 0:00:02"
    assert html.text_of("p").split() == all_words(transcript)
    assert [attrs["datetime"] for tag, attrs in html.tags if tag == "time"] == ["PT0S", "PT2.500S"]
    assert "<b>" not in document and "</script>" not in document


def test_html_transcript_without_speakers_has_no_cite_and_breaks_at_long_pauses() -> None:
    transcript = Transcript([Segment(0, 2, "One.", None), Segment(2.2, 3, "Two.", None),
                             Segment(9, 10, "Three.", None)])
    html = parse_html(render_html_transcript(transcript))
    assert "cite" not in html.texts
    assert html.text_of("time") == "0:00:00 0:00:09"


def test_transcript_page_is_valid_self_contained_html() -> None:
    transcript = tricky_transcript()
    chapters = [Chapter(0.0, "Intro & <welcome>"), Chapter(2.5, "Grace")]
    document = render_transcript_page(transcript, audio_src="ep 1.mp3", title="Ep <1>", chapters=chapters)
    html = parse_html(document)
    assert not any(attrs.get("src", "").startswith(("http:", "https:", "//")) for _, attrs in html.tags)
    assert not any(tag == "link" for tag, _ in html.tags)
    audio = next(attrs for tag, attrs in html.tags if tag == "audio")
    assert audio["src"] == "ep 1.mp3"
    assert html.text_of("nav") == "Chapters 0:00:00 Intro & <welcome> 0:00:02 Grace"
    lines = [attrs for tag, attrs in html.tags if tag == "span" and attrs.get("class") == "line"]
    assert [float(line["data-start"]) for line in lines] == [0.0, 2.5]
    assert document.count("</script>") == 1


@pytest.mark.parametrize("base_url", [None, "https://cdn.example.com/pod"])
def test_rss_snippet_parses_as_item_tags_with_mime_types_rel_and_language(base_url: str | None) -> None:
    files = {"vtt": "shows/ep 1_caption.vtt", "srt": "shows/ep 1_caption.srt",
             "podcast_json": "shows/ep 1_podcast_transcript.json", "podcast_html": "shows/ep 1_podcast_transcript.html"}
    snippet = render_rss_snippet(files, base_url=base_url, language="en", chapters_file="shows/ep 1_chapters.json")
    item = ET.fromstring(f'<item xmlns:podcast="{NAMESPACE}">{snippet}</item>')
    transcripts = item.findall(f"{{{NAMESPACE}}}transcript")
    assert [(t.get("type"), t.get("rel")) for t in transcripts] == [
        ("text/vtt", "captions"), ("application/x-subrip", "captions"), ("application/json", None),
        ("text/html", None)]
    assert {t.get("language") for t in transcripts} == {"en"}
    prefix = "https://cdn.example.com/pod/" if base_url else ""
    assert transcripts[0].get("url") == prefix + "shows/ep%201_caption.vtt"
    [chapters] = item.findall(f"{{{NAMESPACE}}}chapters")
    assert chapters.get("type") == "application/json+chapters"
    assert chapters.get("url") == prefix + "shows/ep%201_chapters.json"


def test_rss_snippet_escapes_attribute_values() -> None:
    snippet = render_rss_snippet({"vtt": 'a"b&c<d>.vtt'}, base_url=None, language=None)
    item = ET.fromstring(f'<item xmlns:podcast="{NAMESPACE}">{snippet}</item>')
    [tag] = item
    assert tag.get("url") == "a%22b%26c%3Cd%3E.vtt" and tag.get("language") is None


def test_chapters_json_matches_the_schema_and_show_notes_list_chapters() -> None:
    result = ChaptersResult([Chapter(0.0, "Intro"), Chapter(312.5, "Serverless *GPUs*")], summary="Two people talk.",
                            people=["Ada Lovelace"], things=["WhisperX"], keywords=["serverless", "gpu"])
    document = json.loads(render_chapters_json(result, title="Ep 1", file_name="ep1.mp3"))
    validate_schema(document, "podcast_chapters.schema.json")
    assert document["chapters"] == [{"startTime": 0, "title": "Intro"},
                                    {"startTime": 312.5, "title": "Serverless *GPUs*"}]
    notes = render_show_notes(result, title="Ep 1")
    assert "00:00:00 Intro" in notes and "00:05:12 Serverless \\*GPUs\\*" in notes
    assert "## People mentioned\n\n- Ada Lovelace" in notes and "## Things mentioned\n\n- WhisperX" in notes
    assert "serverless, gpu" in notes and "Two people talk." in notes
