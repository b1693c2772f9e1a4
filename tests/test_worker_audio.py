"""ffprobe validation on real files made by ffmpeg and sox (ports PYA-01…05 with the fixed behaviour)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes.audio import make_media

from podwhisperer.worker.audio import check_duration, ffprobe_command, format_duration, probe_audio
from podwhisperer.worker.errors import InvalidAudioError, PermanentJobError


def test_valid_wav_is_described(tmp_path: Path) -> None:
    info = probe_audio(make_media(tmp_path, "tone"), max_minutes=10)
    assert info.codec is not None and info.codec.startswith("pcm")
    assert (info.sample_rate, info.channels) == (16000, 1)
    assert info.duration == pytest.approx(2.0, abs=0.05)


def test_valid_mp3_is_described(tmp_path: Path) -> None:
    info = probe_audio(make_media(tmp_path, "mp3"))
    assert info.codec == "mp3" and info.duration == pytest.approx(2.0, abs=0.1)


def test_text_file_is_not_audio(tmp_path: Path) -> None:
    with pytest.raises(InvalidAudioError, match="not a readable audio or video file"):
        probe_audio(make_media(tmp_path, "text"))


def test_video_without_sound_has_no_audio_stream(tmp_path: Path) -> None:
    with pytest.raises(InvalidAudioError, match=r"no audio stream \(found: video\)"):
        probe_audio(make_media(tmp_path, "video"))


def test_wav_without_samples_is_empty(tmp_path: Path) -> None:
    with pytest.raises(InvalidAudioError, match="empty"):
        probe_audio(make_media(tmp_path, "empty"))


def test_audio_over_the_limit_is_too_long(tmp_path: Path) -> None:
    path = make_media(tmp_path, "long")  # 130 s of silence
    with pytest.raises(InvalidAudioError, match=r"2 min 10 s long; the limit is 2 min"):
        probe_audio(path, max_minutes=2)
    assert probe_audio(path, max_minutes=3).duration == pytest.approx(130, abs=1)


def test_rejections_are_permanent_failures() -> None:
    assert issubclass(InvalidAudioError, PermanentJobError)
    with pytest.raises(PermanentJobError):
        check_duration(0.0, None)
    check_duration(None, 1)  # unknown duration passes; decoding decides later


def test_ffprobe_command_structure(tmp_path: Path) -> None:
    command = ffprobe_command(tmp_path / "x.mp3")
    assert command[:3] == ["ffprobe", "-v", "error"]
    assert command[command.index("-of") + 1] == "json" and command[-1] == str(tmp_path / "x.mp3")


@pytest.mark.parametrize(("seconds", "text"), [(5, "5 s"), (60, "1 min"), (3725, "1 h 2 min 5 s"), (0.2, "0.20 s")])
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
