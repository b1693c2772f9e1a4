"""Compatibility shim: the pipeline fakes live in the ``tests/fakes`` package now.

Kept so that tests written against the old module path keep importing; new tests import from
``fakes.aws``, ``fakes.pipeline``, ``fakes.worker`` and ``fakes.transcripts``. ``FakeWorker`` is the
real worker (poller and job) now: :class:`fakes.worker.PollerWorker`.
"""

from fakes.aws import BUCKET, PIPELINE_SOURCE, REGION, FakeBedrock, FaultyStore, MotoStack, raw_key_for
from fakes.callbacks import CallbackShim
from fakes.moto import moto_server, reset
from fakes.pipeline import PipelineHarness
from fakes.transcripts import canned_raw_transcript, canned_transcript
from fakes.worker import PollerWorker
from fakes.worker import PollerWorker as FakeWorker

__all__ = ["BUCKET", "PIPELINE_SOURCE", "REGION", "CallbackShim", "FakeBedrock", "FakeWorker", "FaultyStore",
           "MotoStack", "PipelineHarness", "PollerWorker", "canned_raw_transcript", "canned_transcript",
           "moto_server", "raw_key_for", "reset"]
