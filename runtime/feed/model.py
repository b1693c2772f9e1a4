"""What a feed says about its episodes (plain data, no I/O)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Person:
    """A ``<podcast:person>`` entry: who appears in the episode."""

    name: str
    role: str = "host"
    group: str = "cast"
    href: str | None = None


@dataclass(frozen=True, slots=True)
class Enclosure:
    """The episode's audio file as the feed announces it."""

    url: str
    length: int | None = None  # bytes, as the feed claims (often 0 or stale: dynamic ad insertion)
    type: str | None = None


@dataclass(frozen=True, slots=True)
class Episode:
    """One ``<item>`` (RSS) or ``<entry>`` (Atom) with an audio enclosure."""

    guid: str
    title: str
    enclosure: Enclosure
    published: datetime | None = None
    description: str = ""
    duration_seconds: float | None = None  # from itunes:duration, when present
    language: str | None = None
    persons: tuple[Person, ...] = field(default_factory=tuple)

    @property
    def identity(self) -> str:
        """A fingerprint of the audio this episode points at: a re-published file (new URL or new length)
        gives a new identity, so the episode is done again."""
        material = json.dumps([self.guid, self.enclosure.url, self.enclosure.length], sort_keys=True)
        return hashlib.sha256(material.encode()).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class Feed:
    """A parsed feed: its title, language and episodes, newest first."""

    url: str
    title: str
    language: str | None
    episodes: tuple[Episode, ...]
    skipped: tuple[str, ...] = ()  # items without an audio enclosure, by title
