"""Replacement rules (predecessor REP-01..31) with the defect 9, 10 and 11 fixes, plus new options."""

from __future__ import annotations

from typing import Any

import pytest

from podwhisperer.runtime.config import LiteralRule, RegexRule
from podwhisperer.runtime.transcript import Segment, StepOutcome, Transcript, Word
from podwhisperer.runtime.transforms.replacements import apply_replacements, rule_key

Rule = LiteralRule | RegexRule


def literal(search: str, replacement: str, **options: Any) -> LiteralRule:
    return LiteralRule(type="literal", search=search, replacement=replacement, **options)


def regex(search: str, replacement: str, flags: list[Any] | None = None) -> RegexRule:
    return RegexRule(type="regex", search=search, replacement=replacement, flags=flags or [])


def seg(start: float, end: float, text: str, words: list[tuple[str, float, float]] | None = None,
        speaker: str | None = None) -> Segment:
    return Segment(start, end, text, speaker, None if words is None else [Word(w, s, e) for w, s, e in words])


def run(segments: list[Segment], rules: list[Rule]) -> StepOutcome:
    """Apply the rules and check the input transcript was not mutated."""
    transcript = Transcript(segments=segments)
    before = transcript.to_dict()
    outcome = apply_replacements(transcript, rules)
    assert transcript.to_dict() == before, "input transcript was mutated"
    return outcome


def words_of(outcome: StepOutcome, index: int = 0) -> list[str]:
    return [w.word for w in outcome.transcript.segments[index].words or []]


def hello_owen() -> Segment:
    return seg(0, 1, "Hello Owen", [("Hello", 0, 0.5), ("Owen", 0.5, 1)])


# --- literal (REP-01..03) ---


def test_rep01_literal_single_occurrence() -> None:
    outcome = run([hello_owen()], [literal("Owen", "Eoin")])
    assert outcome.transcript.segments[0].text == "Hello Eoin"
    assert words_of(outcome) == ["Hello", "Eoin"]
    assert outcome.stats["segments_modified"] == 1


def test_rep02_literal_phrase_twice_with_punctuation() -> None:
    words = [("AWS", 0, 0.2), ("Bytes", 0.2, 0.4), ("is", 0.4, 0.5), ("the", 0.5, 0.6), ("best.", 0.6, 0.8),
             ("I", 0.8, 0.9), ("love", 0.9, 1.1), ("AWS", 1.1, 1.3), ("Bytes!", 1.3, 1.5)]
    outcome = run([seg(0, 2, "AWS Bytes is the best. I love AWS Bytes!", words)], [literal("AWS Bytes", "AWS Bites")])
    segment = outcome.transcript.segments[0]
    assert segment.text == "AWS Bites is the best. I love AWS Bites!"
    assert words_of(outcome)[1] == "Bites"
    assert words_of(outcome)[8] == "Bites!"
    assert outcome.stats["segments_modified"] == 1
    assert outcome.stats["replacement_counts"] == {"AWS Bytes->AWS Bites": 2}


def test_rep03_literal_is_case_sensitive() -> None:
    words = [("owen", 0, 0.2), ("is", 0.2, 0.3), ("here,", 0.3, 0.5), ("Owen", 0.5, 0.7), ("is", 0.7, 0.8),
             ("there", 0.8, 1)]
    outcome = run([seg(0, 1, "owen is here, Owen is there", words)], [literal("Owen", "Eoin")])
    assert outcome.transcript.segments[0].text == "owen is here, Eoin is there"
    assert words_of(outcome)[0] == "owen"
    assert words_of(outcome)[3] == "Eoin"


# --- regex (REP-04..07) ---


def test_rep04_regex_character_class() -> None:
    segment = seg(0, 1, "Duciano said hello", [("Duciano", 0, 0.3), ("said", 0.3, 0.5), ("hello", 0.5, 1)])
    outcome = run([segment], [regex("[A-Z]uciano", "Luciano")])
    assert outcome.transcript.segments[0].text == "Luciano said hello"
    assert words_of(outcome)[0] == "Luciano"
    assert outcome.stats["segments_modified"] == 1


def test_rep05_regex_capture_groups_python_syntax() -> None:
    # The predecessor used JS `$2/$3/$1`; Python templates are `\2/\3/\1`.
    words = [("The", 0, 0.2), ("date", 0.2, 0.4), ("is", 0.4, 0.5), ("2024-01-15", 0.5, 1)]
    outcome = run([seg(0, 1, "The date is 2024-01-15", words)], [regex(r"(\d{4})-(\d{2})-(\d{2})", r"\2/\3/\1")])
    assert outcome.transcript.segments[0].text == "The date is 01/15/2024"
    assert words_of(outcome)[3] == "01/15/2024"


def test_rep06_regex_replaces_all_matches() -> None:
    segment = seg(0, 1, "Muciano and Duciano", [("Muciano", 0, 0.3), ("and", 0.3, 0.5), ("Duciano", 0.5, 1)])
    outcome = run([segment], [regex("[MD]uciano", "Luciano")])
    assert outcome.transcript.segments[0].text == "Luciano and Luciano"
    assert words_of(outcome) == ["Luciano", "and", "Luciano"]


def test_rep07_regex_then_literal() -> None:
    segment = seg(0, 1, "Duciano from Fortiorum", [("Duciano", 0, 0.3), ("from", 0.3, 0.5), ("Fortiorum", 0.5, 1)])
    outcome = run([segment], [regex("[A-Z]uciano", "Luciano"), literal("Fortiorum", "fourTheorem")])
    assert outcome.transcript.segments[0].text == "Luciano from fourTheorem"
    assert words_of(outcome) == ["Luciano", "from", "fourTheorem"]


# --- rules that do nothing, words or no words (REP-08..14) ---


def test_rep08_empty_rule_list() -> None:
    outcome = run([seg(0, 1, "Hello world", [("Hello", 0, 0.5), ("world", 0.5, 1)])], [])
    assert outcome.transcript.segments[0].text == "Hello world"
    assert outcome.stats == {"segments_modified": 0, "word_changes": 0, "replacement_counts": {},
                             "segments_emptied": 0}


def test_rep09_text_and_word_both_updated() -> None:
    names = ["My", "name", "is", "Luciano", "and", "I'm", "joined", "by", "Owen"]
    words = [(w, i / 10, (i + 1) / 10) for i, w in enumerate(names)]
    outcome = run([seg(0, 2, " ".join(names), words)], [literal("Owen", "Eoin")])
    assert outcome.transcript.segments[0].text == "My name is Luciano and I'm joined by Eoin"
    assert words_of(outcome)[8] == "Eoin"
    assert outcome.stats["segments_modified"] == 1


def test_rep10_segment_without_words() -> None:
    outcome = run([seg(0, 1, "Hello Owen")], [literal("Owen", "Eoin")])
    assert outcome.transcript.segments[0].text == "Hello Eoin"
    assert outcome.transcript.segments[0].words is None
    assert outcome.stats["segments_modified"] == 1
    assert outcome.stats["word_changes"] == 1


def test_rep11_unmatched_rules_zero_stats() -> None:
    segment = seg(0, 1, "Hello world", [("Hello", 0, 0.5), ("world", 0.5, 1)])
    outcome = run([segment], [literal("Owen", "Eoin"), regex(r"nonexistent\d+", "replaced")])
    assert outcome.transcript.segments[0] is segment
    assert outcome.stats == {"segments_modified": 0, "word_changes": 0, "replacement_counts": {},
                             "segments_emptied": 0}


def test_rep12_realistic_segments_three_rules() -> None:
    first_words = [("My", 135.475, 135.6), ("name", 135.6, 135.7), ("is", 135.7, 135.796),
                   ("Luciano", 135.796, 136.178), ("and", 136.178, 136.4), ("I'm", 136.4, 136.5),
                   ("joined", 136.5, 136.65), ("by", 136.65, 136.779), ("Owen", 136.779, 137.0),
                   ("and", 137.0, 137.2), ("this", 137.2, 137.4), ("is", 137.4, 137.6), ("AWS", 137.843, 138.103),
                   ("Bytes.", 138.144, 138.384)]
    second_words = [("AWS", 146.279, 146.619), ("Bytes", 146.679, 146.939), ("is", 146.939, 147.0),
                    ("brought", 147.0, 147.2), ("to", 147.2, 147.3), ("you", 147.3, 147.4), ("by", 147.4, 147.5),
                    ("Fortiorum.", 147.64, 148.1)]
    segments = [
        seg(135.475, 138.384, " My name is Luciano and I'm joined by Owen and this is AWS Bytes.", first_words,
            "SPEAKER_01"),
        seg(146.279, 148.1, " AWS Bytes is brought to you by Fortiorum.", second_words, "SPEAKER_01"),
    ]
    rules: list[Rule] = [literal("Owen", "Eoin"), literal("AWS Bytes", "AWS Bites"),
                         literal("Fortiorum", "fourTheorem")]
    outcome = run(segments, rules)
    first, second = outcome.transcript.segments
    assert first.text == "My name is Luciano and I'm joined by Eoin and this is AWS Bites."
    assert words_of(outcome, 0)[8] == "Eoin"
    assert words_of(outcome, 0)[13] == "Bites."
    assert second.text == "AWS Bites is brought to you by fourTheorem."
    assert words_of(outcome, 1)[1] == "Bites"
    assert words_of(outcome, 1)[7] == "fourTheorem."
    assert outcome.stats["segments_modified"] == 2


def test_rep13_empty_segment_list() -> None:
    outcome = run([], [literal("Owen", "Eoin")])
    assert outcome.transcript.segments == []
    assert outcome.stats["segments_modified"] == 0
    assert outcome.stats["word_changes"] == 0


def test_rep14_empty_words_list_falls_back_to_text() -> None:
    outcome = run([seg(0, 1, "Hello Owen", [])], [literal("Owen", "Eoin")])
    assert outcome.transcript.segments[0].text == "Hello Eoin"
    assert outcome.transcript.segments[0].words == []
    assert outcome.stats["segments_modified"] == 1


# --- multi-word replacements (REP-15..22) ---


def test_rep15_same_count_keeps_timings() -> None:
    words = [("Welcome", 0.0, 0.3), ("to", 0.3, 0.5), ("AWS", 0.5, 0.8), ("Bytes", 0.8, 1.2)]
    outcome = run([seg(0, 1.2, "Welcome to AWS Bytes", words)], [literal("AWS Bytes", "AWS Bites")])
    segment = outcome.transcript.segments[0]
    assert segment.text == "Welcome to AWS Bites"
    assert segment.words is not None
    assert (segment.words[3].word, segment.words[3].start, segment.words[3].end) == ("Bites", 0.8, 1.2)
    assert outcome.stats["segments_modified"] == 1


def test_rep16_contraction_takes_removed_span_defect9() -> None:
    # Predecessor: SageMaker [0.75, 1.2] (love stretched and halved). Now it covers sage+maker: [0.6, 1.2].
    words = [("I", 0.0, 0.3), ("love", 0.3, 0.6), ("sage", 0.6, 0.9), ("maker", 0.9, 1.2)]
    outcome = run([seg(0, 1.2, "I love sage maker", words)], [literal("sage maker", "SageMaker")])
    segment = outcome.transcript.segments[0]
    assert segment.text == "I love SageMaker"
    assert [(w.word, w.start, w.end) for w in segment.words or []] == [
        ("I", 0.0, 0.3), ("love", 0.3, 0.6), ("SageMaker", 0.6, 1.2)]
    assert outcome.stats["word_changes"] == 1


def test_rep17_expansion_splits_by_characters() -> None:
    words = [("cannot", 0.0, 0.6), ("do", 0.6, 0.9), ("this", 0.9, 1.2)]
    outcome = run([seg(0, 1.2, "cannot do this", words)], [literal("cannot", "can not")])
    segment = outcome.transcript.segments[0]
    assert segment.text == "can not do this"
    spans = [(w.word, w.start, w.end) for w in segment.words or []]
    assert spans[0] == ("can", 0.0, pytest.approx(0.3))
    assert spans[1] == ("not", pytest.approx(0.3), 0.6)
    assert spans[2:] == [("do", 0.6, 0.9), ("this", 0.9, 1.2)]
    assert outcome.stats["segments_modified"] == 1
    assert outcome.stats["word_changes"] == 1


def test_rep18_punctuation_preserved() -> None:
    words = [("Hello,", 0, 0.3), ("AWS", 0.3, 0.6), ("Bytes.", 0.6, 1)]
    outcome = run([seg(0, 1, "Hello, AWS Bytes.", words)], [literal("AWS Bytes", "AWS Bites")])
    assert outcome.transcript.segments[0].text == "Hello, AWS Bites."
    assert words_of(outcome) == ["Hello,", "AWS", "Bites."]


def test_rep19_two_contractions_in_one_segment() -> None:
    words = [("sage", 0.0, 0.3), ("maker", 0.3, 0.6), ("and", 0.6, 0.8), ("lamb", 0.8, 1.2), ("da", 1.2, 1.5)]
    outcome = run([seg(0, 2, "sage maker and lamb da", words)],
                  [literal("sage maker", "SageMaker"), literal("lamb da", "Lambda")])
    segment = outcome.transcript.segments[0]
    assert segment.text == "SageMaker and Lambda"
    assert [(w.word, w.start, w.end) for w in segment.words or []] == [
        ("SageMaker", 0.0, 0.6), ("and", 0.6, 0.8), ("Lambda", 0.8, 1.5)]
    assert outcome.stats["word_changes"] == 2


def test_rep20_regex_across_words() -> None:
    words = [("E", 0.0, 0.2), ("C", 0.2, 0.4), ("2", 0.4, 0.6), ("instance", 0.6, 1)]
    outcome = run([seg(0, 1, "E C 2 instance", words)], [regex(r"E\s+C\s+2", "EC2")])
    segment = outcome.transcript.segments[0]
    assert segment.text == "EC2 instance"
    assert [(w.word, w.start, w.end) for w in segment.words or []] == [("EC2", 0.0, 0.6), ("instance", 0.6, 1)]


def test_rep21_whole_segment_replacement() -> None:
    words = [("foo", 0.0, 0.3), ("bar", 0.3, 0.6), ("baz", 0.6, 1)]
    outcome = run([seg(0, 1, "foo bar baz", words)], [literal("foo bar baz", "hello world")])
    segment = outcome.transcript.segments[0]
    assert segment.text == "hello world"
    assert [(w.word, w.start, w.end) for w in segment.words or []] == [("hello", 0.0, 0.5), ("world", 0.5, 1)]


def test_rep22_no_words_array_stays_absent() -> None:
    outcome = run([seg(0, 1, "AWS Bytes rocks")], [literal("AWS Bytes", "AWS Bites")])
    assert outcome.transcript.segments[0].text == "AWS Bites rocks"
    assert outcome.transcript.segments[0].words is None
    assert outcome.stats["segments_modified"] == 1


# --- rule keys (REP-23..25) ---


def test_rep23_literal_key() -> None:
    assert rule_key(literal("Owen", "Eoin")) == "Owen->Eoin"


def test_rep24_regex_key() -> None:
    assert rule_key(regex(r"E\s+C\s+2", "EC2")) == r"r'E\s+C\s+2'->EC2"


def test_rep25_arrows_inside_search_and_replacement() -> None:
    assert rule_key(literal("foo->bar", "baz->qux")) == "foo->bar->baz->qux"


# --- replacement counts (REP-26..31) ---


def test_rep26_count_once() -> None:
    assert run([hello_owen()], [literal("Owen", "Eoin")]).stats["replacement_counts"] == {"Owen->Eoin": 1}


def test_rep27_count_twice_in_a_segment() -> None:
    segment = seg(0, 2, "Owen met Owen", [("Owen", 0, 0.3), ("met", 0.3, 0.6), ("Owen", 0.6, 1)])
    assert run([segment], [literal("Owen", "Eoin")]).stats["replacement_counts"] == {"Owen->Eoin": 2}


def test_rep28_count_across_three_segments() -> None:
    segments = [hello_owen(), seg(1, 2, "Owen says hi", [("Owen", 1, 1.3), ("says", 1.3, 1.6), ("hi", 1.6, 2)]),
                seg(2, 3, "Goodbye Owen", [("Goodbye", 2, 2.5), ("Owen", 2.5, 3)])]
    outcome = run(segments, [literal("Owen", "Eoin")])
    assert outcome.stats["replacement_counts"] == {"Owen->Eoin": 3}
    assert outcome.stats["segments_modified"] == 3


def test_rep29_two_rules_two_counts() -> None:
    segments = [
        seg(0, 1, "Owen uses E C 2", [("Owen", 0, 0.2), ("uses", 0.2, 0.4), ("E", 0.4, 0.5), ("C", 0.5, 0.6),
                                      ("2", 0.6, 0.7)]),
        seg(1, 2, "Owen loves E C 2", [("Owen", 1, 1.2), ("loves", 1.2, 1.4), ("E", 1.4, 1.5), ("C", 1.5, 1.6),
                                       ("2", 1.6, 1.7)]),
    ]
    outcome = run(segments, [literal("Owen", "Eoin"), regex(r"E\s+C\s+2", "EC2")])
    assert outcome.stats["replacement_counts"] == {"Owen->Eoin": 2, r"r'E\s+C\s+2'->EC2": 2}
    assert outcome.stats["word_changes"] == 4


def test_rep30_unmatched_rules_absent_from_counts() -> None:
    outcome = run([seg(0, 1, "Hello world", [("Hello", 0, 0.5), ("world", 0.5, 1)])],
                  [literal("Owen", "Eoin"), regex(r"nonexistent\d+", "replaced")])
    assert outcome.stats["replacement_counts"] == {}


def test_rep31_empty_rules_empty_counts() -> None:
    assert run([hello_owen()], []).stats["replacement_counts"] == {}


# --- defect 10: literal means literal; new options ---


def test_rep10_literal_dollar_ampersand_is_literal_defect10() -> None:
    outcome = run([hello_owen()], [literal("Owen", "[$&]")])
    assert outcome.transcript.segments[0].text == "Hello [$&]"


def test_literal_backslash_group_reference_is_literal_defect10() -> None:
    outcome = run([hello_owen()], [literal("Owen", r"\1 $1 $$", ignore_case=True)])
    assert outcome.transcript.segments[0].text == r"Hello \1 $1 $$"


def test_literal_special_characters_in_search_are_literal() -> None:
    segment = seg(0, 1, "I use C++ daily", [("I", 0, 0.2), ("use", 0.2, 0.4), ("C++", 0.4, 0.7), ("daily", 0.7, 1)])
    outcome = run([segment], [literal("C++", "C plus plus", whole_word=True)])
    assert outcome.transcript.segments[0].text == "I use C plus plus daily"


def test_literal_whole_word_skips_longer_words() -> None:
    segment = seg(0, 1, "Owen and Owens, Owen.", [("Owen", 0, 0.3), ("and", 0.3, 0.5), ("Owens,", 0.5, 0.8),
                                                 ("Owen.", 0.8, 1)])
    outcome = run([segment], [literal("Owen", "Eoin", whole_word=True)])
    assert outcome.transcript.segments[0].text == "Eoin and Owens, Eoin."
    assert outcome.stats["replacement_counts"] == {"Owen->Eoin": 2}


def test_literal_without_whole_word_rewrites_inside_words() -> None:
    outcome = run([seg(0, 1, "Owens", [("Owens", 0, 1)])], [literal("Owen", "Eoin")])
    assert outcome.transcript.segments[0].text == "Eoins"


def test_literal_ignore_case() -> None:
    segment = seg(0, 1, "owen and OWEN", [("owen", 0, 0.3), ("and", 0.3, 0.5), ("OWEN", 0.5, 1)])
    outcome = run([segment], [literal("Owen", "Eoin", ignore_case=True)])
    assert outcome.transcript.segments[0].text == "Eoin and Eoin"
    assert outcome.stats["replacement_counts"] == {"Owen->Eoin": 2}


def test_regex_flags_ignorecase() -> None:
    outcome = run([seg(0, 1, "aws lambda", [("aws", 0, 0.5), ("lambda", 0.5, 1)])],
                  [regex(r"\baws\b", "AWS", ["IGNORECASE"]), regex("LAMBDA", "Lambda", ["IGNORECASE"])])
    assert outcome.transcript.segments[0].text == "AWS Lambda"


def test_regex_named_group_and_whole_match() -> None:
    outcome = run([hello_owen()], [regex(r"(?P<name>Owen)", r"<\g<name>|\g<0>>")])
    assert outcome.transcript.segments[0].text == "Hello <Owen|Owen>"


def test_regex_dollar_is_not_a_group_reference() -> None:
    outcome = run([hello_owen()], [regex("(Owen)", "$1")])
    assert outcome.transcript.segments[0].text == "Hello $1"


def test_rules_apply_in_order_on_running_text() -> None:
    outcome = run([hello_owen()], [literal("Owen", "Eoin"), literal("Eoin", "Eoin Shanaghy")])
    assert outcome.transcript.segments[0].text == "Hello Eoin Shanaghy"
    assert outcome.stats["replacement_counts"] == {"Owen->Eoin": 1, "Eoin->Eoin Shanaghy": 1}


# --- defect 11: emptied segments are dropped ---


def test_emptied_segment_is_dropped_defect11() -> None:
    segments = [seg(0, 1, "um", [("um", 0, 1)]), hello_owen(), seg(2, 3, "uh")]
    outcome = run(segments, [regex(r"\b(um|uh)\b", "")])
    assert [s.text for s in outcome.transcript.segments] == ["Hello Owen"]
    assert outcome.stats["segments_emptied"] == 2
    assert outcome.stats["segments_modified"] == 2


def test_unmodified_segment_keeps_leading_space() -> None:
    outcome = run([seg(0, 1, " Hello world", [("Hello", 0, 0.5), ("world", 0.5, 1)])], [literal("Owen", "Eoin")])
    assert outcome.transcript.segments[0].text == " Hello world"


def test_transcript_fields_carried_over() -> None:
    transcript = Transcript(segments=[hello_owen()], word_segments=[{"word": "x"}], extra={"language": "en"})
    outcome = apply_replacements(transcript, [literal("Owen", "Eoin")])
    assert outcome.transcript.word_segments == [{"word": "x"}]
    assert outcome.transcript.extra == {"language": "en"}


# --- speed ---


def three_hour_transcript() -> Transcript:
    segments = []
    vocabulary = ["so", "we", "deployed", "sage", "maker", "with", "Owen", "and", "the", "lambda"]
    for index in range(3000):
        start = index * 3.6
        words = [Word(vocabulary[(index + k) % 10], start + k * 0.4, start + k * 0.4 + 0.3, 0.9, "SPEAKER_00")
                 for k in range(9)]
        segments.append(Segment(start, start + 3.5, " ".join(w.word for w in words), "SPEAKER_00", words))
    return Transcript(segments=segments)


def test_a_three_hour_transcript_is_patched_throughout() -> None:
    # Speed is measured by benchmarks/postprocess.py; this checks the result at episode scale.
    transcript = three_hour_transcript()
    rules: list[Rule] = [literal("Owen", "Eoin", whole_word=True), literal("sage maker", "SageMaker"),
                         regex(r"\blambda\b", "Lambda", ["IGNORECASE"]), literal("zzz", "y")]
    outcome = apply_replacements(transcript, rules)
    assert outcome.stats["segments_modified"] == 3000
    text = " ".join(segment.text for segment in outcome.transcript.segments)
    assert "Owen" not in text and "sage maker" not in text and " lambda" not in text
    assert text.count("SageMaker") == sum(segment.text.count("sage maker") for segment in transcript.segments)
