"""A realistic synthetic WhisperX transcript: many speakers, sentence segments, some untimed words.

Shared by the post-processing and orchestrator benchmarks. Deterministic for a given seed.
"""

from __future__ import annotations

import random
from typing import Any

VOCABULARY = (
    "so the thing about serverless is that you really only pay for what you use and that changes how "
    "we think about architecture when we build event driven systems with lambda functions step functions "
    "and queues you know it is interesting because sage maker and bedrock make machine learning easier "
    "but Owen always says that the hard part is the data pipeline not the model itself right exactly "
    "and I think that is a great point let us talk about costs latency cold starts and observability"
).split()
UNTIMED = ["2024", "£13.60", "42%", "3.5", "&", "EC2", "S3"]
PUNCTUATION = [",", ".", "?", "!"]


def make_transcript(hours: float = 3.0, speakers: int = 3, seed: int = 7,
                    untimed_ratio: float = 0.02) -> dict[str, Any]:
    """About 150 words a minute, segments of 6-25 words, speaker turns every 1-4 segments."""
    rng = random.Random(seed)
    total_seconds = hours * 3600
    cursor = 0.4
    speaker = 0
    segments = []
    while cursor < total_seconds:
        if rng.random() < 0.4:
            speaker = (speaker + rng.randrange(1, speakers)) % speakers
        label = f"SPEAKER_{speaker:02d}"
        words = []
        for _ in range(rng.randint(7, 28)):
            duration = rng.uniform(0.12, 0.5)
            if rng.random() < untimed_ratio:
                words.append({"word": rng.choice(UNTIMED)})
            else:
                token = rng.choice(VOCABULARY)
                if rng.random() < 0.08:
                    token += rng.choice(PUNCTUATION)
                words.append({"word": token, "start": round(cursor, 3), "end": round(cursor + duration, 3),
                              "score": round(rng.uniform(0.5, 1.0), 3), "speaker": label})
            cursor += duration + rng.uniform(0.0, 0.12)
        words[-1]["word"] = words[-1]["word"].rstrip(",.?!") + "."
        timed = [w for w in words if "start" in w]
        start = timed[0]["start"] if timed else round(cursor, 3)
        end = timed[-1]["end"] if timed else round(cursor, 3)
        segments.append({"start": start, "end": end, "text": " " + " ".join(w["word"] for w in words),
                         "speaker": label, "words": words})
        cursor += rng.uniform(0.2, 1.5)
    word_segments = [w for s in segments for w in s["words"]]
    return {"segments": segments, "word_segments": word_segments, "language": "en"}
