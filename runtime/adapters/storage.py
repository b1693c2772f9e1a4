"""Object storage behind one small protocol: S3 in the cloud, a folder on a laptop.

Both implementations write whole objects atomically (S3 PutObject is atomic; the folder store
writes a temporary file and renames it), so a reader never sees a half-written output.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from podwhisperer.runtime.contracts import normalize_etag


class ObjectNotFoundError(LookupError):
    """The requested key does not exist."""


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    key: str
    size: int
    etag: str


class ObjectStore(Protocol):
    """What the pipeline, the worker and the CLI need from storage."""

    def get(self, key: str) -> bytes: ...

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None: ...

    def copy(self, source: str, destination: str, content_type: str) -> None:
        """Copy object ``source`` to ``destination`` (on S3 server-side: the bytes never reach this process)."""
        ...

    def head(self, key: str) -> ObjectInfo | None: ...

    def delete(self, key: str) -> None: ...

    def download(self, key: str, path: Path) -> None: ...

    def list(self, prefix: str) -> Iterator[str]: ...




class S3ObjectStore:
    """An :class:`ObjectStore` on one S3 bucket, through an injected boto3 S3 client."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self.bucket = bucket

    def get(self, key: str) -> bytes:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=key)
        except self._client.exceptions.NoSuchKey:
            raise ObjectNotFoundError(key) from None
        body: bytes = response["Body"].read()
        return body

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self._client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def copy(self, source: str, destination: str, content_type: str) -> None:
        try:  # server-side: the bytes stay in S3
            self._client.copy_object(Bucket=self.bucket, Key=destination, ContentType=content_type,
                                     CopySource={"Bucket": self.bucket, "Key": source}, MetadataDirective="REPLACE")
        except self._client.exceptions.NoSuchKey:
            raise ObjectNotFoundError(source) from None

    def head(self, key: str) -> ObjectInfo | None:
        try:
            response = self._client.head_object(Bucket=self.bucket, Key=key)
        except self._client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return ObjectInfo(key=key, size=int(response["ContentLength"]), etag=normalize_etag(response["ETag"]) or "")

    def delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=key)

    def download(self, key: str, path: Path) -> None:
        """Stream the object to ``path`` (multipart, never all in memory)."""
        try:
            self._client.download_file(self.bucket, key, str(path))
        except self._client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise ObjectNotFoundError(key) from None
            raise

    def list(self, prefix: str) -> Iterator[str]:
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"]


class FileObjectStore:
    """An :class:`ObjectStore` on a local folder: key ``output/a.json`` is ``<root>/output/a.json``.

    ``folders`` maps key prefixes to folders under the root (the longest matching prefix wins; ``""``
    is the default): local mode puts ``output/`` and ``input/`` keys directly in the root and the rest
    under ``.podwhisperer/``. Files are written readable as the process umask allows (like ``open``).

    :meth:`head` hashes a file once and remembers the md5 while the file's size, modification time
    and inode stay the same (an audio file can be hundreds of MB, and one run heads it several times).
    """

    def __init__(self, root: Path, folders: Mapping[str, str] | None = None) -> None:
        self.root = Path(root)
        self.folders = sorted((folders or {"": ""}).items(), key=lambda item: -len(item[0]))
        self._mode = 0o666 & ~_current_umask()
        self._md5s: dict[Path, tuple[tuple[int, int, int], str]] = {}  # path -> ((size, mtime_ns, inode), md5)

    def path_of(self, key: str) -> Path:
        parts = PurePosixPath(key).parts
        if not parts or key.startswith("/") or ".." in parts:
            raise ValueError(f"unsafe object key {key!r}")
        for prefix, folder in self.folders:
            if key.startswith(prefix):
                return self.root.joinpath(*PurePosixPath(folder).parts, *PurePosixPath(key[len(prefix):]).parts)
        return self.root.joinpath(*parts)

    def get(self, key: str) -> bytes:
        try:
            return self.path_of(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise ObjectNotFoundError(key) from None

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        path = self.path_of(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            os.fchmod(fd, self._mode)  # mkstemp makes 0600; outputs are for sharing and publishing
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def copy(self, source: str, destination: str, content_type: str) -> None:
        self.put(destination, self.get(source), content_type)  # through put: atomic, like every write here

    def head(self, key: str) -> ObjectInfo | None:
        path = self.path_of(key)
        if not path.is_file():
            return None
        stat = path.stat()
        version = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
        cached = self._md5s.get(path)
        if cached is None or cached[0] != version:
            cached = (version, file_md5(path))
            self._md5s[path] = cached
        return ObjectInfo(key=key, size=stat.st_size, etag=cached[1])

    def delete(self, key: str) -> None:
        self.path_of(key).unlink(missing_ok=True)

    def download(self, key: str, path: Path) -> None:
        source = self.path_of(key)
        if not source.is_file():
            raise ObjectNotFoundError(key)
        shutil.copyfile(source, path)

    def list(self, prefix: str) -> Iterator[str]:
        for key_prefix, folder in self.folders:
            if not (prefix.startswith(key_prefix) or key_prefix.startswith(prefix)):
                continue
            base = self.root.joinpath(*PurePosixPath(folder).parts)
            for path in sorted(base.rglob("*")) if base.is_dir() else ():
                if path.is_file() and not path.name.startswith(".tmp-"):
                    key = key_prefix + path.relative_to(base).as_posix()
                    if key.startswith(prefix) and self.path_of(key) == path:
                        yield key


def _current_umask() -> int:
    """The process umask (read from /proc where possible: setting it to read it is not thread-safe)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_md5(path: Path) -> str:
    """Hex md5 of a file, read in 1 MiB blocks (the etag S3 gives a single-part upload)."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
