"""The feed-level index of a local run: ``index.json`` (what was done, for re-runs) and ``index.html``.

``index.json`` remembers, per GUID, the episode's output name and the identity of the enclosure it was
made from, so a re-run skips what is done, keeps every name, and redoes a re-published file. The
HTML page lists the episodes newest first and links each one's transcript page
(``<name>_transcript.html``) when it exists, else its readable transcript or captions.
"""

from __future__ import annotations

import html
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from podwhisperer.runtime.feed.model import Episode, Feed

INDEX_JSON = "index.json"
INDEX_HTML = "index.html"
TRANSCRIPT_PAGE_SUFFIX = "_transcript.html"
LINK_PREFERENCE = (TRANSCRIPT_PAGE_SUFFIX, "_caption.md", "_caption.txt", "_caption.vtt")


@dataclass
class EpisodeRecord:
    """One episode's line in ``index.json``."""

    guid: str
    name: str
    title: str
    identity: str
    enclosure_url: str
    published: str | None = None
    duration_seconds: float | None = None
    status: str = "pending"  # done | failed | pending
    error: str | None = None
    files: list[str] = field(default_factory=list)  # output files, relative to the index's folder

    @classmethod
    def of(cls, episode: Episode, name: str) -> EpisodeRecord:
        return cls(guid=episode.guid, name=name, title=episode.title, identity=episode.identity,
                   enclosure_url=episode.enclosure.url,
                   published=episode.published.isoformat() if episode.published else None,
                   duration_seconds=episode.duration_seconds)


@dataclass
class FeedIndex:
    """``index.json`` of one output folder."""

    folder: Path
    feed_url: str = ""
    feed_title: str = ""
    records: dict[str, EpisodeRecord] = field(default_factory=dict)  # by GUID

    @classmethod
    def load(cls, folder: Path) -> FeedIndex:
        index = cls(folder=folder)
        try:
            data = json.loads((folder / INDEX_JSON).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return index
        except (OSError, ValueError) as exc:
            raise ValueError(f"{folder / INDEX_JSON}: unreadable ({exc}); move it away to start a new index") from None
        index.feed_url = str(data.get("feed", {}).get("url", ""))
        index.feed_title = str(data.get("feed", {}).get("title", ""))
        fields = set(EpisodeRecord.__dataclass_fields__)
        for item in data.get("episodes", []):
            record = EpisodeRecord(**{k: v for k, v in item.items() if k in fields})
            index.records[record.guid] = record
        return index

    def names(self) -> dict[str, str]:
        return {guid: record.name for guid, record in self.records.items()}

    def is_done(self, episode: Episode) -> bool:
        """Done with this very enclosure, and its outputs are still there."""
        record = self.records.get(episode.guid)
        return (record is not None and record.status == "done" and record.identity == episode.identity
                and bool(record.files) and all((self.folder / f).exists() for f in record.files))

    def record(self, record: EpisodeRecord) -> None:
        self.records[record.guid] = record

    def save(self, feed: Feed) -> None:
        """Write ``index.json`` and ``index.html`` (each atomically)."""
        self.feed_url, self.feed_title = feed.url, feed.title
        data = {"feed": {"url": self.feed_url, "title": self.feed_title},
                "updated": datetime.now(UTC).isoformat(timespec="seconds"),
                "episodes": [asdict(r) for r in self.ordered()]}
        _write_atomic(self.folder / INDEX_JSON, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        _write_atomic(self.folder / INDEX_HTML, render_index_html(self.feed_title, self.ordered(), self.folder))

    def ordered(self) -> list[EpisodeRecord]:
        """Newest first; undated episodes last."""
        dated = sorted((r for r in self.records.values() if r.published), key=lambda r: r.published or "",
                       reverse=True)
        return dated + [r for r in self.records.values() if not r.published]


def transcript_page(record: EpisodeRecord, folder: Path) -> str | None:
    """The best file to link for an episode: the transcript page when present, else a readable transcript."""
    for suffix in LINK_PREFERENCE:
        for name in _with_siblings(record.files):
            if name.endswith(record.name + suffix) and (folder / name).exists():
                return name
    return None


def _with_siblings(files: Iterable[str]) -> list[str]:
    """The recorded files plus the transcript page next to each (added later by the publishing step)."""
    found = list(files)
    for name in list(found):
        for suffix in ("_refined_transcript.json", "_caption.vtt"):
            if name.endswith(suffix):
                found.append(name[: -len(suffix)] + TRANSCRIPT_PAGE_SUFFIX)
    return found


def render_index_html(title: str, records: Iterable[EpisodeRecord], folder: Path) -> str:
    rows = []
    for record in records:
        link = transcript_page(record, folder)
        label = html.escape(record.title)
        cell = f'<a href="{html.escape(_url_path(link))}">{label}</a>' if link else label
        date = html.escape((record.published or "")[:10])
        rows.append(f"<tr><td>{date}</td><td>{cell}</td><td>{_duration(record.duration_seconds)}</td>"
                    f"<td class=\"{html.escape(record.status)}\">{html.escape(record.status)}</td></tr>")
    heading = html.escape(title or "Episodes")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{heading}</title>\n"
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
        "table{border-collapse:collapse;width:100%}td,th{padding:.4rem;border-bottom:1px solid #ddd;text-align:left}"
        ".failed{color:#b00}.pending{color:#888}</style>\n</head>\n<body>\n"
        f"<h1>{heading}</h1>\n<table>\n<thead><tr><th>date</th><th>episode</th><th>length</th><th>status</th></tr>"
        "</thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>\n</body>\n</html>\n"
    )


def _url_path(relative: str) -> str:
    from urllib.parse import quote

    return quote(relative)


def _duration(seconds: float | None) -> str:
    if not seconds:
        return ""
    total = round(seconds)
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise

