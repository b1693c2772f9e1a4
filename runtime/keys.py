"""Object key naming shared by the worker, the durable Lambda and the local CLI.

``input/shows/ep 1.mp3`` gives ``output/shows/ep 1_raw_transcript.json`` and friends: sub-folders
under the input prefix are kept under the output prefix, and only the last path component loses
its extension (``input/dir.v2/file`` keeps ``dir.v2``).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from podwhisperer.runtime.captions.formats import caption_format
from podwhisperer.runtime.config import StorageConfig
from podwhisperer.runtime.context import is_sidecar


class InputKeyError(ValueError):
    """An object key that is not under the configured input prefix."""


@dataclass(frozen=True, slots=True)
class OutputKeys:
    """Every key one input produces."""

    input_key: str
    base: str  # output prefix + relative stem, e.g. "output/shows/ep 1"

    @property
    def raw_transcript(self) -> str:
        return f"{self.base}_raw_transcript.json"

    @property
    def refined_transcript(self) -> str:
        return f"{self.base}_refined_transcript.json"

    def caption(self, name: str) -> str:
        """The key of the caption format ``name`` (see ``captions.formats``); ``ValueError`` when unknown."""
        return self.base + caption_format(name).suffix


def relative_input_path(input_key: str, storage: StorageConfig) -> str:
    """The key relative to the input prefix; raises when the key is outside it or is a folder."""
    if not input_key.startswith(storage.input_prefix):
        raise InputKeyError(f"{input_key!r} is not under the input prefix {storage.input_prefix!r}")
    relative = input_key[len(storage.input_prefix):]
    if not relative or relative.endswith("/"):
        raise InputKeyError(f"{input_key!r} names a folder, not an audio file")
    return relative


def output_keys(input_key: str, storage: StorageConfig) -> OutputKeys:
    """Output keys for ``input_key`` (see the module docstring for the rules)."""
    relative = relative_input_path(input_key, storage)
    folder, filename = posixpath.split(relative)
    stem, dot, _ = filename.rpartition(".")
    if storage.output_naming == "stem" and dot and stem:
        filename = stem
    return OutputKeys(input_key=input_key, base=storage.output_prefix + posixpath.join(folder, filename))


def has_audio_extension(input_key: str, storage: StorageConfig) -> bool:
    """True for an audio upload; a per-episode context sidecar (``ep.podwhisperer.yaml``) never is."""
    if is_sidecar(input_key):
        return False
    _, ext = posixpath.splitext(input_key.lower())
    return ext in storage.audio_extensions


def work_prefix(storage: StorageConfig, execution_id: str) -> str:
    """A private prefix for one execution's intermediate objects."""
    return f"{storage.work_prefix}{safe_name(execution_id)[-120:]}/"


def safe_name(text: str, keep: str = "-_.", replacement: str = "-") -> str:
    """``text`` with every character that is neither alphanumeric nor in ``keep`` replaced (for names
    used as keys, file names or execution names; callers cut it to their length limit)."""
    return "".join(c if c.isalnum() or c in keep else replacement for c in text)
