"""Segment normalisation: predecessor checklist 8.7 (NRM-01..20) plus the caption-grade behaviour."""

from __future__ import annotations

import copy
from typing import Any

from podwhisperer.runtime.config import NormalizationConfig
from podwhisperer.runtime.line_layout import count_lines
from podwhisperer.runtime.transcript import Transcript
from podwhisperer.runtime.transforms.normalize import normalize_segments

# The predecessor's settings: one 48-character "line", 10 words, no duration rules.
PARITY = NormalizationConfig(max_chars_per_line=48, max_lines_per_segment=1, max_words_per_segment=10,
                             balance_pieces=False,
                             max_duration_seconds=3600, min_duration_seconds=0)


def words(spec: str, start: float = 0.0, step: float = 0.1, speaker: str | None = "Alice") -> list[dict[str, Any]]:
    """Timed words, each ``step`` long with a ``step`` gap: 'a b' -> a [0, .1], b [.2, .3]."""
    out = []
    for index, token in enumerate(spec.split()):
        word: dict[str, Any] = {"word": token, "start": round(start + 2 * index * step, 3),
                                "end": round(start + (2 * index + 1) * step, 3)}
        if speaker:
            word["speaker"] = speaker
        out.append(word)
    return out


def transcript(*segments: dict[str, Any]) -> Transcript:
    return Transcript.from_dict({"segments": list(segments)})


def segment(spec: str, speaker: str | None = "Alice", **fields: Any) -> dict[str, Any]:
    ws = fields.pop("words", None) or words(spec, speaker=speaker, start=fields.pop("start_at", 0.0))
    data = {"start": ws[0].get("start", 0.0), "end": ws[-1].get("end", 1.0), "text": spec, "words": ws}
    if speaker:
        data["speaker"] = speaker
    data.update(fields)
    return data


def texts(t: Transcript) -> list[str]:
    return [s.text for s in t.segments]


THIRTEEN = [
    {"word": w, "start": s, "end": e, "speaker": "Alice"}
    for w, s, e in [("So", 0.0, 0.2), ("I", 0.3, 0.4), ("think", 0.5, 0.7), ("that", 0.8, 1.0),
                    ("gives", 1.1, 1.3), ("you", 1.4, 1.5), ("the", 1.6, 1.7), ("general", 1.8, 2.1),
                    ("idea", 2.2, 2.4), ("of", 2.5, 2.6), ("how", 2.7, 2.8), ("things", 2.9, 3.1),
                    ("work.", 3.2, 3.5)]
]


# --- predecessor checklist 8.7 -------------------------------------------------------------------

def test_nrm01_word_limit_splits_ten_plus_three() -> None:
    t = transcript({"start": 0.0, "end": 5.0, "text": "x", "speaker": "Alice", "words": THIRTEEN})
    out = normalize_segments(t, PARITY)
    first, second = out.transcript.segments
    assert first.text == "So I think that gives you the general idea of"
    assert (len(first.words or []), first.start, first.end, first.speaker) == (10, 0.0, 2.6, "Alice")
    assert second.text == "how things work."
    assert (len(second.words or []), second.start, second.end, second.speaker) == (3, 2.7, 3.5, "Alice")
    assert (out.stats["original_segments"], out.stats["normalized_segments"], out.stats["splits"]) == (1, 2, 1)


def test_nrm02_two_words_not_split() -> None:
    out = normalize_segments(transcript(segment("Hello world")), PARITY)
    assert texts(out.transcript) == ["Hello world"]
    assert out.stats["splits"] == 0


def test_nrm03_character_limit_splits_before_the_word_that_overflows() -> None:
    spec = "Supercalifragilisticexpialidocious is a very long word indeed"
    out = normalize_segments(transcript(segment(spec)), PARITY)
    assert texts(out.transcript) == ["Supercalifragilisticexpialidocious is a very", "long word indeed"]


def test_nrm04_punctuation_on_last_word_does_not_split() -> None:
    out = normalize_segments(transcript(segment("First sentence here, and then the second part follows.")),
                             PARITY)
    assert out.stats["original_segments"] == 1
    # Only the 48-character limit cuts (before "follows."); no cut after "here," at 30 %.
    assert texts(out.transcript) == ["First sentence here, and then the second part", "follows."]


def test_nrm05_comma_at_seventy_percent_splits() -> None:
    out = normalize_segments(transcript(segment("One two three four five six seven, eight nine ten.")), PARITY)
    assert texts(out.transcript) == ["One two three four five six seven,", "eight nine ten."]
    assert out.stats["splits"] == 1


def test_nrm06_comma_below_threshold_does_not_split() -> None:
    out = normalize_segments(transcript(segment("Hello, this is a test sentence here.")), PARITY)
    assert texts(out.transcript) == ["Hello, this is a test sentence here."]
    assert out.stats["splits"] == 0


def _agree() -> Transcript:
    ws = words("I agree.", speaker="Alice") + words("That's right.", start=0.8, speaker="Bob")
    return transcript({"start": 0.0, "end": 2.0, "text": "I agree. That's right.", "speaker": "Alice", "words": ws})


def test_nrm07_speaker_change_splits() -> None:
    out = normalize_segments(_agree(), PARITY)
    assert [(s.text, s.speaker) for s in out.transcript.segments] == [("I agree.", "Alice"), ("That's right.", "Bob")]
    assert out.stats["splits"] == 1


def test_nrm08_speaker_split_disabled() -> None:
    cfg = PARITY.model_copy(update={"split_segment_at_speaker_change": False})
    out = normalize_segments(_agree(), cfg)
    assert texts(out.transcript) == ["I agree. That's right."]
    assert out.stats["splits"] == 0


def test_nrm09_segment_without_words_untouched() -> None:
    t = transcript({"start": 0.0, "end": 1.0, "text": "Hello world"})
    out = normalize_segments(t, PARITY)
    assert [(s.start, s.end, s.text, s.words) for s in out.transcript.segments] == [(0.0, 1.0, "Hello world", None)]
    assert out.stats["splits"] == 0


def test_nrm10_segment_with_empty_words_untouched() -> None:
    out = normalize_segments(transcript({"start": 0.0, "end": 1.0, "text": "Hello world", "words": []}), PARITY)
    assert [(s.start, s.end, s.text) for s in out.transcript.segments] == [(0.0, 1.0, "Hello world")]
    assert out.stats["splits"] == 0


def test_nrm11_empty_transcript_gives_zero_stats() -> None:
    out = normalize_segments(transcript(), PARITY)
    assert out.transcript.segments == []
    assert (out.stats["original_segments"], out.stats["normalized_segments"], out.stats["splits"]) == (0, 0, 0)


def test_nrm12_single_long_word_kept_whole() -> None:
    out = normalize_segments(transcript(segment("Pneumonoultramicroscopicsilicovolcanoconiosis")), PARITY)
    assert texts(out.transcript) == ["Pneumonoultramicroscopicsilicovolcanoconiosis"]
    assert out.stats["splits"] == 0


def test_nrm13_untimed_words_take_the_segment_bounds_not_zero() -> None:
    """Defect 2: the predecessor pinned start 0 / end 0 here; pieces now keep the segment's times."""
    t = transcript({"start": 5.0, "end": 6.0, "text": "Hello world", "speaker": "Alice",
                    "words": [{"word": "Hello", "speaker": "Alice"}, {"word": "world", "speaker": "Alice"}]})
    out = normalize_segments(t, PARITY)
    assert [(s.start, s.end) for s in out.transcript.segments] == [(5.0, 6.0)]
    assert out.stats["splits"] == 0


def test_nrm14_words_without_speaker_keep_segment_speaker() -> None:
    ws = words("Hello") + words("world friend", start=0.4, speaker=None)
    out = normalize_segments(transcript(segment("Hello world friend", words=ws)), PARITY)
    assert [s.speaker for s in out.transcript.segments] == ["Alice"]
    assert out.stats["splits"] == 0


def test_nrm15_segments_processed_independently() -> None:
    t = transcript(segment("One two three four five six seven eight nine ten eleven."),
                   segment("Short segment.", speaker="Bob", start_at=5.0))
    out = normalize_segments(t, PARITY)
    assert texts(out.transcript) == ["One two three four five six seven eight nine ten", "eleven.", "Short segment."]
    assert (out.stats["original_segments"], out.stats["normalized_segments"], out.stats["splits"]) == (2, 3, 1)


def test_nrm16_word_limit_and_speaker_change_together() -> None:
    ws = words("One two three four five six seven eight nine ten eleven twelve") + words(
        "from Bob.", start=3.1, speaker="Bob")
    out = normalize_segments(transcript(segment("x", words=ws)), PARITY)
    assert [(s.speaker, len(s.words or [])) for s in out.transcript.segments] == [
        ("Alice", 10), ("Alice", 2), ("Bob", 2)]
    assert out.stats["splits"] == 2


def test_nrm17_distribution_stats_exact() -> None:
    t = transcript(segment("Hello world friend"), segment("Short one", speaker="Bob", start_at=3.0),
                   segment("A longer segment here now", start_at=5.0))
    stats = normalize_segments(t, PARITY).stats
    assert stats["words_per_segment"] == {"min": 2, "max": 5, "avg": 3.33, "p95": 5}
    assert stats["chars_per_segment"] == {"min": 9, "max": 25, "avg": 17.33, "p95": 25}


def test_nrm18_empty_transcript_zero_distributions() -> None:
    stats = normalize_segments(transcript(), PARITY).stats
    assert stats["words_per_segment"] == {"min": 0, "max": 0, "avg": 0, "p95": 0}
    assert stats["chars_per_segment"] == {"min": 0, "max": 0, "avg": 0, "p95": 0}


def test_nrm19_distribution_after_split() -> None:
    out = normalize_segments(transcript(segment("One two three four five six seven eight nine ten eleven.")), PARITY)
    assert out.stats["splits"] == 1
    assert (out.stats["words_per_segment"]["min"], out.stats["words_per_segment"]["max"]) == (1, 10)


def test_nrm20_segment_without_words_counts_zero_words() -> None:
    stats = normalize_segments(transcript({"start": 0.0, "end": 1.0, "text": "Hello world"}), PARITY).stats
    assert (stats["words_per_segment"]["min"], stats["words_per_segment"]["max"]) == (0, 0)
    assert (stats["chars_per_segment"]["min"], stats["chars_per_segment"]["max"]) == (11, 11)


# --- caption-grade behaviour ---------------------------------------------------------------------

TWELVE = "one two three four five six seven eight nine ten eleven twelve"
VOCAB = "we moved the pipeline to a GPU worker, and it scales to zero. really? yes! okay"
LONG = ("so what we did was we moved the whole transcription pipeline onto a single GPU worker "
        "that scales to zero when nobody is uploading anything and it turned out to be cheaper")


def test_default_pieces_wrap_into_two_lines_of_42() -> None:
    cfg = NormalizationConfig(max_duration_seconds=60, min_duration_seconds=0)
    out = normalize_segments(transcript(segment(LONG, start_at=0.0)), cfg)
    assert len(out.transcript.segments) > 1
    for piece in out.transcript.segments:
        assert count_lines([len(w) for w in piece.text.split()], 42) <= 2
        assert len(piece.text) <= 84
        assert len(piece.words or []) <= 20
    assert " ".join(texts(out.transcript)) == LONG


def test_three_short_lines_config() -> None:
    cfg = NormalizationConfig(max_chars_per_line=20, max_lines_per_segment=3, max_duration_seconds=60,
                              min_duration_seconds=0)
    out = normalize_segments(transcript(segment(LONG)), cfg)
    assert all(count_lines([len(w) for w in s.text.split()], 20) <= 3 for s in out.transcript.segments)


def test_max_chars_per_segment_caps_below_lines() -> None:
    cfg = NormalizationConfig(max_chars_per_segment=30, max_duration_seconds=60, min_duration_seconds=0)
    out = normalize_segments(transcript(segment(LONG)), cfg)
    assert max(len(s.text) for s in out.transcript.segments) <= 30


def test_duration_limit_splits_using_word_times() -> None:
    # 10 words, each 1 s long with 1 s gaps: the piece may span at most 7 s.
    t = transcript(segment("a b c d e f g h i j", words=words("a b c d e f g h i j", step=1.0)))
    out = normalize_segments(t, NormalizationConfig(min_duration_seconds=0))
    assert texts(out.transcript) == ["a b c d", "e f g", "h i j"]  # the thin "i j" tail is balanced
    unbalanced = normalize_segments(t, NormalizationConfig(min_duration_seconds=0, balance_pieces=False))
    assert texts(unbalanced.transcript) == ["a b c d", "e f g h", "i j"]
    assert all(s.end - s.start <= 7.0 for s in out.transcript.segments)


def test_forced_cut_leaving_an_orphan_moves_to_the_clause_end() -> None:
    spec = "Thanks for having me. I have been running speech models on cloud servers for a while now."
    out = normalize_segments(transcript(segment(spec)), NormalizationConfig(max_duration_seconds=60))
    assert texts(out.transcript) == ["Thanks for having me.",
                                     "I have been running speech models on cloud servers for a while now."]


def test_hard_limit_split_moves_back_to_punctuation() -> None:
    spec = "I went to the store yesterday, and then I bought some apples and pears"
    out = normalize_segments(transcript(segment(spec)), PARITY)
    assert texts(out.transcript) == ["I went to the store yesterday,", "and then I bought some apples and pears"]


def test_short_trailing_piece_merges_when_limits_allow() -> None:
    # The soft split after "okay." would leave "thanks" (0.1 s) alone; merging keeps it within limits.
    spec = "one two three four five six seven okay. thanks"
    cfg = NormalizationConfig(max_words_per_segment=10, max_duration_seconds=60, min_duration_seconds=0.5)
    out = normalize_segments(transcript(segment(spec)), cfg)
    assert texts(out.transcript) == [spec]


def test_short_piece_extends_into_following_silence() -> None:
    t = transcript(segment("Yes.", words=[{"word": "Yes.", "start": 1.0, "end": 1.2, "speaker": "Alice"}]),
                   segment("Right.", speaker="Bob",
                           words=[{"word": "Right.", "start": 1.6, "end": 2.5, "speaker": "Bob"}]))
    out = normalize_segments(t, NormalizationConfig(min_duration_seconds=0.8))
    assert [(s.start, s.end) for s in out.transcript.segments] == [(1.0, 1.6), (1.6, 2.5)]


def test_untimed_first_word_uses_nearest_timed_word() -> None:
    ws = [{"word": "2026", "speaker": "Alice"}, {"word": "was", "start": 10.2, "end": 10.4, "speaker": "Alice"},
          {"word": "great", "start": 10.5, "end": 10.9, "speaker": "Alice"}]
    out = normalize_segments(transcript({"start": 10.0, "end": 11.0, "text": "x", "speaker": "Alice", "words": ws}),
                             PARITY)
    assert [(s.start, s.end) for s in out.transcript.segments] == [(10.2, 10.9)]


def test_fully_untimed_piece_is_interpolated_within_the_segment() -> None:
    ws = [{"word": w} for w in TWELVE.split()]
    t = transcript({"start": 100.0, "end": 112.0, "text": "x", "words": ws})
    out = normalize_segments(t, PARITY)
    assert [(s.start, s.end) for s in out.transcript.segments] == [(100.0, 110.0), (110.0, 112.0)]


def test_emptied_segments_are_dropped() -> None:
    """Defect 11: a segment whose words and text were all removed produces no caption."""
    t = transcript({"start": 0.0, "end": 1.0, "text": "", "words": []}, {"start": 1.0, "end": 2.0, "text": "  "},
                   segment("kept", start_at=2.0))
    out = normalize_segments(t, PARITY)
    assert texts(out.transcript) == ["kept"]
    assert out.stats["original_segments"] == 3


def test_input_is_not_mutated() -> None:
    t = transcript(segment(LONG), _agree().segments[0].to_dict())
    before = copy.deepcopy(t.to_dict())
    normalize_segments(t, NormalizationConfig())
    assert t.to_dict() == before


def test_disabled_normalization_returns_segments_unchanged() -> None:
    t = transcript(segment(LONG))
    out = normalize_segments(t, NormalizationConfig(normalize=False))
    assert texts(out.transcript) == [LONG]
    assert out.stats["splits"] == 0


def test_extra_segment_fields_are_kept_on_pieces() -> None:
    out = normalize_segments(transcript(segment("One two three four five six seven eight nine ten eleven", id=7)),
                             PARITY)
    assert [s.extra for s in out.transcript.segments] == [{"id": 7}, {"id": 7}]


def test_a_three_hour_transcript_is_cut_into_caption_pieces_throughout() -> None:
    # Speed is measured by benchmarks/postprocess.py; this checks the result at episode scale.
    vocab = VOCAB.split()
    segments, clock = [], 0.0
    for index in range(1100):
        tokens = [vocab[(index + k) % len(vocab)] for k in range(25)]
        ws = words(" ".join(tokens), start=clock, step=0.2, speaker=f"SPEAKER_0{index % 3}")
        segments.append(segment(" ".join(tokens), speaker=f"SPEAKER_0{index % 3}", words=ws))
        clock = ws[-1]["end"] + 0.5
    t = transcript(*segments)
    assert sum(len(s.words or []) for s in t.segments) == 27500
    out = normalize_segments(t, NormalizationConfig()).transcript
    assert [w.word for w in out.words()] == [w.word for w in t.words()]
    assert all(count_lines([len(w) for w in s.text.split()], 42) <= 2 and s.end - s.start <= 7
               for s in out.segments)


def test_words_carried_after_a_punctuation_cut_are_checked_again() -> None:
    # Cutting after "okay." carries "the" over; the long word must still not join it (hypothesis found this).
    cfg = NormalizationConfig(max_chars_per_line=16, max_lines_per_segment=1, max_words_per_segment=3,
                              max_duration_seconds=1.0, min_duration_seconds=0)
    ws = [{"word": w} for w in ["the", "okay.", "the", "Pneumonoultramicroscopicsilicovolcanoconiosis"]]
    out = normalize_segments(transcript({"start": 0, "end": 0, "text": "x", "words": ws}), cfg)
    assert texts(out.transcript) == ["the okay.", "the", "Pneumonoultramicroscopicsilicovolcanoconiosis"]
