"""Speaker embeddings with no download: Resemblyzer's pretrained GE2E voice encoder.

The ``resemblyzer`` wheel on PyPI ships its trained weights (``resemblyzer/pretrained.pt``, 17 MB,
Apache-2.0): a 3-layer LSTM over 40-band mel frames (25 ms windows, 10 ms hop) whose last hidden
state, through a linear layer, ReLU and L2 normalisation, is a 256-dim voice embedding of a 1.6 s
window. The network is rebuilt here and only the weights file is read from the installed package
(located without importing it): importing ``resemblyzer`` pulls in librosa/numba (seconds of import)
and ``webrtcvad``, which needs a C compiler to install and ``pkg_resources`` at import time, neither
of which the worker image has. The mel front end is librosa's (Slaney mel scale and norm, centred
zero-padded STFT), computed with torch.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

SAMPLE_RATE = 16000
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 40
WINDOW_FRAMES = 160  # 1.6 s: the length the encoder was trained on
HIDDEN = 256
LAYERS = 3


class VoiceEncoderUnavailable(RuntimeError):
    """The resemblyzer package (which carries the weights) is not installed."""


def pretrained_weights_path() -> Path:
    """``resemblyzer/pretrained.pt`` of the installed package, found without importing it."""
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise VoiceEncoderUnavailable("the resemblyzer package (speaker-embedding weights) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"
    if not path.is_file():
        raise VoiceEncoderUnavailable(f"{path} is missing from the resemblyzer package")
    return path


class VoiceEncoder:
    """Waveform windows → L2-normalised 256-dim speaker embeddings (CPU or CUDA)."""

    def __init__(self, device: str = "cpu", weights: Path | None = None) -> None:
        import torch
        from torch import nn

        self._torch = torch
        self.device = torch.device(device)
        self.lstm = nn.LSTM(N_MELS, HIDDEN, LAYERS, batch_first=True)
        self.linear = nn.Linear(HIDDEN, HIDDEN)
        state = torch.load(weights or pretrained_weights_path(), map_location="cpu", weights_only=False)["model_state"]
        self.lstm.load_state_dict({k[len("lstm."):]: v for k, v in state.items() if k.startswith("lstm.")})
        self.linear.load_state_dict({k[len("linear."):]: v for k, v in state.items() if k.startswith("linear.")})
        self.lstm.to(self.device).eval()
        self.linear.to(self.device).eval()
        import torchaudio

        fbank = torchaudio.functional.melscale_fbanks(N_FFT // 2 + 1, 0.0, SAMPLE_RATE / 2, N_MELS, SAMPLE_RATE,
                                                      norm="slaney", mel_scale="slaney")
        self._fbank = fbank.to(self.device)
        self._window = torch.hann_window(N_FFT).to(self.device)

    def mel_frames(self, audio: np.ndarray) -> Any:
        """(frames, 40) power mel spectrogram of 16 kHz float32 audio, as librosa computes it."""
        torch = self._torch
        wav = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32)).to(self.device)
        spec = torch.stft(wav, N_FFT, HOP, window=self._window, center=True, pad_mode="constant",
                          return_complex=True)
        power = spec.abs().pow(2).T  # (frames, freqs)
        return power @ self._fbank

    def embed_windows(self, mels: Any, starts: list[int], length: int = WINDOW_FRAMES, batch: int = 64) -> np.ndarray:
        """Embeddings of the ``length``-frame mel windows starting at the given frame indices."""
        torch = self._torch
        out: list[np.ndarray] = []
        with torch.inference_mode():
            for i in range(0, len(starts), batch):
                chunk = torch.stack([mels[s:s + length] for s in starts[i:i + batch]])
                _, (hidden, _) = self.lstm(chunk)
                raw = torch.relu(self.linear(hidden[-1]))
                out.append((raw / raw.norm(dim=1, keepdim=True).clamp_min(1e-8)).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, HIDDEN), dtype=np.float32)
