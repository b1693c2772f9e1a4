"""Map the checkout's top-level ``components/``, ``runtime/`` and ``worker/`` folders into the one import
package ``podwhisperer`` (``podwhisperer.runtime`` is built from ``runtime/``, …): no symlinks, so a clone
with ``core.symlinks=false`` builds the same wheel. Everything else (metadata, extras, package data) is in
``pyproject.toml``; this file only computes the package list, so a new sub-package is never left out.
"""

from setuptools import find_packages, setup

MAPPED_FOLDERS = ("components", "runtime", "worker")


def packages() -> list[str]:
    names = ["podwhisperer"]
    for folder in MAPPED_FOLDERS:
        names.append(f"podwhisperer.{folder}")
        names += [f"podwhisperer.{folder}.{sub}" for sub in find_packages(folder, exclude=["tests", "tests.*"])]
    return names


setup(
    packages=packages(),
    package_dir={"podwhisperer": "podwhisperer", **{f"podwhisperer.{folder}": folder for folder in MAPPED_FOLDERS}},
)
