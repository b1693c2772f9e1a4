"""`podwhisperer transcribe` (local mode). Placeholder until the orchestrator lands."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the local-mode commands to ``app``."""
