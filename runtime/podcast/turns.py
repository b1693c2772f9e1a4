"""Group segments into speaker turns, the unit of the HTML transcript and the transcript page."""

from __future__ import annotations

from dataclasses import dataclass, field

from podwhisperer.runtime.podcast.speakers import segment_speaker_name
from podwhisperer.runtime.transcript import Segment, Transcript

PAUSE_BREAK_SECONDS = 2.0
"""Without any speaker labels, a pause this long starts a new turn."""


@dataclass(slots=True)
class Line:
    """One segment as shown: its times and its text (whitespace collapsed)."""

    start: float
    end: float
    text: str


@dataclass(slots=True)
class Turn:
    """Consecutive lines of one speaker (``speaker`` None when unknown)."""

    speaker: str | None
    lines: list[Line] = field(default_factory=list)

    @property
    def start(self) -> float:
        return self.lines[0].start


def speaker_turns(transcript: Transcript) -> list[Turn]:
    """Turns in order; segments without text are left out."""
    labelled = any(segment_speaker_name(segment) for segment in transcript.segments)
    turns: list[Turn] = []
    previous_end = 0.0
    for segment in transcript.segments:
        text = " ".join(segment.text.split())
        if not text:
            continue
        speaker = segment_speaker_name(segment)
        if not turns or _new_turn(turns[-1], speaker, segment, previous_end, labelled):
            turns.append(Turn(speaker))
        turns[-1].lines.append(Line(_seconds(segment.start), _seconds(max(segment.end, segment.start)), text))
        previous_end = segment.end
    return turns


def _new_turn(turn: Turn, speaker: str | None, segment: Segment, previous_end: float, labelled: bool) -> bool:
    if labelled:
        return speaker != turn.speaker
    return segment.start - previous_end >= PAUSE_BREAK_SECONDS


def _seconds(value: float) -> float:
    return round(max(0.0, float(value)), 3)
