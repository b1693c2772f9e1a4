"""Stage timings (ports PYT-01…04, 13…15; the global collector of PYT-05…07 is gone by design)."""

from __future__ import annotations

import logging

import pytest

from podwhisperer.worker.timing import StageTimer


class FakeClock:
    def __init__(self, *times: float) -> None:
        self.times = list(times)

    def __call__(self) -> float:
        return self.times.pop(0)


def test_a_stage_records_name_status_seconds_and_start() -> None:
    timer = StageTimer(clock=FakeClock(10.0, 15.5))
    with timer.stage("transcribe"):
        pass
    [record] = timer.records()
    assert record["stage"] == "transcribe" and record["status"] == "success" and record["seconds"] == 5.5
    assert record["started_at"].endswith("+00:00")


def test_order_and_error_status_are_kept_and_the_error_re_raised() -> None:
    timer = StageTimer(clock=FakeClock(0.0, 1.0, 1.0, 3.5))
    with timer.stage("download"):
        pass
    with pytest.raises(RuntimeError), timer.stage("transcribe"):
        raise RuntimeError("CUDA out of memory")
    assert [(r["stage"], r["status"], r["seconds"]) for r in timer.records()] == [
        ("download", "success", 1.0), ("transcribe", "error", 2.5)]


def test_skipped_stage_takes_no_time_and_keeps_its_reason() -> None:
    timer = StageTimer()
    timer.skipped("align", "no alignment model")
    [record] = timer.records()
    assert (record["status"], record["seconds"], record["reason"]) == ("skipped", 0.0, "no alignment model")
    assert timer.seconds_by_stage() == {}


def test_records_returns_a_copy() -> None:
    timer = StageTimer()
    timer.skipped("x")
    timer.records()[0]["stage"] = "changed"
    timer.records().append({})
    assert [r["stage"] for r in timer.records()] == ["x"]


def test_start_and_end_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    timer = StageTimer(clock=FakeClock(0.0, 2.5))
    with caplog.at_level(logging.INFO, logger="podwhisperer.worker.timing"), timer.stage("diarize"):
        pass
    assert "[START] diarize" in caplog.text and "[END] diarize: success in 2.500 s" in caplog.text
    assert timer.seconds_by_stage() == {"diarize": 2.5}
