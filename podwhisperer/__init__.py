"""podwhisperer: podcast audio to near-perfect transcripts and captions.

``from podwhisperer import PodwhispererPipeline`` gives the Pulumi component; it is imported
lazily so the CLI and the Lambda never load Pulumi.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_MAPPED_FOLDERS = ("components", "runtime", "worker")


def _extend_path_in_a_source_checkout() -> None:
    """Make ``podwhisperer.runtime`` (and ``.worker``, ``.components``) importable from a clone.

    The wheel maps the top-level ``runtime/``, ``worker/`` and ``components/`` folders *into* this
    package (setup.py), so an installed ``podwhisperer`` holds them. A source checkout keeps them next
    to this folder instead; adding the checkout root to ``__path__`` lets ``PYTHONPATH=<checkout>`` (and
    an editable install) import them without building anything and without symlinks. It only applies
    when the folders sit beside the package and not inside it, so an installed wheel is never mixed
    with some other checkout.
    """
    here = Path(__file__).resolve().parent
    root = here.parent
    beside = all((root / folder / "__init__.py").is_file() for folder in _MAPPED_FOLDERS)
    inside = any((here / folder).exists() for folder in _MAPPED_FOLDERS)
    if beside and not inside and str(root) not in __path__:
        __path__.append(str(root))


_extend_path_in_a_source_checkout()

if TYPE_CHECKING:
    from podwhisperer.components.pipeline import PodwhispererPipeline, PodwhispererPipelineArgs

__all__ = ["PodwhispererPipeline", "PodwhispererPipelineArgs", "__version__"]


def __getattr__(name: str) -> Any:
    if name in ("PodwhispererPipeline", "PodwhispererPipelineArgs"):
        from podwhisperer.components import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'podwhisperer' has no attribute {name!r}")
