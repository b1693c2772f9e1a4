"""Model resolution, the model cache's offline fallbacks, the image's model download plan and Dockerfile."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from podwhisperer.runtime.config import TranscriptionConfig
from podwhisperer.worker import download_models
from podwhisperer.worker.errors import ModelUnavailableError
from podwhisperer.worker.models import (
    DEFAULT_MODEL_NAME,
    ModelCache,
    Unavailable,
    packaged_model_dir,
    resolve_model,
    resolve_model_source,
)

DOCKERFILE = Path(__file__).resolve().parents[1] / "worker" / "Dockerfile"


@pytest.fixture(autouse=True)
def offline_hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An empty model cache and no hub: the situation of a laptop offline (and of this machine)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))


def test_a_local_folder_is_used_as_is(tmp_path: Path) -> None:
    (tmp_path / "my-model").mkdir()
    assert resolve_model(str(tmp_path / "my-model")) == str(tmp_path / "my-model")


def test_the_packaged_tiny_en_resolves_without_network() -> None:
    source = resolve_model_source("tiny.en")
    assert source.path == packaged_model_dir() and (Path(source.path) / "model.bin").is_file()
    assert source.notes == ()


def test_a_model_in_the_local_cache_is_found_by_name(tmp_path: Path) -> None:
    hub = tmp_path / "hub"  # passed explicitly: huggingface_hub reads HF_HOME only when first imported
    snapshot = hub / "models--Systran--faster-whisper-small" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt"):
        (snapshot / name).write_text("x")
    refs = snapshot.parents[1] / "refs"
    refs.mkdir()
    (refs / "main").write_text("abc123")
    assert resolve_model("small", download_root=str(hub)) == str(snapshot)


def test_the_default_model_falls_back_to_tiny_en_with_a_notice(caplog: pytest.LogCaptureFixture) -> None:
    assert DEFAULT_MODEL_NAME == "large-v2"
    source = resolve_model_source(DEFAULT_MODEL_NAME)
    assert source.path == packaged_model_dir() and source.display_name == "tiny.en"
    assert "fell back to the packaged tiny.en" in source.notes[0] and "fell back" in caplog.text


def test_an_explicitly_chosen_model_that_is_missing_is_an_error() -> None:
    with pytest.raises(ModelUnavailableError, match="'large-v3' is not a local folder"):
        resolve_model("large-v3")
    with pytest.raises(ModelUnavailableError):
        resolve_model(DEFAULT_MODEL_NAME, allow_fallback=False)
    assert resolve_model("large-v3", allow_fallback=True) == packaged_model_dir()


@pytest.mark.parametrize(("device", "configured", "expected"), [
    ("cpu", "default", "int8"), ("cuda", "default", "float16"), ("cuda", "int8_float16", "int8_float16")])
def test_compute_type_and_batch_size_defaults(device: str, configured: str, expected: str) -> None:
    cache = ModelCache(device=device)
    cfg = TranscriptionConfig(compute_type=configured)  # type: ignore[arg-type]
    assert cache.compute_type_for(cfg) == expected
    assert cache.batch_size_for(cfg) == (16 if device == "cuda" else 4)
    assert ModelCache(device=device, compute_type="float32").compute_type_for(cfg) == "float32"


def test_missing_diarization_model_without_token_is_unavailable_fast_and_remembered() -> None:
    cache = ModelCache(offline_diarization=False)  # with the fallback: tests/test_offline_diarization.py
    cfg = TranscriptionConfig()
    first = cache.diarizer(cfg)
    assert isinstance(first, Unavailable) and "no Hugging Face token" in first.reason
    assert cache.diarizer(cfg) is first


def test_injected_diarizer_factory_is_used_once() -> None:
    made: list[str] = []

    def factory(cfg: TranscriptionConfig) -> object:
        made.append(cfg.diarization_model)
        return lambda audio, **bounds: None

    cache = ModelCache(diarizer_factory=factory)  # type: ignore[arg-type]
    cache.diarizer(TranscriptionConfig())
    cache.diarizer(TranscriptionConfig())
    assert made == ["pyannote/speaker-diarization-community-1"]


@pytest.mark.speech
def test_missing_alignment_model_is_unavailable_and_remembered() -> None:
    """The real whisperx loader, offline: torchaudio's download fails; the reason is kept, not retried."""
    cache = ModelCache()
    first = cache.align_model("en")
    assert isinstance(first, Unavailable) and "no alignment model for language 'en'" in first.reason
    assert cache.align_model("en") is first
    unsupported = cache.align_model("xx")
    assert isinstance(unsupported, Unavailable) and "ValueError" in unsupported.reason


# ----- image build -------------------------------------------------------------------------------------------

def test_download_plan_orders_and_deduplicates() -> None:
    steps = download_models.plan("large-v3-turbo", ["en", "de", "en"], "pyannote/x", have_token=True)
    assert [(s.kind, s.name) for s in steps] == [("whisper", "large-v3-turbo"), ("align", "en"), ("align", "de"),
                                                 ("nltk", "punkt_tab"), ("diarization", "pyannote/x"),
                                                 ("speaker-embeddings", "resemblyzer")]
    assert [s.kind for s in download_models.plan("m", [], "pyannote/x", have_token=False)] == [
        "whisper", "speaker-embeddings"]


def test_the_offline_diarizer_weights_check_passes_here_and_names_the_package_when_missing() -> None:
    download_models.fetch(download_models.Download("speaker-embeddings", "resemblyzer"), None)
    with pytest.raises(RuntimeError, match="install no_such_weights_package"):
        download_models.fetch(download_models.Download("speaker-embeddings", "no_such_weights_package"), None)


def test_token_comes_from_the_secret_file_and_is_never_printed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    assert download_models.read_token([tmp_path / "missing"]) is None
    secret = tmp_path / "hf_token"
    secret.write_text("hf_secret_value\n")
    assert download_models.read_token([tmp_path / "missing", secret]) == "hf_secret_value"
    assert download_models.main(["--model", "tiny.en", "--token-file", str(secret), "--dry-run"]) == 0
    captured = capsys.readouterr()
    assert "hf_secret_value" not in captured.out + captured.err


def test_require_diarization_fails_without_a_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    argv = ["--model", "tiny.en", "--token-file", str(tmp_path / "none"), "--require-diarization", "--dry-run"]
    assert download_models.main(argv) == 2


def test_dockerfile_keeps_the_token_out_of_layers_and_runs_as_non_root() -> None:
    text = DOCKERFILE.read_text()
    assert text.startswith("# syntax=docker/dockerfile:1")
    assert re.search(r"^FROM nvidia/cuda:12\.8[.\d]*-cudnn-runtime-ubuntu", text, re.M)
    assert "--mount=type=secret,id=hf_token" in text
    assert not re.search(r"^(ENV|ARG)\s.*(HF_TOKEN|hf_token)", text, re.M | re.I)
    assert re.search(r"^USER worker$", text, re.M) and "useradd --uid 10001" in text
    assert "ARG MODEL_NAME" in text and "ARG ALIGN_LANGUAGES" in text and "python3.12" in text
    assert re.search(r'^ENTRYPOINT \["podwhisperer", "worker", "run"\]$', text, re.M)
    requirements = (DOCKERFILE.parent / "requirements.txt").read_text()
    assert "whisperx==3.8.6" in requirements and "torch==2.8.0" in requirements


def test_models_are_downloaded_before_the_source_is_copied(tmp_path: Path) -> None:
    """A code edit must not invalidate the multi-GB model layer: the download step sees only its own script."""
    text = DOCKERFILE.read_text()
    download = text.index("python /tmp/download_models.py")
    # (the build context is podwhisperer.components.image_context's: the package under podwhisperer/)
    assert download < text.index("COPY podwhisperer/ /src/podwhisperer/") < text.index("pip install --no-deps /src")
    assert "source=podwhisperer/worker/download_models.py" in text
    # ... so the script must run with the standard library alone (no site-packages, no podwhisperer).
    script = shutil.copy(DOCKERFILE.parent / "download_models.py", tmp_path / "download_models.py")
    result = subprocess.run([sys.executable, "-I", "-S", script, "--model", "tiny.en", "--token-file",
                             str(tmp_path / "none"), "--dry-run"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "whisper: tiny.en (dry run)" in result.stderr
