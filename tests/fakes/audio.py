"""Small real media files: tones to upload where the real worker job probes them, and awkward files."""

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


def make_media(directory: Path, kind: str) -> Path:
    """Small real files made with ffmpeg/sox: tone (2 s), video (no audio), text, empty wav, long (silence)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / {"tone": "tone.wav", "video": "video.mp4", "text": "notes.mp3", "empty": "empty.wav",
                        "long": "long.mp3", "mp3": "tone.mp3"}[kind]
    commands = {
        "tone": ["sox", "-n", "-r", "16000", "-c", "1", str(path), "synth", "2", "sine", "440"],
        "mp3": ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=2", str(path)],
        "video": ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=duration=1:size=64x64:rate=5",
                  "-c:v", "mpeg4", str(path)],
        "empty": ["sox", "-n", "-r", "16000", "-c", "1", str(path), "trim", "0", "0"],
        "long": ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "130",
                 "-b:a", "8k", str(path)],
    }
    if kind == "text":
        path.write_text("this is not audio, just a text file named .mp3\n")
    else:
        subprocess.run(commands[kind], check=True)
    return path
