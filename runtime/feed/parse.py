"""Parse RSS and Atom feeds (feedparser) into :class:`Feed`, newest episode first.

feedparser keeps only the last ``<podcast:person>`` of an item and drops its text, so the persons are
read separately from the XML (by the item's GUID); a feed that feedparser can read but expat cannot
simply has no persons.
"""

from __future__ import annotations

import calendar
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import feedparser

from podwhisperer.runtime.feed.model import Enclosure, Episode, Feed, Person

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
_PERSON_NAMESPACES = (PODCAST_NS, "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md")
AUDIO_TYPES = ("audio/", "video/")
AUDIO_EXTENSIONS = (".mp3", ".m4a", ".mp4", ".aac", ".ogg", ".opus", ".wav", ".flac", ".webm", ".mka")
MAX_DESCRIPTION_CHARS = 2000


class FeedError(ValueError):
    """The document is not a feed we can read (one line, names the URL)."""


def parse_feed(data: bytes, url: str) -> Feed:
    """Episodes with an audio enclosure, newest first (undated items keep feed order, after dated ones)."""
    parsed = feedparser.parse(data)
    if not parsed.entries and not parsed.get("version"):
        reason = getattr(parsed, "bozo_exception", None) or "unknown format"
        raise FeedError(f"{url}: not an RSS or Atom feed ({reason})")
    language = _language(parsed.feed.get("language"))
    persons = _persons_by_guid(data)
    episodes: list[Episode] = []
    skipped: list[str] = []
    for entry in parsed.entries:
        episode = _episode(entry, language, persons)
        if episode is None:
            skipped.append(str(entry.get("title") or entry.get("id") or "untitled item"))
        else:
            episodes.append(episode)
    ordered = sorted(enumerate(episodes), key=lambda pair: _newest_first(pair[1], pair[0]))
    return Feed(url=url, title=str(parsed.feed.get("title") or url), language=language,
                episodes=tuple(ep for _, ep in ordered), skipped=tuple(skipped))


def select_episodes(episodes: Sequence[Episode], *, limit: int | None = None, since: datetime | None = None,
                    guids: Iterable[str] = ()) -> list[Episode]:
    """``--episode`` (GUIDs, or exact titles) first narrows the list, then ``--since`` and ``--limit``."""
    wanted = set(guids)
    chosen = [ep for ep in episodes if not wanted or ep.guid in wanted or ep.title in wanted]
    if since is not None:
        cutoff = since if since.tzinfo else since.replace(tzinfo=UTC)
        chosen = [ep for ep in chosen if ep.published is not None and ep.published >= cutoff]
    return chosen[:limit] if limit is not None else chosen


def parse_duration(text: Any) -> float | None:
    """``itunes:duration``: seconds (``3723``, ``3723.5``) or ``[[H:]M:]S`` (``1:02:03``); None if unreadable."""
    if text is None:
        return None
    parts = str(text).strip().split(":")
    if not 1 <= len(parts) <= 3:
        return None
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        return None
    if any(n < 0 for n in numbers):
        return None
    seconds = 0.0
    for number in numbers:
        seconds = seconds * 60 + number
    return seconds if seconds > 0 else None


def html_to_text(html: str) -> str:
    """Show notes as plain text: tags dropped, entities decoded, whitespace collapsed, length capped."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    text = re.sub(r"\s+", " ", " ".join(collector.parts)).strip()
    return text[:MAX_DESCRIPTION_CHARS]


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _episode(entry: Mapping[str, Any], language: str | None, persons: Mapping[str, list[Person]]) -> Episode | None:
    enclosure = _audio_enclosure(entry)
    if enclosure is None:
        return None
    guid = str(entry.get("id") or enclosure.url)
    title = str(entry.get("title") or "").strip() or guid
    summary = entry.get("summary") or ""
    content = entry.get("content") or []
    if not summary and content:
        summary = content[0].get("value", "")
    return Episode(
        guid=guid, title=title, enclosure=enclosure, published=_published(entry),
        description=html_to_text(str(summary)), duration_seconds=parse_duration(entry.get("itunes_duration")),
        language=_language(entry.get("language")) or language, persons=tuple(persons.get(guid, ())),
    )


def _audio_enclosure(entry: Mapping[str, Any]) -> Enclosure | None:
    for link in entry.get("links") or []:
        if link.get("rel") != "enclosure" or not link.get("href"):
            continue
        kind = str(link.get("type") or "").lower() or None
        href = str(link["href"])
        if (kind and kind.startswith(AUDIO_TYPES)) or href.lower().split("?")[0].endswith(AUDIO_EXTENSIONS):
            return Enclosure(url=href, length=_int_or_none(link.get("length")), type=kind)
    return None


def _int_or_none(value: Any) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _published(entry: Mapping[str, Any]) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)


def _newest_first(episode: Episode, position: int) -> tuple[int, float, int]:
    if episode.published is None:
        return (1, 0.0, position)
    return (0, -episode.published.timestamp(), position)


def _language(value: Any) -> str | None:
    """``en-US`` → ``en`` (Whisper takes ISO 639-1 codes)."""
    if not value:
        return None
    code = str(value).strip().lower().replace("_", "-").split("-")[0]
    return code if re.fullmatch(r"[a-z]{2,3}", code) else None


def _persons_by_guid(data: bytes) -> dict[str, list[Person]]:
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return {}
    found: dict[str, list[Person]] = {}
    for item in root.iter("item"):
        guid = item.findtext("guid") or _enclosure_url(item)
        people = [person for namespace in _PERSON_NAMESPACES for person in _persons(item, namespace)]
        if guid and people:
            found[guid.strip()] = people
    return found


def _enclosure_url(item: ET.Element) -> str | None:
    enclosure = item.find("enclosure")
    return enclosure.get("url") if enclosure is not None else None


def _persons(item: ET.Element, namespace: str) -> list[Person]:
    people = []
    for element in item.findall(f"{{{namespace}}}person"):
        name = (element.text or "").strip()
        if name:
            people.append(Person(name=name, role=(element.get("role") or "host").lower(),
                                 group=(element.get("group") or "cast").lower(), href=element.get("href")))
    return people
