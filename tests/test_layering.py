"""The layering rules the architecture doc states, checked on the import statements themselves."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

RUNTIME = Path(__file__).resolve().parent.parent / "runtime"
FORBIDDEN_IN_TRANSFORMS = ("podwhisperer.runtime.adapters", "podwhisperer.runtime.captions",
                           "podwhisperer.runtime.bedrock", "boto3", "botocore", "concurrent.futures", "threading")


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


PURE = [*sorted((RUNTIME / "transforms").rglob("*.py")), RUNTIME / "transcript.py", RUNTIME / "contracts.py"]


@pytest.mark.parametrize("path", PURE, ids=lambda p: str(p.relative_to(RUNTIME)))
def test_pure_modules_import_no_adapter_renderer_client_or_thread_pool(path: Path) -> None:
    bad = {name for name in imports_of(path) if name.startswith(FORBIDDEN_IN_TRANSFORMS)}
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_no_runtime_or_worker_module_is_over_450_lines_except_the_config_model() -> None:
    modules = [*RUNTIME.rglob("*.py"), *(RUNTIME.parent / "worker").rglob("*.py")]
    long = {p.name: n for p in modules if p.name != "config.py" and (n := len(p.read_text().splitlines())) > 450}
    assert not long, long
