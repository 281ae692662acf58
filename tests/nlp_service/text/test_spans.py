"""BIO decoding: entity grouping matches seqeval, and offsets always point at the typed text."""

from __future__ import annotations

import random
from datetime import date

import pytest
from seqeval.metrics.sequence_labeling import get_entities

from nlp_service.text.entity import Entity
from nlp_service.text.spans import bio_spans, decode_entities, entities_to_tags
from nlp_service.text.words import split_words

REFERENCE = date(2026, 11, 28)  # a Saturday


def decode(text: str, tags_by_word: dict[str, str] | list[str]) -> list[Entity]:
    """Decode ``text``; tags as a full list or as {word index as str: tag} for the non-O words."""
    words = split_words(text)
    if isinstance(tags_by_word, dict):
        tags = [tags_by_word.get(str(index), "O") for index in range(len(words))]
    else:
        tags = tags_by_word
    entities = decode_entities(text, words, tags, REFERENCE)
    for entity in entities:
        assert text[entity.start : entity.end] == entity.text
    return entities


def summary(entities: list[Entity]) -> list[tuple[str, str, int, int]]:
    return [(e.type, e.text, e.start, e.end) for e in entities]


def test_punctuation_next_to_entities_stays_outside_them() -> None:
    text = "Pay INV-1042, to (Acme) today."
    # words: Pay INV-1042 , to ( Acme ) today .
    entities = decode(text, {"1": "B-invoice_id", "5": "B-vendor", "7": "B-date"})
    assert summary(entities) == [
        ("invoice_id", "INV-1042", 4, 12),
        ("vendor", "Acme", 18, 22),
        ("date", "today", 24, 29),
    ]
    assert [e.value for e in entities] == ["INV-1042", "Acme", "2026-11-28"]


def test_span_covering_punctuation_keeps_it_as_typed() -> None:
    text = "refund $12,400 now"
    entities = decode(text, ["O", "B-amount", "I-amount", "O"])
    assert summary(entities) == [("amount", "$12,400", 7, 14)]
    assert entities[0].value == {"amount": 12400.0, "currency": "USD"}


@pytest.mark.parametrize(
    ("text", "tags_by_word", "expected"),
    [
        ("Send it to Zoë Müller today", {"3": "B-employee", "4": "I-employee"}, ("Zoë Müller", 11, 21)),
        ("meet at the naïve café 🎉 ok", {"3": "B-location", "4": "I-location"}, ("naïve café", 12, 22)),
        ("🎉🎉 ping Zoë", {"3": "B-employee"}, ("Zoë", 8, 11)),
        # "Zoe" + a combining diaeresis: three words, one entity, characters kept exactly.
        ("ask Zoe\u0308 Müller", {"1": "B-employee", "2": "I-employee", "3": "I-employee"}, None),
    ],
)
def test_unicode_offsets_are_string_indices(
    text: str, tags_by_word: dict[str, str], expected: tuple[str, int, int] | None
) -> None:
    (entity,) = decode(text, tags_by_word)
    if expected is None:
        expected = ("Zoe\u0308 Müller", 4, len(text))
    assert (entity.text, entity.start, entity.end) == expected


def test_repeated_words_point_at_the_tagged_occurrence() -> None:
    text = "Bob and Bob"
    (second,) = decode(text, ["O", "O", "B-employee"])
    assert (second.start, second.end) == (8, 11)
    first, other = decode(text, ["B-employee", "O", "B-employee"])
    assert (first.start, other.start) == (0, 8)


def test_inner_spaces_and_tabs_are_kept_and_outer_whitespace_is_not() -> None:
    text = "  Book\t\tleave  from   March 3   to 7  \n"
    words = split_words(text)
    assert [w.text for w in words] == ["Book", "leave", "from", "March", "3", "to", "7"]
    (entity,) = decode(text, ["O", "O", "O", "B-date_range", "I-date_range", "I-date_range", "I-date_range"])
    assert entity.text == "March 3   to 7"
    assert entity.value == {"start": "2027-03-03", "end": "2027-03-07"}


def test_i_tag_without_b_starts_an_entity() -> None:
    entities = decode("pay Acme Corp now", ["O", "I-vendor", "I-vendor", "O"])
    assert summary(entities) == [("vendor", "Acme Corp", 4, 13)]


def test_adjacent_b_tags_of_one_type_are_two_entities() -> None:
    entities = decode("cc Ann Bob please", ["O", "B-employee", "B-employee", "O"])
    assert summary(entities) == [("employee", "Ann", 3, 6), ("employee", "Bob", 7, 10)]


def test_i_tag_of_another_type_starts_a_new_entity() -> None:
    entities = decode("Acme 4411", ["B-vendor", "I-invoice_id"])
    assert summary(entities) == [("vendor", "Acme", 0, 4), ("invoice_id", "4411", 5, 9)]


def test_entity_at_the_very_end_and_start() -> None:
    entities = decode("Acme owes 250", ["B-vendor", "O", "B-quantity"])
    assert summary(entities) == [("vendor", "Acme", 0, 4), ("quantity", "250", 10, 13)]
    assert entities[1].value == 250


def test_no_words_no_entities() -> None:
    assert decode_entities("   ", split_words("   "), [], REFERENCE) == []


def test_tag_count_must_match_word_count() -> None:
    text = "pay Acme"
    with pytest.raises(ValueError, match="1 tags for 2 words"):
        decode_entities(text, split_words(text), ["O"], REFERENCE)


@pytest.mark.parametrize("bad_tag", ["B-", "X-vendor", "vendor", "E-vendor", "b-vendor", ""])
def test_malformed_tags_are_rejected(bad_tag: str) -> None:
    text = "pay Acme"
    with pytest.raises(ValueError, match="not a BIO tag"):
        decode_entities(text, split_words(text), ["O", bad_tag], REFERENCE)


def test_words_from_another_text_are_rejected() -> None:
    with pytest.raises(ValueError, match="is not at"):
        decode_entities("pay Acme", split_words("pay  Acme"), ["O", "B-vendor"], REFERENCE)


def test_tag_types_may_contain_dashes() -> None:
    (entity,) = decode("book sick leave", ["O", "B-leave-type", "I-leave-type"])
    assert (entity.type, entity.text) == ("leave-type", "sick leave")


def test_value_is_none_when_the_text_cannot_be_read() -> None:
    (entity,) = decode("due blorp", ["O", "B-date"])
    assert entity.text == "blorp"
    assert entity.value is None


def test_entities_to_tags_inverts_decoding() -> None:
    text = "Pay INV-1042, to (Acme Corp) by March 3"
    words = split_words(text)
    tags = ["O", "B-invoice_id", "O", "O", "O", "B-vendor", "I-vendor", "O", "O", "B-date", "I-date"]
    entities = decode_entities(text, words, tags, REFERENCE)
    assert entities_to_tags(words, entities) == tags


def test_entities_to_tags_rejects_misaligned_and_overlapping_entities() -> None:
    words = split_words("pay Acme Corp")
    with pytest.raises(ValueError, match="does not align"):
        entities_to_tags(words, [Entity("vendor", "Acm", 4, 7)])
    with pytest.raises(ValueError, match="overlaps"):
        entities_to_tags(words, [Entity("vendor", "Acme Corp", 4, 13), Entity("vendor", "Corp", 9, 13)])


_TAG_POOL = ["O", "O", "B-a", "I-a", "B-b", "I-b"]
_TOKEN_POOL = [
    "pay",
    "INV-1042",
    ",",
    "(",
    "Acme",
    ")",
    "Zoë",
    "Müller",
    "🎉",
    "$",
    "12,400.50",
    "Bob",
    "naïve",
]
_GAPS = ["", " ", "  ", "\t", " \n ", "\u00a0", "\u3000"]


def test_grouping_matches_seqeval_default_mode() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        tags = [rng.choice(_TAG_POOL) for _ in range(rng.randint(0, 12))]
        assert bio_spans(tags) == [tuple(span) for span in get_entities(tags)], tags


def test_offsets_round_trip_on_random_texts() -> None:
    """Any text, any tags: every entity's text is the text at its offsets, and tags re-encode."""
    rng = random.Random(11)
    for _ in range(500):
        pieces = [rng.choice(_GAPS)]
        for _ in range(rng.randint(1, 10)):
            pieces += [rng.choice(_TOKEN_POOL), rng.choice(_GAPS[1:])]
        text = "".join(pieces)
        words = split_words(text)
        tags = [rng.choice(_TAG_POOL) for _ in words]
        entities = decode_entities(text, words, tags, REFERENCE)
        for entity in entities:
            assert text[entity.start : entity.end] == entity.text
            assert entity.text == entity.text.strip()
        again = decode_entities(text, words, entities_to_tags(words, entities), REFERENCE)
        assert again == entities
