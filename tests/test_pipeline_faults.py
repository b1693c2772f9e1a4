"""Fault injection at every step boundary: an S3 write that fails once, or a step killed right after
its write. Each run must still complete with byte-identical outputs and exactly one completion event."""

from __future__ import annotations

import json

import pytest
from aws_durable_execution_sdk_python.lambda_service import InvocationStatus
from fakes.audio import AudioClips
from fakes.aws import BUCKET, raw_key_for
from fakes.pipeline import PipelineHarness

pytestmark = pytest.mark.timeout(120)

KEY = "input/faulty episode.mp3"

# A substring of the key each step writes (work objects, then final names, then the event marker).
STEP_WRITES = {
    "raw-transcript": "/raw-",
    "fill-timing-gaps": "/fill-timing-gaps-",
    "fill-timing-gaps stats (commit marker)": "/fill-timing-gaps-",  # second write of the step
    "replacements": "/replacements-",
    "normalization": "/normalization-",
    "finalize-transcript": "/refined-",
    "captions": "/captions-",
    "publish (a caption)": "output/faulty episode_caption.srt",
    "publish (refined transcript, last)": "output/faulty episode_refined_transcript.json",
    "completion-event (marker)": "events/completed.sent",
}


@pytest.fixture(scope="module")
def endpoint(moto_endpoint: str) -> str:
    """The session's moto server (conftest); every PipelineHarness resets it when it starts."""
    return moto_endpoint


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The same real audio every time (the real worker job probes it)."""
    return AudioClips(tmp_path_factory.mktemp("audio")).tone()


def run_once(endpoint: str, audio: bytes, faults: dict[str, str] | None = None,
             raw: bytes | None = None) -> tuple[PipelineHarness, object, dict[str, bytes]]:
    """One run on a fresh stack; ``raw``: the baseline's raw transcript, already in place.

    The real worker's raw transcript records wall-clock stage timings, so no two transcriptions are
    byte-identical; with the baseline's in place the real job reuses it (as for a redelivered job) and
    the outputs depend only on the workflow under test."""
    h = PipelineHarness(endpoint, faults=faults)
    if raw is not None:
        h.stack.s3.put_object(Bucket=BUCKET, Key=raw_key_for(KEY), Body=raw)
    h.start_worker()
    result = h.run(h.stack.upload(KEY, audio))
    outputs = h.stack.objects("output/")
    return h, result, outputs


@pytest.fixture(scope="module")
def baseline(endpoint: str, audio: bytes) -> dict[str, bytes]:
    h, result, outputs = run_once(endpoint, audio)
    h.close()
    assert result.status is InvocationStatus.SUCCEEDED  # type: ignore[attr-defined]
    return outputs


def _fault_cases() -> list[tuple[str, str, str]]:
    cases = []
    for label, pattern in STEP_WRITES.items():
        for fault in ("before", "after"):
            if label.startswith("completion-event") and fault == "before":
                continue  # PutEvents already happened: the documented at-least-once window, tested below
            cases.append((label, pattern, fault))
    return cases


@pytest.mark.parametrize(("label", "pattern", "fault"), _fault_cases(),
                         ids=[f"{c[0]}-{c[2]}" for c in _fault_cases()])
def test_fault_at_step_boundary_still_gives_identical_outputs_and_one_event(
    endpoint: str, audio: bytes, baseline: dict[str, bytes], label: str, pattern: str, fault: str,
) -> None:
    faults = {".stats.json" if "stats" in label else pattern: fault}
    h, result, outputs = run_once(endpoint, audio, faults, baseline[raw_key_for(KEY)])
    try:
        assert h.store.fired, f"fault for {label} never fired"
        assert result.status is InvocationStatus.SUCCEEDED, result.error  # type: ignore[attr-defined]
        assert outputs == baseline
        events = h.stack.pipeline_events(expect=1)
        assert [e["detail-type"] for e in events] == ["Pipeline Completed"]
        assert len(h.worker.jobs) == 1
    finally:
        h.close()


def test_event_marker_write_failing_after_put_events_is_at_least_once(endpoint: str, audio: bytes,
                                                                      baseline: dict[str, bytes]) -> None:
    h, result, outputs = run_once(endpoint, audio, {"events/completed.sent": "before"}, baseline[raw_key_for(KEY)])
    try:
        assert result.status is InvocationStatus.SUCCEEDED  # type: ignore[attr-defined]
        assert outputs == baseline
        events = h.stack.pipeline_events(expect=2)
        assert [e["detail-type"] for e in events] == ["Pipeline Completed"] * 2
        assert events[0]["detail"]["executionArn"] == events[1]["detail"]["executionArn"]  # consumers dedupe
        assert json.loads(result.result)["executionArn"] == events[0]["detail"]["executionArn"]  # type: ignore[attr-defined]
    finally:
        h.close()
