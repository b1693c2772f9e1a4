"""The Lambda bundle: small, reproducible, runtime-only, and importable by CPython 3.13 without AWS."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import zipfile
from pathlib import Path

import pulumi_mocks
import pytest
import yaml

from podwhisperer.components.bundle import (
    BOTO3_REQUIREMENTS,
    build_lambda_bundle,
    install_dependencies,
    requirements_hash,
)
from podwhisperer.components.sources import cache_root
from podwhisperer.runtime.config import parse_config

REPO_ROOT = Path(__file__).resolve().parents[1]

PYTHON313 = Path.home() / ".pyenv" / "versions" / "3.13.0" / "bin" / "python"
MAX_ZIP_BYTES = 5 * 1024 * 1024


@pytest.fixture(scope="module")
def bundle() -> Path:
    return pulumi_mocks.session_bundle()


def test_zip_is_small_and_holds_only_the_runtime(bundle: Path) -> None:
    assert bundle.stat().st_size <= MAX_ZIP_BYTES
    names = zipfile.ZipFile(bundle).namelist()
    assert "podwhisperer/__init__.py" in names and "podwhisperer/runtime/handler.py" in names
    assert "podwhisperer/runtime/config.py" in names
    assert not [n for n in names if n.startswith(("podwhisperer/components/", "podwhisperer/worker/"))]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if n.startswith(("boto3/", "botocore/"))]  # the runtime provides them
    assert any(n.startswith("aws_durable_execution_sdk_python/") for n in names)
    assert any(n.startswith("pydantic_core/_pydantic_core.cpython-313-x86_64-linux-gnu") for n in names)


def test_zip_is_reproducible(bundle: Path, tmp_path: Path) -> None:
    again = build_lambda_bundle(tmp_path)
    # Digests, not bytes: pytest's diff of two multi-megabyte byte strings runs for many minutes.
    assert hashlib.sha256(again.read_bytes()).hexdigest() == hashlib.sha256(bundle.read_bytes()).hexdigest()
    infos = zipfile.ZipFile(bundle).infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_cache_key_ignores_comments_but_not_pins(tmp_path: Path) -> None:
    first, second, third = (tmp_path / n for n in ("a.txt", "b.txt", "c.txt"))
    first.write_text("# lock\npydantic==2.14.3\norjson==3.13.0\n")
    second.write_text("orjson==3.13.0  # fast json\npydantic==2.14.3\n")
    third.write_text("pydantic==2.14.2\norjson==3.13.0\n")
    assert requirements_hash(first) == requirements_hash(second) != requirements_hash(third)
    assert requirements_hash(first) != requirements_hash(first, bundle_boto3=True)


@pytest.mark.skipif(not PYTHON313.exists(), reason="needs pyenv's CPython 3.13")
def test_handler_imports_on_python_313_without_aws(bundle: Path, tmp_path: Path) -> None:
    """Unpack the zip like Lambda does (C extensions cannot load from a zip), add the boto3 the
    python3.13 runtime provides, import the handler and parse a stack's config with no credentials."""
    task = tmp_path / "task"
    zipfile.ZipFile(bundle).extractall(task)
    runtime_boto3 = _runtime_boto3()
    config = parse_config(stack_pipeline("acme-show"))
    script = (
        "import sys, json\n"
        f"sys.path[:0] = [{str(task)!r}]\nsys.path.append({str(runtime_boto3)!r})\n"
        "import podwhisperer.runtime.handler as handler\n"
        "from podwhisperer.runtime.config import parse_config\n"
        "assert callable(handler.lambda_handler)\n"
        "import pydantic_core, orjson, yaml, aws_lambda_powertools, aws_durable_execution_sdk_python\n"
        "assert pydantic_core.__file__.startswith(sys.path[0])\n"
        "cfg = parse_config(json.loads(sys.stdin.read()))\n"
        "print(json.dumps({'python': sys.version_info[:2], 'model': cfg.transcription.model}))\n"
    )
    env = {"PATH": os.environ.get("PATH", ""), "AWS_EC2_METADATA_DISABLED": "true", "AWS_REGION": "us-east-2",
           "AWS_DEFAULT_REGION": "us-east-2", "HOME": str(tmp_path)}
    result = subprocess.run([str(PYTHON313), "-I", "-c", script], input=config.to_json(), capture_output=True,
                            text=True, env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"python": [3, 13], "model": "large-v3"}


def _runtime_boto3() -> Path:
    """boto3/botocore as the Lambda runtime provides them, installed once into the cache."""
    requirements = cache_root() / "runtime-boto3-requirements.txt"
    requirements.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(BOTO3_REQUIREMENTS) + "\n"
    if not requirements.exists() or requirements.read_text() != text:
        requirements.write_text(text)
    return install_dependencies(requirements, cache_root() / "runtime-boto3")


def stack_pipeline(stack: str) -> dict[str, object]:
    """The ``podwhisperer:pipeline`` section of an example stack file."""
    return yaml.safe_load((REPO_ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]["podwhisperer:pipeline"]
