"""LLM refinement, the pure core: fix misheard words and name the speakers with a model's suggestions.

The step is split so a durable orchestrator can checkpoint every chunk on its own:

1. :func:`plan_chunks` cuts the transcript into chunks of about ``chunk_max_words`` words, each
   preceded by a few read-only context segments (``chunks``);
2. per chunk, :func:`build_request` makes the Converse request (``prompt``) and :func:`parse_response`
   reads the answer into a small JSON-able result (``answer``) — the calls themselves, with retries,
   backoff and concurrency, are the Bedrock edge in :mod:`podwhisperer.runtime.adapters.llm`;
3. :func:`apply_refinements` merges all chunk results into a new transcript, validating every
   suggestion on the way (``apply``).
"""

from __future__ import annotations

from podwhisperer.runtime.transforms.llm.answer import (
    ChunkStatus,
    LineUpdate,
    LlmAnswerError,
    ParsedAnswer,
    chunk_result,
    parse_response,
    response_text,
    response_usage,
)
from podwhisperer.runtime.transforms.llm.apply import apply_refinements, merge_speaker_mappings, rename_speakers
from podwhisperer.runtime.transforms.llm.chunks import LlmChunk, plan_chunks
from podwhisperer.runtime.transforms.llm.prompt import (
    UNLABELLED_SPEAKER,
    build_request,
    build_system_prompt,
    build_user_message,
    inference_config,
    transcript_line,
)

__all__ = ["UNLABELLED_SPEAKER", "ChunkStatus", "LineUpdate", "LlmAnswerError", "LlmChunk", "ParsedAnswer",
           "apply_refinements", "build_request", "build_system_prompt", "build_user_message", "chunk_result",
           "inference_config", "merge_speaker_mappings", "parse_response", "plan_chunks", "rename_speakers",
           "response_text", "response_usage", "transcript_line"]
