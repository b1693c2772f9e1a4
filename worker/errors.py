"""Failure classes the poller uses to decide between "fail the job" and "try again".

The rule is simple: a :class:`PermanentJobError` means the same input will fail again (not audio,
too long, bad overrides), so the job's callback is failed once and the message deleted. Every
other exception is treated as transient (S3 or network trouble, CUDA out of memory): the message
is released for another attempt and the queue's redrive policy bounds the retries.
"""

from __future__ import annotations


class PermanentJobError(ValueError):
    """Bad input: retrying cannot help. ``str(error)`` is written for the person who uploaded."""

    error_type = "InvalidInput"


class InvalidAudioError(PermanentJobError):
    """The upload is not usable audio (not audio, no audio stream, empty, too long)."""

    error_type = "InvalidAudio"


class ModelUnavailableError(RuntimeError):
    """A Whisper model that is neither a local folder, cached, downloadable, nor allowed to fall back."""
