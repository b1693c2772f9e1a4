"""`podwhisperer worker ...` commands. Placeholder until the worker lands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Run the GPU worker or its job on a local file.", no_args_is_help=True)
