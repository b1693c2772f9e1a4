"""What the publish renderers need besides the transcript: titles, language, URLs and sibling file names.

:class:`Publication` is built once per run from the config (episode, publishing), the output key
naming and the input's name; each publish format is a function of the transcript, the captions
config and the publication. A format with nothing to publish (chapters when the step did not run)
renders ``None``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field

from podwhisperer.runtime.config import CaptionsConfig, PipelineConfig
from podwhisperer.runtime.podcast.chapters import render_chapters_json, render_show_notes
from podwhisperer.runtime.podcast.chapters_stage import chapters_of
from podwhisperer.runtime.podcast.html_transcript import render_html_transcript
from podwhisperer.runtime.podcast.page import render_transcript_page
from podwhisperer.runtime.podcast.podcast_json import render_podcast_json
from podwhisperer.runtime.podcast.rss import public_url, render_rss_snippet
from podwhisperer.runtime.transcript import Transcript

RSS_KINDS = {"vtt": "vtt", "srt": "srt", "podcast_json": "podcast_json", "podcast_html": "podcast_html"}
"""Format name → the RSS snippet's transcript kind."""


@dataclass(frozen=True, slots=True)
class Publication:
    """Names and URLs for one episode's published files."""

    title: str
    audio_name: str  # the audio file's name, e.g. "ep 42.mp3"
    language: str | None = None
    description: str | None = None
    public_base_url: str | None = None
    audio_base_url: str | None = None
    files: Mapping[str, str] = field(default_factory=dict)
    """Format name → the file's name relative to the output folder (``shows/ep 42_caption.vtt``)."""

    @classmethod
    def for_episode(cls, config: PipelineConfig, audio_name: str, files: Mapping[str, str],
                    language: str | None = None) -> Publication:
        stem = audio_name.rpartition(".")[0] or audio_name
        return cls(title=config.episode.title or stem, audio_name=audio_name,
                   language=language or config.transcription.language, description=config.episode.description,
                   public_base_url=config.publishing.public_base_url,
                   audio_base_url=config.publishing.audio_base_url, files=dict(files))

    @property
    def audio_src(self) -> str:
        """The page's player source: the public audio URL, else the audio file next to the page."""
        return public_url(self.audio_name, self.audio_base_url)


def podcast_json(transcript: Transcript, cfg: CaptionsConfig, publication: Publication) -> str:
    return render_podcast_json(transcript, word_level=cfg.podcast_json_word_level)


def podcast_html(transcript: Transcript, cfg: CaptionsConfig, publication: Publication) -> str:
    return render_html_transcript(transcript, title=publication.title, language=publication.language)


def transcript_page(transcript: Transcript, cfg: CaptionsConfig, publication: Publication) -> str:
    chapters = chapters_of(transcript)
    return render_transcript_page(transcript, audio_src=publication.audio_src, title=publication.title,
                                  language=publication.language, description=publication.description,
                                  chapters=chapters.chapters if chapters else ())


def chapters_json(transcript: Transcript, cfg: CaptionsConfig, publication: Publication) -> str | None:
    chapters = chapters_of(transcript)
    if chapters is None:
        return None
    return render_chapters_json(chapters, title=publication.title, file_name=publication.audio_name)


def show_notes(transcript: Transcript, cfg: CaptionsConfig, publication: Publication) -> str | None:
    chapters = chapters_of(transcript)
    if chapters is None or chapters.source != "model":
        return None  # the offline fallback has no summary: show notes would be a bare list of pause times
    return render_show_notes(chapters, title=publication.title)


def rss_snippet(transcript: Transcript, cfg: CaptionsConfig, publication: Publication) -> str:
    files = {RSS_KINDS[name]: path for name, path in publication.files.items() if name in RSS_KINDS}
    return render_rss_snippet(files, base_url=publication.public_base_url, language=publication.language,
                              chapters_file=publication.files.get("chapters") if chapters_of(transcript) else None)


def relative_name(key: str, output_prefix: str) -> str:
    """An output key relative to the output prefix (``output/shows/a.vtt`` → ``shows/a.vtt``)."""
    return key[len(output_prefix):] if key.startswith(output_prefix) else posixpath.basename(key)
