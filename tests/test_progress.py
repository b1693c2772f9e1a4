"""Transcription progress in audio seconds: rate, ETA, thread-safe snapshots, and the real speech path moving it."""

from __future__ import annotations

from typing import Any

import pytest
from fakes.speech import SAMPLE_DIR

from podwhisperer.runtime.config import TranscriptionConfig
from podwhisperer.worker.progress import TranscriptionProgress, clock_text

pytest_plugins = ["worker_fixtures"]


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_rate_and_eta_come_from_audio_seconds_per_wall_second() -> None:
    clock = FakeClock()
    progress = TranscriptionProgress(clock=clock)
    assert progress.snapshot() is None, "no job in hand"
    progress.start(3600.0)
    clock.now += 60
    progress.advance_to(750.0)
    snapshot = progress.snapshot()
    assert snapshot is not None and snapshot.rate == pytest.approx(12.5) and snapshot.eta_seconds == pytest.approx(228)
    assert snapshot.describe() == "transcribe 12:30 / 1:00:00 audio (21%), 12.5x realtime, ETA 3:48"
    progress.advance_to(10.0)  # a late segment of an earlier block never moves it back
    progress.advance_to(99999.0)  # nor past the end
    assert progress.snapshot().done_seconds == 3600.0  # type: ignore[union-attr]
    progress.finish()
    assert progress.snapshot().describe().endswith(", done")  # type: ignore[union-attr]
    progress.clear()
    assert progress.snapshot() is None


def test_nothing_done_yet_has_no_rate_or_eta_and_logs_are_throttled(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    progress = TranscriptionProgress(clock=clock, log_every=30)
    progress.start(90.0)
    assert progress.snapshot().describe() == "transcribe 0:00 / 1:30 audio (0%)"  # type: ignore[union-attr]
    with caplog.at_level("INFO", logger="podwhisperer.worker.progress"):
        for second in range(0, 90, 5):
            clock.now += 5
            progress.advance_to(second)
    assert len(caplog.records) == 3  # every 30 s of wall time, not on every segment
    assert clock_text(3725) == "1:02:05" and clock_text(95) == "1:35"


class Recorder(TranscriptionProgress):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[float] = []

    def advance_to(self, seconds: float) -> None:
        self.seen.append(seconds)
        super().advance_to(seconds)


@pytest.mark.speech
def test_the_word_timestamp_path_reports_each_decoded_segment(worker_models: Any) -> None:
    from podwhisperer.worker.speech import transcribe_file

    progress = Recorder()
    transcribe_file(SAMPLE_DIR / "sample.wav", TranscriptionConfig(model="tiny.en", diarize=False), worker_models,
                    source_key="sample.wav", etag=None, progress=progress)
    assert len(progress.seen) >= 3 and progress.seen == sorted(progress.seen)  # segments, then the block end
    assert progress.seen[-1] == pytest.approx(30.0)
    snapshot = progress.snapshot()
    assert snapshot is not None and snapshot.finished and snapshot.fraction == 1.0


def test_the_local_display_shows_audio_seconds_under_the_transcribe_step(tmp_path: Any) -> None:
    import io
    from pathlib import Path

    from rich.console import Console
    from rich.progress import Progress

    from podwhisperer.runtime.local.cli import _ProgressDisplay
    from podwhisperer.runtime.local.runner import RunProgress

    clock = FakeClock()
    transcription = TranscriptionProgress(clock=clock)
    with Progress(console=Console(file=io.StringIO(), width=120)) as progress:
        display = _ProgressDisplay(progress, transcription)
        poll = RunProgress(audio=Path("ep.mp3"), input_key="input/ep.mp3", execution_name="ep", resumed=False,
                           steps=[("transcribe", "STARTED")], finished=False)
        display.update(poll)
        assert len(progress.tasks) == 2, "no audio row before the worker starts decoding"
        transcription.start(60.0)
        clock.now += 10
        transcription.advance_to(30.0)
        display.update(poll)
        row = progress.tasks[-1]
        assert "transcribe 0:30 / 1:00 audio (50%), 3.0x realtime, ETA 0:10" in row.description
        assert (row.completed, row.total) == (30.0, 60.0)
