"""Small real audio for tests that run the real worker job (it probes every upload with ffprobe)."""

from __future__ import annotations

import subprocess
from pathlib import Path


class AudioClips:
    """MP3 tones made with ffmpeg on first use, one file per (frequency, seconds), kept in ``folder``.

    Different frequencies or lengths give different bytes, hence different S3 etags: a "new version"
    of an episode is ``tone(880)`` after ``tone(440)``.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def path(self, frequency: int = 440, seconds: float = 1.0) -> Path:
        path = self.folder / f"tone-{frequency}hz-{seconds}s.mp3"
        if not path.exists():
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                            f"sine=frequency={frequency}:duration={seconds}", "-ac", "1", "-ar", "16000",
                            "-b:a", "32k", str(path)], check=True)
        return path

    def tone(self, frequency: int = 440, seconds: float = 1.0) -> bytes:
        return self.path(frequency, seconds).read_bytes()
