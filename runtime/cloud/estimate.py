"""``cloud backfill --dry-run``: audio hours and dollars per episode and in total, with no AWS call.

Durations come from the feed (``itunes:duration``) or a small range request per episode; the price
table and assumptions from the config's ``cost`` section (``--config FILE`` to use the stack's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from podwhisperer.runtime.config import PipelineConfig
from podwhisperer.runtime.cost import Estimate, estimate_episode, startup_cost
from podwhisperer.runtime.feed.duration import Duration, episode_duration
from podwhisperer.runtime.feed.http import HttpClient
from podwhisperer.runtime.feed.model import Episode


@dataclass(frozen=True)
class EpisodeEstimate:
    episode: Episode
    name: str
    duration: Duration
    estimate: Estimate | None  # None when the duration is unknown


@dataclass(frozen=True)
class BatchEstimate:
    episodes: list[EpisodeEstimate]
    startup_usd: float

    @property
    def audio_hours(self) -> float:
        return sum(e.estimate.audio_seconds for e in self.episodes if e.estimate) / 3600

    @property
    def gpu_hours(self) -> float:
        return sum(e.estimate.gpu_seconds for e in self.episodes if e.estimate) / 3600

    @property
    def total_usd(self) -> float:
        return sum(e.estimate.total_usd for e in self.episodes if e.estimate) + self.startup_usd

    @property
    def unknown(self) -> int:
        return sum(e.estimate is None for e in self.episodes)


def estimate_batch(episodes: Sequence[Episode], names: dict[str, str], config: PipelineConfig,
                   client: HttpClient) -> BatchEstimate:
    rows = []
    for episode in episodes:
        duration = episode_duration(episode, client)
        estimate = estimate_episode(config, duration.seconds) if duration.seconds else None
        rows.append(EpisodeEstimate(episode, names[episode.guid], duration, estimate))
    return BatchEstimate(rows, startup_cost(config, len([r for r in rows if r.estimate])))
