"""One job message → one raw transcript in the object store.

``TranscriptionJob.run`` downloads the upload into a temporary folder (always removed), validates
it with ffprobe, runs the WhisperX stages and writes ``output/<name>_raw_transcript.json`` (the key
comes from the shared :func:`~podwhisperer.runtime.keys.output_keys`, so the Lambda looks in the same
place). A raw transcript already made from the same object version (etag) with the same
transcription settings is reused instead of recomputed: a redelivered message costs seconds, not a
GPU hour.

Bad input raises :class:`PermanentJobError` (re-exported here); everything else propagates and is
treated as transient by the poller.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from podwhisperer.runtime.adapters.storage import ObjectNotFoundError, ObjectStore
from podwhisperer.runtime.config import ConfigError, PipelineConfig
from podwhisperer.runtime.contracts import CallbackResult, JobMessage, normalize_etag, transcription_fingerprint
from podwhisperer.runtime.cost import gpu_cost, worker_seconds
from podwhisperer.runtime.keys import InputKeyError, output_keys
from podwhisperer.runtime.transcript import Transcript, TranscriptError
from podwhisperer.worker.audio import probe_audio, truncation_note
from podwhisperer.worker.errors import InvalidAudioError, PermanentJobError
from podwhisperer.worker.models import Diarizer, ModelCache
from podwhisperer.worker.progress import TranscriptionProgress
from podwhisperer.worker.speech import transcribe_file
from podwhisperer.worker.timing import StageTimer, seconds_by_stage

__all__ = ["InvalidAudioError", "JobResult", "PermanentJobError", "TranscriptionJob", "transcription_fingerprint"]

log = logging.getLogger(__name__)

MAX_NOTES_IN_STATS = 5
MAX_NOTE_CHARS = 300

JobResult = CallbackResult
"""What the callback reports (the wire contract, :class:`~podwhisperer.runtime.contracts.CallbackResult`)."""


Transcriber = Callable[..., Transcript]


class TranscriptionJob:
    """Turns :class:`JobMessage` objects into raw transcripts; reusable across messages (models stay loaded)."""

    def __init__(self, store: ObjectStore, models: ModelCache, config: PipelineConfig, *,
                 diarizer: Diarizer | None = None, temp_root: Path | None = None,
                 transcriber: Transcriber = transcribe_file, progress: TranscriptionProgress | None = None) -> None:
        self.store = store
        self.models = models
        self.config = config
        self.diarizer = diarizer
        self.temp_root = temp_root
        self._transcribe = transcriber  # injectable so poller tests can use a fast fake
        # the job in hand, in audio seconds: the poller logs it with each heartbeat, local mode displays it
        self.progress = progress or TranscriptionProgress()

    def run(self, message: JobMessage) -> JobResult:
        """Transcribe ``message.s3_key`` (or reuse its transcript); raise PermanentJobError for bad input."""
        started = time.perf_counter()
        config = self._config_for(message)
        raw_key = self._raw_transcript_key(message.s3_key, config)
        etag, notes = self._current_etag(message)
        fingerprint = transcription_fingerprint(config.transcription)
        existing = self._reusable(raw_key, message.s3_key, etag, fingerprint)
        if existing is not None:
            log.info("reusing %s (same etag %s and settings)", raw_key, etag)
            return JobResult(raw_transcript_key=raw_key,
                             stats=_stats(existing, reused=True, wall=time.perf_counter() - started))
        transcript = self._transcribe_object(message.s3_key, etag, config, fingerprint, notes,
                                             message.config_overrides)
        timer = StageTimer()
        with timer.stage("upload_raw_transcript"):
            self.store.put(raw_key, transcript.to_json(), content_type="application/json")
        stats = _stats(transcript, reused=False, wall=time.perf_counter() - started, extra_timer=timer)
        return JobResult(raw_transcript_key=raw_key, stats=stats)

    def _config_for(self, message: JobMessage) -> PipelineConfig:
        if not message.config_overrides:
            return self.config
        try:
            return self.config.with_overrides(message.config_overrides)
        except ConfigError as exc:
            raise PermanentJobError(f"Invalid config_overrides: {'; '.join(exc.errors)}") from None

    @staticmethod
    def _raw_transcript_key(s3_key: str, config: PipelineConfig) -> str:
        try:
            return output_keys(s3_key, config.storage).raw_transcript
        except InputKeyError as exc:
            raise PermanentJobError(str(exc)) from None

    def _current_etag(self, message: JobMessage) -> tuple[str | None, list[str]]:
        info = self.store.head(message.s3_key)
        if info is None:
            raise PermanentJobError(f"The uploaded object {message.s3_key!r} does not exist (deleted after upload?).")
        etag = normalize_etag(info.etag)
        wanted = normalize_etag(message.etag)
        if wanted and etag != wanted:
            note = f"The object changed after the job was queued (etag {wanted} → {etag}); transcribed the current one."
            log.warning(note)
            return etag, [note]
        return etag, []

    def _reusable(self, raw_key: str, s3_key: str, etag: str | None, fingerprint: str) -> Transcript | None:
        if not etag:
            return None
        try:
            existing = Transcript.from_json(self.store.get(raw_key))
        except ObjectNotFoundError:
            return None  # nothing made yet: the usual case, not worth a warning
        except TranscriptError as exc:
            log.warning("existing %s is unreadable, transcribing again: %s", raw_key, exc)
            return None
        meta = existing.metadata
        if meta is None or meta.reuse_refusal(s3_key, etag, fingerprint) is not None:
            return None
        return existing

    def _transcribe_object(self, s3_key: str, etag: str | None, config: PipelineConfig, fingerprint: str,
                           notes: list[str], overrides: dict[str, Any]) -> Transcript:
        timer = StageTimer()
        with tempfile.TemporaryDirectory(prefix="podwhisperer-", dir=self.temp_root) as temp:
            local = Path(temp) / ("audio" + PurePosixPath(s3_key).suffix.lower()[:10])
            with timer.stage("download"):
                self._download(s3_key, local)
            with timer.stage("validate_audio"):
                info = probe_audio(local, max_minutes=config.transcription.max_audio_minutes)
            try:
                transcript = self._transcribe(local, config.transcription, self.models, source_key=s3_key,
                                              etag=etag, diarizer=self.diarizer, progress=self.progress)
            finally:
                self.progress.clear()
        meta = transcript.metadata
        assert meta is not None, "transcribe_file always sets metadata"
        truncated = truncation_note(info.duration, meta.audio_duration)
        if truncated:  # a warning, not a failure: see truncation_note
            log.warning("%s: %s", s3_key, truncated)
            notes = [*notes, truncated]
        # the per-episode context (merged over the config as job overrides) is recorded with the transcript
        context = {"episode_context": dict(overrides)} if overrides else {}
        timings = timer.records() + meta.stage_timings
        meta = replace(meta.with_fingerprint(fingerprint, input_audio=info.to_dict(), **context,
                                             cost=gpu_cost(config, worker_seconds(timings), meta.device)),
                       stage_timings=timings, notes=notes + meta.notes)
        if truncated:
            meta = replace(meta, extra={**meta.extra, "truncated": {"container_seconds": info.duration,
                                                                   "decoded_seconds": meta.audio_duration}})
        return transcript.copy(metadata=meta)

    def _download(self, s3_key: str, local: Path) -> None:
        try:
            self.store.download(s3_key, local)
        except ObjectNotFoundError:
            raise PermanentJobError(f"The uploaded object {s3_key!r} does not exist (deleted after upload?).") from None


def _stats(transcript: Transcript, *, reused: bool, wall: float,
           extra_timer: StageTimer | None = None) -> dict[str, Any]:
    """Small JSON stats for the callback (a few hundred bytes; the callback limit is 256 KiB)."""
    meta = transcript.metadata
    words = list(transcript.words())
    duration = meta.audio_duration if meta else None
    stage_seconds = {} if reused or meta is None else seconds_by_stage(meta.stage_timings)
    if extra_timer is not None:
        stage_seconds.update(extra_timer.seconds_by_stage())
    notes = [n[:MAX_NOTE_CHARS] for n in (meta.notes if meta else [])][:MAX_NOTES_IN_STATS]
    return {
        "reused": reused, "model": meta.model if meta else None, "language": meta.language if meta else None,
        "device": meta.device if meta else None, "audio_seconds": duration,
        "aligned": meta.aligned if meta else None, "diarized": meta.diarized if meta else None,
        "word_timing": meta.extra.get("word_timing") if meta else None,
        "segments": len(transcript.segments), "words": len(words),
        "speakers": len({w.speaker for w in words if w.speaker}),
        "processing_seconds": round(wall, 3),
        "realtime_factor": round(wall / duration, 4) if duration and not reused else None,
        "stage_seconds": stage_seconds, "notes": notes, **_speech_stats(meta.extra if meta else {}),
    }


def _speech_stats(extra: dict[str, Any]) -> dict[str, Any]:
    """Which diarizer ran, how sure language detection was, how much invented text was dropped (for the event)."""
    detection = extra.get("language_detection") or {}
    dropped = extra.get("hallucination_filter") or {}
    return {"diarizer": extra.get("diarizer"),
            "language_probability": detection.get("probability"), "language_weak": detection.get("weak"),
            "hallucinated_words_dropped": dropped.get("words_dropped")}
