"""The durable workflow: one execution per uploaded episode, the same code on Lambda, in tests and locally.

Steps, in order (each a named durable operation, checkpointed once it returns)::

    capture-start → resolve-input → skip-check → transcribe (wait_for_callback: SQS job, worker
    completes the callback) → raw-transcript → fill-timing-gaps → replacements → llm-refinement
    (llm-plan, a ``map`` of llm-chunk-N, apply) → normalization → finalize-transcript → captions →
    publish → completion-event

Rules that make a crash at any point harmless:

* Code outside steps is deterministic: it only looks at the event, the config and checkpointed
  step results. Clocks, storage and the network are touched inside steps only.
* Only S3 keys and small stats cross step boundaries (:func:`guard_checkpoint` enforces the
  256 KiB checkpoint limit); transcripts travel as objects.
* Every step reads the previous step's object and writes its **own** object under the work
  prefix, named by a hash chain of the raw transcript's content and the config of every stage so
  far. A step whose object (and its ``.stats.json`` commit marker) already exists returns it
  without recomputing, so a retry after "wrote, then crashed" is a cheap no-op and the bytes
  never change. Transforms and renderers are pure and write no timestamps, so a recomputation
  produces the same bytes anyway (the LLM is the exception; its per-chunk answers are
  checkpointed by ``map`` so a re-run applies the recorded answers).
* Nothing is written under the final names before ``publish``: captions and the refined
  transcript are rendered into the work prefix first, then ``publish`` copies them out, the
  captions first and the refined transcript last, so a present refined transcript means its
  captions are complete. ``publish`` also refuses to overwrite the outputs of a newer upload of
  the same key (the input's etag must still be ours).
* Events cannot be made idempotent with a put, so each event step writes a marker object after
  ``PutEvents`` and skips when it exists: a crash between the two is the only way to get a
  duplicate (consumers can de-duplicate on ``detail.executionArn``).

On any failure the ``failure-event`` step sends "Pipeline Failed" (input key, failed step, error
type and message) and the exception is re-raised so the execution fails.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.concurrency.models import BatchResult
from aws_durable_execution_sdk_python.config import (
    Duration,
    MapConfig,
    StepConfig,
    WaitForCallbackConfig,
)
from aws_durable_execution_sdk_python.exceptions import UnrecoverableError
from aws_durable_execution_sdk_python.retries import RetryDecision, RetryPresets
from aws_durable_execution_sdk_python.serdes import JsonSerDes
from aws_durable_execution_sdk_python.types import StepContext, WaitForCallbackContext

from podwhisperer.runtime import keys as keynames
from podwhisperer.runtime.adapters.events import EventSink, PipelineEvent
from podwhisperer.runtime.adapters.llm import LlmStepError
from podwhisperer.runtime.adapters.queue import JobQueue, JobRequest
from podwhisperer.runtime.adapters.storage import ObjectNotFoundError, ObjectStore, normalize_etag
from podwhisperer.runtime.bedrock import ConverseClient
from podwhisperer.runtime.captions import caption_format, enabled_formats, render_captions
from podwhisperer.runtime.config import LlmRefinementConfig, PipelineConfig, TranscriptionConfig
from podwhisperer.runtime.events import completion_detail, failure_detail, sum_llm_usage
from podwhisperer.runtime.stages import STAGES, ChunkedRun, Stage, hash_material
from podwhisperer.runtime.transcript import Transcript, TranscriptError
from podwhisperer.runtime.upload import Upload, UploadEventError, key_candidates, parse_upload_event

CHECKPOINT_LIMIT_BYTES = 256 * 1024
"""The durable service rejects an operation payload over 256 KiB (the local runner does not check)."""

T = TypeVar("T")
Json = dict[str, Any]
RetryStrategy = Callable[[Exception, int], RetryDecision]


class CheckpointTooLargeError(ValueError):
    """A step tried to checkpoint more than the service accepts; it must pass an S3 key instead."""


class InputNotFoundError(LookupError):
    """None of the keys the event may mean exists in the bucket."""


class CallbackResultError(ValueError):
    """The worker's success payload is not ``{"raw_transcript_key", "stats"}``."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def default_logger() -> logging.Logger | Any:
    """A powertools JSON logger (execution ARN and operation name are added by the durable SDK)."""
    from aws_lambda_powertools import Logger

    return Logger(service="podwhisperer-pipeline")


@dataclass(frozen=True)
class PipelineDeps:
    """Everything the workflow touches, injected so Lambda, tests and local mode share one workflow.

    ``work_scope`` picks the work prefix: ``"execution"`` (AWS: a private prefix per execution) or
    ``"input"`` (local mode: per input content, so a later run with a changed caption config finds
    the earlier stage objects and only redoes what changed).
    """

    config: PipelineConfig
    store: ObjectStore
    queue: JobQueue
    events: EventSink
    bucket: str
    bedrock_factory: Callable[[LlmRefinementConfig], ConverseClient]
    clock: Callable[[], datetime] = utc_now
    logger: Any = field(default_factory=default_logger)
    work_scope: Literal["execution", "input"] = "execution"
    step_retry: RetryStrategy | None = None
    callback_timeouts: Callable[[TranscriptionConfig], tuple[Duration, Duration]] | None = None


def callback_timeouts(cfg: TranscriptionConfig) -> tuple[Duration, Duration]:
    """(timeout, heartbeat timeout) of the transcription callback: the job timeout, and the time a
    silent worker is given before the job fails (so a dead worker is noticed in minutes, not hours)."""
    return Duration.from_minutes(cfg.job_timeout_minutes), Duration.from_minutes(cfg.heartbeat_timeout_minutes)


def make_durable_handler(deps_provider: Callable[[], PipelineDeps]) -> Callable[[Any, Any], Any]:
    """A ``@durable_execution`` handler running the workflow with ``deps_provider()``'s dependencies."""

    def handler(event: Mapping[str, Any], context: DurableContext) -> Json:
        return run_pipeline(event, context, deps_provider())

    handler.__name__ = "podwhisperer_pipeline"
    wrapped: Callable[[Any, Any], Any] = durable_execution(handler)
    return wrapped


def run_pipeline(event: Mapping[str, Any], context: DurableContext, deps: PipelineDeps) -> Json:
    """The workflow body; see the module docstring."""
    context.set_logger(deps.logger)
    run = _Run(context, deps)
    try:
        upload = parse_upload_event(event)
    except UploadEventError as exc:
        run.fail(exc, input_key=_raw_key_of(event), etag=None)
        raise
    try:
        return run.process(upload)
    except UnrecoverableError:
        raise  # the SDK's own invocation/checkpoint trouble: Lambda retries the invocation, not a pipeline failure
    except Exception as exc:
        run.fail(exc, input_key=run.input_key or upload.event_key, etag=upload.etag)
        raise


def guard_checkpoint(payload: T) -> T:
    """Return ``payload`` unchanged, or raise when its JSON would exceed the checkpoint limit."""
    size = len(json.dumps(payload, ensure_ascii=False).encode())
    if size >= CHECKPOINT_LIMIT_BYTES:
        raise CheckpointTooLargeError(f"checkpoint payload of {size} bytes exceeds {CHECKPOINT_LIMIT_BYTES}")
    return payload


def chain_hash(previous: str, stage: str, stage_config: Any) -> str:
    """The content address of a stage's output: its input's address plus the stage and its config."""
    material = json.dumps([previous, stage, stage_config], sort_keys=True, default=str)
    return hashlib.sha256(material.encode()).hexdigest()


PERMANENT_ERRORS: tuple[type[Exception], ...] = (
    TranscriptError, CheckpointTooLargeError, CallbackResultError, InputNotFoundError, LlmStepError,
)


def never_retry(error: Exception) -> bool:
    """Errors no retry can fix: bad data, a payload that will always be too big, or an LLM step that
    already spent its own Bedrock retries (``LlmStepError``)."""
    return isinstance(error, PERMANENT_ERRORS)


MAX_LIST_ITEMS_IN_CHECKPOINT = 20


def summarize_stats(stats: Any) -> Any:
    """Stats small enough to checkpoint: long lists (per-update details) become their length.

    The full stats stay in the stage's ``.stats.json`` object next to its output.
    """
    if isinstance(stats, Mapping):
        return {str(k): summarize_stats(v) for k, v in stats.items()}
    if isinstance(stats, list):
        if len(stats) > MAX_LIST_ITEMS_IN_CHECKPOINT:
            return {"count": len(stats)}
        return [summarize_stats(v) for v in stats]
    return stats


def _raw_key_of(event: Mapping[str, Any]) -> str:
    try:
        return str(event["detail"]["object"]["key"])
    except (KeyError, TypeError):
        return "<unknown>"


class _TranscriptCache:
    """Parsed transcripts of this invocation, by key (transforms never mutate their input)."""

    def __init__(self, store: ObjectStore, size: int = 2) -> None:
        self._store = store
        self._size = size
        self._items: dict[str, Transcript] = {}
        self._lock = threading.Lock()

    def remember(self, key: str, transcript: Transcript) -> None:
        """Keep a transcript just written under ``key``, so the next step need not parse it again."""
        with self._lock:
            self._items[key] = transcript
            while len(self._items) > self._size:
                self._items.pop(next(iter(self._items)))

    def load(self, key: str) -> Transcript:
        with self._lock:
            cached = self._items.get(key)
        if cached is not None:
            return cached
        transcript = Transcript.from_json(self._store.get(key))
        self.remember(key, transcript)
        return transcript


class _Run:
    """One invocation of the workflow: the context, the dependencies and where we are."""

    def __init__(self, context: DurableContext, deps: PipelineDeps) -> None:
        self.context = context
        self.deps = deps
        self.cfg = deps.config
        self.arn = context.execution_context.durable_execution_arn
        self.current_step = "parse-event"
        self.started_at: str | None = None
        self.input_key: str | None = None
        self.transcripts = _TranscriptCache(deps.store)
        self._bedrock: ConverseClient | None = None
        self._bedrock_lock = threading.Lock()

    # region plumbing

    def step(self, name: str, func: Callable[[StepContext], T], *, retry: RetryStrategy | None = None) -> T:
        """Run ``func`` as the named durable step (JSON checkpoint, size-guarded, permanent errors not retried)."""
        self.current_step = name

        def guarded(step_context: StepContext) -> T:
            return guard_checkpoint(func(step_context))

        config = StepConfig(retry_strategy=retry or self._retry_strategy(), serdes=JsonSerDes())
        return self.context.step(guarded, name=name, config=config)

    def _retry_strategy(self) -> RetryStrategy:
        base = self.deps.step_retry or RetryPresets.default()

        def decide(error: Exception, attempt: int) -> RetryDecision:
            return RetryDecision.no_retry() if never_retry(error) else base(error, attempt)

        return decide

    def log(self, message: str, **extra: Any) -> None:
        self.context.logger.info(message, extra={"step": self.current_step, **extra})

    def work_prefix(self, scope_id: str) -> str:
        return keynames.work_prefix(self.cfg.storage, scope_id)

    def bedrock(self, llm_cfg: LlmRefinementConfig) -> ConverseClient:
        with self._bedrock_lock:
            if self._bedrock is None:
                self._bedrock = self.deps.bedrock_factory(llm_cfg)
            return self._bedrock

    # endregion

    def process(self, upload: Upload) -> Json:
        started = self.step("capture-start", lambda _: {"started_at": self.deps.clock().isoformat()})
        self.started_at = started["started_at"]
        early = self._ignored_reason(upload)
        if early:
            return self._ignored(upload.event_key, early)
        resolved = self.step("resolve-input", lambda _: self._resolve_input(upload))
        self.input_key = resolved["key"]
        early = self._resolved_reason(resolved)
        if early:
            return self._ignored(resolved["key"], early)
        return self._transcribe_and_refine(resolved)

    def _transcribe_and_refine(self, source: Json) -> Json:
        outputs = keynames.output_keys(source["key"], self.cfg.storage)
        reused = self._skip_check(source, outputs)
        callback = reused or self._transcribe(source)
        raw = self.step("raw-transcript", lambda _: self._snapshot_raw(source, callback["raw_transcript_key"]))
        if raw["superseded"]:
            return self._superseded(source, raw["reason"])
        work = self.work_prefix(raw["scope"])
        stage = self._transform_stages(work, raw)
        final = self.step("finalize-transcript", lambda _: self._finalize(work, stage))
        captions = self.step("captions", lambda _: self._render_captions(work, final))
        published = self.step("publish", lambda _: self._publish(source, outputs, final, captions))
        if published["superseded"]:
            return self._superseded(source, published["reason"])
        return self._complete(source, callback, published, final, stage)

    # region early endings

    def _ignored_reason(self, upload: Upload) -> str | None:
        candidates = key_candidates(upload.event_key)
        storage = self.cfg.storage
        if not any(key.startswith(storage.input_prefix) for key in candidates):
            return f"key is not under the input prefix {storage.input_prefix!r}"
        if not any(keynames.has_audio_extension(key, storage) for key in candidates):
            return f"not an audio file (extensions: {', '.join(storage.audio_extensions)})"
        if upload.size == 0:
            return "the uploaded object is empty (0 bytes)"
        return None

    def _resolved_reason(self, resolved: Json) -> str | None:
        if resolved["size"] == 0:
            return "the uploaded object is empty (0 bytes)"
        if not keynames.has_audio_extension(resolved["key"], self.cfg.storage):
            return "not an audio file"
        if resolved.get("superseded"):
            return "the object was overwritten after this event; the newer upload has its own run"
        return None

    def _ignored(self, key: str, reason: str) -> Json:
        self.log("Upload ignored", inputKey=key, reason=reason)
        return {"status": "ignored", "inputKey": key, "reason": reason, "executionArn": self.arn}

    def _superseded(self, source: Json, reason: str) -> Json:
        self.log("Upload superseded", inputKey=source["key"], reason=reason)
        return {"status": "superseded", "inputKey": source["key"], "reason": reason, "executionArn": self.arn}

    # endregion

    # region input and transcription

    def _resolve_input(self, upload: Upload) -> Json:
        for key in key_candidates(upload.event_key):
            if not key.startswith(self.cfg.storage.input_prefix):
                continue
            info = self.deps.store.head(key)
            if info is None:
                continue
            etag = normalize_etag(info.etag)
            superseded = bool(upload.etag and etag != upload.etag)
            return {"key": key, "size": info.size, "etag": upload.etag or etag, "superseded": superseded}
        raise InputNotFoundError(f"no object for event key {upload.event_key!r} (tried decoded and raw)")

    def _skip_check(self, source: Json, outputs: keynames.OutputKeys) -> Json | None:
        if not self.cfg.transcription.skip_if_output_exists:
            return None
        found = self.step("skip-check", lambda _: self._existing_raw(source, outputs.raw_transcript))
        if not found["reuse"]:
            self.log("No reusable raw transcript", reason=found["reason"])
            return None
        self.log("Reusing raw transcript", rawTranscriptKey=outputs.raw_transcript)
        return {"raw_transcript_key": outputs.raw_transcript, "stats": None, "reused": True}

    def _existing_raw(self, source: Json, raw_key: str) -> Json:
        try:
            metadata = Transcript.from_json(self.deps.store.get(raw_key)).metadata
        except ObjectNotFoundError:
            return {"reuse": False, "reason": "no raw transcript"}
        if metadata is None:
            return {"reuse": False, "reason": "raw transcript has no source metadata"}
        mismatch = metadata.source_mismatch(source["key"], source["etag"])
        return {"reuse": mismatch is None, "reason": mismatch or "same key and etag"}

    def _transcribe(self, source: Json) -> Json:
        self.current_step = "transcribe"
        job_cfg = self.cfg.transcription
        def submit(callback_id: str, _: WaitForCallbackContext) -> None:
            self.deps.queue.submit(JobRequest(source["key"], source["etag"], callback_id))

        timeout, heartbeat = (self.deps.callback_timeouts or callback_timeouts)(job_cfg)
        config = WaitForCallbackConfig(timeout=timeout, heartbeat_timeout=heartbeat, serdes=JsonSerDes())
        result = self.context.wait_for_callback(submit, name="transcribe", config=config)
        parsed = parse_callback_result(result)
        self.log("Transcription completed", rawTranscriptKey=parsed["raw_transcript_key"])
        return parsed

    def _snapshot_raw(self, source: Json, raw_key: str) -> Json:
        """Copy the raw transcript into the work prefix, so a concurrent upload cannot change our input."""
        data = self.deps.store.get(raw_key)
        transcript = Transcript.from_json(data)
        metadata = transcript.metadata
        made_from = normalize_etag(metadata.source_etag) if metadata else None
        if made_from and source["etag"] and made_from != source["etag"]:
            return {"superseded": True, "reason": "the worker transcribed a newer version of the object"}
        content = hashlib.sha256(data).hexdigest()
        scope = f"input-{source['etag'] or content[:32]}" if self.deps.work_scope == "input" else self.arn
        key = f"{self.work_prefix(scope)}raw-{content[:16]}.json"
        if self.deps.store.head(key) is None:
            self.deps.store.put(key, data, "application/json")
        self.transcripts.remember(key, transcript)
        return {"superseded": False, "scope": scope, "key": key, "chain": content}

    # endregion

    # region transforms

    def _transform_stages(self, work: str, raw: Json) -> Json:
        """Every stage of :data:`STAGES`, each reading the previous one's object and writing its own."""
        previous, stage_stats, usage = raw, {}, None
        for stage in STAGES:
            settings = stage.settings(self.cfg)
            if settings is None:
                self.current_step = stage.name
                self.log(f"{stage.name} not configured; skipping")
                previous = {**previous, "stats": {"skipped": "not configured"}}
            elif stage.chunked is not None:
                previous = self._chunked_stage(work, stage.name, stage.chunked, settings, previous)
                usage = previous["stats"].get("usage_summary")
            else:
                previous = self._stage(work, stage, settings, previous)
            stage_stats[stage.name] = previous["stats"]
        return {**previous, "llm": usage, "stage_stats": stage_stats}

    def _stage(self, work: str, stage: Stage[Any], settings: Any, previous: Json) -> Json:
        chain = chain_hash(previous["chain"], stage.name, hash_material(settings))
        key = f"{work}{stage.name}-{chain[:16]}.json"

        def run(_: StepContext) -> Json:
            stats = self._committed_stats(key)
            if stats is None:
                outcome = stage.run(self.transcripts.load(previous["key"]), settings)
                stats = self._commit(key, outcome.transcript.to_json(), outcome.stats)
                self.transcripts.remember(key, outcome.transcript)
            return {"key": key, "chain": chain, "stats": stats}

        return self.step(stage.name, run)

    def _committed_stats(self, key: str) -> Json | None:
        """The stats of an already written stage object, or None (the stats file is the commit marker)."""
        try:
            summary: Json = summarize_stats(json.loads(self.deps.store.get(key + ".stats.json")))
        except ObjectNotFoundError:
            return None
        return summary

    def _commit(self, key: str, data: bytes, stats: Mapping[str, Any]) -> Json:
        """Write a stage object, then its full stats (the commit marker); return the stats' summary."""
        full = json.dumps(stats, sort_keys=True, default=str, ensure_ascii=False).encode()
        self.deps.store.put(key, data, "application/json")
        self.deps.store.put(key + ".stats.json", full, "application/json")
        summary: Json = summarize_stats(json.loads(full))
        return summary

    def _chunked_stage(self, work: str, name: str, chunked: ChunkedRun[Any], settings: Any, previous: Json) -> Json:
        """plan (a step) → one checkpointed step per chunk (a ``map``) → apply (the stage's own step)."""
        chain = chain_hash(previous["chain"], name, hash_material(settings))
        key = f"{work}{name}-{chain[:16]}.json"
        plan = self.step(f"{chunked.step_prefix}-plan", lambda _: self._plan(previous["key"], key, chunked, settings))
        if plan["committed"] is not None:
            stats = plan["committed"]
        else:
            self.current_step = name
            results = self._map_chunks(previous["key"], plan["chunks"], chunked, settings)
            stats = self.step(name, lambda _: self._apply_chunks(previous["key"], key, results, chunked, settings))
        return {"key": key, "chain": chain, "stats": stats}

    def _plan(self, source_key: str, key: str, chunked: ChunkedRun[Any], settings: Any) -> Json:
        committed = self._committed_stats(key)
        if committed is not None:
            return {"committed": committed, "chunks": []}
        return {"committed": None, "chunks": chunked.plan(self.transcripts.load(source_key), settings)}

    def _map_chunks(self, source_key: str, chunks: Sequence[Json], chunked: ChunkedRun[Any],
                    settings: Any) -> list[Json]:
        # each chunk spends its own client retries; the step retries only what never_retry allows
        chunk_retry = _limited(self._retry_strategy(), chunked.max_attempts(settings))

        def refine_one(child: DurableContext, chunk: Json, index: int, _: Sequence[Json]) -> Json:
            def call(_: StepContext) -> Json:
                transcript = self.transcripts.load(source_key)
                client = self.bedrock(chunked.model(settings))
                return guard_checkpoint(chunked.refine_chunk(transcript, chunk, settings, client))

            config = StepConfig(retry_strategy=chunk_retry, serdes=JsonSerDes())
            result: Json = child.step(call, name=f"{chunked.step_prefix}-chunk-{index}", config=config)
            return result

        batch: BatchResult[Json] = self.context.map(list(chunks), refine_one, name=f"{chunked.step_prefix}-chunks",
                                                    config=MapConfig(max_concurrency=chunked.concurrency(settings)))
        batch.throw_if_error()
        return list(batch.get_results())

    def _apply_chunks(self, source_key: str, key: str, results: list[Json], chunked: ChunkedRun[Any],
                      settings: Any) -> Json:
        committed = self._committed_stats(key)
        if committed is not None:
            return committed
        outcome = chunked.apply(self.transcripts.load(source_key), results, settings)
        stats = {**outcome.stats, "usage_summary": sum_llm_usage(results)}  # per-chunk usage, summed
        return self._commit(key, outcome.transcript.to_json(), stats)

    # endregion

    # region outputs

    def _finalize(self, work: str, stage: Json) -> Json:
        """Write the refined transcript (``word_segments`` rebuilt from the edited words, as ``refine`` does)
        into the work prefix and count what is in it."""
        key = f"{work}refined-{stage['chain'][:16]}.json"
        transcript = self.transcripts.load(stage["key"]).with_word_segments_rebuilt()
        if self.deps.store.head(key) is None:
            self.deps.store.put(key, transcript.to_json(), "application/json")
        self.transcripts.remember(key, transcript)
        return {"key": key, "chain": stage["chain"], "counts": transcript_counts(transcript)}

    def _render_captions(self, work: str, final: Json) -> Json:
        captions_cfg = self.cfg.captions.model_dump(mode="json")
        chain = chain_hash(final["chain"], "captions", captions_cfg)[:16]
        keys = {ext: f"{work}captions-{chain}.{ext}" for ext in sorted(enabled_formats(self.cfg.captions))}
        missing = {ext: key for ext, key in keys.items() if self.deps.store.head(key) is None}
        if missing:  # a retry after a complete write renders nothing
            rendered = render_captions(self.transcripts.load(final["key"]), self.cfg.captions)
            for ext, key in missing.items():
                self.deps.store.put(key, rendered[ext].encode(), caption_format(ext).content_type)
        return {"work_keys": keys}

    def _publish(self, source: Json, outputs: keynames.OutputKeys, final: Json, captions: Json) -> Json:
        """Copy work objects to their final names: captions first, the refined transcript last."""
        current = self.deps.store.head(source["key"])
        if source["etag"] and current is not None and normalize_etag(current.etag) != source["etag"]:
            return {"superseded": True, "reason": "a newer upload of the same key exists; not overwriting its outputs"}
        caption_keys: dict[str, str] = {}
        for ext, work_key in sorted(captions["work_keys"].items()):
            caption_keys[ext] = outputs.caption(ext)
            self.deps.store.copy(work_key, caption_keys[ext], caption_format(ext).content_type)
        self.deps.store.copy(final["key"], outputs.refined_transcript, "application/json")
        return {"superseded": False, "reason": None,
                "refined_transcript": outputs.refined_transcript, "captions": caption_keys}

    def _complete(self, source: Json, callback: Json, published: Json, final: Json, stage: Json) -> Json:
        def build(_: StepContext) -> Json:
            detail = completion_detail(
                input_key=source["key"], bucket=self.deps.bucket, etag=source["etag"], execution_arn=self.arn,
                output_keys={"rawTranscript": callback["raw_transcript_key"],
                             "refinedTranscript": published["refined_transcript"],
                             "captions": published["captions"]},
                started_at=self.started_at or self.deps.clock().isoformat(),
                completed_at=self.deps.clock().isoformat(),
                worker_stats=callback.get("stats"), llm_usage=stage.get("llm"), counts=final["counts"],
                transcription_reused=bool(callback.get("reused")),
            )
            detail["steps"] = stage["stage_stats"]
            self._send_once("completed", PipelineEvent.completed(self.cfg.notification, detail))
            return detail

        detail = self.step("completion-event", build)
        self.log("Pipeline completed", inputKey=source["key"])
        return detail

    def _send_once(self, kind: str, event: PipelineEvent) -> None:
        if not self.cfg.notification.enabled:
            return
        marker = f"{self.work_prefix(self.arn)}events/{kind}.sent"
        if self.deps.store.head(marker) is not None:
            return
        self.deps.events.publish(event)
        self.deps.store.put(marker, b"sent", "text/plain")

    # endregion

    def fail(self, error: Exception, *, input_key: str, etag: str | None) -> None:
        """Send "Pipeline Failed" (once, as a step) naming the step that failed; never masks ``error``."""
        failed_step = self.current_step
        error_type = _error_type(error)
        message = str(getattr(error, "message", None) or error)

        def send(_: StepContext) -> Json:
            detail = failure_detail(
                input_key=input_key, bucket=self.deps.bucket, etag=etag, execution_arn=self.arn,
                failed_step=failed_step, error_type=error_type, error_message=message,
                started_at=self.started_at, failed_at=self.deps.clock().isoformat(),
            )
            self._send_once("failed", PipelineEvent.failed(self.cfg.notification, detail))
            return detail

        try:
            self.step("failure-event", send, retry=self.deps.step_retry)
        except Exception:  # the original failure matters more than a failed notification
            self.context.logger.exception("Could not send the failure event")
        self.current_step = failed_step
        self.context.logger.error("Pipeline failed", extra={"step": failed_step, "errorType": error_type,
                                                            "inputKey": input_key})


def parse_callback_result(result: Any) -> Json:
    """Validate the worker's success payload (accepts a JSON string, bytes or an already parsed dict)."""
    if isinstance(result, bytes | str):
        try:
            result = json.loads(result)
        except ValueError as exc:
            raise CallbackResultError(f"callback result is not JSON: {exc}") from None
    if not isinstance(result, Mapping):
        raise CallbackResultError(f"callback result must be an object, got {type(result).__name__}")
    raw_key = result.get("raw_transcript_key", result.get("rawTranscriptKey"))
    if not isinstance(raw_key, str) or not raw_key:
        raise CallbackResultError("callback result lacks 'raw_transcript_key'")
    return {"raw_transcript_key": raw_key, "stats": result.get("stats"), "reused": False}


def transcript_counts(transcript: Transcript) -> Json:
    """Words, segments, distinct speakers and duration of a transcript (for the event and the CLI)."""
    speakers = transcript.speaker_labels()
    words = sum(len(s.words) if s.words is not None else len(s.text.split()) for s in transcript.segments)
    return {"words": words, "segments": len(transcript.segments), "speakers": len(speakers),
            "speakerNames": sorted(speakers), "durationSeconds": round(transcript.duration, 3)}


def _error_type(error: BaseException) -> str:
    declared = getattr(error, "error_type", None)
    name = str(declared) if declared else type(error).__name__
    return name.rsplit(".", 1)[-1]


def _limited(strategy: RetryStrategy, max_attempts: int) -> RetryStrategy:
    def decide(error: Exception, attempt: int) -> RetryDecision:
        if attempt >= max_attempts:
            return RetryDecision.no_retry()
        return strategy(error, attempt)

    return decide
