"""Chapters, summary and show notes: Bedrock stubbed (the real boto3 client with botocore's Stubber)."""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from publish_helpers import validate_schema

from podwhisperer.runtime.config import ChaptersConfig, EpisodeConfig, Speaker
from podwhisperer.runtime.podcast.chapters import (
    Chapter,
    ChaptersResult,
    build_chapters_request,
    fallback_chapters,
    plan_chapter_chunks,
    publishable_chapters,
    render_chapters_json,
)
from podwhisperer.runtime.podcast.chapters_bedrock import ChaptersStepError, chapters_with_bedrock
from podwhisperer.runtime.transcript import Segment, Transcript

MODEL = "eu.anthropic.claude-sonnet-4-20250514-v1:0"
CFG = ChaptersConfig(min_chapter_seconds=60, max_chapters=5, chunk_max_words=400)


def long_transcript(minutes: int = 30) -> Transcript:
    """A segment every 10 s; every third one ends a sentence, so sentence starts are every 30 s."""
    segments = []
    for index in range(minutes * 6):
        end_mark = "." if index % 3 == 2 else ","
        segments.append(Segment(index * 10.0, index * 10.0 + 9.0, f"topic {index // 30} line {index}{end_mark}",
                                f"SPEAKER_0{index % 2}"))
    return Transcript(segments)


def answer(chapters: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    body = {"summary": "Ada and Grace talk about serverless GPUs.", "chapters": chapters,
            "people": ["Ada Lovelace", "Grace Hopper"], "things": ["WhisperX", "Bedrock"],
            "keywords": ["serverless", "GPU"], **extra}
    return response(json.dumps(body))


def response(text: str, stop_reason: str = "end_turn") -> dict[str, Any]:
    return {"output": {"message": {"role": "assistant", "content": [{"text": text}]}}, "stopReason": stop_reason,
            "usage": {"inputTokens": 1000, "outputTokens": 100, "totalTokens": 1100}, "metrics": {"latencyMs": 5}}


def run(transcript: Transcript, responses: list[dict[str, Any]], cfg: ChaptersConfig = CFG) -> tuple[Any, Any]:
    client = boto3.Session(aws_access_key_id="t", aws_secret_access_key="t").client("bedrock-runtime",
                                                                                      region_name="eu-west-1")
    with Stubber(client) as stubber:
        for item in responses:
            stubber.add_response("converse", item, {"modelId": MODEL, "system": ANY, "messages": ANY,
                                                    "inferenceConfig": ANY})
        outcome = chapters_with_bedrock(transcript, cfg, MODEL, EpisodeConfig(title="Ep 42"),
                                        [Speaker(name="Ada Lovelace", description="host")], client,
                                        vocabulary=["WhisperX"], sleep=lambda _: None)
        stubber.assert_no_pending_responses()
    return outcome


def short_transcript() -> Transcript:
    return long_transcript(10)  # 60 segments: one chunk at 400 words


def test_a_good_answer_gives_snapped_chapters_summary_and_usage() -> None:
    result, stats = run(short_transcript(), [answer([
        {"start": 0, "title": "Intro"}, {"start": 181.0, "title": "Serverless GPUs"},
        {"start": 395, "title": "Costs"}])])
    assert [(c.start, c.title) for c in result.chapters] == [(0.0, "Intro"), (180.0, "Serverless GPUs"),
                                                            (390.0, "Costs")]
    assert result.summary.startswith("Ada and Grace")
    assert result.people == ["Ada Lovelace", "Grace Hopper"] and result.keywords == ["serverless", "GPU"]
    assert stats["status"] == "succeeded"
    assert stats["usage"] == {"input_tokens": 1000, "output_tokens": 100}
    validate_schema(json.loads(render_chapters_json(result)), "podcast_chapters.schema.json")


def test_a_malformed_answer_is_asked_again_once() -> None:
    result, stats = run(short_transcript(), [response("Sure! Here are your chapters: none"),
                                             answer([{"start": 0, "title": "Intro"}])])
    assert [c.title for c in result.chapters] == ["Intro"]
    assert stats["usage"]["input_tokens"] == 2000


def test_twice_malformed_is_skipped_and_reported() -> None:
    result, stats = run(short_transcript(), [response('{"chapters": [{"start": "soon"}]}'),
                                             response("{}", stop_reason="max_tokens")])
    assert result is None
    assert stats["status"] == "skipped"
    assert "cut off" in stats["problems"][0]


def test_a_huge_answer_is_refused_before_parsing_then_skipped_and_reported() -> None:
    huge = {"start": 0, "title": "Intro", "padding": "x" * 300_000}
    result, stats = run(short_transcript(), [answer([huge]), answer([huge])])
    assert result is None
    assert stats["status"] == "skipped"
    assert "bytes; at most" in stats["problems"][0]


def test_twice_malformed_fails_the_run_when_on_error_is_fail() -> None:
    with pytest.raises(ChaptersStepError, match="chapters"):
        run(short_transcript(), [response("no json"), response("still none")],
            CFG.model_copy(update={"on_error": "fail"}))


def test_an_out_of_order_answer_is_sorted_and_reported() -> None:
    result, _ = run(short_transcript(), [answer([
        {"start": 400, "title": "Costs"}, {"start": 0, "title": "Intro"}, {"start": 200, "title": "GPUs"}])])
    assert [c.title for c in result.chapters] == ["Intro", "GPUs", "Costs"]
    assert "put chapters in time order" in result.fixes


def test_an_oversized_answer_is_bounded_spaced_and_kept_inside_the_audio() -> None:
    proposed = [{"start": 0, "title": "Intro"}] + [{"start": s, "title": f"T{s}"} for s in range(30, 600, 30)]
    proposed += [{"start": 5000, "title": "After the end"}, {"start": 100, "title": "x" * 300}]
    result, _ = run(short_transcript(), [answer(proposed, keywords=[f"k{i}" for i in range(40)])])
    starts = [c.start for c in result.chapters]
    assert len(starts) <= CFG.max_chapters and starts[0] == 0
    assert all(b - a >= CFG.min_chapter_seconds for a, b in pairwise(starts))
    assert all(s < short_transcript().duration for s in starts)
    assert all(len(c.title) <= 80 for c in result.chapters)
    assert len(result.keywords) <= 15
    assert any("outside" in fix for fix in result.fixes) and any("longest" in fix for fix in result.fixes)


def test_a_long_episode_is_asked_chunk_by_chunk_then_combined() -> None:
    transcript = long_transcript(30)  # 180 segments of 4 words: 2 chunks at 400 words
    chunks = plan_chapter_chunks(transcript, CFG)
    assert len(chunks) == 2
    second_start = transcript.segments[chunks[1].first_segment].start
    result, stats = run(transcript, [
        answer([{"start": 0, "title": "Intro"}, {"start": 600, "title": "Part one"}]),
        answer([{"start": second_start + 90, "title": "Part two"}, {"start": 10, "title": "From the wrong part"}],
               people=["grace hopper", "Alan Turing"])])
    assert [c.title for c in result.chapters] == ["Intro", "Part one", "Part two"]
    assert result.people == ["Ada Lovelace", "Grace Hopper", "Alan Turing"]
    assert result.summary.count("Ada and Grace") == 2
    assert stats["chunks"] == 2 and stats["usage"]["output_tokens"] == 200


def test_the_prompt_carries_the_episode_context_and_the_transcript_only_as_data() -> None:
    transcript = short_transcript()
    [chunk] = plan_chapter_chunks(transcript, CFG)
    request = build_chapters_request(transcript, chunk, 1, CFG, MODEL, EpisodeConfig(title="Ep 42", description="GPUs"),
                                     [Speaker(name="Grace Hopper", description="guest")], ["WhisperX"])
    system = request["system"][0]["text"]
    assert "Episode title: Ep 42" in system and "Grace Hopper (guest)" in system and "WhisperX" in system
    assert "topic 0 line 0" not in system
    message = request["messages"][0]["content"][0]["text"]
    assert '"[0.0] Speaker 1: topic 0 line 0,"' in message
    assert request["inferenceConfig"] == {"maxTokens": CFG.max_tokens, "temperature": CFG.temperature}


def test_snapping_prefers_a_sentence_start_then_the_nearest_cue() -> None:
    transcript = short_transcript()
    fixes: list[str] = []
    chapters = publishable_chapters(transcript, [Chapter(0, "a"), Chapter(95, "b"), Chapter(300.2, "c")], CFG, fixes)
    assert [c.start for c in chapters] == [0.0, 90.0, 300.0]


def test_offline_fallback_is_honest_pause_based_chapters() -> None:
    transcript = long_transcript(60)
    result = fallback_chapters(transcript, CFG)
    assert result.source == "fallback" and not result.summary
    assert result.chapters[0].start == 0 and len(result.chapters) <= CFG.max_chapters
    assert all(b.start - a.start >= CFG.min_chapter_seconds for a, b in pairwise(result.chapters))
    assert result.chapters[1].title.startswith("topic")
    assert fallback_chapters(Transcript([]), CFG) == ChaptersResult(chapters=[], source="fallback")
