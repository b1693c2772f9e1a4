"""Decoded audio kept on disk and read a block at a time, so memory does not grow with episode length.

``whisperx.load_audio`` holds the whole episode in memory (ffmpeg's output bytes, then float32: about
5.8 MB per audio minute at its peak), and every stage after it used to take that array whole.
Instead, ffmpeg writes 16 kHz mono float32 PCM straight to a file (3.84 MB per audio minute of disk)
and :class:`PcmFile` reads the samples a stage asks for: ``len(pcm)`` and ``pcm[a:b]`` behave like a
numpy array, so VAD, transcription, alignment and the offline diarizer work block by block on it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from podwhisperer.worker.errors import InvalidAudioError

SAMPLE_RATE = 16000
BYTES_PER_SAMPLE = 4


class PcmFile:
    """16 kHz mono float32 samples in a raw file, sliced like a numpy array (each slice is read from disk)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._samples = path.stat().st_size // BYTES_PER_SAMPLE

    def __len__(self) -> int:
        return self._samples

    @property
    def duration(self) -> float:
        return self._samples / SAMPLE_RATE

    def __getitem__(self, key: slice) -> np.ndarray:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("PcmFile supports contiguous slices only")
        start, stop, _ = key.indices(self._samples)
        count = max(0, stop - start)
        if count == 0:
            return np.zeros(0, dtype=np.float32)
        return np.fromfile(self.path, dtype=np.float32, count=count, offset=start * BYTES_PER_SAMPLE)

    def read_all(self) -> np.ndarray:
        """The whole recording in memory: only for models that need it whole (pyannote's pipeline)."""
        return self[0:len(self)]


def decode_to_pcm(source: Path, target: Path) -> PcmFile:
    """ffmpeg ``source`` → 16 kHz mono float32 PCM in ``target``; bad media raises :class:`InvalidAudioError`."""
    command = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(source), "-vn", "-f", "f32le", "-ac", "1",
               "-ar", str(SAMPLE_RATE), "-acodec", "pcm_f32le", str(target)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # a missing ffmpeg is OSError
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["no details"])[-1][:300]
        raise InvalidAudioError(f"The audio could not be decoded (ffmpeg: {detail}).")
    pcm = PcmFile(target)
    if len(pcm) == 0:
        raise InvalidAudioError("The audio is empty (it decodes to no samples).")
    return pcm


def as_array(audio: Any) -> np.ndarray:
    """A numpy array of ``audio`` (an array already, or a :class:`PcmFile` read whole)."""
    return audio.read_all() if isinstance(audio, PcmFile) else np.asarray(audio, dtype=np.float32)
