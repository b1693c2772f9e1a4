"""Where the component finds the code it ships, and where it keeps its build cache.

The Lambda zip and the worker image are built from the ``podwhisperer`` package *as Python imports it*:
``site-packages/podwhisperer/runtime`` after ``pip install podwhisperer``, or the checkout's ``runtime/``
folder in a clone (see ``podwhisperer/__init__.py``). Nothing is looked up relative to this file, so the
component works the same installed from its wheel, from an editable install and from a clone.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

CACHE_ENV = "PODWHISPERER_CACHE_DIR"


def package_folder(module: str = "podwhisperer") -> Path:
    """The folder of an importable package (``podwhisperer.runtime`` → ``…/runtime``)."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{module} is not an importable package")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def cache_root() -> Path:
    """Build cache (Lambda dependencies, bundles, image contexts): ``$PODWHISPERER_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/podwhisperer``, else ``~/.cache/podwhisperer``. Never inside site-packages."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "podwhisperer"
