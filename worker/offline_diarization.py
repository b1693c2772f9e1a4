"""Diarization with no Hugging Face model or token: voice embeddings + spectral clustering.

Used when pyannote's gated pipeline is not available (local runs, a worker image built without a
token). The steps, after the d-vector diarization recipe of Wang et al. (ICASSP 2018) that the
GE2E encoder was made for:

1. speech regions from Silero VAD (:mod:`~podwhisperer.worker.vad`), block by block;
2. one embedding per 1.6 s window every ``hop_seconds`` inside each region (a region shorter than a
   window is embedded whole), computed region by region so only one region's mel frames are in
   memory; the embeddings themselves are 1 KB each (~12 MB per audio hour at a 0.3 s hop);
3. a cosine affinity between windows, refined (each row keeps its top ``1 - affinity_percentile``
   values, the rest are damped; symmetrised) → normalised graph Laplacian → eigengap picks the
   number of speakers within ``min_speakers..max_speakers`` (or ``num_speakers`` exactly) →
   k-means on the spectral embedding (scipy + scikit-learn);
4. speakers whose centroids are nearly the same voice (cosine ≥ ``merge_similarity``) are merged,
   which is also how a single-speaker recording comes out as one speaker;
5. a majority filter over neighbouring windows removes one-window flickers, and each window's
   label covers the ``hop_seconds`` around its centre, giving (start, end, speaker) turns.

For long recordings the affinity matrix would grow with the square of the window count, so at most
``max_cluster_windows`` evenly spaced windows are clustered and every window then takes the label
of the nearest centroid: memory stays flat in episode length.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from podwhisperer.worker.vad import SAMPLE_RATE, Region, speech_regions
from podwhisperer.worker.voice_encoder import HOP, WINDOW_FRAMES, VoiceEncoder

log = logging.getLogger(__name__)

DIARIZER_NAME = "resemblyzer-spectral"  # = models.DIARIZER_LABEL


@dataclass(frozen=True, slots=True)
class OfflineDiarizationSettings:
    hop_seconds: float = 0.3
    affinity_percentile: float = 0.7
    merge_similarity: float = 0.95
    max_estimated_speakers: int = 8
    max_cluster_windows: int = 1500
    smoothing_windows: int = 3
    vad_threshold: float = 0.5
    vad_min_silence_ms: int = 300


@dataclass(frozen=True, slots=True)
class _Windows:
    starts: np.ndarray  # seconds: where each window's label begins
    ends: np.ndarray  # seconds
    embeddings: np.ndarray  # (n, 256)
    region_ids: np.ndarray  # which speech region each window belongs to


class EmbeddingDiarizer:
    """A :class:`~podwhisperer.worker.models.Diarizer` built on :class:`VoiceEncoder`; returns a DataFrame."""

    name = DIARIZER_NAME
    accepts_streamed_audio = True  # slices the audio it is given (a PcmFile) instead of needing one array

    def __init__(self, encoder: VoiceEncoder, settings: OfflineDiarizationSettings | None = None) -> None:
        self.encoder = encoder
        self.settings = settings or OfflineDiarizationSettings()

    def __call__(self, audio: Any, *, num_speakers: int | None = None, min_speakers: int | None = None,
                 max_speakers: int | None = None) -> Any:
        import pandas as pd

        settings = self.settings
        regions = speech_regions(audio, threshold=settings.vad_threshold, min_silence_ms=settings.vad_min_silence_ms)
        windows = self._embed(audio, regions, WINDOW_FRAMES, settings.hop_seconds)
        if len(windows.embeddings) == 0:
            return pd.DataFrame(columns=["start", "end", "speaker"])
        centroids = speaker_centroids(windows.embeddings, settings, num_speakers=num_speakers,
                                      min_speakers=min_speakers, max_speakers=max_speakers)
        labels = np.asarray(np.argmax(windows.embeddings @ centroids.T, axis=1))
        labels = _smooth(labels, windows.region_ids, settings.smoothing_windows)
        return pd.DataFrame(_turns(windows, labels), columns=["start", "end", "speaker"])

    # region embeddings
    def _embed(self, audio: Any, regions: list[Region], window: int, hop_seconds: float) -> _Windows:
        """``window``-frame embeddings every ``hop_seconds`` inside each region, one region in memory at a time."""
        hop = max(1, round(hop_seconds * SAMPLE_RATE / HOP))  # in mel frames
        starts: list[float] = []
        ends: list[float] = []
        ids: list[int] = []
        chunks: list[np.ndarray] = []
        for index, region in enumerate(regions):
            # a region shorter than a window is embedded whole: padding it with the audio around it would
            # mix in whoever speaks next (short turns are where the speaker changes)
            lo, hi = region.start, region.end
            samples = np.asarray(audio[lo:hi], dtype=np.float32)
            mels = self.encoder.mel_frames(samples)
            frames = len(mels)
            length = min(window, frames)
            offsets = list(range(0, max(1, frames - length + 1), hop))
            chunks.append(self.encoder.embed_windows(mels, offsets, length))
            first, last = region.start / SAMPLE_RATE, region.end / SAMPLE_RATE
            for n, offset in enumerate(offsets):
                centre = (lo + (offset + length / 2) * HOP) / SAMPLE_RATE
                start = first if n == 0 else centre - hop_seconds / 2
                end = last if n == len(offsets) - 1 else centre + hop_seconds / 2
                starts.append(max(first, start))
                ends.append(min(last, end))
                ids.append(index)
        embeddings = np.concatenate(chunks) if chunks else np.zeros((0, 256), dtype=np.float32)
        return _Windows(np.array(starts), np.array(ends), embeddings, np.array(ids))

def cluster_speakers(embeddings: np.ndarray, settings: OfflineDiarizationSettings, *, num_speakers: int | None = None,
                     min_speakers: int | None = None, max_speakers: int | None = None) -> np.ndarray:
    """One speaker label (0..k-1) per L2-normalised embedding; k is ``num_speakers`` or estimated in the bounds."""
    centroids = speaker_centroids(embeddings, settings, num_speakers=num_speakers, min_speakers=min_speakers,
                                  max_speakers=max_speakers)
    return np.asarray(np.argmax(embeddings @ centroids.T, axis=1))


def speaker_centroids(embeddings: np.ndarray, settings: OfflineDiarizationSettings, *,
                      num_speakers: int | None = None, min_speakers: int | None = None,
                      max_speakers: int | None = None) -> np.ndarray:
    """One unit vector per speaker found in ``embeddings`` (see the module docstring)."""
    n = len(embeddings)
    lowest = num_speakers or max(1, min_speakers or 1)
    highest = num_speakers or min(max_speakers or settings.max_estimated_speakers, n)
    highest = max(lowest, min(highest, n))
    if n < 3 or highest == 1:
        return _centroids(embeddings, np.zeros(n, dtype=int))
    step = max(1, -(-n // settings.max_cluster_windows))  # cluster a bounded, evenly spaced subset
    sample = embeddings[::step]
    labels = _spectral(sample, lowest, min(highest, len(sample) - 1), settings.affinity_percentile,
                       exact=num_speakers)
    return _merge_close(_centroids(sample, labels), settings.merge_similarity, keep_at_least=num_speakers or lowest)


def _spectral(embeddings: np.ndarray, lowest: int, highest: int, percentile: float, *,
              exact: int | None) -> np.ndarray:
    from scipy.linalg import eigh
    from sklearn.cluster import KMeans

    affinity = embeddings @ embeddings.T
    cutoff = np.quantile(affinity, percentile, axis=1, keepdims=True)
    affinity = np.where(affinity >= cutoff, affinity, affinity * 0.01)
    affinity = np.maximum(affinity, affinity.T)
    np.fill_diagonal(affinity, 0.0)
    inv_sqrt = 1.0 / np.sqrt(np.maximum(affinity.sum(axis=1), 1e-9))
    laplacian = np.eye(len(affinity)) - inv_sqrt[:, None] * affinity * inv_sqrt[None, :]
    values, vectors = eigh(laplacian, subset_by_index=[0, min(highest, len(affinity) - 1)])
    if exact is not None:
        k = exact
    else:
        # eigengap over k ≥ 2; k = 1 is decided afterwards by merging near-identical centroids
        first = max(2, lowest)
        gaps = [values[k] - values[k - 1] for k in range(first, highest + 1)]
        k = first + int(np.argmax(gaps)) if gaps else first
    points = vectors[:, :k]
    points = points / np.maximum(np.linalg.norm(points, axis=1, keepdims=True), 1e-9)
    return np.asarray(KMeans(k, n_init=10, random_state=0).fit_predict(points))


def _centroids(embeddings: np.ndarray, labels: np.ndarray) -> np.ndarray:
    rows = [embeddings[labels == k].mean(axis=0) for k in np.unique(labels)]
    centroids = np.stack(rows)
    return np.asarray(centroids / np.linalg.norm(centroids, axis=1, keepdims=True))


def _merge_close(centroids: np.ndarray, similarity: float, *, keep_at_least: int) -> np.ndarray:
    """Merge the most similar pair of centroids while it is at least ``similarity`` alike."""
    while len(centroids) > keep_at_least:
        cos = centroids @ centroids.T
        np.fill_diagonal(cos, -1.0)
        i, j = np.unravel_index(int(np.argmax(cos)), cos.shape)
        if cos[i, j] < similarity:
            break
        merged = centroids[i] + centroids[j]
        rest = [c for k, c in enumerate(centroids) if k not in (i, j)]
        centroids = np.stack([*rest, merged / np.linalg.norm(merged)])
    return centroids


def _smooth(labels: np.ndarray, region_ids: np.ndarray, width: int) -> np.ndarray:
    """Majority label over ``width`` neighbouring windows of the same speech region."""
    if width <= 1:
        return labels
    half = width // 2
    out = labels.copy()
    for i in range(len(labels)):
        lo, hi = max(0, i - half), min(len(labels), i + half + 1)
        near = labels[lo:hi][region_ids[lo:hi] == region_ids[i]]
        values, counts = np.unique(near, return_counts=True)
        out[i] = values[np.argmax(counts)]
    return out


def _turns(windows: _Windows, labels: np.ndarray) -> list[tuple[float, float, str]]:
    """Consecutive windows with one label → one turn; speakers numbered by first appearance."""
    names: dict[int, str] = {}
    turns: list[tuple[float, float, str]] = []
    for start, end, label in zip(windows.starts, windows.ends, labels, strict=True):
        speaker = names.setdefault(int(label), f"SPEAKER_{len(names):02d}")
        if turns and turns[-1][2] == speaker and start - turns[-1][1] < 0.5:
            turns[-1] = (turns[-1][0], float(end), speaker)
        else:
            turns.append((float(start), float(end), speaker))
    return turns
