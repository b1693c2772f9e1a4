"""Compatibility shim: the worker test helpers live in the ``tests/fakes`` package now.

Kept so that tests written against the old module path keep importing; new tests import from
``fakes.speech`` (reference data, WER, diarizer, tiny models), ``fakes.audio`` (media files),
``fakes.moto`` (clients) and ``fakes.transcripts`` (the fake transcriber).
"""

from fakes.audio import make_media
from fakes.callbacks import CallbackShim, lambda_client
from fakes.moto import REGION, aws_client
from fakes.speech import (
    SAMPLE_DIR,
    empty_punkt_tab,
    normalise,
    rttm_turns,
    stm_reference,
    tiny_wav2vec2,
    turns_diarizer,
    wer,
)
from fakes.transcripts import fake_transcriber

__all__ = ["REGION", "SAMPLE_DIR", "CallbackShim", "aws_client", "empty_punkt_tab", "fake_transcriber",
           "lambda_client", "make_media", "normalise", "rttm_turns", "stm_reference", "tiny_wav2vec2",
           "turns_diarizer", "wer"]
