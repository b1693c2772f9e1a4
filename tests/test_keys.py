"""Output naming shared by the worker, the Lambda and the CLI (predecessor defect 6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from podwhisperer.runtime.adapters.queue import InProcessJobQueue
from podwhisperer.runtime.config import PipelineConfig, StorageConfig
from podwhisperer.runtime.contracts import JobMessage
from podwhisperer.runtime.keys import InputKeyError, has_audio_extension, output_keys, work_prefix
from podwhisperer.runtime.local.runner import execution_name

STORAGE = StorageConfig()


@pytest.mark.parametrize(
    ("key", "base"),
    [
        ("input/episode-42.mp3", "output/episode-42"),
        ("input/shows/ep 1.mp3", "output/shows/ep 1"),
        ("input/dir.v2/file", "output/dir.v2/file"),
        ("input/dir.v2/file.m4a", "output/dir.v2/file"),
        ("input/Café+Talk/épisode.wav", "output/Café+Talk/épisode"),
        ("input/.hidden", "output/.hidden"),
    ],
)
def test_output_keys_keep_sub_folders_and_strip_only_the_last_extension(key: str, base: str) -> None:
    keys = output_keys(key, STORAGE)
    assert keys.raw_transcript == f"{base}_raw_transcript.json"
    assert keys.refined_transcript == f"{base}_refined_transcript.json"
    assert keys.caption("vtt") == f"{base}_caption.vtt"


def test_filename_naming_keeps_formats_apart() -> None:
    storage = StorageConfig(output_naming="filename")
    assert output_keys("input/x.mp3", storage).base != output_keys("input/x.m4a", storage).base
    assert output_keys("input/x.mp3", storage).caption("srt") == "output/x.mp3_caption.srt"


def test_custom_prefixes() -> None:
    storage = StorageConfig(input_prefix="uploads", output_prefix="results/")
    assert output_keys("uploads/a.mp3", storage).raw_transcript == "results/a_raw_transcript.json"


@pytest.mark.parametrize("key", ["output/a.mp3", "input/", "input/folder/"])
def test_keys_outside_the_input_prefix_or_folders_are_rejected(key: str) -> None:
    with pytest.raises(InputKeyError):
        output_keys(key, STORAGE)


def test_audio_extensions_are_case_insensitive() -> None:
    assert has_audio_extension("input/EP.MP3", STORAGE)
    assert not has_audio_extension("input/notes.pdf", STORAGE)


def test_work_prefix_is_safe_for_any_execution_id() -> None:
    prefix = work_prefix(STORAGE, "arn:aws:lambda:eu-west-1:1:function:f:live/durable-execution/abc/def")
    assert prefix.startswith("work/") and prefix.endswith("/") and "/" not in prefix[5:-1]


def test_work_prefix_execution_name_and_spool_file_sanitise_names_as_before(tmp_path: Path) -> None:
    odd = "arn:aws:lambda/x y#1.é_-"
    assert work_prefix(STORAGE, odd) == "work/arn-aws-lambda-x-y-1.é_-/"
    assert work_prefix(STORAGE, "a" * 200 + ":b") == "work/" + "a" * 118 + "-b/"  # keeps the end
    assert execution_name("md5", PipelineConfig(), "input/my show #1.v2.mp3").startswith("my-show--1.v2-")
    assert execution_name("md5", PipelineConfig(), "input/" + "x" * 60 + ".mp3").startswith("x" * 40 + "-")
    queue = InProcessJobQueue(lambda job: None, spool_dir=tmp_path)
    try:
        spool = queue._spool_path(JobMessage(s3_key="input/a.mp3", etag=None, callback_id=odd))
        assert spool == tmp_path / "arn_aws_lambda_x_y_1_é_-.json"
        long_id = queue._spool_path(JobMessage(s3_key="input/a.mp3", etag=None, callback_id="c" * 200 + "/d"))
        assert long_id == tmp_path / ("c" * 148 + "_d.json")
    finally:
        queue.close()
