"""The ``podwhisperer`` command.

Sub-commands live next to the code they drive: ``worker`` in ``worker/cli.py`` and
``transcribe`` in ``runtime/local/cli.py``. Heavy imports happen inside commands so that
``--help`` stays fast.

Errors are one line on stderr and a non-zero exit; an unexpected exception too, unless the
command line holds ``--debug`` (or ``PODWHISPERER_DEBUG=1`` is set), which shows the traceback.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="podwhisperer",
    help="Podcast audio to near-perfect transcripts and captions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Check and describe podwhisperer.yaml files.", no_args_is_help=True)
app.add_typer(config_app, name="config")


def _register_subcommands() -> None:
    from podwhisperer.runtime.cloud.cli import app as cloud_app
    from podwhisperer.runtime.local.cli import register as register_local
    from podwhisperer.worker.cli import app as worker_app

    app.add_typer(worker_app, name="worker")
    app.add_typer(cloud_app, name="cloud")
    register_local(app)


@config_app.command("validate")
def config_validate(
    file: Annotated[Path, typer.Argument(help="A podwhisperer.yaml or .json file.")],
) -> None:
    """Validate a config file; print every problem and exit 1 if there are any."""
    from podwhisperer.runtime.config import ConfigError, load_config

    try:
        load_config(file)
    except ConfigError as exc:
        typer.echo(exc.report(), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{file}: valid")


@config_app.command("schema")
def config_schema(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file instead of stdout.")] = None,
) -> None:
    """Print the JSON Schema of the config (point your editor's YAML plugin at it)."""
    from podwhisperer.runtime.config import config_json_schema

    text = json.dumps(config_json_schema(), indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


@app.command("refine")
def refine(
    raw: Annotated[Path, typer.Argument(help="A raw WhisperX transcript (…_raw_transcript.json).")],
    config: Annotated[Path | None, typer.Option("--config", "-c", help="podwhisperer.yaml")] = None,
    output_dir: Annotated[Path | None, typer.Option("--output-dir", "-o", help="Default: next to RAW.")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show a traceback on an unexpected error.")] = False,
) -> None:
    """Post-process a raw transcript: fill timing gaps, replacements, LLM, normalization, captions."""
    from podwhisperer.runtime.refine_cli import run_refine

    raise typer.Exit(run_refine(raw, config, output_dir))


@app.command("image-context")
def image_context(
    output: Annotated[Path | None, typer.Argument(help="Folder to write it under (default: the build cache).")] = None,
) -> None:
    """Assemble the worker image's Docker build context from this installed package; print its folder.

    Build it with: docker buildx build -f CONTEXT/podwhisperer/worker/Dockerfile CONTEXT
    """
    from podwhisperer.components.image_context import assemble_worker_context

    typer.echo(str(assemble_worker_context(output)))


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    _register_subcommands()
    try:
        app(args=args)
    except Exception as exc:  # a bug or an environment problem: one line, the traceback only on request
        if "--debug" in args or os.environ.get("PODWHISPERER_DEBUG"):
            raise
        detail = " ".join(str(exc).split())[:500]
        print(f"error: {type(exc).__name__}: {detail} (run with --debug for the traceback)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
