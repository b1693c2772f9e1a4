"""The workflow's outputs: the refined transcript and captions rendered into the work prefix, then copied
to their final names (captions first, the refined transcript last, so a present refined transcript
means its captions are complete), and each event sent at most once."""

from __future__ import annotations

from typing import Any

from podwhisperer.runtime.adapters.events import EventSink, PipelineEvent
from podwhisperer.runtime.adapters.storage import ObjectStore
from podwhisperer.runtime.captions import caption_format, enabled_formats, render_captions
from podwhisperer.runtime.config import CaptionsConfig
from podwhisperer.runtime.contracts import normalize_etag
from podwhisperer.runtime.keys import OutputKeys
from podwhisperer.runtime.stage_store import StageStore, chain_hash
from podwhisperer.runtime.step_results import Captions, Final, Published, Source, StagesResult
from podwhisperer.runtime.transcript import Transcript


def finalize(stages: StageStore, work: str, stage: StagesResult) -> Final:
    """Write the refined transcript (``word_segments`` rebuilt from the edited words, as ``refine`` does)
    into the work prefix and count what is in it."""
    key = f"{work}refined-{stage['chain'][:16]}.json"
    transcript = stages.transcripts.load(stage["key"]).with_word_segments_rebuilt()
    if stages.store.head(key) is None:
        stages.store.put(key, transcript.to_json(), "application/json")
    stages.transcripts.remember(key, transcript)
    return {"key": key, "chain": stage["chain"], "counts": transcript_counts(transcript)}


def render_to_work(stages: StageStore, cfg: CaptionsConfig, work: str, final: Final) -> Captions:
    """Every enabled caption format under the work prefix (a retry after a complete write renders nothing)."""
    chain = chain_hash(final["chain"], "captions", cfg.model_dump(mode="json"))[:16]
    keys = {name: f"{work}captions-{chain}.{name}" for name in sorted(enabled_formats(cfg))}
    missing = {name: key for name, key in keys.items() if stages.store.head(key) is None}
    if missing:
        rendered = render_captions(stages.transcripts.load(final["key"]), cfg)
        for name, key in missing.items():
            stages.store.put(key, rendered[name].encode(), caption_format(name).content_type)
    return {"work_keys": keys}


def publish(store: ObjectStore, source: Source, outputs: OutputKeys, final: Final, captions: Captions) -> Published:
    """Copy work objects to their final names: captions first, the refined transcript last.

    Refuses (``superseded``) when a newer upload of the same key exists, so its outputs are never overwritten.
    """
    current = store.head(source["key"])
    if source["etag"] and current is not None and normalize_etag(current.etag) != source["etag"]:
        return {"superseded": True, "reason": "a newer upload of the same key exists; not overwriting its outputs"}
    caption_keys: dict[str, str] = {}
    for name, work_key in sorted(captions["work_keys"].items()):
        caption_keys[name] = outputs.caption(name)
        store.copy(work_key, caption_keys[name], caption_format(name).content_type)
    store.copy(final["key"], outputs.refined_transcript, "application/json")
    return {"superseded": False, "reason": None,
            "refined_transcript": outputs.refined_transcript, "captions": caption_keys}


def send_once(store: ObjectStore, sink: EventSink, marker: str, event: PipelineEvent) -> None:
    """Publish ``event`` unless ``marker`` exists, then write the marker.

    ``PutEvents`` cannot be made idempotent, so a crash between the two is the only way to get a
    duplicate (consumers can de-duplicate on ``detail.executionArn``).
    """
    if store.head(marker) is not None:
        return
    sink.publish(event)
    store.put(marker, b"sent", "text/plain")


def transcript_counts(transcript: Transcript) -> dict[str, Any]:
    """Words, segments, distinct speakers and duration of a transcript (for the event and the CLI)."""
    speakers = transcript.speaker_labels()
    words = sum(len(s.words) if s.words is not None else len(s.text.split()) for s in transcript.segments)
    return {"words": words, "segments": len(transcript.segments), "speakers": len(speakers),
            "speakerNames": sorted(speakers), "durationSeconds": round(transcript.duration, 3)}
