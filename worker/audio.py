"""Check an upload with ffprobe before spending GPU time on it.

Every rejection is a :class:`InvalidAudioError` (a permanent failure) whose message is written for
the person who uploaded the file. A missing ffprobe binary is an environment problem, not bad
input, so it surfaces as ``FileNotFoundError`` and the job is retried elsewhere.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podwhisperer.worker.errors import InvalidAudioError

FFPROBE_TIMEOUT_SECONDS = 120


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """What ffprobe says about the first audio stream."""

    codec: str | None
    sample_rate: int | None
    channels: int | None
    duration: float | None  # seconds; None when the container does not say

    def to_dict(self) -> dict[str, Any]:
        return {"codec": self.codec, "sample_rate": self.sample_rate, "channels": self.channels,
                "duration": self.duration}


def ffprobe_command(path: Path) -> list[str]:
    """The ffprobe call: all streams (to tell 'video only' from 'not media') and the container duration."""
    return ["ffprobe", "-v", "error", "-show_entries",
            "stream=index,codec_type,codec_name,sample_rate,channels,duration:format=duration,format_name",
            "-of", "json", str(path)]


def probe_audio(path: Path, max_minutes: float | None = None) -> AudioInfo:
    """Validate ``path`` and describe its audio; raise :class:`InvalidAudioError` for unusable files."""
    report = _run_ffprobe(path)
    streams = report.get("streams") or []
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    if audio is None:
        found = ", ".join(sorted({str(s.get("codec_type")) for s in streams})) or "no streams at all"
        raise InvalidAudioError(f"The file has no audio stream (found: {found}). Upload an audio or video file "
                                "with a sound track.")
    duration = _duration(report, audio)
    if duration is None and _count_audio_packets(path) == 0:
        duration = 0.0  # e.g. a WAV header with no samples: the container states no duration at all
    info = AudioInfo(codec=audio.get("codec_name"), sample_rate=_as_int(audio.get("sample_rate")),
                     channels=_as_int(audio.get("channels")), duration=duration)
    check_duration(info.duration, max_minutes)
    return info


def check_duration(duration: float | None, max_minutes: float | None) -> None:
    """Reject empty audio and audio over the configured limit (unknown durations pass; decoding decides)."""
    if duration is not None and duration <= 0.0:
        raise InvalidAudioError("The audio is empty (its duration is 0 seconds).")
    if duration is not None and max_minutes is not None and duration > max_minutes * 60:
        raise InvalidAudioError(
            f"The audio is {format_duration(duration)} long; the limit is {format_duration(max_minutes * 60)} "
            "(transcription.max_audio_minutes). Split the file or raise the limit.")


TRUNCATION_RATIO = 0.9
TRUNCATION_MIN_SECONDS = 2.0


def truncation_note(container_seconds: float | None, decoded_seconds: float | None) -> str | None:
    """A warning when the decoded audio is much shorter than the container says (a cut-off upload), else None.

    A warning, not a failure: for a VBR mp3 without a frame-count header ffprobe only estimates the
    duration from the bitrate, so a mismatch alone does not prove the file is broken; the producer
    decides. Reported in the raw transcript's notes, the worker stats of the completion event and
    the CLI.
    """
    if not container_seconds or decoded_seconds is None:
        return None
    missing = container_seconds - decoded_seconds
    if decoded_seconds >= container_seconds * TRUNCATION_RATIO or missing < TRUNCATION_MIN_SECONDS:
        return None
    return (f"The file looks truncated: it says it is {format_duration(container_seconds)} long but only "
            f"{format_duration(decoded_seconds)} of audio could be decoded; the transcript covers that part. "
            "Upload the complete file to transcribe the rest.")


def format_duration(seconds: float) -> str:
    """``3725`` → ``1 h 2 min 5 s``: readable in an error message."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else "", f"{secs} s" if secs else ""]
    return " ".join(p for p in parts if p) or f"{seconds:.2f} s"


def _run_ffprobe(path: Path) -> dict[str, Any]:
    result = subprocess.run(ffprobe_command(path), capture_output=True, text=True,
                            timeout=FFPROBE_TIMEOUT_SECONDS, check=False)
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["no details"])[-1]
        detail = detail.replace(f"{path}: ", "").replace(str(path), "the file")  # a temporary path means nothing
        raise InvalidAudioError(f"The file is not a readable audio or video file (ffprobe: {detail}).")
    try:
        report: dict[str, Any] = json.loads(result.stdout or "{}")
    except ValueError:
        raise InvalidAudioError("The file is not a readable audio or video file (ffprobe gave no report).") from None
    return report


def _count_audio_packets(path: Path) -> int | None:
    """Demux (not decode) the first audio stream and count its packets; only used when no duration is stated."""
    command = ["ffprobe", "-v", "error", "-select_streams", "a:0", "-count_packets",
               "-show_entries", "stream=nb_read_packets", "-of", "json", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=FFPROBE_TIMEOUT_SECONDS, check=False)
    try:
        streams = json.loads(result.stdout or "{}").get("streams") or [{}]
    except ValueError:
        return None
    return _as_int(streams[0].get("nb_read_packets", 0))


def _duration(report: dict[str, Any], stream: dict[str, Any]) -> float | None:
    for value in (stream.get("duration"), (report.get("format") or {}).get("duration")):
        parsed = _as_float(value)
        if parsed is not None:
            return parsed
    return None


def _as_float(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "N/A") else None
    except (TypeError, ValueError):
        return None


def _as_int(value: Any) -> int | None:
    parsed = _as_float(value)
    return int(parsed) if parsed is not None else None
