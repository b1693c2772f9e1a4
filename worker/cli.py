"""`podwhisperer worker ...`: the poller (`run`, the container's entry point) and the job on a local file.

``run`` is configured from the environment, as ECS passes it:

* ``QUEUE_URL`` (required): the job queue.
* ``BUCKET_NAME`` (required): the bucket holding ``input/`` and ``output/``.
* ``PODWHISPERER_CONFIG``: the pipeline configuration as JSON (default: all defaults).
* ``IDLE_TIMEOUT_SECONDS``: exit after this long without work (default: ``worker.idle_timeout_minutes``).
* ``DEAD_LETTER_QUEUE_URL``: optional; read from the queue's redrive policy otherwise.
* ``MAX_RECEIVE_COUNT``: optional (default: ``worker.max_receive_count``).
* ``WORKER_DEVICE`` (``cuda``/``cpu``, default: detected), ``HF_TOKEN`` (optional: models are baked into the image).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(help="Run the GPU worker or its job on a local file.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class WorkerEnvError(ValueError):
    """A missing or invalid environment variable for ``worker run``."""


@dataclass(frozen=True, slots=True)
class WorkerEnv:
    """Everything ``worker run`` reads from the environment, validated."""

    queue_url: str
    bucket_name: str
    config: Any  # PipelineConfig
    idle_timeout_seconds: float
    dead_letter_queue_url: str | None
    max_receive_count: int | None
    device: str | None
    hf_token: str | None
    ecs_agent_uri: str | None = None  # set by ECS: used for task scale-in protection during a job

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WorkerEnv:
        from podwhisperer.runtime import contracts as c
        from podwhisperer.runtime.config import ConfigError

        missing = [name for name in (c.QUEUE_URL_ENV, c.BUCKET_ENV) if not env.get(name)]
        if missing:
            raise WorkerEnvError(f"missing environment variable(s): {', '.join(missing)}")
        try:
            config = c.config_from_env(env)
        except ConfigError as exc:  # names the variable itself
            raise WorkerEnvError(str(exc)) from None
        idle = _number(env, c.IDLE_TIMEOUT_ENV, config.worker.idle_timeout_minutes * 60)
        device = _device(env.get(c.WORKER_DEVICE_ENV) or None, c.WORKER_DEVICE_ENV)
        max_receives = env.get(c.MAX_RECEIVE_COUNT_ENV)
        return cls(queue_url=env[c.QUEUE_URL_ENV], bucket_name=env[c.BUCKET_ENV], config=config,
                   idle_timeout_seconds=idle, dead_letter_queue_url=env.get(c.DEAD_LETTER_QUEUE_URL_ENV) or None,
                   max_receive_count=int(_number(env, c.MAX_RECEIVE_COUNT_ENV, 0)) if max_receives else None,
                   device=device, hf_token=env.get(c.HF_TOKEN_ENV) or None,
                   ecs_agent_uri=env.get(c.ECS_AGENT_URI_ENV) or None)


def _device(device: str | None, name: str) -> str | None:
    """``cpu``, ``cuda`` or None (detect); ``name`` says where a bad value came from."""
    if device not in (None, "cpu", "cuda"):
        raise WorkerEnvError(f"{name} must be cpu or cuda, got {device!r}")
    return device


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise WorkerEnvError(f"{name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise WorkerEnvError(f"{name} must be positive, got {raw!r}")
    return value


def build_poller(env: WorkerEnv, *, sqs_client: Any, s3_client: Any, lambda_client: Any,
                 models: Any = None) -> Any:
    """Wire the poller from validated settings and injected boto3 clients (no globals)."""
    from podwhisperer.runtime.adapters.storage import S3ObjectStore
    from podwhisperer.worker.callbacks import CallbackSender
    from podwhisperer.worker.claims import S3JobClaims
    from podwhisperer.worker.job import TranscriptionJob
    from podwhisperer.worker.models import ModelCache, default_device
    from podwhisperer.worker.poller import Poller, PollerSettings
    from podwhisperer.worker.protection import TaskProtection

    cfg = env.config.transcription
    models = models or ModelCache(device=env.device or default_device(), hf_token=env.hf_token)
    job = TranscriptionJob(S3ObjectStore(s3_client, env.bucket_name), models, env.config)
    # Heartbeats well inside the callback's heartbeat timeout, and visibility a few heartbeats long.
    heartbeat = min(60.0, cfg.heartbeat_timeout_minutes * 60 / 3)
    settings = PollerSettings(queue_url=env.queue_url, idle_timeout_seconds=env.idle_timeout_seconds,
                              visibility_timeout_seconds=int(max(300, heartbeat * 5)),
                              heartbeat_interval_seconds=heartbeat, dead_letter_queue_url=env.dead_letter_queue_url,
                              max_receive_count=env.max_receive_count or env.config.worker.max_receive_count,
                              job_timeout_minutes=env.config.transcription.job_timeout_minutes,
                              callback_heartbeat_timeout_seconds=cfg.heartbeat_timeout_minutes * 60)
    protection = TaskProtection(env.ecs_agent_uri)
    # An in-progress marker per upload: a worker that dies stops refreshing it, so it goes stale after a few beats.
    claims = S3JobClaims(s3_client, env.bucket_name, env.config.storage.work_prefix, _worker_id(),
                         ttl_seconds=heartbeat * 3)
    return Poller(sqs_client, job, CallbackSender(lambda_client), settings, protection=protection, claims=claims)


def _worker_id() -> str:
    """Names this process in claims (the ECS task's host name, the pid, and a random part for restarts)."""
    import socket
    import uuid

    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


@app.command("run")
def run() -> None:
    """Poll the job queue until idle (the container's entry point). Configured from the environment."""
    import boto3

    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stderr)
    try:
        env = WorkerEnv.from_env(os.environ)
    except WorkerEnvError as exc:
        typer.echo(f"worker run: {exc}", err=True)
        raise typer.Exit(2) from None
    poller = build_poller(env, sqs_client=boto3.client("sqs"), s3_client=boto3.client("s3"),
                          lambda_client=boto3.client("lambda"))
    with poller.signal_handlers():
        reason = poller.run()
    typer.echo(f"worker exiting: {reason.value}", err=True)


@app.command("transcribe")
def transcribe(
    audio: Annotated[Path, typer.Argument(help="An audio or video file.", exists=True, dir_okay=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the raw transcript JSON.")],
    model: Annotated[str | None, typer.Option(help="Whisper model name or CTranslate2 folder "
                                                   "(default: the config's; falls back to tiny.en offline).")] = None,
    device: Annotated[str | None, typer.Option(help="cpu or cuda (default: cuda when available).")] = None,
    language: Annotated[str | None, typer.Option(help="ISO code, e.g. en; 'auto' detects it.")] = None,
    align: Annotated[bool, typer.Option("--align/--no-align", help="wav2vec2 word alignment.")] = True,
    diarize: Annotated[bool, typer.Option("--diarize/--no-diarize", help="pyannote speaker diarization.")] = True,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="podwhisperer.yaml or .json")] = None,
) -> None:
    """Run the worker's job on a local file and write the raw transcript (no queue, no S3)."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stderr)
    try:
        transcript = _transcribe_local(audio, config, model=model, device=device, language=language,
                                       align=align, diarize=diarize)
    except (ValueError, RuntimeError) as exc:  # PermanentJobError/ConfigError are ValueErrors
        typer.echo(f"transcribe: {exc}", err=True)
        raise typer.Exit(1) from None
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(transcript.to_json(indent=True))
    meta = transcript.metadata
    typer.echo(f"{output}: {len(transcript.segments)} segments, model {meta.model if meta else '?'}, "
               f"language {meta.language if meta else '?'}", err=True)


def _transcribe_local(audio: Path, config_file: Path | None, *, model: str | None, device: str | None,
                      language: str | None, align: bool, diarize: bool) -> Any:
    from podwhisperer.runtime.adapters.storage import file_md5
    from podwhisperer.runtime.config import PipelineConfig, load_config, transcription_flags
    from podwhisperer.worker.audio import probe_audio
    from podwhisperer.worker.models import ModelCache, default_device
    from podwhisperer.worker.speech import transcribe_file

    device = _device(device, "--device")  # a WorkerEnvError is a ValueError: reported like the others
    config = load_config(config_file) if config_file else PipelineConfig()
    overrides: dict[str, Any] = {"align": align, "diarize": diarize, **transcription_flags(model, language)}
    cfg = config.with_overrides({"transcription": overrides}).transcription
    probe_audio(audio, max_minutes=cfg.max_audio_minutes)
    # An explicit --model must exist; the config's model may fall back to the packaged tiny.en offline.
    models = ModelCache(device=device or default_device(), allow_fallback=False if model else None)
    return transcribe_file(audio, cfg, models, source_key=audio.name, etag=file_md5(audio))

