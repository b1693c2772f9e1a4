"""The WhisperX stages for one audio file, as a short pipeline of named, timed stages.

``load_audio → vad → load_whisper_model → detect_language → load_align_model → transcribe → align →
load_diarization_model → diarize → assign_speakers``; every stage is recorded in the metadata
(``success``, ``skipped`` with a reason, or ``error``).

Memory stays flat in episode length: the audio is decoded to a PCM file and read a block at a time
(:mod:`~podwhisperer.worker.audio_stream`); VAD runs block by block; transcription and alignment run
on blocks of at most five minutes cut in pauses (:mod:`~podwhisperer.worker.blocks`); the offline
diarizer embeds one speech region at a time. Only pyannote's pipeline still gets the whole recording.

Word timings come from wav2vec2 alignment (``whisperx.align``) when an alignment model exists for
the language. When none does (offline, or an unsupported language), the transcription stage
switches from whisperx's batched decoding (which produces no words) to faster-whisper's sequential
decoding with ``word_timestamps=True`` on the same CTranslate2 model: the words then carry
Whisper's own (cross-attention) timestamps, and the metadata says so. ``whisperx`` is imported
inside the functions because importing it costs seconds.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podwhisperer.runtime.config import TranscriptionConfig
from podwhisperer.runtime.transcript import RawMetadata, Transcript
from podwhisperer.worker.audio_stream import PcmFile, as_array, decode_to_pcm
from podwhisperer.worker.blocks import Block, plan_blocks, segments_in, shift_times
from podwhisperer.worker.hallucination import SILENCE_THRESHOLD_SECONDS, filter_hallucinations
from podwhisperer.worker.language import detect_language
from podwhisperer.worker.models import AlignModel, Diarizer, ModelCache, Unavailable, WhisperHandle, diarizer_name
from podwhisperer.worker.progress import TranscriptionProgress
from podwhisperer.worker.timing import StageTimer
from podwhisperer.worker.vad import Region, speech_regions

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
WORD_TIMESTAMPS_NOTE = ("No wav2vec2 alignment model was available for language {language!r}; "
                        "word timings are Whisper's own word timestamps (less precise at word edges).")


@dataclass(slots=True)
class _SpeechRun:
    """What one transcription accumulates as it goes through the stages."""

    cfg: TranscriptionConfig
    models: ModelCache
    timer: StageTimer = field(default_factory=StageTimer)
    notes: list[str] = field(default_factory=list)
    word_timing: str | None = None  # "wav2vec2", "whisper" or None (no words)
    diarized: bool = False
    diarizer: str | None = None  # which diarizer ran: "pyannote", "resemblyzer-spectral", ...
    language_detection: dict[str, Any] | None = None  # LanguageGuess.to_metadata() when detected
    progress: TranscriptionProgress = field(default_factory=TranscriptionProgress)
    hallucinations: dict[str, int] = field(default_factory=dict)  # what filter_hallucinations dropped
    blocks_without_speech: int = 0


def transcribe_file(audio_path: Path, cfg: TranscriptionConfig, models: ModelCache, *, source_key: str,
                    etag: str | None, diarizer: Diarizer | None = None,
                    progress: TranscriptionProgress | None = None) -> Transcript:
    """Run every stage on ``audio_path``; return the raw transcript with its :class:`RawMetadata`.

    ``progress`` (when given) follows the transcribe stage in audio seconds, for logs and displays.
    """
    run = _SpeechRun(cfg, models, progress=progress or TranscriptionProgress())
    with tempfile.TemporaryDirectory(prefix="podwhisperer-pcm-") as temp:
        with run.timer.stage("load_audio"):
            audio = decode_to_pcm(audio_path, Path(temp) / "audio.f32")  # ffmpeg → 16 kHz mono float32 on disk
        with run.timer.stage("vad"):
            regions = speech_regions(audio, threshold=cfg.vad_onset, neg_threshold=cfg.vad_offset)
        blocks = plan_blocks(regions, len(audio))
        with run.timer.stage("load_whisper_model"):
            handle = models.whisper(cfg)
        run.notes.extend(handle.source.notes)
        language = _choose_language(run, handle, audio, regions)
        align_model = _load_align_model(run, language)
        result = _transcribe(run, handle, audio, blocks, regions, language, align_model)
        result["segments"], run.hallucinations = filter_hallucinations(result["segments"])
        if run.hallucinations["words_dropped"]:
            run.notes.append(f"Dropped {run.hallucinations['words_dropped']} words of likely invented text "
                             f"(loops, repetitive or speech-less segments): {run.hallucinations}.")
        if isinstance(align_model, AlignModel) and result["segments"]:
            result = _align(run, result, align_model, audio, blocks)
        result = _diarize(run, result, audio, diarizer)
        metadata = _metadata(run, handle, source_key, etag, language, len(audio) / SAMPLE_RATE)
    return _to_transcript(result, metadata)


def _choose_language(run: _SpeechRun, handle: WhisperHandle, audio: PcmFile, regions: list[Region]) -> str:
    wanted = run.cfg.language
    if not handle.multilingual:
        if wanted not in (None, "en"):
            run.notes.append(f"Model {handle.source.display_name} is English-only; language {wanted!r} ignored.")
        run.timer.skipped("detect_language", "English-only model")
        return "en"
    if wanted:
        run.timer.skipped("detect_language", "language fixed by the configuration")
        return wanted
    with run.timer.stage("detect_language"):
        guess = detect_language(handle.model, audio, regions)
    if guess is None:
        run.notes.append("No speech found to detect the language from; assumed 'en'.")
        run.language_detection = {"language": "en", "probability": 0.0, "windows": 0, "weak": True,
                                  "reasons": ["no speech found"]}
        return "en"
    run.language_detection = guess.to_metadata()
    note = (f"Detected language {guess.language!r} (probability {guess.probability:.2f}, "
            f"{guess.windows} speech windows).")
    if guess.weak:
        note += f" Weak evidence: {'; '.join(guess.reasons)}. Set transcription.language to be sure."
    run.notes.append(note)
    return guess.language


def _load_align_model(run: _SpeechRun, language: str) -> AlignModel | Unavailable | None:
    if not run.cfg.align:
        run.timer.skipped("load_align_model", "alignment disabled")
        return None
    with run.timer.stage("load_align_model"):
        align_model = run.models.align_model(language)
    if isinstance(align_model, Unavailable):
        run.notes.append(WORD_TIMESTAMPS_NOTE.format(language=language))
    return align_model


def _transcribe(run: _SpeechRun, handle: WhisperHandle, audio: PcmFile, blocks: list[Block], regions: list[Region],
                language: str, align_model: AlignModel | Unavailable | None) -> dict[str, Any]:
    """Each block in turn (bounded memory); segment and word times are moved to recording time."""
    sequential = isinstance(align_model, Unavailable)
    if sequential:
        run.word_timing = "whisper"
    segments: list[dict[str, Any]] = []
    progress = run.progress
    with run.timer.stage("transcribe"):
        progress.start(len(audio) / SAMPLE_RATE)
        pipeline = None if sequential else run.models.batched_pipeline(handle, run.cfg, language)
        for block in blocks:
            if not any(r.start < block.end and r.end > block.start for r in regions):
                run.blocks_without_speech += 1  # VAD gate: Whisper never hears a block with no speech
            elif pipeline is None:
                found = _transcribe_sequential_with_words(
                    handle, run.cfg, audio[block.start:block.end], language,
                    on_segment=_advance_from(progress, block.offset_seconds))["segments"]
                segments += shift_times(found, block.offset_seconds)
            else:  # whisperx decodes a block's batches in one call: progress moves per block
                found = pipeline.transcribe(audio[block.start:block.end],
                                            batch_size=run.models.batch_size_for(run.cfg), language=language)
                segments += shift_times(found["segments"], block.offset_seconds)
            progress.advance_to(block.end / SAMPLE_RATE)
        progress.finish()
    return {"segments": segments, "language": language}


def _advance_from(progress: TranscriptionProgress, offset: float) -> Callable[[float], None]:
    """A block's segment end (block time) → the episode's progress (recording time)."""
    def advance(end: float) -> None:
        progress.advance_to(offset + end)

    return advance


def _transcribe_sequential_with_words(handle: WhisperHandle, cfg: TranscriptionConfig, audio: Any, language: str,
                                      on_segment: Callable[[float], None] | None = None) -> dict[str, Any]:
    """faster-whisper decoding with Whisper's word timestamps, in whisperx's result shape.

    faster-whisper yields segments as it decodes them: ``on_segment`` gets each one's end time.
    """
    segments, _info = handle.model.transcribe(
        audio, language=language, beam_size=5, word_timestamps=True, condition_on_previous_text=False,
        hallucination_silence_threshold=SILENCE_THRESHOLD_SECONDS,  # skip silences holding invented words
        vad_filter=True, vad_parameters={"threshold": cfg.vad_onset, "neg_threshold": cfg.vad_offset},
        initial_prompt=cfg.initial_prompt, hotwords=" ".join(cfg.hotwords) or None,
        suppress_tokens=_suppressed_tokens(handle, cfg, language))
    found = []
    for segment in segments:  # decoding happens while iterating
        found.append(_segment_dict(segment))
        if on_segment is not None:
            on_segment(float(segment.end))
    return {"segments": found, "language": language}


def _suppressed_tokens(handle: WhisperHandle, cfg: TranscriptionConfig, language: str) -> list[int]:
    """faster-whisper's default ``[-1]``, plus numeral/symbol tokens when numbers must be spelled out."""
    if not cfg.suppress_numerals:
        return [-1]
    from faster_whisper.tokenizer import Tokenizer
    from whisperx.asr import find_numeral_symbol_tokens

    tokenizer = Tokenizer(handle.model.hf_tokenizer, handle.multilingual, task="transcribe", language=language)
    return [-1, *find_numeral_symbol_tokens(tokenizer)]


def _segment_dict(segment: Any) -> dict[str, Any]:
    words = [{"word": w.word.strip(), "start": round(float(w.start), 3), "end": round(float(w.end), 3),
              "score": round(float(w.probability), 3)} for w in (segment.words or []) if w.word.strip()]
    return {"start": round(float(segment.start), 3), "end": round(float(segment.end), 3), "text": segment.text,
            "words": words, "avg_logprob": round(float(segment.avg_logprob), 4),
            "no_speech_prob": round(float(segment.no_speech_prob), 4)}


def _align(run: _SpeechRun, result: dict[str, Any], align_model: AlignModel, audio: PcmFile,
           blocks: list[Block]) -> dict[str, Any]:
    import whisperx

    segments: list[dict[str, Any]] = []
    with run.timer.stage("align"):
        for block in blocks:
            inside = shift_times(segments_in(result["segments"], block), -block.offset_seconds)
            if not inside:
                continue
            aligned: dict[str, Any] = whisperx.align(inside, align_model.model, align_model.metadata,
                                                     audio[block.start:block.end], run.models.device,
                                                     return_char_alignments=False)
            segments += shift_times(aligned["segments"], block.offset_seconds)
    run.word_timing = "wav2vec2"
    return {"segments": segments, "language": result.get("language")}


def _diarize(run: _SpeechRun, result: dict[str, Any], audio: Any, diarizer: Diarizer | None) -> dict[str, Any]:
    if not run.cfg.diarize:
        run.timer.skipped("diarize", "diarization disabled")
        return result
    if diarizer is None:
        with run.timer.stage("load_diarization_model"):
            found = run.models.diarizer(run.cfg)
        if isinstance(found, Unavailable):
            run.notes.append(found.reason)
            run.timer.skipped("diarize", "no diarization model")
            return result
        run.notes.extend(run.models.diarizer_notes(run.cfg))
        diarizer = found
    run.diarizer = diarizer_name(diarizer)
    with run.timer.stage("diarize"):
        # the offline diarizer reads the PCM file region by region; pyannote (and test fakes) get an array
        streams = getattr(diarizer, "accepts_streamed_audio", False)
        turns = diarizer(audio if streams else as_array(audio), **_speaker_bounds(run.cfg))
    return _assign_speakers(run, result, turns)


def _speaker_bounds(cfg: TranscriptionConfig) -> dict[str, int | None]:
    if cfg.num_speakers is not None:
        return {"num_speakers": cfg.num_speakers, "min_speakers": None, "max_speakers": None}
    return {"num_speakers": None, "min_speakers": cfg.min_speakers, "max_speakers": cfg.max_speakers}


def _assign_speakers(run: _SpeechRun, result: dict[str, Any], turns: Any) -> dict[str, Any]:
    import whisperx

    with run.timer.stage("assign_speakers"):
        # fill_nearest: a word in a gap between turns (or zero-length) still gets the closest speaker
        assigned: dict[str, Any] = whisperx.assign_word_speakers(turns, result, fill_nearest=True)
    run.diarized = len(turns) > 0
    if not run.diarized:
        run.notes.append("Diarization found no speech turns; no speakers were assigned.")
    return assigned


def _metadata(run: _SpeechRun, handle: WhisperHandle, source_key: str, etag: str | None, language: str,
              duration: float) -> RawMetadata:
    extra = {"word_timing": run.word_timing, "compute_type": handle.compute_type,
             "batch_size": run.models.batch_size_for(run.cfg) if run.word_timing != "whisper" else 1,
             "model_path": handle.source.path, "requested_model": handle.source.requested,
             "diarizer": run.diarizer, "language_detection": run.language_detection,
             "hallucination_filter": {**run.hallucinations, "blocks_without_speech": run.blocks_without_speech}}
    return RawMetadata(source_key=source_key, source_etag=etag, model=handle.source.display_name, language=language,
                       audio_duration=round(duration, 3), aligned=run.word_timing == "wav2vec2",
                       diarized=run.diarized, device=run.models.device, stage_timings=run.timer.records(),
                       notes=list(run.notes), extra=extra)


def _to_transcript(result: dict[str, Any], metadata: RawMetadata) -> Transcript:
    segments = [_plain(s) for s in result["segments"]]
    word_segments = [w for s in segments for w in s.get("words", [])]
    transcript = Transcript.from_dict({"segments": segments, "word_segments": word_segments})
    return transcript.copy(metadata=metadata)


def _plain(value: Any) -> Any:
    """numpy scalars → Python numbers, recursively, so the transcript serialises with orjson."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    return value
