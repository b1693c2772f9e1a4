"""Small builders shared by the VTT and SRT tests."""

from __future__ import annotations

from typing import Any

from podwhisperer.runtime.config import CaptionsConfig
from podwhisperer.runtime.transcript import Transcript

DEFAULT = CaptionsConfig()
HIGHLIGHT = CaptionsConfig(highlight_words=True)


def t(*segments: dict[str, Any]) -> Transcript:
    return Transcript.from_dict({"segments": list(segments)})


def seg(start: float, end: float, text: str, speaker: str | None = None, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"start": start, "end": end, "text": text, **extra}
    if speaker:
        data["speaker"] = speaker
    return data
