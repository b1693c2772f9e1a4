"""Canned transcripts built from the metadata model, and the fake transcriber the real worker job runs.

:func:`canned_transcript` is a WhisperX-shaped :class:`Transcript` (two speakers, ~150 words a minute,
some unaligned numerals) with :class:`RawMetadata`; :func:`fake_transcriber` is a stand-in for
``worker.speech.transcribe_file`` that :class:`~podwhisperer.worker.job.TranscriptionJob` accepts as
its ``transcriber``, so tests run the real job (download, ffprobe, reuse rule, upload) without ASR.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

from podwhisperer.runtime.config import TranscriptionConfig
from podwhisperer.runtime.contracts import RawMetadata, transcription_fingerprint
from podwhisperer.runtime.transcript import Segment, Transcript, Word

VOCABULARY = ["podcast", "cloud", "lambda", "durable", "function", "serverless", "episode", "today", "we", "talk",
              "about", "the", "new", "feature", "and", "it", "is", "really", "great", "so"]


def _canned_segments(minutes: float, seed: int) -> tuple[list[dict[str, Any]], float]:
    rng = random.Random(seed)
    segments, t, speaker = [], 0.0, 0
    while t < minutes * 60:
        words = []
        for i in range(rng.randint(6, 18)):
            text = str(rng.randint(2, 99)) if rng.random() < 0.03 else rng.choice(VOCABULARY)
            duration = rng.uniform(0.15, 0.45)
            if text.isdigit():  # WhisperX leaves numerals unaligned
                words.append({"word": text})
            else:
                words.append({"word": text + ("." if i and rng.random() < 0.08 else ""), "start": round(t, 3),
                              "end": round(t + duration, 3), "score": round(rng.uniform(0.5, 1), 3),
                              "speaker": f"SPEAKER_0{speaker}"})
            t += duration + rng.uniform(0.02, 0.12)
        timed = [w for w in words if "start" in w]
        start = timed[0]["start"] if timed else t
        segments.append({"start": start, "end": round(t, 3), "text": " " + " ".join(w["word"] for w in words),
                         "speaker": f"SPEAKER_0{speaker}", "words": words})
        if rng.random() < 0.3:
            speaker = 1 - speaker
        t += rng.uniform(0.2, 1.0)
    return segments, round(t, 3)


def canned_transcript(source_key: str, etag: str | None, minutes: float = 2.0, seed: int = 7,
                      stage_timings: list[dict[str, Any]] | None = None) -> Transcript:
    """A seeded WhisperX-shaped transcript with the worker's metadata (no fingerprint: the job adds it)."""
    segments, duration = _canned_segments(minutes, seed)
    transcript = Transcript.from_dict({"segments": segments,
                                       "word_segments": [w for s in segments for w in s["words"]]})
    meta = RawMetadata(source_key=source_key, source_etag=etag, model="fake", language="en", audio_duration=duration,
                       aligned=True, diarized=True, device="cpu", stage_timings=list(stage_timings or []))
    return transcript.copy(metadata=meta)


def canned_raw_transcript(source_key: str, etag: str | None, minutes: float = 2.0, seed: int = 7,
                          transcription: TranscriptionConfig | None = None) -> dict[str, Any]:
    """:func:`canned_transcript` as raw-transcript JSON, fingerprinted with ``transcription`` (default settings)."""
    transcript = canned_transcript(source_key, etag, minutes, seed)
    assert transcript.metadata is not None
    fingerprint = transcription_fingerprint(transcription or TranscriptionConfig())
    return transcript.copy(metadata=transcript.metadata.with_fingerprint(fingerprint)).to_dict()


def fake_transcriber(calls: list[str] | None = None, delay: float = 0.0, minutes: float | None = None) -> Any:
    """A ``transcribe_file`` stand-in, answering after ``delay`` s: a two-word transcript, or with
    ``minutes`` the :func:`canned_transcript` of that length (seeded, the same for every call)."""

    def transcribe(audio_path: Path, cfg: Any, models: Any, *, source_key: str, etag: str | None,
                   diarizer: Any = None, progress: Any = None) -> Transcript:
        if calls is not None:
            calls.append(source_key)
        if progress is not None:  # half the (2 s) audio done while the job "works"
            progress.start(2.0)
            progress.advance_to(1.0)
        time.sleep(delay)
        timings = [{"stage": "transcribe", "status": "success", "seconds": delay}]
        if minutes is not None:
            return canned_transcript(source_key, etag, minutes, stage_timings=timings)
        words = [Word("Hello", 0.1, 0.5, 0.9, "SPEAKER_00"), Word("there.", 0.6, 1.0, 0.9, "SPEAKER_00")]
        meta = RawMetadata(source_key=source_key, source_etag=etag, model="fake", language="en", audio_duration=2.0,
                           aligned=False, diarized=True, device="cpu", stage_timings=timings)
        return Transcript(segments=[Segment(0.1, 1.0, " Hello there.", "SPEAKER_00", words)], metadata=meta)

    return transcribe
