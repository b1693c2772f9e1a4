"""Type-check the ``podwhisperer`` package as it is installed: ``podwhisperer.runtime`` … from the top-level folders.

mypy resolves modules from folders, and the package is assembled by the build (setup.py maps
``runtime/`` to ``podwhisperer.runtime``, …), so mypy gets a view of that layout: ``build/typecheck/
podwhisperer/`` with links to the real files (copies where links cannot be made). Its messages are
printed with the real paths (``runtime/config.py``), so an editor can jump to them.

Usage: python scripts/typecheck.py [extra mypy args]   (exit status: mypy's)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAPPED_FOLDERS = ("components", "runtime", "worker")
CHECKED = ("podwhisperer/runtime", "podwhisperer/worker", "podwhisperer/components", "podwhisperer/cli.py")


def stage() -> Path:
    view = ROOT / "build" / "typecheck"
    package = view / "podwhisperer"
    links = {entry.name: entry for entry in (ROOT / "podwhisperer").iterdir() if entry.name != "__pycache__"}
    links.update({folder: ROOT / folder for folder in MAPPED_FOLDERS})
    current = {entry.name: entry for entry in package.iterdir()} if package.is_dir() else {}
    if set(current) == set(links) and all(entry.is_symlink() for entry in current.values()):
        return view  # the same links as last time: mypy's cache stays valid
    shutil.rmtree(view, ignore_errors=True)
    package.mkdir(parents=True)
    for name, source in links.items():
        target = package / name
        try:
            os.symlink(source, target, target_is_directory=source.is_dir())
        except OSError:  # no symlink privilege (Windows): a copy type-checks the same
            if source.is_dir():
                shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(source, target)
    return view


def real_path(line: str) -> str:
    for folder in MAPPED_FOLDERS:
        line = line.replace(f"podwhisperer/{folder}/", f"{folder}/")
    return line


def main() -> int:
    view = stage()
    command = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
               "--cache-dir", str(ROOT / ".mypy_cache"), *CHECKED, *sys.argv[1:]]
    result = subprocess.run(command, cwd=view, capture_output=True, text=True, check=False)
    sys.stdout.write("".join(real_path(line) for line in result.stdout.splitlines(keepends=True)))
    sys.stderr.write(result.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
