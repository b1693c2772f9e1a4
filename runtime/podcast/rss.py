"""The RSS item snippet ``<name>_podcast.xml``: ``<podcast:transcript>`` and ``<podcast:chapters>`` tags.

Paste its tags inside the episode's ``<item>``; the feed's ``<rss>`` element declares the namespace
``xmlns:podcast="https://podcastindex.org/namespace/1.0"`` once. URLs are the public base URL plus
the file's name under the output prefix, or just that relative name when no base URL is configured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote
from xml.sax.saxutils import quoteattr

NAMESPACE = "https://podcastindex.org/namespace/1.0"
CHAPTERS_TYPE = "application/json+chapters"


@dataclass(frozen=True, slots=True)
class TranscriptLink:
    """How one output is announced: its MIME type and whether it is a timed captions file."""

    mime: str
    captions: bool = False


TRANSCRIPT_LINKS: Mapping[str, TranscriptLink] = {
    "vtt": TranscriptLink("text/vtt", captions=True),
    "srt": TranscriptLink("application/x-subrip", captions=True),
    "podcast_json": TranscriptLink("application/json"),
    "podcast_html": TranscriptLink("text/html"),
}
"""Output kind → tag attributes, in the order the tags are written (WebVTT first: Apple ingests it)."""


def public_url(relative_name: str, base_url: str | None) -> str:
    """``base_url/relative_name`` with the name percent-encoded; the encoded name alone without a base URL."""
    encoded = quote(relative_name, safe="/")
    if not base_url:
        return encoded
    return base_url.rstrip("/") + "/" + encoded


def render_rss_snippet(files: Mapping[str, str], *, base_url: str | None, language: str | None,
                       chapters_file: str | None = None) -> str:
    """``files``: output kind (keys of :data:`TRANSCRIPT_LINKS`) → name relative to the output prefix."""
    lines = [f"<!-- podwhisperer: paste inside the episode's <item>; declare xmlns:podcast=\"{NAMESPACE}\" "
             "on <rss> -->"]
    for kind, link in TRANSCRIPT_LINKS.items():
        if kind not in files:
            continue
        attributes = [f"url={quoteattr(public_url(files[kind], base_url))}", f"type={quoteattr(link.mime)}"]
        if language:
            attributes.append(f"language={quoteattr(language)}")
        if link.captions:
            attributes.append('rel="captions"')
        lines.append(f"<podcast:transcript {' '.join(attributes)} />")
    if chapters_file:
        lines.append(f"<podcast:chapters url={quoteattr(public_url(chapters_file, base_url))} "
                     f"type={quoteattr(CHAPTERS_TYPE)} />")
    return "\n".join(lines) + "\n"
