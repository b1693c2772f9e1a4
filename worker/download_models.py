"""Bake models into the worker image at build time (run by worker/Dockerfile; safe to run by hand).

* the Whisper model (``--model``, a faster-whisper name such as ``large-v3-turbo``) into the
  Hugging Face cache (``$HF_HOME``), where :func:`~podwhisperer.worker.models.resolve_model` finds it
  by name at run time with ``HF_HUB_OFFLINE=1``;
* the wav2vec2 alignment model for each ``--languages`` code (whisperx's defaults: torchaudio
  bundles go to ``$TORCH_HOME``, Hugging Face models to ``$HF_HOME``) and nltk's ``punkt_tab``
  (``$NLTK_DATA``), which ``whisperx.align`` needs;
* the pyannote diarization pipeline (``--diarization-model``), a gated model: it needs a Hugging Face
  token, read from a file (the BuildKit secret mount) and never printed, stored or put in the environment.

Without a token the diarization model is skipped with a warning (the worker then diarizes with the
offline fallback, Resemblyzer voice embeddings + clustering, and says so in each transcript) unless
``--require-diarization`` is given. The fallback's weights come with the ``resemblyzer`` wheel, so there is
nothing to download for it: the ``speaker-embeddings`` step only checks that they load.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("download_models")

DEFAULT_TOKEN_FILES = ("/run/secrets/hf_token", "/run/secrets/HF_TOKEN")


@dataclass(frozen=True, slots=True)
class Download:
    kind: str  # "whisper", "align", "nltk", "diarization" or "speaker-embeddings"
    name: str


def plan(model: str, languages: Sequence[str], diarization_model: str | None, have_token: bool) -> list[Download]:
    """What to fetch, in order; the diarization model only when a token is available."""
    steps = [Download("whisper", model)]
    steps += [Download("align", language) for language in dict.fromkeys(languages)]  # keep order, drop repeats
    if languages:
        steps.append(Download("nltk", "punkt_tab"))
    if diarization_model and have_token:
        steps.append(Download("diarization", diarization_model))
    steps.append(Download("speaker-embeddings", "resemblyzer"))  # the offline fallback: checked, never fetched
    return steps


def read_token(paths: Sequence[str | Path]) -> str | None:
    """The first non-empty token file (BuildKit mounts secrets as files), else ``$HF_TOKEN``, else None."""
    for path in paths:
        file = Path(path)
        if file.is_file():
            token = file.read_text(encoding="utf-8").strip()
            if token:
                return token
    return os.environ.get("HF_TOKEN") or None


def fetch(step: Download, token: str | None) -> None:
    """Download one model into its cache (heavy imports happen here only)."""
    if step.kind == "whisper":
        from faster_whisper.utils import download_model

        log.info("whisper model %s → %s", step.name, download_model(step.name))
    elif step.kind == "align":
        import whisperx

        whisperx.load_align_model(language_code=step.name, device="cpu")
        log.info("alignment model for %s cached", step.name)
    elif step.kind == "nltk":
        import nltk

        if not nltk.download(step.name, download_dir=os.environ.get("NLTK_DATA"), quiet=True):
            raise RuntimeError(f"nltk could not download {step.name}")
    elif step.kind == "diarization":
        from whisperx.diarize import DiarizationPipeline

        DiarizationPipeline(model_name=step.name, token=token, device="cpu")  # loading pulls every file it needs
        log.info("diarization pipeline %s cached", step.name)
    elif step.kind == "speaker-embeddings":
        # standard library only: this script runs before the podwhisperer package is installed in the image
        import importlib.util

        spec = importlib.util.find_spec(step.name)
        weights = Path(next(iter(spec.submodule_search_locations or []), "")) / "pretrained.pt" if spec else None
        if weights is None or not weights.is_file():
            raise RuntimeError(f"the offline diarizer's weights are missing: install {step.name} (see the Dockerfile)")
        log.info("offline diarizer weights present: %s", weights)
    else:
        raise ValueError(f"unknown download kind {step.kind!r}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="faster-whisper model name, e.g. large-v3-turbo")
    parser.add_argument("--languages", default="en", help="comma-separated alignment languages ('' for none)")
    parser.add_argument("--diarization-model", default="pyannote/speaker-diarization-community-1")
    parser.add_argument("--token-file", action="append", default=None,
                        help=f"file holding the Hugging Face token (default: {', '.join(DEFAULT_TOKEN_FILES)})")
    parser.add_argument("--require-diarization", action="store_true", help="fail when no token is available")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, download nothing")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    args = parse_args(argv)
    token = read_token(args.token_file or DEFAULT_TOKEN_FILES)
    if token is None:
        if args.require_diarization:
            log.error("no Hugging Face token: pass it as the BuildKit secret hf_token (or HF_TOKEN)")
            return 2
        log.warning("no Hugging Face token: the pyannote model is not baked; the worker will use the offline diarizer")
    languages = [code.strip() for code in args.languages.split(",") if code.strip()]
    steps = plan(args.model, languages, args.diarization_model, have_token=token is not None)
    for step in steps:
        log.info("%s: %s%s", step.kind, step.name, " (dry run)" if args.dry_run else "")
        if not args.dry_run:
            fetch(step, token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
