"""The WhisperX result shape, as light typed objects.

A transcript is ``{"segments": [...], "word_segments": [...], ...}``; segments carry optional
``words``, and each word has optional ``start``/``end``/``score``/``speaker``. Unknown fields at
every level are kept in ``extra`` so a JSON round trip loses nothing. Raw transcripts also carry
:class:`RawMetadata` under the namespaced key ``"podwhisperer"``.

These are plain slotted dataclasses rather than pydantic models: a 3-hour episode has ~30k
words, and the transforms must stay in the tens of milliseconds. Transforms never mutate their
input; they build new objects (``dataclasses.replace`` or the ``copy`` helpers).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from itertools import chain
from typing import Any, cast

import orjson

from podwhisperer.runtime.contracts import METADATA_KEY, RawMetadata, TranscriptError, optional_float

__all__ = ["METADATA_KEY", "RawMetadata", "Segment", "StepOutcome", "Transcript", "TranscriptError", "Word",
           "paused_gc"]


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cycle collector while building ~100k acyclic objects (it would scan them again and again).

    Also a decorator: parsing, the transforms, caption rendering and serialisation each run paused, so a
    3-hour transcript triggers a few young-generation passes instead of repeated full collections.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass(slots=True)
class Word:
    """One word; a value: build a changed word with :meth:`copy`, never assign to a field."""

    word: str
    start: float | None = None
    end: float | None = None
    score: float | None = None
    speaker: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    # The parsed JSON object this word was read from, when it holds exactly the fields and values
    # to_dict would write: an unchanged word (nearly all of them) is written back without building a
    # new dict. Not an init field, so copies never inherit it.
    _source: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def timed(self) -> bool:
        """True when the word has a usable interval (``end >= start``)."""
        return self.start is not None and self.end is not None and self.end >= self.start

    def copy(self, **changes: Any) -> Word:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        if self._source is not None:
            return self._source
        out: dict[str, Any] = {"word": self.word}
        if self.start is not None:
            out["start"] = self.start
        if self.end is not None:
            out["end"] = self.end
        if self.score is not None:
            out["score"] = self.score
        if self.speaker is not None:
            out["speaker"] = self.speaker
        if self.extra:
            out.update(self.extra)
        return out


@dataclass(slots=True)
class Segment:
    start: float
    end: float
    text: str
    speaker: str | None = None
    words: list[Word] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def copy(self, **changes: Any) -> Segment:
        return replace(self, **changes)

    def word_dicts(self) -> list[dict[str, Any]] | None:
        if self.words is None:
            return None
        return [word._source or word.to_dict() for word in self.words]

    def to_dict(self, word_dicts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """``word_dicts``: this segment's :meth:`word_dicts` when the caller already built them."""
        out: dict[str, Any] = {"start": self.start, "end": self.end, "text": self.text}
        if self.speaker is not None:
            out["speaker"] = self.speaker
        if self.words is not None:
            out["words"] = word_dicts if word_dicts is not None else self.word_dicts()
        if self.extra:
            out.update(self.extra)
        return out


@dataclass(slots=True)
class Transcript:
    segments: list[Segment]
    word_segments: list[dict[str, Any]] | None = None
    metadata: RawMetadata | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # Set by with_word_segments_rebuilt: each segment with the word dicts its part of ``word_segments``
    # shares, so to_dict builds every word dict once. Not an init field, so copies never inherit it.
    _shared_word_dicts: list[tuple[Segment, list[dict[str, Any]] | None]] | None = field(
        default=None, init=False, repr=False, compare=False)

    def copy(self, **changes: Any) -> Transcript:
        return replace(self, **changes)

    def words(self) -> Iterator[Word]:
        for segment in self.segments:
            if segment.words:
                yield from segment.words

    def speaker_labels(self) -> set[str]:
        """Every diarization label used by a segment or a word."""
        labels = {segment.speaker for segment in self.segments if segment.speaker}
        labels.update(word.speaker for word in self.words() if word.speaker)
        return labels

    @paused_gc()
    def with_word_segments_rebuilt(self) -> Transcript:
        """A copy whose ``word_segments`` mirror the (edited) segment words, when the field exists."""
        if self.word_segments is None:
            return self
        shared = [(segment, segment.word_dicts()) for segment in self.segments]
        rebuilt = self.copy(word_segments=list(chain.from_iterable(words for _, words in shared if words)))
        rebuilt._shared_word_dicts = shared
        return rebuilt

    @property
    def duration(self) -> float:
        """End of the last segment (or the audio duration when known and longer)."""
        end = max((s.end for s in self.segments), default=0.0)
        if self.metadata and self.metadata.audio_duration:
            return max(end, self.metadata.audio_duration)
        return end

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"segments": self._segment_dicts()}
        if self.word_segments is not None:
            out["word_segments"] = self.word_segments
        if self.metadata is not None:
            out[METADATA_KEY] = self.metadata.to_dict()
        out.update(self.extra)
        return out

    def _segment_dicts(self) -> list[dict[str, Any]]:
        shared = self._shared_word_dicts
        if shared is None or len(shared) != len(self.segments):
            return [segment.to_dict() for segment in self.segments]
        # orjson writes a shared dict in both places; a segment replaced since the rebuild builds its own
        return [segment.to_dict(words if segment is built_from else None)
                for segment, (built_from, words) in zip(self.segments, shared, strict=True)]

    @paused_gc()
    def to_json(self, indent: bool = False) -> bytes:
        options = orjson.OPT_INDENT_2 if indent else 0
        return orjson.dumps(self.to_dict(), option=options)

    @classmethod
    def from_dict(cls, data: Any) -> Transcript:
        if not isinstance(data, Mapping):
            raise TranscriptError(f"a transcript is a JSON object, got {type(data).__name__}")
        raw_segments = data.get("segments")
        if not isinstance(raw_segments, list):
            raise TranscriptError("a transcript needs a 'segments' list")
        segments = [_segment_from_dict(s, i) for i, s in enumerate(raw_segments)]
        word_segments = data.get("word_segments")
        if word_segments is not None and not isinstance(word_segments, list):
            raise TranscriptError("'word_segments' must be a list")
        meta = data.get(METADATA_KEY)
        extra = {k: v for k, v in data.items() if k not in ("segments", "word_segments", METADATA_KEY)}
        return cls(segments=segments, word_segments=word_segments,
                   metadata=RawMetadata.from_dict(meta) if meta is not None else None, extra=extra)

    @classmethod
    def from_json(cls, payload: bytes | str) -> Transcript:
        with paused_gc():
            try:
                data = orjson.loads(payload)
            except orjson.JSONDecodeError:
                data = _lenient_json(payload)  # Python's json.dumps writes NaN, which orjson rejects
            return cls.from_dict(data)


_SEGMENT_KEYS = frozenset({"start", "end", "text", "speaker", "words"})
_WORD_KEYS = frozenset({"word", "start", "end", "score", "speaker"})


def _lenient_json(payload: bytes | str) -> Any:
    import json

    try:
        return json.loads(payload)
    except ValueError as exc:
        raise TranscriptError(f"not valid JSON: {exc}") from None


def _segment_from_dict(data: Any, index: int) -> Segment:
    if type(data) is not dict and not isinstance(data, Mapping):
        raise TranscriptError(f"segments[{index}] is not an object")
    where = f"segments[{index}]"
    raw_words = data.get("words")
    if raw_words is not None and not isinstance(raw_words, list):
        raise TranscriptError(f"{where}.words must be a list")
    text = data.get("text", "")
    if not isinstance(text, str):
        raise TranscriptError(f"{where}.text must be a string")
    start, end, speaker = data.get("start"), data.get("end"), data.get("speaker")
    if not (type(start) is float and type(end) is float and start == start and end == end
            and type(speaker) in _STR_OR_NONE):  # else checked, converted to float, NaN read as missing
        start = optional_float(start, f"{where}.start")
        end = optional_float(end, f"{where}.end")
        speaker = _optional_str(speaker, f"{where}.speaker")
    return Segment(start or 0.0, end or 0.0, text, speaker,
                   None if raw_words is None else _words_from_list(raw_words, where),
                   _unknown_fields(data, _SEGMENT_KEYS))


class _NoFields(Mapping[str, Any]):
    """An empty, read-only ``extra``: every plain word shares one rather than owning an empty dict
    (~30k allocations on a 3-hour episode). Copies, deep copies and pickles stay empty and shared."""

    __slots__ = ()

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "{}"

    def __copy__(self) -> _NoFields:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _NoFields:
        return self

    def __reduce__(self) -> str:
        return "_NO_EXTRA"


_NO_EXTRA = _NoFields()
_NUMBER = frozenset({float, int})
_NUMBER_OR_NONE = frozenset({float, int, type(None)})
_STR_OR_NONE = frozenset({str, type(None)})


def _words_from_list(raw_words: list[Any], where: str) -> list[Word]:
    """Parse words; errors are located only when raised.

    Nearly every WhisperX word is a dict of exactly the five known keys, all set. Those take an
    inlined fast path (subscripts are cheaper than ``.get``; nothing to collect into ``extra``) and
    keep their dict to be written back as it is; this loop runs once per word of the episode.
    Everything else (nulls, NaN, unknown keys, errors) goes through :func:`_word_from_dict`.
    """
    words = []
    for index, data in enumerate(raw_words):
        try:
            text, start, end, score, speaker = data["word"], data["start"], data["end"], data["score"], data["speaker"]
            plain = (type(data) is dict and len(data) == len(_WORD_KEYS) and type(text) is str
                     and type(start) in _NUMBER and type(end) in _NUMBER and type(score) in _NUMBER
                     and type(speaker) is str and start == start and end == end and score == score)
        except (KeyError, TypeError):
            plain = False
        if not plain:
            words.append(_word_from_dict(data, f"{where}.words[{index}]"))
            continue
        word = Word(text, start, end, score, speaker, _NO_EXTRA)
        word._source = data  # the fields to_dict would write, in the order they were read
        words.append(word)
    return words


def _word_from_dict(data: Any, where: str) -> Word:
    """Any other word: some known keys missing or null, or unknown keys to keep in ``extra``."""
    if type(data) is not dict:
        raise TranscriptError(f"{where} needs a string 'word'")
    get = data.get
    text, start, end, score, speaker = get("word"), get("start"), get("end"), get("score"), get("speaker")
    if (type(text) is not str or type(start) not in _NUMBER_OR_NONE or type(end) not in _NUMBER_OR_NONE
            or type(score) not in _NUMBER_OR_NONE or type(speaker) not in _STR_OR_NONE):
        _raise_word_error(data, where)
    if score != score:
        score = None
    if start != start or end != end:
        start = end = None
    return Word(cast(str, text), start, end, score, speaker, _unknown_fields(data, _WORD_KEYS))


def _unknown_fields(data: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    if not data.keys() - known:
        return {}
    return {k: v for k, v in data.items() if k not in known}


def _raise_word_error(data: Mapping[str, Any], where: str) -> None:
    if not isinstance(data.get("word"), str):
        raise TranscriptError(f"{where} needs a string 'word'")
    for name in ("start", "end", "score"):
        optional_float(data.get(name), f"{where}.{name}")
    _optional_str(data.get("speaker"), f"{where}.speaker")


def _optional_str(value: Any, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TranscriptError(f"{where} must be a string, got {value!r}")


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """What every pure transform returns: a new transcript and JSON-able stats about the change."""

    transcript: Transcript
    stats: dict[str, Any]
