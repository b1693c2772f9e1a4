"""Podcasting 2.0 HTML transcript (``type="text/html"``): a small HTML5 document of speaker turns.

Per the Podcasting 2.0 guidance each turn is ``<cite>`` (speaker), ``<time>`` (start) and ``<p>``
(text). Everything is escaped; the document is valid HTML5 and readable without CSS or script.
"""

from __future__ import annotations

from html import escape

from podwhisperer.runtime.podcast.turns import speaker_turns
from podwhisperer.runtime.transcript import Transcript


def clock(seconds: float) -> str:
    """``H:MM:SS`` under ten hours (``0:01:05``), as players show it."""
    whole = int(max(0.0, seconds))
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def iso_duration(seconds: float) -> str:
    """A valid HTML ``datetime`` duration, e.g. ``PT65.25S``."""
    millis = round(max(0.0, seconds) * 1000)
    whole, fraction = divmod(millis, 1000)
    return f"PT{whole}.{fraction:03d}S" if fraction else f"PT{whole}S"


def render_html_transcript(transcript: Transcript, *, title: str = "Transcript", language: str | None = None) -> str:
    """The whole document."""
    lang = f' lang="{escape(language)}"' if language else ""
    parts = ["<!DOCTYPE html>", f"<html{lang}>", "<head>", '<meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{escape(title)}</title>", "</head>", "<body>", f"<h1>{escape(title)}</h1>"]
    for turn in speaker_turns(transcript):
        if turn.speaker:
            parts.append(f"<cite>{escape(turn.speaker)}:</cite>")
        parts.append(f'<time datetime="{iso_duration(turn.start)}">{clock(turn.start)}</time>')
        parts.append(f"<p>{escape(' '.join(line.text for line in turn.lines))}</p>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)
