"""The package as a user installs it: a wheel built from the tree, installed into a fresh venv outside the
checkout with the ``deploy`` extra, running the README's embedding example under Pulumi mocks.

The venv reuses the test environment's dependencies through a path entry (nothing is downloaded, torch
is not needed), but podwhisperer itself comes only from the wheel: the checkout is on no path.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path
from typing import Any

import pytest

from podwhisperer.components.sources import CACHE_ENV, cache_root

REPO = Path(__file__).resolve().parents[1]
TESTS = REPO / "tests"
MAPPED = ("components", "runtime", "worker")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not (REPO / ".git").exists(), reason="needs a git checkout (git ls-files, clone)")]


def tree_files(root: Path) -> list[str]:
    """The working tree as git sees it (tracked and untracked, minus ignored files)."""
    listed = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=root, check=True,
                            capture_output=True).stdout.decode()
    return [name for name in listed.split("\0") if name and (root / name).is_file()]


def build_wheel(source: Path, out: Path) -> Path:
    """``pip wheel``; without build isolation (no download) when this environment's setuptools can build it."""
    flags = ["--no-build-isolation"] if _setuptools_major() >= 77 else []
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", *flags, "-w", str(out),
                             str(source)], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    (wheel,) = out.glob("podwhisperer-*.whl")
    return wheel


def _setuptools_major() -> int:
    from importlib.metadata import version

    return int(version("setuptools").split(".")[0])


def modules_of_checkout(root: Path) -> set[str]:
    """Every module the wheel must hold: ``podwhisperer/<file>`` for the mapped folders' files."""
    names = {f"podwhisperer/{p.name}" for p in (root / "podwhisperer").glob("*.py")}
    for folder in MAPPED:
        names |= {f"podwhisperer/{p.relative_to(root).as_posix()}" for p in (root / folder).rglob("*.py")
                  if "__pycache__" not in p.parts}
    return names


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the working tree (so a build never writes into the checkout)."""
    copy = tmp_path_factory.mktemp("source")
    for name in tree_files(REPO):
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, copy / name)
    return copy


@pytest.fixture(scope="module")
def wheel(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(source, tmp_path_factory.mktemp("dist"))


def test_a_checkout_on_pythonpath_wins_over_an_editable_install(source: Path, tmp_path: Path) -> None:
    """How other checkouts (worktrees, CI) run their tests: PYTHONPATH=<checkout> with this environment,
    whose editable install points at another checkout. Every mapped sub-package comes from the first."""
    code = ("import podwhisperer.runtime.config as r, podwhisperer.worker.poller as w, "
            "podwhisperer.components.args as c; print(r.__file__); print(w.__file__); print(c.__file__)")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(source)}, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert [Path(line).relative_to(source).as_posix() for line in result.stdout.split()] == [
        "runtime/config.py", "worker/poller.py", "components/args.py"]


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv outside the checkout with the wheel installed; its dependencies come from this environment."""
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120)
    python = root / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    # A plain path entry (not a site dir): this environment's packages, without running its .pth files, so
    # an editable install of some checkout is not picked up.
    (site / "shared-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index",
                    "--ignore-installed", str(wheel)], check=True, capture_output=True, timeout=300)
    return root


def run_in(venv: Path, args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run([str(venv / "bin" / "python"), *args], cwd=cwd, env={**clean, **env}, capture_output=True,
                          text=True, timeout=600, check=False)


def test_no_tracked_symlinks_and_a_symlinks_false_clone_builds_every_module(tmp_path: Path) -> None:
    staged = subprocess.run(["git", "ls-files", "-s"], cwd=REPO, check=True, capture_output=True, text=True).stdout
    assert [line for line in staged.splitlines() if line.startswith("120000")] == []
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "-c", "core.symlinks=false", "--no-hardlinks", str(REPO), str(clone)],
                   check=True, capture_output=True, timeout=120)
    names = set(zipfile.ZipFile(build_wheel(clone, tmp_path / "dist")).namelist())
    expected = modules_of_checkout(clone)
    assert expected - names == set()
    assert {"podwhisperer/worker/Dockerfile", "podwhisperer/runtime/requirements-lambda.txt",
            "podwhisperer/worker/requirements.txt"} <= names


def test_wheel_holds_the_working_tree(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    names = set(archive.namelist())
    assert modules_of_checkout(REPO) - names == set()
    assert {name.split("/")[0] for name in names} == {"podwhisperer", "podwhisperer-0.1.0.dist-info"}
    entry_points = archive.read("podwhisperer-0.1.0.dist-info/entry_points.txt").decode()
    assert "podwhisperer = podwhisperer.cli:main" in entry_points


def test_installed_command_and_module_entry_point(venv: Path, tmp_path: Path) -> None:
    for command in ([str(venv / "bin" / "podwhisperer"), "--help"], [str(venv / "bin" / "python"), "-m",
                                                                      "podwhisperer", "--help"]):
        result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120,
                                env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
        assert result.returncode == 0, result.stderr
        assert "image-context" in result.stdout and "transcribe" in result.stdout


def test_deploy_extra_is_installed_and_does_not_pull_torch(venv: Path, tmp_path: Path) -> None:
    script = r'''
import json, re
from importlib.metadata import distribution, PackageNotFoundError
from packaging.requirements import Requirement
seen, missing, todo = set(), [], [(Requirement(r), "deploy") for r in distribution("podwhisperer").requires or []]
while todo:
    req, extra = todo.pop()
    if req.marker and not req.marker.evaluate({"extra": extra}):
        continue
    name = re.sub(r"[-_.]+", "-", req.name).lower()
    key = (name, tuple(sorted(req.extras)))
    if key in seen:
        continue
    seen.add(key)
    try:
        dist = distribution(req.name)
    except PackageNotFoundError:
        missing.append(str(req)); continue
    if dist.version not in req.specifier:
        missing.append(f"{req} (have {dist.version})")
    todo += [(Requirement(r), e) for e in (req.extras or {""}) for r in dist.requires or []]
print(json.dumps({"closure": sorted(n for n, _ in seen), "missing": missing}))
'''
    result = run_in(venv, ["-c", script], tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["missing"] == []
    assert {"pulumi", "pulumi-aws", "pulumi-awsx"} <= set(report["closure"])
    assert not {"torch", "whisperx", "torchaudio"} & set(report["closure"])


def readme_embedding_example() -> str:
    readme = (REPO / "README.md").read_text()
    after = readme.split("<!-- embedding-example:", 1)[1]
    return re.search(r"```python\n(.*?)```", after, re.S).group(1)  # type: ignore[union-attr]


def test_readme_embedding_example_runs_from_the_installed_wheel(venv: Path, tmp_path: Path) -> None:
    program = tmp_path / "program"
    program.mkdir()
    (program / "__main__.py").write_text(readme_embedding_example())
    shutil.copy(TESTS / "fixtures" / "run_under_mocks.py", program)
    result = run_in(venv, ["run_under_mocks.py", str(TESTS), str(tmp_path / "report.json")], program,
                    **{CACHE_ENV: str(cache_root())})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report: dict[str, Any] = json.loads((tmp_path / "report.json").read_text())
    installed = Path(report["podwhisperer"]).parent
    assert installed.is_relative_to(venv) and not installed.is_relative_to(REPO)

    by_type: dict[str, list[dict[str, Any]]] = {}
    for resource in report["resources"]:
        by_type.setdefault(resource["typ"], []).append(resource)
    assert len(by_type["aws:lambda/function:Function"]) == 2
    assert "aws:ssm/parameter:Parameter" not in by_type  # no token: no parameter ...
    assert "aws:ssm/getParameter:getParameter" not in report["invokes"]  # ... and no lookup

    # The Lambda zip: built from the installed package's runtime.
    (zip_path,) = {f["inputs"]["code"]["path"] for f in by_type["aws:lambda/function:Function"]}
    archive = zipfile.ZipFile(zip_path)
    runtime = installed / "runtime"
    for path in runtime.rglob("*.py"):
        arcname = f"podwhisperer/runtime/{path.relative_to(runtime).as_posix()}"
        assert archive.read(arcname) == path.read_bytes(), arcname

    # The worker image: one build (the second pipeline runs a given image), its context assembled from the
    # installed package, holding everything the Dockerfile copies or mounts.
    (image,) = by_type["docker-build:index:Image"]
    context = Path(image["inputs"]["context"]["location"])
    dockerfile = Path(image["inputs"]["dockerfile"]["location"])
    assert dockerfile == context / "podwhisperer" / "worker" / "Dockerfile"
    assert image["inputs"]["buildOnPreview"] is False
    for path in [*(installed / "worker").rglob("*"), *(installed / "runtime").rglob("*.py")]:
        if path.is_file() and "__pycache__" not in path.parts and path.name != "requirements-lambda.txt":
            copied = context / "podwhisperer" / path.relative_to(installed)
            assert hashlib.sha256(copied.read_bytes()).digest() == hashlib.sha256(path.read_bytes()).digest()
    assert not (context / "podwhisperer" / "components").exists()
    sources = re.findall(r"^COPY (\S+) ", dockerfile.read_text(), re.M) + re.findall(r"source=(\S+?),",
                                                                                      dockerfile.read_text())
    assert sources and all((context / source.rstrip("/")).exists() for source in sources), sources
