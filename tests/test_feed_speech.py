"""``podwhisperer transcribe --feed`` end to end on real speech: the shipped sample, served as a podcast."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

pytest.importorskip("whisperx")

import typer
from feed_server import Item, rss, serve_feed_host
from typer.testing import CliRunner

from podwhisperer.runtime.local import cli as local_cli

pytestmark = [pytest.mark.speech, pytest.mark.slow, pytest.mark.timeout(400)]
SHIPPED = Path(__file__).resolve().parents[1] / "samples" / "two-voices.mp3"


def test_a_feed_episode_is_transcribed_and_indexed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    app = typer.Typer()
    local_cli.register(app)
    out = tmp_path / "site"
    with serve_feed_host() as host:
        host.files["/two.mp3"] = (SHIPPED.read_bytes(), "audio/mpeg")
        host.files["/feed.xml"] = (rss(host, [Item("two-1", "Two Voices, Take 1", "/two.mp3",
                                                   datetime(2026, 11, 1, tzinfo=UTC))]), "application/rss+xml")
        result = CliRunner().invoke(app, ["--feed", host.url("/feed.xml"), "-o", str(out), "--device", "cpu"],
                                    env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    index = json.loads((out / "index.json").read_text())
    [episode] = index["episodes"]
    assert episode["name"] == "two-voices-take-1" and episode["status"] == "done"
    vtt = next(f for f in episode["files"] if f.endswith("_caption.vtt"))
    assert (out / vtt).read_text().startswith("WEBVTT") and len((out / vtt).read_text().split()) > 20
    assert episode["duration_seconds"] == pytest.approx(25, abs=3)
    assert "two-voices-take-1" in (out / "index.html").read_text()
