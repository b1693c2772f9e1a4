"""`podwhisperer refine`: what a producer sees when post-processing a raw transcript file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import srt
import webvtt
from typer.testing import CliRunner

from podwhisperer.cli import app

RAW = {
    "segments": [
        {"start": 0.5, "end": 3.0, "text": " Welcome to sage maker talk, I'm Owen.", "speaker": "SPEAKER_00",
         "words": [{"word": "Welcome", "start": 0.5, "end": 0.9, "speaker": "SPEAKER_00"},
                   {"word": "to", "start": 0.9, "end": 1.0, "speaker": "SPEAKER_00"},
                   {"word": "sage", "start": 1.0, "end": 1.3, "speaker": "SPEAKER_00"},
                   {"word": "maker", "start": 1.3, "end": 1.6, "speaker": "SPEAKER_00"},
                   {"word": "talk,", "start": 1.6, "end": 2.0, "speaker": "SPEAKER_00"},
                   {"word": "I'm", "start": 2.1, "end": 2.3, "speaker": "SPEAKER_00"},
                   {"word": "Owen."}]},
        {"start": 3.4, "end": 5.0, "text": " Thanks for having me in 2024.", "speaker": "SPEAKER_01",
         "words": [{"word": "Thanks", "start": 3.4, "end": 3.8, "speaker": "SPEAKER_01"},
                   {"word": "for", "start": 3.8, "end": 3.9, "speaker": "SPEAKER_01"},
                   {"word": "having", "start": 3.9, "end": 4.2, "speaker": "SPEAKER_01"},
                   {"word": "me", "start": 4.2, "end": 4.4, "speaker": "SPEAKER_01"},
                   {"word": "in", "start": 4.4, "end": 4.5, "speaker": "SPEAKER_01"},
                   {"word": "2024."}]},
    ]
}
CONFIG = """\
replacement_rules:
  - {type: literal, search: sage maker, replacement: SageMaker}
  - {type: literal, search: Owen, replacement: Eoin, whole_word: true}
"""


@pytest.fixture()
def raw_file(tmp_path: Path) -> Path:
    path = tmp_path / "episode_raw_transcript.json"
    path.write_text(json.dumps(RAW))
    (tmp_path / "podwhisperer.yaml").write_text(CONFIG)
    return path


def test_refine_writes_refined_transcript_and_every_caption(raw_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["refine", str(raw_file), "--config", str(tmp_path / "podwhisperer.yaml"),
                                      "--output-dir", str(out)])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["episode_caption.json", "episode_caption.md", "episode_caption.srt", "episode_caption.txt",
                     "episode_caption.vtt", "episode_chapters.json", "episode_podcast.xml",
                     "episode_podcast_transcript.html", "episode_podcast_transcript.json",
                     "episode_refined_transcript.json", "episode_transcript.html"]
    # no Bedrock here: pause-based chapters, said so in one line, and no show notes
    assert "notice: chapters: no Bedrock model available" in result.output
    assert 'src="episode.mp3"' in (out / "episode_transcript.html").read_text()
    refined = json.loads((out / "episode_refined_transcript.json").read_text())
    words = [w for s in refined["segments"] for w in s["words"]]
    assert [w["word"] for w in words][:3] == ["Welcome", "to", "SageMaker"]
    assert all("start" in w and w["start"] > 0 for w in words), "untimed words get interpolated timings"
    vtt_text = (out / "episode_caption.vtt").read_text()
    vtt = webvtt.from_string(vtt_text)
    assert vtt[0].text == "Welcome to SageMaker talk, I'm Eoin."  # the speaker is a voice tag (default since #8)
    assert "<v SPEAKER_00>Welcome to SageMaker talk, I'm Eoin.</v>" in vtt_text
    cues = list(srt.parse((out / "episode_caption.srt").read_text()))
    assert cues[-1].content.endswith("in 2024.")
    assert "llm_refinement" in result.output and "skipped" in result.output


def test_whole_second_times_written_as_integers_are_refined(tmp_path: Path) -> None:
    # JavaScript's JSON.stringify (the predecessor, many editors) writes 2.0 as 2.
    raw = {"segments": [{"start": 0, "end": 2, "text": " Hello there.", "speaker": "SPEAKER_00",
                         "words": [{"word": "Hello", "start": 0, "end": 1, "score": 1, "speaker": "SPEAKER_00"},
                                   {"word": "there.", "start": 1, "end": 2, "score": 1, "speaker": "SPEAKER_00"}]}]}
    path = tmp_path / "whole_raw_transcript.json"
    path.write_text(json.dumps(raw))
    result = CliRunner().invoke(app, ["refine", str(path), "--output-dir", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    captions = json.loads((tmp_path / "out" / "whole_caption.json").read_text())
    assert captions["segments"] == [{"speakerLabel": "spk_0", "start": 0, "end": 2, "text": "Hello there."}]
    assert "00:00:00.000 --> 00:00:02.000" in (tmp_path / "out" / "whole_caption.vtt").read_text()


def test_refine_defaults_to_writing_next_to_the_input(raw_file: Path) -> None:
    assert CliRunner().invoke(app, ["refine", str(raw_file)]).exit_code == 0
    assert (raw_file.parent / "episode_caption.vtt").exists()


def test_refine_skips_llm_without_credentials(raw_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    config = tmp_path / "llm.yaml"
    config.write_text("llm_refinement:\n  model_id: eu.anthropic.claude-sonnet-4-20250514-v1:0\n")
    result = CliRunner().invoke(app, ["refine", str(raw_file), "-c", str(config), "-o", str(tmp_path / "o")])
    assert result.exit_code == 0
    assert "LLM refinement skipped: no AWS credentials found" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "is not a WhisperX transcript: not valid JSON"),
     ('{"segments": [{"start": 0, "end": 1, "text": "x", "words": [{"start": 1}]}]}',
      "segments[0].words[0] needs a string 'word'")],
)
def test_bad_file_gets_one_line_error_and_exit_1(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    result = CliRunner().invoke(app, ["refine", str(bad)])
    assert result.exit_code == 1
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_missing_file_and_bad_config(tmp_path: Path, raw_file: Path) -> None:
    missing = CliRunner().invoke(app, ["refine", str(tmp_path / "nope.json")])
    assert missing.exit_code == 1 and "cannot read" in missing.output
    bad_config = tmp_path / "bad.yaml"
    bad_config.write_text("captions:\n  generate_vt: true\n")
    result = CliRunner().invoke(app, ["refine", str(raw_file), "-c", str(bad_config)])
    assert result.exit_code == 1 and "did you mean 'generate_vtt'" in result.output
