"""Per-episode context from the feed: title, description, guests and language.

The shape is the pipeline's per-episode context (:mod:`podwhisperer.runtime.context`, the sidecar
``<name>.podwhisperer.yaml`` next to the audio): ``title``, ``description``, ``speakers`` (``name``,
``description``), ``vocabulary`` and ``language``. Empty fields are left out, so the sidecar only says
what the feed said, and it is validated by the same model the pipeline reads it with.
"""

from __future__ import annotations

from typing import Any

import yaml

from podwhisperer.runtime.context import parse_context
from podwhisperer.runtime.feed.model import Episode, Person

MAX_CONTEXT_DESCRIPTION_CHARS = 1000
MAX_TITLE_CHARS = 300
MAX_TERM_CHARS = 100


def episode_context(episode: Episode) -> dict[str, Any]:
    """The episode's context as a plain mapping (YAML/JSON-ready)."""
    context: dict[str, Any] = {"title": episode.title[:MAX_TITLE_CHARS]}
    if episode.description:
        context["description"] = episode.description[:MAX_CONTEXT_DESCRIPTION_CHARS]
    speakers = _speakers(episode.persons)
    if speakers:
        context["speakers"] = speakers
        context["vocabulary"] = [s["name"][:MAX_TERM_CHARS] for s in speakers]  # names Whisper should spell right
    if episode.language:
        context["language"] = episode.language
    parse_context(context, source=f"feed item {episode.guid!r}")  # ConfigError if the feed says something odd
    return context


def context_yaml(context: dict[str, Any]) -> str:
    header = "# Per-episode context, from the podcast feed (podwhisperer)\n"
    return header + yaml.safe_dump(context, sort_keys=False, allow_unicode=True, width=100)


def _speakers(persons: tuple[Person, ...]) -> list[dict[str, str]]:
    speakers: list[dict[str, str]] = []
    seen: set[str] = set()
    for person in persons:
        if person.name in seen:
            continue
        seen.add(person.name)
        speakers.append({"name": person.name, "description": _describe(person)})
    return speakers


def _describe(person: Person) -> str:
    role = person.role.replace("-", " ")
    return role[:1].upper() + role[1:] + ("" if person.group == "cast" else f" ({person.group})")
