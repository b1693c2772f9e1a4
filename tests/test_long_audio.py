"""Long episodes in bounded memory: PCM on disk, VAD by block, transcription in blocks cut at pauses."""

from __future__ import annotations

import subprocess
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fakes.speech import SAMPLE_DIR, stm_reference, wer

from podwhisperer.runtime.config import TranscriptionConfig
from podwhisperer.worker.audio_stream import PcmFile, decode_to_pcm
from podwhisperer.worker.blocks import Block, plan_blocks, segments_in, shift_times
from podwhisperer.worker.errors import InvalidAudioError
from podwhisperer.worker.vad import SAMPLE_RATE, Region, speech_regions

pytest_plugins = ["worker_fixtures"]
REPO = Path(__file__).resolve().parents[1]


class CountingAudio:
    """A PcmFile stand-in that remembers the longest slice anyone asked for."""

    def __init__(self, samples: np.ndarray) -> None:
        self.samples = samples
        self.longest = 0

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, key: slice) -> np.ndarray:
        piece = self.samples[key]
        self.longest = max(self.longest, len(piece))
        return piece


def seconds(value: float) -> int:
    return int(value * SAMPLE_RATE)


def test_pcm_file_slices_like_an_array(tmp_path: Path) -> None:
    samples = np.arange(1000, dtype=np.float32)
    (tmp_path / "a.f32").write_bytes(samples.tobytes())
    pcm = PcmFile(tmp_path / "a.f32")
    assert len(pcm) == 1000
    assert np.array_equal(pcm[10:20], samples[10:20])
    assert np.array_equal(pcm[990:2000], samples[990:])
    assert len(pcm[2000:3000]) == 0
    with pytest.raises(TypeError):
        pcm[::2]


def test_decoding_writes_pcm_and_rejects_bad_media(tmp_path: Path) -> None:
    pcm = decode_to_pcm(REPO / "samples" / "two-voices.mp3", tmp_path / "ok.f32")
    assert 20 < pcm.duration < 40 and pcm[0:16000].dtype == np.float32
    bad = tmp_path / "notes.mp3"
    bad.write_text("not audio")
    with pytest.raises(InvalidAudioError, match="could not be decoded"):
        decode_to_pcm(bad, tmp_path / "bad.f32")


def test_blocks_cover_the_recording_and_cut_only_in_pauses() -> None:
    # speech every 10 s (8 s of speech, 2 s pause) for an hour
    regions = [Region(seconds(t), seconds(t + 8)) for t in range(0, 3600, 10)]
    blocks = plan_blocks(regions, seconds(3600), max_seconds=300)
    assert blocks[0].start == 0 and blocks[-1].end == seconds(3600)
    assert all(a.end == b.start for a, b in pairwise(blocks))
    assert all(b.seconds <= 300 for b in blocks) and len(blocks) == 13
    for block in blocks[:-1]:
        assert not any(r.start < block.end < r.end for r in regions), "a cut inside speech"


def test_speech_without_pauses_is_cut_hard_and_short_audio_is_one_block() -> None:
    assert plan_blocks([Region(0, seconds(700))], seconds(700), max_seconds=300) == [
        Block(0, seconds(300)), Block(seconds(300), seconds(600)), Block(seconds(600), seconds(700))]
    assert plan_blocks([], seconds(30)) == [Block(0, seconds(30))]


def test_times_move_between_block_and_recording() -> None:
    segments = [{"start": 1.0, "end": 2.5, "text": "hi", "words": [{"word": "hi", "start": np.float32(1.0),
                                                                      "end": 2.5}, {"word": "x"}]}]
    moved = shift_times(segments, 300.0)
    assert (moved[0]["start"], moved[0]["end"]) == (301.0, 302.5)
    assert moved[0]["words"] == [{"word": "hi", "start": 301.0, "end": 302.5}, {"word": "x"}]
    assert segments[0]["start"] == 1.0, "the input is not changed"
    assert segments_in(moved, Block(seconds(300), seconds(600))) == moved
    assert segments_in(moved, Block(0, seconds(300))) == []


def test_vad_reads_one_block_at_a_time_and_joins_regions_cut_by_a_block_edge(tmp_path: Path) -> None:
    from faster_whisper.audio import decode_audio

    speech = decode_audio(str(SAMPLE_DIR / "sample.wav"))
    audio = CountingAudio(np.concatenate([speech, speech]))  # 60 s
    whole = speech_regions(audio, block_seconds=600)
    blocked = speech_regions(audio, block_seconds=10)
    assert audio.longest == seconds(600) or audio.longest == len(audio)
    audio.longest = 0
    speech_regions(audio, block_seconds=10)
    assert audio.longest == seconds(10)
    spoken = sum(r.seconds for r in whole)
    assert abs(sum(r.seconds for r in blocked) - spoken) < 0.1 * spoken


@pytest.mark.speech
def test_the_offline_diarizer_never_reads_more_than_a_vad_block() -> None:
    """Its memory does not grow with the episode: it asks for one block / one speech region at a time."""
    from faster_whisper.audio import decode_audio

    from podwhisperer.worker.offline_diarization import EmbeddingDiarizer
    from podwhisperer.worker.vad import BLOCK_SECONDS
    from podwhisperer.worker.voice_encoder import VoiceEncoder

    speech = decode_audio(str(SAMPLE_DIR / "sample.wav"))
    audio = CountingAudio(np.concatenate([speech] * 12))  # 6 minutes, longer than one VAD block
    turns = EmbeddingDiarizer(VoiceEncoder())(audio)
    assert audio.longest <= seconds(BLOCK_SECONDS)
    assert turns["speaker"].nunique() == 2


@pytest.mark.speech
def test_blocks_change_the_words_very_little(worker_models: Any, monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    """The same recording in 15-second blocks (the worker uses 5 minutes) and in one block: as accurate."""
    from podwhisperer.worker import blocks, speech

    cfg = TranscriptionConfig(model="tiny.en", diarize=False)
    audio = tmp_path / "twice.wav"
    subprocess.run(["sox", str(SAMPLE_DIR / "sample.wav"), str(SAMPLE_DIR / "sample.wav"), str(audio)], check=True)
    whole = speech.transcribe_file(audio, cfg, worker_models, source_key="a", etag=None)
    monkeypatch.setattr(speech, "plan_blocks", lambda regions, total: blocks.plan_blocks(regions, total, 15.0))
    small = speech.transcribe_file(audio, cfg, worker_models, source_key="a", etag=None)
    reference = " ".join([stm_reference()] * 2)
    errors = [wer(reference, " ".join(s.text for s in t.segments)) for t in (whole, small)]
    assert errors[1] <= errors[0] + 0.05, f"WER whole {errors[0]:.3f}, in blocks {errors[1]:.3f}"
    ends = [w.end for w in small.words()]
    assert max(ends) > 55 and ends == sorted(ends), "word times are in recording time, in order"
