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
  the same key (the input's etag must still be ours), and publishes nothing for an input deleted
  since it was transcribed (the producer withdrew it; the run ends ``superseded``, saying so).
* Events cannot be made idempotent with a put, so each event step writes a marker object after
  ``PutEvents`` and skips when it exists: a crash between the two is the only way to get a
  duplicate (consumers can de-duplicate on ``detail.executionArn``).

On any failure the ``failure-event`` step sends "Pipeline Failed" (input key, failed step, error
type and message) and the exception is re-raised so the execution fails.

This module is the orchestration only; each concern has its own module: :mod:`.intake` (which
object, reuse, the raw snapshot), :mod:`.stage_steps` over :mod:`.stages` (the stage registry) and
:mod:`.stage_store` (content-addressed objects and commit markers), :mod:`.publish` (outputs and
events sent once), :mod:`.step_results` (what each step checkpoints), :mod:`.checkpoints`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, StepConfig, WaitForCallbackConfig
from aws_durable_execution_sdk_python.exceptions import UnrecoverableError
from aws_durable_execution_sdk_python.retries import RetryDecision, RetryPresets
from aws_durable_execution_sdk_python.serdes import JsonSerDes
from aws_durable_execution_sdk_python.types import StepContext, WaitForCallbackContext

from podwhisperer.runtime import intake
from podwhisperer.runtime import keys as keynames
from podwhisperer.runtime.adapters.events import EventSink, PipelineEvent
from podwhisperer.runtime.adapters.llm import LlmStepError
from podwhisperer.runtime.adapters.queue import JobQueue
from podwhisperer.runtime.adapters.storage import ObjectStore
from podwhisperer.runtime.bedrock import ConverseClient
from podwhisperer.runtime.checkpoints import (
    CHECKPOINT_LIMIT_BYTES,
    CheckpointTooLargeError,
    RetryStrategy,
    guard_checkpoint,
)
from podwhisperer.runtime.config import LlmRefinementConfig, PipelineConfig, TranscriptionConfig
from podwhisperer.runtime.context import context_overrides, merge_context, parse_context
from podwhisperer.runtime.contracts import CallbackResult, CallbackResultError, JobMessage
from podwhisperer.runtime.cost import run_cost
from podwhisperer.runtime.event_details import completion_detail, failure_detail
from podwhisperer.runtime.intake import EpisodeContextError, InputNotFoundError
from podwhisperer.runtime.podcast.chapters_bedrock import ChaptersStepError
from podwhisperer.runtime.publish import finalize, publish, render_to_work, send_once, transcript_counts
from podwhisperer.runtime.stage_steps import StageSteps
from podwhisperer.runtime.stage_store import StageStore, chain_hash, summarize_stats
from podwhisperer.runtime.step_results import Final, Published, RawSnapshot, Source, StagesResult, Transcribed
from podwhisperer.runtime.transcript import TranscriptError
from podwhisperer.runtime.transforms.replacements import ReplacementRuleTimeoutError
from podwhisperer.runtime.upload import Upload, UploadEventError, parse_upload_event

__all__ = ["CHECKPOINT_LIMIT_BYTES", "CallbackResultError", "CheckpointTooLargeError", "InputNotFoundError",
           "PipelineDeps", "callback_timeouts", "chain_hash", "guard_checkpoint", "make_durable_handler",
           "never_retry", "parse_callback_result", "run_pipeline", "summarize_stats", "transcript_counts"]

T = TypeVar("T")
Json = dict[str, Any]


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
    lambda_memory_mb: int | None = None  # on Lambda: the function's memory, for the cost's Lambda line


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
    run = WorkflowRun(context, deps)
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


PERMANENT_ERRORS: tuple[type[Exception], ...] = (
    TranscriptError, CheckpointTooLargeError, CallbackResultError, InputNotFoundError, LlmStepError,
    EpisodeContextError, ChaptersStepError, ReplacementRuleTimeoutError,
)


def never_retry(error: Exception) -> bool:
    """Errors no retry can fix: bad data, a payload that will always be too big, a replacement rule that
    backtracks catastrophically on this transcript, or an LLM step that already spent its own Bedrock
    retries (``LlmStepError``)."""
    return isinstance(error, PERMANENT_ERRORS)


def _raw_key_of(event: Mapping[str, Any]) -> str:
    try:
        return str(event["detail"]["object"]["key"])
    except (KeyError, TypeError):
        return "<unknown>"


class WorkflowRun:
    """One invocation of the workflow: the context, the dependencies and where we are."""

    def __init__(self, context: DurableContext, deps: PipelineDeps) -> None:
        self.context = context
        self.deps = deps
        self.cfg = deps.config
        self.arn = context.execution_context.durable_execution_arn
        self.current_step = "parse-event"
        self.started_at: str | None = None
        self.input_key: str | None = None
        self.episode: Json = {"key": None, "context": {}}
        self.job_overrides: Json = {}
        self.stages = StageStore(deps.store)
        self._bedrock: dict[str, ConverseClient] = {}
        self._bedrock_lock = threading.Lock()

    # region plumbing (what StageSteps uses too)

    def step(self, name: str, func: Callable[[StepContext], T], *, retry: RetryStrategy | None = None) -> T:
        """Run ``func`` as the named durable step (JSON checkpoint, size-guarded, permanent errors not retried)."""
        self.current_step = name

        def guarded(step_context: StepContext) -> T:
            return guard_checkpoint(func(step_context))

        config = StepConfig(retry_strategy=retry or self.retry_strategy(), serdes=JsonSerDes())
        return self.context.step(guarded, name=name, config=config)

    def retry_strategy(self) -> RetryStrategy:
        base = self.deps.step_retry or RetryPresets.default()

        def decide(error: Exception, attempt: int) -> RetryDecision:
            return RetryDecision.no_retry() if never_retry(error) else base(error, attempt)

        return decide

    def log(self, message: str, **extra: Any) -> None:
        self.context.logger.info(message, extra={"step": self.current_step, **extra})

    def bedrock(self, llm_cfg: LlmRefinementConfig) -> ConverseClient:
        """One client per region (refinement and chapters may use models in different regions)."""
        region = llm_cfg.resolved_region()
        with self._bedrock_lock:
            if region not in self._bedrock:
                self._bedrock[region] = self.deps.bedrock_factory(llm_cfg)
            return self._bedrock[region]

    # endregion

    def process(self, upload: Upload) -> Json:
        started = self.step("capture-start", lambda _: {"started_at": self.deps.clock().isoformat()})
        self.started_at = started["started_at"]
        early = intake.ignored_reason(upload, self.cfg.storage)
        if early:
            return self._ended("ignored", upload.event_key, early)
        resolved = self.step("resolve-input", lambda _: intake.resolve_input(self.deps.store, self.cfg.storage, upload))
        self.input_key = resolved["key"]
        early = intake.resolved_reason(resolved, self.cfg.storage)
        if early:
            return self._ended("ignored", resolved["key"], early)
        self._apply_episode_context(resolved)
        return self._transcribe_and_refine(resolved)

    def _apply_episode_context(self, source: Source) -> None:
        """Merge the sidecar's per-episode context over the stack config for everything after this step.

        Deterministic on replay: the merge is a pure function of the checkpointed context."""
        self.episode = self.step("episode-context", lambda _: intake.read_context(self.deps.store, source["key"]))
        context = parse_context(self.episode["context"], self.episode["key"] or "episode context")
        if not context.is_empty:
            self.job_overrides = context_overrides(self.cfg, context)
            self.cfg = merge_context(self.cfg, context)
            self.log("Episode context applied", contextKey=self.episode["key"])

    def _transcribe_and_refine(self, source: Source) -> Json:
        outputs = keynames.output_keys(source["key"], self.cfg.storage)
        callback = self._skip_check(source, outputs) or self._transcribe(source)
        raw = self.step("raw-transcript", lambda _: _arrived(intake.snapshot_raw(
            self.deps.store, self.stages.transcripts, self.cfg.storage, source, callback["raw_transcript_key"],
            scope=self.deps.work_scope, execution_arn=self.arn), self.deps.clock()))
        if raw["superseded"]:
            return self._ended("superseded", source["key"], raw["reason"])
        work = keynames.work_prefix(self.cfg.storage, raw["scope"])
        stage = StageSteps(self, self.stages, self.cfg).run_all(work, raw)
        final = self.step("finalize-transcript", lambda _: finalize(self.stages, work, stage, self.cfg))
        captions = self.step("captions", lambda _: render_to_work(self.stages, self.cfg, work, final, outputs))
        published = self.step("publish", lambda _: publish(self.deps.store, source, outputs, final, captions))
        if published["superseded"]:
            return self._ended("superseded", source["key"], published["reason"] or "")
        return self._complete(source, callback, published, final, stage, raw.get("at"))

    def _ended(self, status: Literal["ignored", "superseded"], key: str, reason: str) -> Json:
        self.log(f"Upload {status}", inputKey=key, reason=reason)
        return {"status": status, "inputKey": key, "reason": reason, "executionArn": self.arn}

    def _skip_check(self, source: Source, outputs: keynames.OutputKeys) -> Transcribed | None:
        if not self.cfg.transcription.skip_if_output_exists:
            return None
        found = self.step("skip-check", lambda _: intake.existing_raw(self.deps.store, self.cfg, source,
                                                                      outputs.raw_transcript))
        if not found["reuse"]:
            self.log("No reusable raw transcript", reason=found["reason"])
            return None
        self.log("Reusing raw transcript", rawTranscriptKey=outputs.raw_transcript)
        return {"raw_transcript_key": outputs.raw_transcript, "stats": None, "reused": True}

    def _transcribe(self, source: Source) -> Transcribed:
        self.current_step = "transcribe"

        def submit(callback_id: str, _: WaitForCallbackContext) -> None:
            self.deps.queue.submit(JobMessage(s3_key=source["key"], etag=source["etag"], callback_id=callback_id,
                                              config_overrides=self.job_overrides))

        timeout, heartbeat = (self.deps.callback_timeouts or callback_timeouts)(self.cfg.transcription)
        config = WaitForCallbackConfig(timeout=timeout, heartbeat_timeout=heartbeat, serdes=JsonSerDes())
        result = self.context.wait_for_callback(submit, name="transcribe", config=config)
        parsed = parse_callback_result(result)
        self.log("Transcription completed", rawTranscriptKey=parsed["raw_transcript_key"])
        return parsed

    # region events

    def _complete(self, source: Source, callback: Transcribed, published: Published, final: Final,
                  stage: StagesResult, transcribed_at: str | None) -> Json:
        def build(_: StepContext) -> Json:
            completed_at = self.deps.clock().isoformat()
            detail = completion_detail(
                input_key=source["key"], bucket=self.deps.bucket, etag=source["etag"], execution_arn=self.arn,
                output_keys={"rawTranscript": callback["raw_transcript_key"],
                             "refinedTranscript": published.get("refined_transcript"),
                             "captions": published.get("captions")},
                started_at=self.started_at or self.deps.clock().isoformat(),
                completed_at=completed_at,
                worker_stats=callback.get("stats"), llm_usage=stage.get("llm"), counts=final["counts"],
                transcription_reused=bool(callback.get("reused")),
            )
            detail["steps"] = stage["stage_stats"]
            detail["episodeContext"] = {"key": self.episode["key"], **self.episode["context"]}
            detail["cost"] = run_cost(
                self.cfg, worker_stats=callback.get("stats"), reused=bool(callback.get("reused")),
                llm_usage=stage.get("llm"), lambda_seconds=_seconds_between(transcribed_at, completed_at),
                lambda_memory_mb=self.deps.lambda_memory_mb)
            self._send_once("completed", PipelineEvent.completed(self.cfg.notification, detail))
            return detail

        detail = self.step("completion-event", build)
        self.log("Pipeline completed", inputKey=source["key"])
        return detail

    def _send_once(self, kind: str, event: PipelineEvent) -> None:
        if self.cfg.notification.enabled:
            marker = f"{keynames.work_prefix(self.cfg.storage, self.arn)}events/{kind}.sent"
            send_once(self.deps.store, self.deps.events, marker, event)

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

    # endregion


def parse_callback_result(result: Any) -> Transcribed:
    """Validate the worker's success payload (see :class:`CallbackResult`) into this workflow's checkpoint."""
    parsed = CallbackResult.parse(result)
    return {"raw_transcript_key": parsed.raw_transcript_key, "stats": parsed.stats, "reused": False}


def _arrived(snapshot: RawSnapshot, now: datetime) -> RawSnapshot:
    snapshot["at"] = now.isoformat()
    return snapshot


def _seconds_between(start: str | None, end: str) -> float | None:
    """Active Lambda time of the run: from the raw transcript's arrival to completion (the wait for the GPU
    is not billed; the steps before it are a HEAD request)."""
    if not start:
        return None
    return max(0.0, (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds())


def _error_type(error: BaseException) -> str:
    declared = getattr(error, "error_type", None)
    name = str(declared) if declared else type(error).__name__
    return name.rsplit(".", 1)[-1]
