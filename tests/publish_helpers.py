"""Independent readers for the publish outputs, and the shipped sample as a transcript."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema

from podwhisperer.runtime.transcript import Segment, Transcript, Word

REPO = Path(__file__).resolve().parents[1]
SAMPLE_AUDIO = REPO / "samples" / "two-voices.mp3"
SCHEMAS = Path(__file__).parent / "schemas"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def sample_transcript() -> Transcript:
    """The shipped sample's reference turns as a refined-looking transcript: one segment per sentence, with words."""
    reference = json.loads((REPO / "samples" / "two-voices.reference.json").read_text())
    segments = []
    for turn in reference["turns"]:
        sentences = [s.strip() if s.strip()[-1] in ".?!" else s.strip() + "." for s in turn["text"].split(". ")]
        total = sum(len(s) for s in sentences)
        cursor = turn["start"]
        for sentence in sentences:
            end = cursor + (turn["end"] - turn["start"]) * len(sentence) / total
            tokens = sentence.split()
            step = (end - cursor) / len(tokens)
            words = [Word(token, round(cursor + i * step, 3), round(cursor + (i + 1) * step, 3), 0.9, turn["speaker"])
                     for i, token in enumerate(tokens)]
            segments.append(Segment(round(cursor, 3), round(end, 3), sentence, turn["speaker"], words))
            cursor = end
    return Transcript(segments)


def validate_schema(document: Any, schema_name: str) -> None:
    schema = json.loads((SCHEMAS / schema_name).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(document)


class StrictHTML(HTMLParser):
    """Python's HTML parser with a tag-balance check; collects the text inside each element name."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.texts: dict[str, list[str]] = {}
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.doctype = ""

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        for tag in self.stack:
            self.texts.setdefault(tag, []).append(data)

    def text_of(self, tag: str) -> str:
        return " ".join(" ".join(self.texts.get(tag, [])).split())


def parse_html(document: str) -> StrictHTML:
    parser = StrictHTML()
    parser.feed(document)
    parser.close()
    assert parser.doctype.lower() == "doctype html", parser.doctype
    assert not parser.problems, parser.problems
    assert not parser.stack, f"unclosed: {parser.stack}"
    return parser
