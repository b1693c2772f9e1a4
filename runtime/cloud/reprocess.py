"""``cloud reprocess NAME``: post-processing again with new settings, from the raw transcript in S3.

No GPU and no new upload: the worker's raw transcript is read, the post-processing stages run here
(``refine_transcript``, the same stages as the pipeline, Bedrock called with your credentials when
the config enables refinement), and the outputs replace the published ones, captions first and
the refined transcript last (as the pipeline publishes them).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from podwhisperer.runtime.adapters.storage import S3ObjectStore
from podwhisperer.runtime.bedrock import ConverseClient
from podwhisperer.runtime.captions import caption_format
from podwhisperer.runtime.config import PipelineConfig, StorageConfig
from podwhisperer.runtime.context import merge_context, parse_context
from podwhisperer.runtime.feed.naming import slugify
from podwhisperer.runtime.intake import EpisodeContextError, read_context
from podwhisperer.runtime.keys import has_audio_extension, output_keys
from podwhisperer.runtime.publish import publication
from podwhisperer.runtime.refine import StageReport, refine_transcript
from podwhisperer.runtime.transcript import Transcript, TranscriptError


class ReprocessError(RuntimeError):
    """NAME does not identify one episode, or it has no raw transcript."""


@dataclass(frozen=True)
class Reprocessed:
    input_key: str
    written: list[str]
    stages: list[StageReport]
    note: str | None = None


def input_keys(s3: Any, bucket: str, storage: StorageConfig) -> Iterator[str]:
    """Audio objects under the input prefix."""
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=storage.input_prefix):
        for item in page.get("Contents") or []:
            if has_audio_extension(item["Key"], storage):
                yield str(item["Key"])


def find_input_key(keys: list[str], name: str, storage: StorageConfig) -> str:
    """The one key NAME means: the key itself, a file name, a stem, or a slug prefix (``"ep 42"`` finds
    ``input/ep-42-gpus-you.mp3``)."""
    relative = {key: key[len(storage.input_prefix):] for key in keys}
    tests: tuple[Callable[[str], bool], ...] = (
        lambda key: key == name or relative[key] == name,
        lambda key: posixpath.basename(key) == name,
        lambda key: _stem(key) == name,
        lambda key: slugify(_stem(key)) == slugify(name),
        lambda key: slugify(_stem(key)).startswith(slugify(name) + "-"),
    )
    for test in tests:
        found = [key for key in keys if test(key)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            listed = ", ".join(found[:5]) + (" …" if len(found) > 5 else "")
            raise ReprocessError(f"{name!r} matches {len(found)} episodes ({listed}); give the file name")
    raise ReprocessError(f"no episode {name!r} under s3://…/{storage.input_prefix} "
                         "(give the key, the file name or its title)")


def reprocess(s3: Any, bucket: str, input_key: str, config: PipelineConfig,
              llm_client: ConverseClient | None) -> Reprocessed:
    """Refine the episode's raw transcript with ``config`` and publish the results."""
    keys = output_keys(input_key, config.storage)
    try:
        data = s3.get_object(Bucket=bucket, Key=keys.raw_transcript)["Body"].read()
    except s3.exceptions.NoSuchKey:
        raise ReprocessError(f"{input_key}: no raw transcript at {keys.raw_transcript} (the episode has not "
                             "been transcribed yet; see `podwhisperer cloud status`)") from None
    try:
        raw = Transcript.from_json(data)
    except TranscriptError as exc:
        raise ReprocessError(f"{keys.raw_transcript}: {exc}") from None
    note = _version_note(s3, bucket, input_key, raw)
    config = _with_episode_context(s3, bucket, input_key, config)
    result = refine_transcript(raw, config, llm_client, publication(config, keys, raw))  # the workflow's names
    written = []
    for name, text in sorted(result.captions.items()):  # the publish order: captions first
        key = keys.caption(name)
        s3.put_object(Bucket=bucket, Key=key, Body=text.encode(), ContentType=caption_format(name).content_type)
        written.append(key)
    s3.put_object(Bucket=bucket, Key=keys.refined_transcript, Body=result.refined.to_json(),
                  ContentType="application/json")
    written.append(keys.refined_transcript)
    return Reprocessed(input_key=input_key, written=written, stages=list(result.stages), note=note)


def _with_episode_context(s3: Any, bucket: str, input_key: str, config: PipelineConfig) -> PipelineConfig:
    """``config`` with the episode's context sidecar merged over it, as the pipeline does (the sidecar as it
    is now, so a corrected guest name reaches the republished outputs)."""
    try:
        found = read_context(S3ObjectStore(s3, bucket), input_key)
    except EpisodeContextError as exc:
        raise ReprocessError(str(exc)) from None
    context = parse_context(found["context"], str(found["key"] or "episode context"))
    return config if context.is_empty else merge_context(config, context)


def _version_note(s3: Any, bucket: str, input_key: str, raw: Transcript) -> str | None:
    """A warning when the audio in S3 is newer than the transcript (its own run will overwrite ours)."""
    made_from = raw.metadata.source_etag if raw.metadata else None
    try:
        current = s3.head_object(Bucket=bucket, Key=input_key).get("ETag", "").strip('"')
    except s3.exceptions.ClientError:
        return "the audio is no longer in the bucket"
    if made_from and current and made_from.strip('"') != current:
        return "the audio was replaced after this transcript was made; its own run will publish newer outputs"
    return None


def _stem(key: str) -> str:
    return posixpath.splitext(posixpath.basename(key))[0]
