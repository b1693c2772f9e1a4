"""The folder object store hashes a file for its etag once, and again only when the file changes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from podwhisperer.runtime.adapters import storage
from podwhisperer.runtime.adapters.storage import FileObjectStore


@pytest.fixture()
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every path ``file_md5`` reads."""
    calls: list[Path] = []
    real = storage.file_md5

    def counting(path: Path) -> str:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(storage, "file_md5", counting)
    return calls


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def test_second_head_of_an_unchanged_file_does_not_read_it_again(tmp_path: Path, hashed: list[Path]) -> None:
    store = FileObjectStore(tmp_path)
    store.put("input/a.mp3", b"audio")
    first, second = store.head("input/a.mp3"), store.head("input/a.mp3")
    assert first == second and first is not None and first.etag == md5(b"audio") and first.size == 5
    assert hashed == [tmp_path / "input" / "a.mp3"]
    assert FileObjectStore(tmp_path).head("input/a.mp3") == first  # the memory is per store instance
    assert len(hashed) == 2


def test_a_changed_file_gets_a_new_etag(tmp_path: Path, hashed: list[Path]) -> None:
    store = FileObjectStore(tmp_path)
    path = store.path_of("input/a.mp3")
    store.put("input/a.mp3", b"one")
    assert store.head("input/a.mp3").etag == md5(b"one")  # type: ignore[union-attr]
    store.put("input/a.mp3", b"two")  # same size, replaced (a new file)
    assert store.head("input/a.mp3").etag == md5(b"two")  # type: ignore[union-attr]
    before = path.stat()
    path.write_bytes(b"six")  # same size, rewritten in place: a later modification time
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000))
    assert store.head("input/a.mp3").etag == md5(b"six")  # type: ignore[union-attr]
    path.write_bytes(b"longer")  # another size
    assert store.head("input/a.mp3").etag == md5(b"longer")  # type: ignore[union-attr]
    assert len(hashed) == 4
    path.unlink()
    assert store.head("input/a.mp3") is None
