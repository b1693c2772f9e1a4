"""The Bedrock edge of the chapters step: one Converse call per chunk, with retries, and the in-process run.

Throttling and server errors are retried with backoff (``cfg.max_retries``, through the refinement
edge's :func:`converse_with_retries`); a malformed answer is asked for once more. After that the chunk
is ``skipped`` (its reason reported) or, with ``on_error: fail``, :class:`ChaptersStepError` stops the run.
Results are small JSON-able dicts, the unit a durable ``map`` checkpoints.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from podwhisperer.runtime.adapters.llm import ANSWER_RETRIES, BedrockGaveUp, CallLog, Sleep, converse_with_retries
from podwhisperer.runtime.bedrock import ConverseClient
from podwhisperer.runtime.config import ChaptersConfig, EpisodeConfig, Speaker
from podwhisperer.runtime.podcast.chapters import (
    ChapterChunk,
    ChaptersAnswerError,
    ChaptersResult,
    build_chapters_request,
    combine_chapters,
    parse_chapters_answer,
    plan_chapter_chunks,
)
from podwhisperer.runtime.transcript import Transcript


class ChaptersStepError(RuntimeError):
    """The chapters step could not get a usable answer and ``on_error`` is ``fail``."""


def ask_for_chunk(transcript: Transcript, chunk: ChapterChunk, chunks: int, cfg: ChaptersConfig, model_id: str,
                  episode: EpisodeConfig, speakers: Sequence[Speaker], client: ConverseClient, *,
                  vocabulary: Sequence[str] = (), sleep: Sleep = time.sleep) -> dict[str, Any]:
    """``{"chunk", "status": "succeeded"|"skipped"|"failed", "reason", "answer", "usage", "attempts"}`` for one
    chunk."""
    request = build_chapters_request(transcript, chunk, chunks, cfg, model_id, episode, speakers, vocabulary)
    log = CallLog()
    reason = ""
    for _ in range(ANSWER_RETRIES + 1):
        try:
            response = converse_with_retries(client, request, cfg.max_retries, log, sleep)
        except BedrockGaveUp as error:
            return _give_up(chunk, error.reason, log.usage, log.calls, cfg, "failed")
        try:
            answer = parse_chapters_answer(response, chunk)
        except ChaptersAnswerError as error:
            reason = str(error)
            continue
        return {"chunk": chunk.to_dict(), "status": "succeeded", "reason": None, "answer": answer,
                "usage": log.usage, "attempts": log.calls}
    return _give_up(chunk, reason, log.usage, log.calls, cfg, "skipped")


def _give_up(chunk: ChapterChunk, reason: str, usage: dict[str, int], attempts: int, cfg: ChaptersConfig,
             status: str) -> dict[str, Any]:
    """``failed`` (Bedrock kept failing) or ``skipped`` (no usable answer), as the LLM step reports chunks."""
    if cfg.on_error == "fail":
        raise ChaptersStepError(f"chapters: {reason}")
    return {"chunk": chunk.to_dict(), "status": status, "reason": reason, "answer": None, "usage": usage,
            "attempts": attempts}


def combine_results(transcript: Transcript, results: Sequence[Mapping[str, Any]],
                    cfg: ChaptersConfig) -> tuple[ChaptersResult | None, dict[str, Any]]:
    """The combined result (None when any chunk was skipped: partial chapters would mislead) and the stats."""
    ordered = sorted(results, key=lambda result: int(result["chunk"]["index"]))
    stats: dict[str, Any] = {
        "chunks": len(ordered),
        "usage": {key: sum(int(r["usage"][key]) for r in ordered) for key in ("input_tokens", "output_tokens")},
        "problems": [str(r["reason"]) for r in ordered if r["status"] != "succeeded"],
    }
    if not ordered or stats["problems"]:
        stats["status"] = "skipped"
        return None, stats
    chunks = [ChapterChunk.from_dict(r["chunk"]) for r in ordered]
    result = combine_chapters(transcript, [r["answer"] for r in ordered], chunks, cfg)
    stats.update(status="succeeded", chapters=len(result.chapters), fixes=result.fixes, keywords=result.keywords)
    return result, stats


def chapters_with_bedrock(transcript: Transcript, cfg: ChaptersConfig, model_id: str, episode: EpisodeConfig,
                          speakers: Sequence[Speaker], client: ConverseClient, *, vocabulary: Sequence[str] = (),
                          sleep: Sleep = time.sleep) -> tuple[ChaptersResult | None, dict[str, Any]]:
    """Plan, ask for every chunk in turn, combine (the in-process path: ``refine`` and local mode)."""
    chunks = plan_chapter_chunks(transcript, cfg)
    results = [ask_for_chunk(transcript, chunk, len(chunks), cfg, model_id, episode, speakers, client,
                             vocabulary=vocabulary, sleep=sleep) for chunk in chunks]
    return combine_results(transcript, results, cfg)
