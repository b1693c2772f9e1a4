"""``<name>_transcript.html``: one self-contained page to read and listen.

An audio player (the audio's public URL when configured, else the audio file next to the page),
the transcript in speaker turns where every line and timestamp seeks the player, the current line
highlighted while playing, search, and the chapters as navigation. Style and script are inline:
no CDN, no network, so the page works from a folder, a bucket or offline. Without script it is
still a readable transcript.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from podwhisperer.runtime.podcast.chapters import Chapter
from podwhisperer.runtime.podcast.html_transcript import clock, iso_duration
from podwhisperer.runtime.podcast.page_assets import SCRIPT, STYLE
from podwhisperer.runtime.podcast.turns import speaker_turns
from podwhisperer.runtime.transcript import Transcript


def render_transcript_page(transcript: Transcript, *, audio_src: str, title: str, language: str | None = None,
                           chapters: Sequence[Chapter] = (), description: str | None = None) -> str:
    """The whole page; ``audio_src`` is used as given (a URL, or a name relative to the page)."""
    lang = f' lang="{escape(language)}"' if language else ""
    parts = [
        "<!DOCTYPE html>", f"<html{lang}>", "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="podwhisperer">',
        f"<title>{escape(title)}</title>", f"<style>{STYLE}</style>", "</head>", "<body>", "<header>",
        f"<h1>{escape(title)}</h1>",
        f'<audio id="player" controls preload="metadata" src="{escape(audio_src)}"></audio>',
        '<div class="tools"><input id="search" type="search" placeholder="Search the transcript" '
        'aria-label="Search the transcript"><span id="match-count" aria-live="polite"></span>'
        '<label><input id="follow" type="checkbox" checked> Follow along</label></div>',
        "</header>", '<div class="layout">',
    ]
    if chapters:
        parts.append('<nav aria-label="Chapters"><h2>Chapters</h2><ol>')
        parts += [f'<li><button type="button" data-start="{chapter.start:.3f}"><span class="stamp">'
                  f"{clock(chapter.start)}</span>{escape(chapter.title)}</button></li>" for chapter in chapters]
        parts.append("</ol></nav>")
    parts.append("<main>")
    if description:
        parts.append(f'<p class="description">{escape(description)}</p>')
    for turn in speaker_turns(transcript):
        parts.append('<section class="turn"><div class="turn-head">')
        if turn.speaker:
            parts.append(f"<cite>{escape(turn.speaker)}</cite>")
        parts.append(f'<time datetime="{iso_duration(turn.start)}"><button type="button" '
                     f'data-start="{turn.start:.3f}" aria-label="Play from {clock(turn.start)}">'
                     f"{clock(turn.start)}</button></time></div><p>")
        parts.append(" ".join(
            f'<span class="line" tabindex="0" data-start="{line.start:.3f}" data-end="{line.end:.3f}">'
            f"{escape(line.text)}</span>" for line in turn.lines))
        parts.append("</p></section>")
    parts += ["</main>", "</div>", f"<script>{SCRIPT}</script>", "</body>", "</html>", ""]
    return "\n".join(parts)
