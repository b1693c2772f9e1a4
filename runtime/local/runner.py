"""Local mode: the same durable workflow, run on this machine by the durable SDK's own executor.

Nothing here re-implements orchestration. The durable testing package's executor runs the
workflow handler (``make_durable_handler``) exactly as Lambda would, with its
``FileSystemExecutionStore`` persisting every checkpoint under ``<output-dir>/.podwhisperer/``.

Layout of ``--output-dir`` (a :class:`FileObjectStore` whose keys are the AWS keys; what is published
sits directly in the folder, ready to upload as it is, and the rest is hidden)::

    <file>                             the audio (hard link, or a copy): the page plays it from here
    <file stem>.podwhisperer.yaml      the episode context (from --context / --speaker), when given
    <name>_raw_transcript.json         the worker's transcript (key output/<name>_raw_transcript.json)
    <name>_refined_transcript.json, <name>_caption.{vtt,srt,json,txt,md}, <name>_transcript.html, ...
    .podwhisperer/store/work/...       stage objects, content-addressed (see stage_store.py)
    .podwhisperer/executions/          durable execution state (one JSON file per execution)
    .podwhisperer/jobs/                spooled transcription jobs not yet answered
    .podwhisperer/events.jsonl         completion / failure events

What a re-run reuses:

* Each run is one durable execution named after the audio's content hash and the config hash.
  Same audio and config: a finished execution is reported and nothing runs again; an unfinished
  one (Ctrl-C, crash) is **resumed** from its checkpoints: completed steps replay from the store,
  a spooled transcription job is delivered again.
* "Already done" means a finished execution whose published refined transcript was made from
  this very audio (its ``source_etag`` is the audio's md5): an edited file, or outputs replaced
  by another file of the same name, are transcribed again.
* Changed config (say, captions): a new execution. The worker reuses the raw transcript (same
  etag and transcription settings), and every stage whose input and settings are unchanged finds
  its content-addressed object under ``work/`` and returns at once, so only the changed stage and
  those after it really run (for a caption change: render captions, publish).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from aws_durable_execution_sdk_python.config import Duration
from aws_durable_execution_sdk_python.lambda_service import OperationType

from podwhisperer.runtime.adapters.events import JsonLinesEventSink
from podwhisperer.runtime.adapters.queue import InProcessJobQueue
from podwhisperer.runtime.adapters.storage import FileObjectStore, ObjectNotFoundError, file_md5
from podwhisperer.runtime.bedrock import ConverseClient, make_converse_client
from podwhisperer.runtime.config import LlmRefinementConfig, PipelineConfig, TranscriptionConfig
from podwhisperer.runtime.context import EpisodeContext, sidecar_key
from podwhisperer.runtime.contracts import JobMessage
from podwhisperer.runtime.keys import OutputKeys, has_audio_extension, output_keys, safe_name
from podwhisperer.runtime.local.durable_sdk import LocalDurableRunner
from podwhisperer.runtime.pipeline import PipelineDeps, make_durable_handler
from podwhisperer.runtime.transcript import Transcript, TranscriptError
from podwhisperer.runtime.upload import object_created_event

LOCAL_BUCKET = "local"
FUNCTION_NAME = "podwhisperer-local"
STATE_DIR = ".podwhisperer"
LOCAL_JOB_TIMEOUT = Duration.from_hours(24)

# A local job answers (success or failure) from this process; a heartbeat deadline would only
# fail long CPU transcriptions, so local callbacks have none.
NO_HEARTBEAT = Duration()

MAX_FILE_NAME_BYTES = 255
"""Longest file name Linux, macOS and Windows file systems accept (ext4, APFS, NTFS)."""

LocalJob = Callable[[JobMessage], dict[str, Any]]
"""Runs one transcription job and returns the callback result ``{"raw_transcript_key", "stats"}``."""


@dataclass(frozen=True)
class LocalRun:
    """What one ``transcribe`` call did."""

    audio: Path
    input_key: str
    execution_name: str
    status: str  # completed | ignored | superseded (the workflow result), or failed
    resumed: bool
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class RunProgress:
    """What a :meth:`LocalPipeline.transcribe` progress callback sees on each poll."""

    audio: Path
    input_key: str
    execution_name: str
    resumed: bool
    steps: list[tuple[str, str]]  # (name, status) of the workflow's top-level steps so far
    finished: bool



class LocalInputError(ValueError):
    """An audio file local mode refuses before doing any work (empty, unusable name, clashing outputs)."""


def input_problems(audio_files: Sequence[Path], config: PipelineConfig) -> list[str]:
    """One line per file that cannot be transcribed into one output folder, naming the file; [] when all can.

    Checked before any work: an empty file, a name whose output files would be too long for the file
    system, a name without an audio extension, and two different files whose outputs would overwrite
    each other (``A/ep.mp3`` and ``B/ep.mp3`` both become ``ep_*``).
    """
    storage = config.storage
    problems: list[str] = []
    claimed: dict[str, Path] = {}
    for audio in audio_files:
        problem = _file_problem(audio, config)
        if problem:
            problems.append(f"{audio}: {problem}")
            continue
        outputs = output_keys(storage.input_prefix + audio.name, storage)
        earlier = claimed.setdefault(outputs.base, audio)
        if earlier != audio and earlier.resolve() != audio.resolve():
            name = outputs.base.rsplit("/", 1)[-1]
            problems.append(f"{audio}: its outputs would overwrite those of {earlier} (both are named "
                            f"{name}_*); rename one, or transcribe them into different --output-dir folders")
    return problems


def _file_problem(audio: Path, config: PipelineConfig) -> str | None:
    try:
        size = audio.stat().st_size
    except OSError as exc:
        return f"cannot read it ({exc.strerror or exc})"
    if size == 0:
        return "the file is empty (0 bytes)"
    storage = config.storage
    if not has_audio_extension(audio.name, storage):  # the workflow's own rule (intake), checked up front
        return f"not an audio file name (extensions: {', '.join(storage.audio_extensions)})"
    longest = _longest_output_name(output_keys(storage.input_prefix + audio.name, storage))
    if len(longest.encode()) > MAX_FILE_NAME_BYTES:
        excess = len(longest.encode()) - MAX_FILE_NAME_BYTES
        return (f"the file name is too long: its output {longest[:20]}…{longest[-30:]} would be "
                f"{len(longest.encode())} bytes, the file system allows {MAX_FILE_NAME_BYTES}; "
                f"shorten the name by at least {excess} characters")
    return None


def _longest_output_name(outputs: OutputKeys) -> str:
    from podwhisperer.runtime.captions.formats import CAPTION_FORMATS

    names = [outputs.raw_transcript, outputs.refined_transcript, *(outputs.caption(f.name) for f in CAPTION_FORMATS)]
    return max((name.rsplit("/", 1)[-1] for name in names), key=lambda name: len(name.encode()))


def local_folders(config: PipelineConfig) -> dict[str, str]:
    """Published and input files directly in the output folder; work objects under ``.podwhisperer/store/``."""
    storage = config.storage
    return {storage.output_prefix: "", storage.input_prefix: "", "": f"{STATE_DIR}/store"}


def execution_name(audio_md5: str, config: PipelineConfig, input_key: str,
                   context: EpisodeContext | None = None) -> str:
    """Same audio + config + episode context + name = same execution (so a re-run resumes or reports it)."""
    parts: list[Any] = [audio_md5, input_key, config.model_dump(mode="json")]
    if context is not None and not context.is_empty:
        parts.append(context.to_dict())
    material = json.dumps(parts, sort_keys=True)
    digest = hashlib.sha256(material.encode()).hexdigest()[:20]
    return f"{safe_name(Path(input_key).stem)[:40]}-{digest}"


class LocalPipeline:
    """Runs uploads through the durable workflow with on-disk checkpoints under ``output_dir``."""

    def __init__(self, output_dir: Path, config: PipelineConfig, job_runner: LocalJob, *,
                 bedrock_factory: Callable[[LlmRefinementConfig], ConverseClient] = make_converse_client,
                 logger: Any = None) -> None:
        self.output_dir = Path(output_dir)
        self.state_dir = self.output_dir / STATE_DIR
        self.config = config
        self.store = FileObjectStore(self.output_dir, local_folders(config))
        self.events = JsonLinesEventSink(self.state_dir / "events.jsonl")
        self._job_runner = job_runner
        self.queue = InProcessJobQueue(self._answer_job, spool_dir=self.state_dir / "jobs")
        deps = PipelineDeps(
            config=config, store=self.store, queue=self.queue, events=self.events, bucket=LOCAL_BUCKET,
            bedrock_factory=bedrock_factory, work_scope="input", callback_timeouts=_local_callback_timeouts,
            **({"logger": logger} if logger is not None else {}),
        )
        self.runner = LocalDurableRunner(make_durable_handler(lambda: deps), self.state_dir / "executions",
                                         function_name=FUNCTION_NAME)
        self.executions = self.runner.executions

    def close(self) -> None:
        self.queue.drain(timeout=2)  # let a consumer that already answered remove its spool file
        self.queue.close()
        self.runner.close()

    def __enter__(self) -> LocalPipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # region running

    def start(self, audio: Path, context: EpisodeContext | None = None) -> tuple[str, str, bool, str]:
        """Stage the audio (and its episode context, as the sidecar the workflow reads) and start (or resume)
        its execution; returns (arn, input key, resumed, name).

        Raises :class:`LocalInputError` for a file :func:`input_problems` refuses."""
        problems = input_problems([audio], self.config)
        if problems:
            raise LocalInputError(problems[0])
        input_key = self.config.storage.input_prefix + audio.name
        etag = self._stage_audio(audio, input_key)
        self._stage_context(input_key, context)
        name = execution_name(etag, self.config, input_key, context)
        existing = self._find_execution(name)
        if existing is not None and existing.is_complete and not self._outputs_present(existing, etag):
            existing = None  # failed, or its outputs were deleted or replaced since: run again
        if existing is not None:
            if not existing.is_complete:
                self._resume(existing)
                self.queue.redeliver_pending()
            return existing.durable_execution_arn, input_key, True, name
        size = self.store.path_of(input_key).stat().st_size
        event = object_created_event(LOCAL_BUCKET, input_key, size, etag)
        arn = self.runner.start(json.dumps(event), name, int(LOCAL_JOB_TIMEOUT.to_seconds()))
        return arn, input_key, False, name

    def wait(self, arn: str, timeout: float | None = None) -> dict[str, Any]:
        """Block until the execution ends; returns ``{"status", "result", "error"}``."""
        execution = self.executions.load(arn)
        if not execution.is_complete:
            self.runner.wait_until_complete(arn, timeout)
            execution = self.executions.load(arn)
        if not execution.is_complete:
            raise TimeoutError(f"execution {arn} still running")
        self.runner.settle(arn)
        execution = self.executions.load(arn)
        output = execution.result
        error = output.error.message if output is not None and output.error is not None else None
        result = json.loads(output.result) if output is not None and output.result else {}
        status = str(result.get("status", "completed")) if not _failed(execution) else "failed"
        return {"status": status, "result": result, "error": error}

    def transcribe(self, audio: Path, timeout: float | None = None,
                   on_progress: Callable[[RunProgress], None] | None = None,
                   poll_interval: float = 0.2, context: EpisodeContext | None = None) -> LocalRun:
        """Start or resume ``audio`` and wait for it. ``on_progress`` (for a progress display) is called
        every ``poll_interval`` seconds until the execution has ended, the last time with ``finished``."""
        began = time.perf_counter()
        arn, input_key, resumed, name = self.start(audio, context)
        deadline = None if timeout is None else time.monotonic() + timeout
        while on_progress is not None:
            try:
                execution = self.executions.load(arn)  # once per poll: the whole execution's JSON
            except Exception:  # not saved yet
                execution = None
            finished = execution is not None and bool(execution.is_complete)
            steps = [] if execution is None else [
                (op.name, op.status.value) for op in execution.operations
                if op.parent_id is None and op.name and op.operation_type is not OperationType.EXECUTION]
            on_progress(RunProgress(audio=audio, input_key=input_key, execution_name=name, resumed=resumed,
                                    steps=steps, finished=finished))
            if finished or (deadline is not None and time.monotonic() >= deadline):
                break
            time.sleep(poll_interval)
        outcome = self.wait(arn, None if deadline is None else max(0.0, deadline - time.monotonic()))
        return LocalRun(audio=audio, input_key=input_key, execution_name=name, status=outcome["status"],
                        resumed=resumed, result=outcome["result"], error=outcome["error"],
                        seconds=time.perf_counter() - began)

    # endregion

    # region internals

    def _stage_audio(self, audio: Path, input_key: str) -> str:
        """Put the audio next to the outputs (hard link when possible); returns its md5 (the local etag).

        A different file of the same name already there is replaced only when this tool put it there
        (recorded in ``.podwhisperer/staged.json``): the user's own files are never deleted.
        """
        target = self.store.path_of(input_key)
        etag = file_md5(audio)
        staged = self.store.head(input_key)  # hashed once: the store remembers it for the run's later heads
        if staged is not None and staged.etag == etag:
            return etag
        record = self.state_dir / "staged.json"
        ours = json.loads(record.read_text()) if record.is_file() else {}
        if staged is not None and ours.get(input_key) != staged.etag:
            raise FileExistsError(f"{target} exists and is not {audio}; choose another --output-dir "
                                  "(podwhisperer never replaces a file it did not put there)")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        try:
            os.link(audio, target)
        except OSError:
            shutil.copyfile(audio, target)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps({**ours, input_key: etag}, sort_keys=True))
        return etag

    def _stage_context(self, input_key: str, context: EpisodeContext | None) -> None:
        """Write the sidecar for ``context``, or remove one an earlier run left (a stale guest list)."""
        key = sidecar_key(input_key)
        if context is None or context.is_empty:
            self.store.delete(key)
            return
        text = yaml.safe_dump(context.to_dict(), sort_keys=False, allow_unicode=True)
        if self.store.head(key) is None or self.store.get(key).decode() != text:
            self.store.put(key, text.encode(), "application/yaml")

    def _find_execution(self, name: str) -> Any:
        return self.runner.find(name)

    def _outputs_present(self, execution: Any, etag: str) -> bool:
        """True when ``execution`` ended well and its published refined transcript was made from ``etag``."""
        if _failed(execution) or execution.result is None or not execution.result.result:
            return False
        result = json.loads(execution.result.result)
        refined = (result.get("outputKeys") or {}).get("refinedTranscript")
        if result.get("status") != "completed":
            return True
        return isinstance(refined, str) and self._made_from(refined, etag)

    def _made_from(self, key: str, etag: str) -> bool:
        """Whether the transcript at ``key`` exists and was made from audio ``etag`` (not a same-named other file)."""
        try:
            metadata = Transcript.from_json(self.store.get(key)).metadata
        except (ObjectNotFoundError, TranscriptError):
            return False
        return metadata is not None and metadata.source_etag == etag

    def _resume(self, execution: Any) -> None:
        """Hand an interrupted execution back to the executor, which replays it from its checkpoints."""
        timeout = int(execution.start_input.execution_timeout_seconds or LOCAL_JOB_TIMEOUT.to_seconds())
        self.runner.resume(execution, timeout)

    def _answer_job(self, job: JobMessage) -> None:
        """The in-process "worker": run the job, then complete the callback like the GPU worker does."""
        try:
            result = self._job_runner(job)
        except Exception as exc:  # every failure must reach the waiting execution
            self.runner.fail_callback(job.callback_id, str(exc), error_type=type(exc).__name__)
            return
        self.runner.succeed_callback(job.callback_id, json.dumps(result).encode())

    # endregion


def _failed(execution: Any) -> bool:
    status = getattr(execution.close_status, "value", None)
    return status is not None and status != "SUCCEEDED"


def _local_callback_timeouts(cfg: TranscriptionConfig) -> tuple[Duration, Duration]:
    return LOCAL_JOB_TIMEOUT, NO_HEARTBEAT


def worker_job_runner(store: FileObjectStore, config: PipelineConfig, *, device: str = "cpu",
                      on_notice: Callable[[str], None] | None = None, progress: Any = None) -> LocalJob:
    """A :data:`LocalJob` backed by the real worker (WhisperX), models loaded once per process.

    ``progress`` (a :class:`~podwhisperer.worker.progress.TranscriptionProgress`) follows each job's
    transcription in audio seconds, for the progress display.
    """
    from podwhisperer.worker.job import TranscriptionJob
    from podwhisperer.worker.models import ModelCache

    job = TranscriptionJob(store, ModelCache(device=device, allow_fallback=True), config, progress=progress)

    def run(message: JobMessage) -> dict[str, Any]:
        result = job.run(message)
        for note in result.stats.get("notes", []) if on_notice and result.stats else []:
            on_notice(str(note))  # type: ignore[misc]
        callback: dict[str, Any] = result.to_wire()
        return callback

    return run
