"""Read a feed from a URL (or a local file) and pick the episodes a command asked for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

from podwhisperer.runtime.feed.http import HttpClient, HttpError
from podwhisperer.runtime.feed.model import Episode, Feed
from podwhisperer.runtime.feed.parse import FeedError, parse_feed, select_episodes


@dataclass(frozen=True, slots=True)
class Selection:
    """``--limit``, ``--since`` and ``--episode`` as given on the command line."""

    limit: int | None = None
    since: datetime | None = None
    guids: tuple[str, ...] = ()


def load_feed(location: str, client: HttpClient) -> Feed:
    """Fetch and parse the feed at ``location`` (http(s) URL, file:// URL or a path)."""
    parsed = urlparse(location)
    try:
        if parsed.scheme in ("http", "https"):
            data = client.fetch(location)
        else:
            data = Path(parsed.path if parsed.scheme == "file" else location).read_bytes()
    except HttpError as exc:
        raise FeedError(str(exc)) from None
    except OSError as exc:
        raise FeedError(f"{location}: {exc.strerror or exc}") from None
    return parse_feed(data, location)


def chosen_episodes(feed: Feed, selection: Selection) -> list[Episode]:
    episodes = select_episodes(feed.episodes, limit=selection.limit, since=selection.since, guids=selection.guids)
    if selection.guids and not episodes:
        raise FeedError(f"{feed.url}: no episode with GUID or title {', '.join(selection.guids)!r}")
    return episodes


def parse_since(text: str | None) -> datetime | None:
    """``--since 2024-01-31`` (or a full ISO timestamp; UTC when no offset is given)."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise FeedError(f"--since {text!r}: use a date like 2024-01-31") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def audio_suffix(episode: Episode) -> str:
    """The file extension for the episode's audio: from the URL, else from the MIME type."""
    path = urlparse(episode.enclosure.url).path.lower()
    suffix = Path(path).suffix
    if suffix in (".mp3", ".m4a", ".mp4", ".aac", ".ogg", ".opus", ".wav", ".flac", ".webm", ".mka"):
        return suffix
    by_type = {"audio/mpeg": ".mp3", "audio/mp3": ".mp3", "audio/x-m4a": ".m4a", "audio/mp4": ".m4a",
               "audio/aac": ".aac", "audio/ogg": ".ogg", "audio/opus": ".opus", "audio/wav": ".wav",
               "audio/x-wav": ".wav", "audio/flac": ".flac", "video/mp4": ".mp4"}
    return by_type.get(episode.enclosure.type or "", ".mp3")
