"""The content-addressed stage store: each stage's output object under the work prefix.

A stage's object is named by a hash chain of the raw transcript's content and the settings of
every stage so far (:func:`chain_hash`); its ``.stats.json`` (the full stats) is written after it
and is the commit marker. A stage whose marker exists returns its stats without recomputing, so a
retry after "wrote, then crashed" is a cheap no-op and the bytes never change.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Mapping
from typing import Any

from podwhisperer.runtime.adapters.storage import ObjectNotFoundError, ObjectStore
from podwhisperer.runtime.transcript import StepOutcome, Transcript

Json = dict[str, Any]
MAX_LIST_ITEMS_IN_CHECKPOINT = 20


def chain_hash(previous: str, stage: str, stage_config: Any) -> str:
    """The content address of a stage's output: its input's address plus the stage and its config."""
    material = json.dumps([previous, stage, stage_config], sort_keys=True, default=str)
    return hashlib.sha256(material.encode()).hexdigest()


def summarize_stats(stats: Any) -> Any:
    """Stats small enough to checkpoint: long lists (per-update details) become their length.

    The full stats stay in the stage's ``.stats.json`` object next to its output.
    """
    if isinstance(stats, Mapping):
        return {str(k): summarize_stats(v) for k, v in stats.items()}
    if isinstance(stats, list):
        if len(stats) > MAX_LIST_ITEMS_IN_CHECKPOINT:
            return {"count": len(stats)}
        return [summarize_stats(v) for v in stats]
    return stats


class TranscriptCache:
    """Parsed transcripts of this invocation, by key (transforms never mutate their input)."""

    def __init__(self, store: ObjectStore, size: int = 2) -> None:
        self._store = store
        self._size = size
        self._items: dict[str, Transcript] = {}
        self._lock = threading.Lock()

    def remember(self, key: str, transcript: Transcript) -> None:
        """Keep a transcript just written under ``key``, so the next step need not parse it again."""
        with self._lock:
            self._items[key] = transcript
            while len(self._items) > self._size:
                self._items.pop(next(iter(self._items)))

    def load(self, key: str) -> Transcript:
        with self._lock:
            cached = self._items.get(key)
        if cached is not None:
            return cached
        transcript = Transcript.from_json(self._store.get(key))
        self.remember(key, transcript)
        return transcript


class StageStore:
    """Stage objects and their commit markers in one object store, with this invocation's parse cache."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self.transcripts = TranscriptCache(store)

    @staticmethod
    def address(work: str, name: str, previous_chain: str, material: Any) -> tuple[str, str]:
        """(chain, key) of stage ``name`` applied with settings ``material`` to the object at ``previous_chain``."""
        chain = chain_hash(previous_chain, name, material)
        return chain, f"{work}{name}-{chain[:16]}.json"

    def committed_stats(self, key: str) -> Json | None:
        """The stats of an already written stage object, or None (the stats file is the commit marker)."""
        try:
            summary: Json = summarize_stats(json.loads(self.store.get(key + ".stats.json")))
        except ObjectNotFoundError:
            return None
        return summary

    def commit(self, key: str, outcome: StepOutcome, extra_stats: Mapping[str, Any] | None = None) -> Json:
        """Write a stage object, then its full stats (the commit marker); return the stats' summary."""
        stats = {**outcome.stats, **(extra_stats or {})}
        full = json.dumps(stats, sort_keys=True, default=str, ensure_ascii=False).encode()
        self.store.put(key, outcome.transcript.to_json(), "application/json")
        self.store.put(key + ".stats.json", full, "application/json")
        self.transcripts.remember(key, outcome.transcript)
        summary: Json = summarize_stats(json.loads(full))
        return summary

    def run_once(self, key: str, source_key: str, transform: Callable[[Transcript], StepOutcome]) -> Json:
        """The committed stats of ``key``, or run ``transform`` on the object at ``source_key`` and commit it."""
        stats = self.committed_stats(key)
        if stats is None:
            stats = self.commit(key, transform(self.transcripts.load(source_key)))
        return stats
