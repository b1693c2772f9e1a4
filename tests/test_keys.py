"""Output naming shared by the worker, the Lambda and the CLI (predecessor defect 6)."""

from __future__ import annotations

import pytest

from podwhisperer.runtime.config import StorageConfig
from podwhisperer.runtime.keys import InputKeyError, has_audio_extension, output_keys, work_prefix

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
