"""Feed ingest against a podcast host on 127.0.0.1: parsing, names, downloads with resume, the index."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from feed_server import FeedHost, Item, rss, serve_feed_host

from podwhisperer.runtime.feed.context import episode_context
from podwhisperer.runtime.feed.download import DownloadError, download
from podwhisperer.runtime.feed.http import HttpClient
from podwhisperer.runtime.feed.local import FeedRun, Transcribed
from podwhisperer.runtime.feed.naming import assign_names, slugify
from podwhisperer.runtime.feed.parse import FeedError, parse_duration, parse_feed, select_episodes
from podwhisperer.runtime.feed.source import load_feed

pytestmark = pytest.mark.timeout(60)
AUDIO = bytes(range(256)) * 4000  # ~1 MB, every offset distinguishable


@pytest.fixture()
def host() -> Iterator[FeedHost]:
    with serve_feed_host() as served:
        yield served


def client() -> HttpClient:
    return HttpClient(timeout=5, retries=2, backoff_seconds=0, sleep=lambda _: None)


def day(n: int) -> datetime:
    return datetime(2026, 11, n, 10, tzinfo=UTC)


def show(host: FeedHost) -> list[Item]:
    items = [
        Item("guid-40", "Ep 40: Café Économie", "/audio/40.mp3", day(1), length=len(AUDIO), duration="45:30"),
        Item("guid-42", "Ep 42: GPUs & You!", "/audio/42.mp3", day(15), length=len(AUDIO), duration="1:02:03",
             description="<p>We talk about <b>GPUs</b> &amp; WhisperX.</p>",
             persons=[("Ada Host", "host"), ("Grace Guest", "guest")]),
        Item("guid-41", "Ep 41: Gone", "/audio/41.mp3", day(8), length=1234),  # the host answers 404
    ]
    for item in items:
        if item.path != "/audio/41.mp3":
            host.files[item.path] = (AUDIO, "audio/mpeg")
    host.files["/feed.xml"] = (rss(host, items), "application/rss+xml")
    return items


# region parsing, selection, names, context


def test_feed_is_read_newest_first_with_durations_people_and_language(host: FeedHost) -> None:
    show(host)
    feed = load_feed(host.url("/feed.xml"), client())

    assert [e.guid for e in feed.episodes] == ["guid-42", "guid-41", "guid-40"]
    newest = feed.episodes[0]
    assert newest.title == "Ep 42: GPUs & You!" and newest.duration_seconds == 3723
    assert newest.description == "We talk about GPUs & WhisperX."
    assert [(p.name, p.role) for p in newest.persons] == [("Ada Host", "host"), ("Grace Guest", "guest")]
    assert newest.language == "en" and newest.enclosure.length == len(AUDIO)


def test_selection_by_limit_since_and_guid(host: FeedHost) -> None:
    show(host)
    episodes = load_feed(host.url("/feed.xml"), client()).episodes

    assert [e.guid for e in select_episodes(episodes, limit=2)] == ["guid-42", "guid-41"]
    assert [e.guid for e in select_episodes(episodes, since=datetime(2026, 11, 8))] == ["guid-42", "guid-41"]
    assert [e.guid for e in select_episodes(episodes, guids=["guid-40"])] == ["guid-40"]


def test_atom_feed_and_items_without_audio() -> None:
    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Atom Show</title>
    <entry><id>urn:a1</id><title>First</title><updated>2026-01-02T00:00:00Z</updated>
      <link rel="enclosure" href="https://x.test/a1.m4a" type="audio/x-m4a" length="99"/></entry>
    <entry><id>urn:a2</id><title>Blog post</title><updated>2026-01-03T00:00:00Z</updated>
      <link rel="alternate" href="https://x.test/post"/></entry></feed>"""
    feed = parse_feed(atom, "atom.xml")

    assert [(e.guid, e.enclosure.type) for e in feed.episodes] == [("urn:a1", "audio/x-m4a")]
    assert feed.skipped == ("Blog post",)


def test_not_a_feed_is_one_clear_error(host: FeedHost) -> None:
    host.files["/page"] = (b"<html><body>hello</body></html>", "text/html")
    with pytest.raises(FeedError, match=r"/page: not an RSS or Atom feed"):
        load_feed(host.url("/page"), client())
    with pytest.raises(FeedError, match=r"/missing: HTTP 404"):
        load_feed(host.url("/missing"), client())


@pytest.mark.parametrize(("text", "seconds"), [("3723", 3723), ("1:02:03", 3723), ("62:03", 3723),
                                               ("3723.5", 3723.5), ("", None), ("abc", None), ("-5", None)])
def test_itunes_duration_forms(text: str, seconds: float | None) -> None:
    assert parse_duration(text) == seconds


def test_names_are_safe_slugs_that_never_change(host: FeedHost) -> None:
    show(host)
    episodes = load_feed(host.url("/feed.xml"), client()).episodes
    names = assign_names(episodes, {})

    assert names["guid-42"] == "ep-42-gpus-you" and names["guid-40"] == "ep-40-cafe-economie"
    assert slugify("../../etc/passwd") == "etc-passwd"
    twin = [*episodes, episodes[0].__class__(guid="guid-42b", title="Ep 42: GPUs & You!",
                                             enclosure=episodes[0].enclosure)]
    again = assign_names(twin, names)
    assert again["guid-42"] == "ep-42-gpus-you", "a known name is kept"
    assert again["guid-42b"].startswith("ep-42-gpus-you-") and again["guid-42b"] != "ep-42-gpus-you"
    assert assign_names(twin, names) == again, "stable across runs"


def test_episode_context_has_the_per_episode_shape(host: FeedHost) -> None:
    show(host)
    newest = load_feed(host.url("/feed.xml"), client()).episodes[0]

    assert episode_context(newest) == {
        "title": "Ep 42: GPUs & You!", "description": "We talk about GPUs & WhisperX.",
        "speakers": [{"name": "Ada Host", "description": "Host"}, {"name": "Grace Guest", "description": "Guest"}],
        "vocabulary": ["Ada Host", "Grace Guest"], "language": "en"}


# endregion

# region downloads


def test_download_resumes_with_a_range_request_after_a_dropped_connection(host: FeedHost, tmp_path: Path) -> None:
    host.files["/a.mp3"] = (AUDIO, "audio/mpeg")
    host.cut_after["/a.mp3"] = 300_000
    seen: list[tuple[int, int | None]] = []

    got = download(client(), host.url("/a.mp3"), tmp_path / "a.mp3", lambda done, total: seen.append((done, total)))

    assert (tmp_path / "a.mp3").read_bytes() == AUDIO and got.size == len(AUDIO)
    assert host.gets("/a.mp3") == [None, "bytes=300000-"], "the second request continued where the first stopped"
    assert seen[-1] == (len(AUDIO), len(AUDIO))
    assert not list(tmp_path.glob("*.part*"))


def test_partial_download_of_an_earlier_run_is_resumed_unless_the_file_changed(host: FeedHost,
                                                                               tmp_path: Path) -> None:
    host.files["/a.mp3"] = (AUDIO, "audio/mpeg")
    host.cut_after["/a.mp3"] = 100_000
    with pytest.raises(DownloadError):
        download(HttpClient(timeout=5, retries=0), host.url("/a.mp3"), tmp_path / "a.mp3")
    assert (tmp_path / "a.mp3.part").stat().st_size == 100_000

    download(client(), host.url("/a.mp3"), tmp_path / "a.mp3")
    assert host.gets("/a.mp3")[-1] == "bytes=100000-" and (tmp_path / "a.mp3").read_bytes() == AUDIO

    changed = AUDIO[::-1]
    host.files["/b.mp3"] = (AUDIO, "audio/mpeg")
    host.cut_after["/b.mp3"] = 50_000
    with pytest.raises(DownloadError):
        download(HttpClient(timeout=5, retries=0), host.url("/b.mp3"), tmp_path / "b.mp3")
    host.files["/b.mp3"] = (changed, "audio/mpeg")  # re-published while we were away
    download(client(), host.url("/b.mp3"), tmp_path / "b.mp3")
    assert (tmp_path / "b.mp3").read_bytes() == changed, "If-Range made the server send the new file whole"


def test_busy_server_is_retried_with_backoff_and_a_server_without_ranges_restarts(host: FeedHost,
                                                                                  tmp_path: Path) -> None:
    host.files["/a.mp3"] = (AUDIO, "audio/mpeg")
    host.busy["/a.mp3"] = 2
    pauses: list[float] = []
    patient = HttpClient(timeout=5, retries=3, backoff_seconds=0.5, sleep=pauses.append)

    download(patient, host.url("/a.mp3"), tmp_path / "a.mp3")
    assert pauses == [0.5, 1.0] and (tmp_path / "a.mp3").read_bytes() == AUDIO

    host.files["/b.mp3"] = (AUDIO, "audio/mpeg")
    host.ignore_range.add("/b.mp3")
    host.cut_after["/b.mp3"] = 200_000
    download(patient, host.url("/b.mp3"), tmp_path / "b.mp3")
    assert host.gets("/b.mp3") == [None, "bytes=200000-"] and (tmp_path / "b.mp3").read_bytes() == AUDIO

    host.busy["/c.mp3"] = 10
    with pytest.raises(DownloadError, match=r"/c.mp3: HTTP 503"):
        download(client(), host.url("/c.mp3"), tmp_path / "c.mp3")
    assert len(host.gets("/c.mp3")) == 3, "1 try + 2 retries"


def test_a_missing_enclosure_fails_at_once_and_an_html_page_is_not_audio(host: FeedHost, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match=r"/gone.mp3: HTTP 404"):
        download(client(), host.url("/gone.mp3"), tmp_path / "gone.mp3")
    assert len(host.gets("/gone.mp3")) == 1, "a 404 is not retried"
    host.files["/login.mp3"] = (b"<html>please log in</html>", "text/html; charset=utf-8")
    with pytest.raises(DownloadError, match=r"sent text/html, not audio"):
        download(client(), host.url("/login.mp3"), tmp_path / "login.mp3")
    assert not (tmp_path / "login.mp3").exists()


# endregion

# region a feed run


class FakeTranscriber:
    """Writes the outputs a local run would (and a transcript page for one episode)."""

    def __init__(self, out: Path, page_for: str = "") -> None:
        self.out, self.page_for = out, page_for
        self.calls: list[tuple[str, dict[str, Any], str]] = []

    def __call__(self, audio: Path, context: dict[str, Any], sidecar: Path) -> Transcribed:
        self.calls.append((audio.name, context, sidecar.read_text()))
        assert audio.read_bytes() == AUDIO
        stem = audio.stem
        files = [self.out / "output" / f"{stem}_refined_transcript.json", self.out / "output" / f"{stem}_caption.vtt"]
        if stem == self.page_for:
            files.append(self.out / "output" / f"{stem}_transcript.html")
        for path in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("x")
        return Transcribed(status="completed", files=files, audio_seconds=60.0)


def test_feed_run_survives_a_404_writes_the_index_and_skips_what_is_done(host: FeedHost, tmp_path: Path) -> None:
    items = show(host)
    out = tmp_path / "site"
    fake = FakeTranscriber(out, page_for="ep-42-gpus-you")
    feed = load_feed(host.url("/feed.xml"), client())
    run = FeedRun(output_dir=out, client=client(), transcribe=fake)

    outcomes = run.run(feed, feed.episodes)

    assert [(o.name, o.status) for o in outcomes] == [
        ("ep-42-gpus-you", "done"), ("ep-41-gone", "failed"), ("ep-40-cafe-economie", "done")]
    assert "HTTP 404" in (outcomes[1].error or "")
    name, context, sidecar = fake.calls[0]
    assert name == "ep-42-gpus-you.mp3" and context["speakers"][1]["name"] == "Grace Guest"
    assert yaml.safe_load(sidecar) == context
    index = json.loads((out / "index.json").read_text())
    assert [(e["name"], e["status"]) for e in index["episodes"]] == [
        ("ep-42-gpus-you", "done"), ("ep-41-gone", "failed"), ("ep-40-cafe-economie", "done")]
    page = (out / "index.html").read_text()
    assert '<a href="output/ep-42-gpus-you_transcript.html">Ep 42: GPUs &amp; You!</a>' in page
    assert '<a href="output/ep-40-cafe-economie_caption.vtt">' in page, "no page: the captions are linked"
    assert not list((out / ".podwhisperer/downloads").glob("*.mp3")), "audio is not kept twice"

    host.files["/audio/41.mp3"] = (AUDIO, "audio/mpeg")  # the host fixed the missing file
    again = run.run(feed, feed.episodes)
    assert [(o.name, o.status) for o in again] == [
        ("ep-42-gpus-you", "skipped"), ("ep-41-gone", "done"), ("ep-40-cafe-economie", "skipped")]

    items[0].length = len(AUDIO) + 1  # re-published: same GUID, another file
    host.files["/feed.xml"] = (rss(host, items), "application/rss+xml")
    republished = load_feed(host.url("/feed.xml"), client())
    third = run.run(republished, republished.episodes)
    assert [(o.name, o.status) for o in third] == [
        ("ep-42-gpus-you", "skipped"), ("ep-41-gone", "skipped"), ("ep-40-cafe-economie", "done")]


# endregion


def test_transcribe_feed_command_runs_the_local_pipeline_and_prints_a_summary(
        host: FeedHost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import typer
    from local_fakes import FakeJob
    from typer.testing import CliRunner

    from podwhisperer.runtime.local import cli as local_cli
    from podwhisperer.runtime.local import runner as local_runner

    show(host)
    monkeypatch.setattr(local_runner, "worker_job_runner", lambda store, config, **_: FakeJob(store, config))
    app = typer.Typer()
    local_cli.register(app)
    out = tmp_path / "site"
    args = ["--feed", host.url("/feed.xml"), "--limit", "2", "-o", str(out), "--device", "cpu"]

    first = CliRunner().invoke(app, args, env={"COLUMNS": "200"})

    assert first.exit_code == 1, first.output  # one enclosure is missing
    assert "Acme Show: 3 episodes in the feed, 2 chosen" in first.output
    assert "ep-42-gpus-you" in first.output and "HTTP 404" in first.output
    assert "1 done, 0 skipped, 1 failed" in first.output
    index = json.loads((out / "index.json").read_text())
    done = next(e for e in index["episodes"] if e["status"] == "done")
    assert all((out / f).exists() for f in done["files"]) and "ep-42-gpus-you_caption.vtt" in done["files"]
    assert "ep-42-gpus-you_transcript.html" in done["files"]
    assert '<a href="ep-42-gpus-you_transcript.html">Ep 42: GPUs &amp; You!</a>' in (out / "index.html").read_text()
    page = (out / "ep-42-gpus-you_transcript.html").read_text()
    assert "Ep 42: GPUs &amp; You!" in page, "the feed's title reached the episode's page (per-episode context)"
    events = [json.loads(line) for line in (out / ".podwhisperer/events.jsonl").read_text().splitlines()]
    context = events[-1]["detail"]["episodeContext"]
    assert [s["name"] for s in context["speakers"]] == ["Ada Host", "Grace Guest"] and context["language"] == "en"

    host.files["/audio/41.mp3"] = (AUDIO, "audio/mpeg")
    second = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert second.exit_code == 0, second.output
    assert "1 done, 1 skipped, 0 failed" in second.output


def test_transcribe_needs_audio_or_a_feed_and_reports_a_bad_feed(host: FeedHost, tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from podwhisperer.runtime.local import cli as local_cli

    app = typer.Typer()
    local_cli.register(app)
    neither = CliRunner().invoke(app, ["-o", str(tmp_path)])
    assert neither.exit_code == 2 and "give audio files or --feed URL" in neither.output
    bad = CliRunner().invoke(app, ["--feed", host.url("/nope.xml"), "-o", str(tmp_path)])
    assert bad.exit_code == 2 and "nope.xml: HTTP 404" in bad.output and "Traceback" not in bad.output
