"""The installable package: the command and the lazy component export (the wheel itself, installed outside
the checkout: tests/test_installed_package.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_component_is_exported_lazily() -> None:
    code = ("import sys, podwhisperer; assert 'pulumi' not in sys.modules; "
            "from podwhisperer import PodwhispererPipeline, PodwhispererPipelineArgs; "
            "print(PodwhispererPipeline.__module__)")
    result = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert result.stdout.strip() == "podwhisperer.components.pipeline"


def test_every_command_has_help() -> None:
    command = [str(Path(sys.executable).parent / "podwhisperer")]
    for args in ([], ["refine"], ["transcribe"], ["config", "validate"], ["config", "schema"], ["image-context"],
                 ["worker"], ["worker", "transcribe"], ["worker", "run"], ["cloud"], ["cloud", "upload"],
                 ["cloud", "backfill"], ["cloud", "status"], ["cloud", "reprocess"], ["cloud", "warmup"],
                 ["cloud", "cost"]):
        result = subprocess.run([*command, *args, "--help"], capture_output=True, text=True)
        assert result.returncode == 0, (args, result.stderr)
        assert "Usage" in result.stdout
