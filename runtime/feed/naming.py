"""Output names for episodes: a safe slug of the title, stable across runs.

``Ep 42: GPUs & You!`` → ``ep-42-gpus-you``. Names already recorded in the feed index are kept (a
re-run never renames an episode, even when a later episode takes the same title); a new episode whose
slug is taken by another GUID gets a short, stable suffix from its GUID.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence

from podwhisperer.runtime.feed.model import Episode

MAX_SLUG_CHARS = 80


def slugify(text: str) -> str:
    """Lowercase ASCII letters, digits and single hyphens; accents folded (``Café`` → ``cafe``)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    return slug[:MAX_SLUG_CHARS].rstrip("-")


def guid_suffix(guid: str) -> str:
    return hashlib.sha256(guid.encode()).hexdigest()[:6]


def assign_names(episodes: Sequence[Episode], known: Mapping[str, str]) -> dict[str, str]:
    """GUID → output name for every episode. ``known`` (GUID → name, from the index) always wins.

    Episodes are named oldest first, so the first episode with a title keeps the plain slug when a
    later one repeats it: names stay the same as the feed grows, even without an index (the cloud).
    """
    names = dict(known)
    taken = {name: guid for guid, name in names.items()}
    for episode in sorted(episodes, key=_oldest_first):
        if episode.guid in names:
            continue
        base = slugify(episode.title) or "episode"
        name = base if base not in taken and base != "episode" else f"{base}-{guid_suffix(episode.guid)}"
        while name in taken:  # two GUIDs with the same 6-hex suffix: extend it
            name = f"{name}-{guid_suffix(name)}"
        names[episode.guid] = name
        taken[name] = episode.guid
    return names


def _oldest_first(episode: Episode) -> tuple[int, float]:
    return (0, episode.published.timestamp()) if episode.published else (1, 0.0)
