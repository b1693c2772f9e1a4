"""``podwhisperer refine RAW.json``: post-process a raw transcript file on this machine."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podwhisperer.runtime.captions import CAPTION_FORMATS
from podwhisperer.runtime.config import ConfigError, PipelineConfig, load_config
from podwhisperer.runtime.keys import OutputKeys
from podwhisperer.runtime.podcast.outputs import Publication
from podwhisperer.runtime.refine import RefineResult, StageReport, refine_transcript
from podwhisperer.runtime.transcript import Transcript, TranscriptError, paused_gc
from podwhisperer.runtime.transforms.replacements import ReplacementRuleTimeoutError

if TYPE_CHECKING:
    from podwhisperer.runtime.bedrock import ConverseClient

RAW_SUFFIX = OutputKeys(input_key="", base="").raw_transcript  # "_raw_transcript.json", named in one place


def output_name(raw: Path) -> str:
    """``ep1_raw_transcript.json`` → ``ep1``; ``ep1.json`` → ``ep1``."""
    name = raw.name
    if name.endswith(RAW_SUFFIX):
        return name[: -len(RAW_SUFFIX)]
    return name.removesuffix(".json")


def run_refine(raw: Path, config_file: Path | None, output_dir: Path | None) -> int:
    """Refine ``raw`` and write the results; return the process exit code.

    The cycle collector stays paused throughout: this short-lived command builds a few hundred
    thousand acyclic objects, which collections between the steps would only scan again.
    """
    with paused_gc():
        return _refine_file(raw, config_file, output_dir)


def _refine_file(raw: Path, config_file: Path | None, output_dir: Path | None) -> int:
    try:
        config = load_config(config_file) if config_file else PipelineConfig()
        transcript = _read_transcript(raw)
    except (ConfigError, TranscriptError) as exc:
        _fail(str(exc))
        return 1
    name = output_name(raw)
    try:
        result = refine_transcript(transcript, config, stage_llm_client(config), publication(config, transcript, name))
    except ReplacementRuleTimeoutError as exc:
        _fail(f"{config_file}: {exc}" if config_file else str(exc))
        return 1
    written = write_results(result, output_dir or raw.parent, name)
    _print_summary(result.stages, written)
    return 0


def publication(config: PipelineConfig, transcript: Transcript, name: str) -> Publication:
    """The podcast formats' names: siblings in the output folder; the audio is the one the raw transcript was
    made from (its file name), else ``<name>.mp3``, expected next to the page."""
    source = transcript.metadata.source_key if transcript.metadata else ""
    audio_name = source.rsplit("/", 1)[-1] or f"{name}.mp3"
    names = {fmt.name: name + fmt.suffix for fmt in CAPTION_FORMATS if fmt.enabled(config.captions)}
    language = config.transcription.language or (transcript.metadata.language if transcript.metadata else None)
    return Publication.for_episode(config, audio_name, names, language=language)


def write_results(result: RefineResult, output_dir: Path, name: str) -> list[Path]:
    """Write the refined transcript and every rendered caption format; return the paths."""
    output_dir.mkdir(parents=True, exist_ok=True)
    names = OutputKeys(input_key=name, base=str(output_dir / name))  # the pipeline's output names
    refined = Path(names.refined_transcript)
    refined.write_bytes(result.refined.to_json())
    paths = [refined]
    for extension, text in result.captions.items():
        path = Path(names.caption(extension))
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def _read_transcript(raw: Path) -> Transcript:
    try:
        payload = raw.read_bytes()
    except OSError as exc:
        raise TranscriptError(f"cannot read {raw}: {exc.strerror or exc}") from None
    try:
        return Transcript.from_json(payload)
    except TranscriptError as exc:
        raise TranscriptError(f"{raw} is not a WhisperX transcript: {exc}") from None


def stage_llm_client(config: PipelineConfig, session: Any = None) -> ConverseClient | None:
    """A Bedrock client for the model-calling stages (refinement, chapters), when one is configured and AWS
    credentials exist. One client serves both: give them models in the same region. Used by ``refine`` and
    ``cloud reprocess`` (``session``: the operator's boto3 session; default a new one)."""
    from podwhisperer.runtime.podcast.chapters_stage import chapters_settings

    chapters = chapters_settings(config)
    settings = config.llm_refinement or (chapters.client_config() if chapters else None)
    if settings is None:
        return None
    import boto3

    session = session or boto3.Session()
    if session.get_credentials() is None:
        what = "LLM refinement" if config.llm_refinement else "Chapters"
        also = " (chapters too)" if config.llm_refinement and chapters else ""
        print(f"{what} skipped: no AWS credentials found{also}", file=sys.stderr)
        return None
    from podwhisperer.runtime.bedrock import make_converse_client

    return make_converse_client(settings, session)


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def _print_summary(stages: list[StageReport], written: list[Path]) -> None:
    for stage in stages:
        detail = f"skipped ({stage.reason})" if stage.status == "skipped" else f"{stage.duration_ms:.1f} ms"
        print(f"{stage.name:<18} {detail}")
        if stage.stats.get("notice"):
            print(f"notice: {stage.stats['notice']}")
    for path in written:
        print(f"wrote {path}")
