"""The installable package: one top-level import name, the command, the lazy component export."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_has_only_the_podwhisperer_package(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(REPO)],
                   check=True, capture_output=True)
    (wheel,) = tmp_path.glob("podwhisperer-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names}
    assert top_level == {"podwhisperer", "podwhisperer-0.1.0.dist-info"}
    for module in ("runtime/handler.py", "runtime/pipeline.py", "worker/poller.py", "components/pipeline.py",
                   "worker/Dockerfile", "cli.py"):
        assert f"podwhisperer/{module}" in names
    entry_points = zipfile.ZipFile(wheel).read("podwhisperer-0.1.0.dist-info/entry_points.txt").decode()
    assert "podwhisperer = podwhisperer.cli:main" in entry_points


def test_component_is_exported_lazily() -> None:
    code = ("import sys, podwhisperer; assert 'pulumi' not in sys.modules; "
            "from podwhisperer import PodwhispererPipeline, PodwhispererPipelineArgs; "
            "print(PodwhispererPipeline.__module__)")
    result = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert result.stdout.strip() == "podwhisperer.components.pipeline"


def test_every_command_has_help() -> None:
    command = [str(Path(sys.executable).parent / "podwhisperer")]
    for args in ([], ["refine"], ["transcribe"], ["config", "validate"], ["config", "schema"], ["worker"],
                 ["worker", "transcribe"], ["worker", "run"]):
        result = subprocess.run([*command, *args, "--help"], capture_output=True, text=True)
        assert result.returncode == 0, (args, result.stderr)
        assert "Usage" in result.stdout
