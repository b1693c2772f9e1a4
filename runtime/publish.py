"""The workflow's outputs: the refined transcript and captions rendered into the work prefix, then copied
to their final names (captions first, the refined transcript last, so a present refined transcript
means its captions are complete), and each event sent at most once."""

from __future__ import annotations

from typing import Any

from podwhisperer.runtime.adapters.events import EventSink, PipelineEvent
from podwhisperer.runtime.adapters.storage import ObjectStore
from podwhisperer.runtime.captions import caption_format, enabled_formats, render_captions
from podwhisperer.runtime.config import PipelineConfig
from podwhisperer.runtime.contracts import normalize_etag
from podwhisperer.runtime.cost import with_cost
from podwhisperer.runtime.keys import OutputKeys
from podwhisperer.runtime.podcast.outputs import Publication, relative_name
from podwhisperer.runtime.stage_store import StageStore, chain_hash
from podwhisperer.runtime.step_results import Captions, Final, Published, Source, StagesResult
from podwhisperer.runtime.transcript import Transcript


def finalize(stages: StageStore, work: str, stage: StagesResult, config: PipelineConfig) -> Final:
    """Write the refined transcript (``word_segments`` rebuilt from the edited words and its cost in the
    metadata, as ``refine`` does) into the work prefix and count what is in it."""
    key = f"{work}refined-{stage['chain'][:16]}.json"
    transcript = with_cost(stages.transcripts.load(stage["key"]).with_word_segments_rebuilt(), config, stage.get("llm"))
    if stages.store.head(key) is None:
        stages.store.put(key, transcript.to_json(), "application/json")
    stages.transcripts.remember(key, transcript)
    return {"key": key, "chain": stage["chain"], "counts": transcript_counts(transcript)}


def render_to_work(stages: StageStore, config: PipelineConfig, work: str, final: Final,
                   outputs: OutputKeys) -> Captions:
    """Every enabled format under the work prefix (a retry after a complete write renders nothing).

    A format with nothing to publish for this transcript (chapters when the step did not run) gets no key.
    """
    cfg = config.captions
    names = published_names(config, outputs)
    material = [cfg.model_dump(mode="json"), config.episode.model_dump(mode="json"),
                config.publishing.model_dump(mode="json"), outputs.input_key, names]
    chain = chain_hash(final["chain"], "captions", material)[:16]
    keys = {name: f"{work}captions-{chain}.{name}" for name in sorted(names)}
    present = {name: key for name, key in keys.items() if stages.store.head(key) is not None}
    if len(present) < len(keys):
        transcript = stages.transcripts.load(final["key"])
        rendered = render_captions(transcript, cfg, publication(config, outputs, transcript))
        for name, text in rendered.items():
            if name not in present:
                stages.store.put(keys[name], text.encode(), caption_format(name).content_type)
        present = {name: keys[name] for name in rendered}
    return {"work_keys": present}


def published_names(config: PipelineConfig, outputs: OutputKeys) -> dict[str, str]:
    """Every enabled format's file name relative to the output prefix (what the RSS snippet links to)."""
    return {name: relative_name(outputs.caption(name), config.storage.output_prefix)
            for name in enabled_formats(config.captions)}


def publication(config: PipelineConfig, outputs: OutputKeys, transcript: Transcript) -> Publication:
    """Titles, language, URLs and sibling names for the podcast formats of one episode."""
    audio_name = outputs.input_key.rsplit("/", 1)[-1]
    language = config.transcription.language or (transcript.metadata.language if transcript.metadata else None)
    return Publication.for_episode(config, audio_name, published_names(config, outputs), language=language)


def publish(store: ObjectStore, source: Source, outputs: OutputKeys, final: Final, captions: Captions) -> Published:
    """Copy work objects to their final names: captions first, the refined transcript last.

    Refuses (``superseded``) when a newer upload of the same key exists, so its outputs are never overwritten,
    and when the input was deleted since it was transcribed (the producer withdrew it).
    """
    current = store.head(source["key"])
    if current is None:
        return {"superseded": True, "reason": "the input was deleted after transcription; outputs not published"}
    if source["etag"] and normalize_etag(current.etag) != source["etag"]:
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
