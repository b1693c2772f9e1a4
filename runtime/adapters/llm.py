"""The Bedrock edge of LLM refinement: calls with retries and backoff, and the in-process thread pool.

The pure parts (chunking, prompt, answer parsing, applying) live in ``transforms.llm``; this module
is the only one that talks to the model, sleeps or starts threads (the chapters edge calls the model
through :func:`converse_with_retries` too). The durable workflow calls
:func:`refine_chunk` once per chunk inside a ``map``; ``refine`` calls :func:`refine_with_llm`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from podwhisperer.runtime.bedrock import BEDROCK_ERRORS, ConverseClient, describe_error, is_retryable_error
from podwhisperer.runtime.config import LlmRefinementConfig, Speaker
from podwhisperer.runtime.transcript import StepOutcome, Transcript
from podwhisperer.runtime.transforms.llm import (
    ChunkStatus,
    LlmAnswerError,
    LlmChunk,
    ParsedAnswer,
    apply_refinements,
    build_request,
    chunk_result,
    parse_response,
    plan_chunks,
    response_usage,
)

ANSWER_RETRIES = 1
"""A truncated or malformed answer is asked for once more, then the chunk is skipped."""

BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 30.0
Sleep = Callable[[float], None]
T = TypeVar("T")
R = TypeVar("R")


class LlmStepError(RuntimeError):
    """Bedrock kept failing for a chunk and ``on_error`` is ``fail``: the pipeline should stop."""

    def __init__(self, chunk_index: int, reason: str) -> None:
        self.chunk_index = chunk_index
        self.reason = reason
        super().__init__(f"LLM refinement failed on chunk {chunk_index}: {reason}")


@dataclass(slots=True)
class CallLog:
    """What one chunk's calls cost; lives only for one chunk's calls."""

    calls: int = 0
    client_retries: int = 0
    usage: dict[str, int] = field(default_factory=lambda: {"input_tokens": 0, "output_tokens": 0})
    latency_ms: int = 0


class BedrockGaveUp(Exception):
    """Bedrock kept failing (retries spent, or an error a retry cannot fix); ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def refine_chunk(
    transcript: Transcript,
    chunk: LlmChunk,
    cfg: LlmRefinementConfig,
    speakers: Sequence[Speaker],
    client: ConverseClient,
    *,
    vocabulary: Sequence[str] = (),
    sleep: Sleep = time.sleep,
) -> dict[str, Any]:
    """Ask the model about one chunk; a small JSON-able result with ``status`` succeeded, skipped or failed.

    A truncated or malformed answer is retried once, then the chunk is ``skipped``. Throttling and server
    errors are retried up to ``cfg.max_retries`` times with backoff; after that (or at once for errors a
    retry cannot fix) :class:`LlmStepError` is raised when ``cfg.on_error`` is ``fail``, else the chunk is
    ``failed``. Either way the transcript is left as it was for that chunk.
    """
    request = build_request(transcript, chunk, cfg, speakers, vocabulary=vocabulary)
    log = CallLog()
    try:
        return _ask_until_answered(client, request, chunk, cfg, log, sleep)
    except BedrockGaveUp as error:
        if cfg.on_error == "fail":
            raise LlmStepError(chunk.index, error.reason) from error.__cause__
        return _chunk_result(chunk, "failed", error.reason, log)


def _ask_until_answered(client: ConverseClient, request: Mapping[str, Any], chunk: LlmChunk,
                        cfg: LlmRefinementConfig, log: CallLog, sleep: Sleep) -> dict[str, Any]:
    reason = ""
    for _ in range(ANSWER_RETRIES + 1):
        response = converse_with_retries(client, request, cfg.max_retries, log, sleep)
        try:
            answer = parse_response(response, chunk)
        except LlmAnswerError as error:
            reason = str(error)
            continue
        return _chunk_result(chunk, "succeeded", None, log, answer)
    return _chunk_result(chunk, "skipped", reason, log)


def converse_with_retries(client: ConverseClient, request: Mapping[str, Any], max_retries: int, log: CallLog,
                          sleep: Sleep) -> Mapping[str, Any]:
    """One answer: throttling and server errors retried up to ``max_retries`` times with backoff, calls,
    usage and latency counted in ``log``; :class:`BedrockGaveUp` when that does not get one."""
    while True:
        log.calls += 1
        started = time.perf_counter()
        try:
            response = client.converse(**request)
        except BEDROCK_ERRORS as error:
            log.latency_ms += _elapsed_ms(started)
            if not is_retryable_error(error) or log.client_retries >= max_retries:
                raise BedrockGaveUp(f"{describe_error(error)} (after {log.calls} call(s))") from error
            log.client_retries += 1
            sleep(backoff_seconds(log.client_retries))
            continue
        log.latency_ms += _elapsed_ms(started)
        for key, value in response_usage(response).items():
            log.usage[key] += value
        return response


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def backoff_seconds(retry: int) -> float:
    """Exponential backoff for the ``retry``-th retry (1-based), capped."""
    return float(min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (retry - 1)))


def _chunk_result(chunk: LlmChunk, status: ChunkStatus, reason: str | None, log: CallLog,
                  answer: ParsedAnswer | None = None) -> dict[str, Any]:
    return chunk_result(chunk, status, reason, usage=log.usage, latency_ms=log.latency_ms, attempts=log.calls,
                        answer=answer)


def refine_with_llm(
    transcript: Transcript,
    cfg: LlmRefinementConfig,
    speakers: Sequence[Speaker],
    client: ConverseClient,
    *,
    vocabulary: Sequence[str] = (),
    max_workers: int | None = None,
    sleep: Sleep = time.sleep,
) -> StepOutcome:
    """Plan, refine every chunk (at most ``max_workers`` or ``cfg.max_concurrency`` at a time), apply."""
    chunks = plan_chunks(transcript, cfg)
    results = map_concurrently(
        lambda chunk: refine_chunk(transcript, chunk, cfg, speakers, client, vocabulary=vocabulary, sleep=sleep),
        chunks, max_workers or cfg.max_concurrency)
    return apply_refinements(transcript, results, cfg, speakers)


def map_concurrently(func: Callable[[T], R], items: Sequence[T], max_workers: int) -> list[R]:
    """``[func(item) for item in items]``, at most ``max_workers`` at a time, in order.

    On an exception the items not yet started are cancelled (so no more Bedrock calls are made for
    chunks whose results would be thrown away) and the exception propagates.
    """
    if not items:
        return []
    pool = ThreadPoolExecutor(max_workers=min(max_workers, len(items)), thread_name_prefix="llm-chunk")
    try:
        futures = [pool.submit(func, item) for item in items]
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
