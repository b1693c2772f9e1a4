"""Hostile and unlucky input (issue 12): no hang, no silent loss, no traceback.

One suite, so the whole list is in one place. Each test names the case it covers; the README's
"What happens when…" table points here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(180)

ROOT = Path(__file__).resolve().parent.parent
CHILD = Path(__file__).resolve().parent / "hostile_child.py"


def child_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200", **extra}
    env.pop("PODWHISPERER_DEBUG", None)
    return env


def run_child(*args: str, timeout: float = 90, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(CHILD), *args], capture_output=True, text=True, timeout=timeout,
                          env=child_env(**env), cwd=ROOT)


def wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture()
def tone(tmp_path: Path) -> Path:
    """Two seconds of a real (decodable) mp3."""
    path = tmp_path / "tone.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-ac", "1",
                    str(path)], check=True, timeout=60)
    return path


# ------------------------------------------------------------------------------------------- Ctrl-C


def test_ctrl_c_during_local_transcription_then_rerun_finishes(tmp_path: Path, tone: Path) -> None:
    """Ctrl-C (a real SIGINT to a real process) mid-transcription; the same command again completes."""
    out = tmp_path / "out"
    command = [sys.executable, str(CHILD), "transcribe", str(tone), "--output-dir", str(out)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                             env=child_env(HOSTILE_JOB_SECONDS="60"))
    try:
        wait_for(lambda: list((out / ".podwhisperer/jobs").glob("*.json")), 60, "the job to be spooled")
        time.sleep(0.5)  # well inside the 60 s "transcription"
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=20)  # Ctrl-C does not wait for the transcription to end
    finally:
        child.kill()
    assert child.returncode == 130, stderr[-2000:]
    assert list((out / ".podwhisperer/jobs").glob("*.json")), "the unanswered job stays spooled"

    again = run_child("transcribe", str(tone), "--output-dir", str(out), timeout=90, HOSTILE_JOB_SECONDS="0")

    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "resuming" in again.stdout
    assert (out / "output/tone_refined_transcript.json").is_file()
    assert not list((out / ".podwhisperer/jobs").glob("*.json"))
