"""podwhisperer: podcast audio to near-perfect transcripts and captions.

``from podwhisperer import PodwhispererPipeline`` gives the Pulumi component; it is imported
lazily so the CLI and the Lambda never load Pulumi.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from podwhisperer.components.pipeline import PodwhispererPipeline, PodwhispererPipelineArgs

__all__ = ["PodwhispererPipeline", "PodwhispererPipelineArgs", "__version__"]


def __getattr__(name: str) -> Any:
    if name in ("PodwhispererPipeline", "PodwhispererPipelineArgs"):
        from podwhisperer.components import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'podwhisperer' has no attribute {name!r}")
