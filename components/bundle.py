"""Build the pipeline Lambda's deployment zip: the ``podwhisperer`` runtime plus its locked dependencies.

The zip holds ``podwhisperer/__init__.py`` and ``podwhisperer/runtime/`` (never ``components/`` or
``worker/``: Pulumi and WhisperX have no business in the Lambda) and the packages pinned in
``runtime/requirements-lambda.txt``, installed for the Lambda platform (manylinux2014 x86_64, CPython
3.13) whatever machine runs ``pulumi up``.

Two properties matter for Pulumi: the build is **cached** (the pip install is keyed by a hash of the
requirements file and the target platform, so a ``pulumi preview`` costs no network) and the zip is
**reproducible** (sorted entries, fixed timestamps and permissions, no ``__pycache__``), so an
unchanged tree gives a byte-identical zip, the same ``source_code_hash``, and no Lambda update.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

from podwhisperer.components.sources import cache_root, package_folder

REQUIREMENTS_FILE = "requirements-lambda.txt"
"""In ``podwhisperer.runtime`` (installed as package data)."""
BUNDLE_NAME = "podwhisperer-lambda.zip"

LAMBDA_PLATFORM = "manylinux2014_x86_64"
LAMBDA_PYTHON = "3.13"
BOTO3_REQUIREMENTS = ("boto3==1.44.5", "botocore==1.44.5", "s3transfer==0.19.3", "jmespath==1.1.0",
                      "python-dateutil==2.9.0.post0", "six==1.17.0", "urllib3==2.8.0")
"""Only installed with ``bundle_boto3=True`` (what botocore itself needs, pinned like the rest)."""

_FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can carry
_SKIP_DIRS = {"__pycache__", ".mypy_cache", ".pytest_cache", "tests"}
_SKIP_SUFFIXES = (".pyc", ".pyo")
_SKIP_RUNTIME_FILES = {"requirements-lambda.txt"}
_SKIP_DEP_PREFIXES = (
    ".complete",
    "bin/",
    # 0.45 MB of Swagger UI assets for API Gateway handlers; this function serves no HTTP API.
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/",
    # 2.6 MB libyaml accelerator: the Lambda never parses YAML (its config arrives as JSON), and PyYAML
    # falls back to its pure-Python parser without it. Makes room for the regex engine (replacement rules).
    "yaml/_yaml.",
)


def build_lambda_bundle(
    out_dir: str | os.PathLike[str] | None = None,
    *,
    requirements: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    bundle_boto3: bool = False,
) -> Path:
    """Write ``<out_dir>/podwhisperer-lambda.zip`` and return its path.

    The sources are the importable ``podwhisperer`` package (installed or a checkout, see
    ``sources.py``). ``out_dir`` defaults to ``<cache>/bundle``; ``requirements`` (default: the runtime's
    ``requirements-lambda.txt``) is a fully pinned list installed with ``--no-deps`` (the file *is* the
    lock); ``cache_dir`` (default ``<cache>/lambda-deps``) keeps one installed tree per requirements hash;
    ``bundle_boto3`` adds boto3/botocore (about 15 MB more) for regions whose runtime boto3 is older than
    the durable SDK needs.
    """
    requirements = Path(requirements) if requirements else default_requirements()
    deps = install_dependencies(requirements, Path(cache_dir) if cache_dir else cache_root() / "lambda-deps",
                                bundle_boto3=bundle_boto3)
    out = Path(out_dir) if out_dir else cache_root() / "bundle"
    out.mkdir(parents=True, exist_ok=True)
    target = out / BUNDLE_NAME
    entries = sorted(_bundle_entries(deps), key=lambda item: item[0])
    manifest = out / (BUNDLE_NAME + ".manifest")
    fingerprint = _fingerprint(entries)
    if target.exists() and manifest.exists() and manifest.read_text(encoding="utf-8") == fingerprint:
        return target  # same files, same sizes, same mtimes: the zip on disk is already this one
    # One temporary name per builder: two builds sharing the cache (parallel stacks, test runs) never write or
    # rename each other's half-written zip; os.replace keeps the final swap atomic.
    tmp = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for arcname, path in entries:
            _write_entry(archive, arcname, path)
    tmp.replace(target)
    manifest.write_text(fingerprint, encoding="utf-8")
    return target


def default_requirements() -> Path:
    """The Lambda lock file shipped inside ``podwhisperer.runtime``."""
    return package_folder("podwhisperer.runtime") / REQUIREMENTS_FILE


def requirements_hash(requirements: Path, *, bundle_boto3: bool = False) -> str:
    """Cache key: requirement lines (comments stripped), platform, Python version and the boto3 choice."""
    lines = [line.split("#", 1)[0].strip() for line in requirements.read_text(encoding="utf-8").splitlines()]
    key = "\n".join(sorted(line for line in lines if line))
    key += f"\n{LAMBDA_PLATFORM}\n{LAMBDA_PYTHON}\nboto3={bundle_boto3}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def install_dependencies(requirements: Path, cache_dir: Path, *, bundle_boto3: bool = False) -> Path:
    """The installed dependency tree for ``requirements``: from the cache, or pip-installed into it."""
    final = cache_dir / requirements_hash(requirements, bundle_boto3=bundle_boto3)
    if (final / ".complete").exists():
        return final
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="staging-", dir=cache_dir))
    try:
        _pip_install(requirements, staging, bundle_boto3=bundle_boto3)
        (staging / ".complete").write_text("ok\n", encoding="utf-8")
        if final.exists():  # a half-written tree from an interrupted run
            shutil.rmtree(final)
        staging.rename(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def _pip_install(requirements: Path, target: Path, *, bundle_boto3: bool) -> None:
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
        "--no-deps", "--only-binary=:all:", "--platform", LAMBDA_PLATFORM, "--python-version", LAMBDA_PYTHON,
        "--implementation", "cp", "--target", str(target), "-r", str(requirements),
    ]
    if bundle_boto3:
        command += list(BOTO3_REQUIREMENTS)
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"pip install for the Lambda bundle failed:\n{result.stderr.strip() or result.stdout}")


def _bundle_entries(deps: Path) -> Iterator[tuple[str, Path]]:
    """(name in the zip, file on disk) for the dependencies and the podwhisperer runtime."""
    for path in _files(deps):
        relative = path.relative_to(deps).as_posix()
        if not relative.startswith(_SKIP_DEP_PREFIXES):
            yield relative, path
    yield from package_entries(("runtime",))


def package_entries(subpackages: tuple[str, ...]) -> Iterator[tuple[str, Path]]:
    """``podwhisperer/__init__.py`` (and ``py.typed``) plus every file of ``podwhisperer.<subpackage>``,
    named as they are inside the installed package, from wherever Python imports them."""
    package = package_folder("podwhisperer")
    yield "podwhisperer/__init__.py", package / "__init__.py"
    if (package / "py.typed").exists():
        yield "podwhisperer/py.typed", package / "py.typed"
    for subpackage in subpackages:
        folder = package_folder(f"podwhisperer.{subpackage}")
        for path in _files(folder):
            relative = path.relative_to(folder).as_posix()
            if subpackage != "runtime" or relative not in _SKIP_RUNTIME_FILES:
                yield f"podwhisperer/{subpackage}/{relative}", path


def _fingerprint(entries: list[tuple[str, Path]]) -> str:
    """Cheap change detector for the zip's inputs (names, sizes, modification times)."""
    digest = hashlib.sha256()
    for arcname, path in entries:
        stat = path.stat()
        digest.update(f"{arcname}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _files(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for name in sorted(filenames):
            if not name.endswith(_SKIP_SUFFIXES):
                yield Path(dirpath) / name


def _write_entry(archive: zipfile.ZipFile, arcname: str, path: Path) -> None:
    info = zipfile.ZipInfo(arcname, date_time=_FIXED_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (0o100644 << 16)  # regular file, rw-r--r--: Lambda only needs to read it
    info.create_system = 3  # unix, so the permission bits are honoured
    archive.writestr(info, path.read_bytes(), compresslevel=9)
