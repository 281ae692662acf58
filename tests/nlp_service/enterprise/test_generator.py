"""Tests of the enterprise data generator and of the committed data it produced."""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path

import pytest

from nlp_service.data.schema import OUTSIDE_TAG
from nlp_service.data.seqio import SPLIT_NAMES, load_seq_folder
from nlp_service.enterprise import lexicon
from nlp_service.enterprise.fillers import FILLERS, MASHES
from nlp_service.enterprise.generator import DATA_DIR, Example, dedup_key, generate, generate_examples, main
from nlp_service.enterprise.labels import ALL_LABELS, ENTITY_TYPES, INTENTS, OOS_LABEL, agent_of
from nlp_service.enterprise.splits import partition_templates
from nlp_service.enterprise.tagging import Span, bio_tags, join
from nlp_service.enterprise.template import Segment, check, render
from nlp_service.enterprise.templates import TEMPLATES
from nlp_service.enterprise.values import ValueSource, listed_values, split_values
from nlp_service.text.words import words_of

DATA_FILES = (
    *(f"{split}/{name}" for split in SPLIT_NAMES for name in ("seq.in", "seq.out", "label")),
    "intent_label.txt",
    "slot_label.txt",
)


@pytest.fixture(scope="module")
def examples() -> dict[str, list[Example]]:
    return generate_examples()


@pytest.fixture(scope="module")
def committed():
    return load_seq_folder(DATA_DIR)


# --- determinism and the committed files ------------------------------------------------


def test_generate_is_deterministic() -> None:
    assert generate(13) == generate(13)


def test_another_seed_gives_other_valid_data() -> None:
    other = generate(7)
    assert other != generate(13)
    for split in SPLIT_NAMES:
        assert {t[2:] for u in other[split] for t in u.tags if t != OUTSIDE_TAG} == set(ENTITY_TYPES)


def test_committed_files_equal_a_fresh_generation(tmp_path: Path) -> None:
    assert main(["--out", str(tmp_path), "--seed", "13"]) == 0
    for name in DATA_FILES:
        assert (tmp_path / name).read_bytes() == (DATA_DIR / name).read_bytes(), f"{name} drifted: regenerate"


def test_label_files_list_the_labels(committed) -> None:
    intents = (DATA_DIR / "intent_label.txt").read_text(encoding="utf-8").split()
    assert intents == sorted(ALL_LABELS)
    tags = (DATA_DIR / "slot_label.txt").read_text(encoding="utf-8").split()
    assert tags[0] == OUTSIDE_TAG and tags[1:] == sorted(tags[1:])
    assert {t[2:] for t in tags[1:]} == set(ENTITY_TYPES)
    assert set(tags) == {t for split in SPLIT_NAMES for u in committed.split(split) for t in u.tags}


# --- coverage and sizes ----------------------------------------------------------------


@pytest.mark.parametrize("split", SPLIT_NAMES)
def test_every_intent_and_entity_type_in_each_split(committed, split: str) -> None:
    assert committed.intents(split) == sorted(ALL_LABELS)
    assert committed.slot_types(split) == sorted(ENTITY_TYPES)


def test_split_sizes_and_out_of_scope_share(committed) -> None:
    sizes = {split: len(committed.split(split)) for split in SPLIT_NAMES}
    assert 5500 <= sizes["train"] <= 7500  # small enough for the first-start model to train in minutes
    assert 1200 <= sizes["dev"] <= 1700 and 1200 <= sizes["test"] <= 1700
    for split in SPLIT_NAMES:
        share = sum(u.intent == OOS_LABEL for u in committed.split(split)) / sizes[split]
        assert 0.18 <= share <= 0.22
    assert committed.oos_label == OOS_LABEL


def test_examples_per_in_scope_intent(committed) -> None:
    for split, (low, high) in {"train": (120, 150), "dev": (25, 40), "test": (25, 40)}.items():
        counts = Counter(u.intent for u in committed.split(split))
        assert all(low <= counts[intent] <= high for intent in INTENTS), (split, counts)


def test_intents_route_to_the_fifteen_agents() -> None:
    assert len({agent_of(i) for i in INTENTS}) == 15
    assert set(TEMPLATES) == set(ALL_LABELS)


# --- separation of the splits ----------------------------------------------------------


def test_many_phrasings_per_intent_and_many_out_of_scope_requests() -> None:
    for intent in INTENTS:
        assert len(TEMPLATES[intent]) >= 40, intent
    assert len(TEMPLATES[OOS_LABEL]) >= 600


_MASH = "|".join(MASHES)
_GIBBERISH_WORD = rf"(?:[bcdfghjklmnprstvwxz](?:[aeiou][bcdfghjklmnprstvwxz])*[aeiou]?|(?:{_MASH}){{1,2}})"


def _slot_pattern(piece: str) -> str:
    """What a ``{slot}`` or ``<filler>`` can render: its closed list of values, else any words."""
    if piece == "{a}":
        return "an?"
    if piece.startswith("<"):
        name = piece[1:-1]
        if name == "number":
            return r"\d+"
        if name == "gibberish":
            return rf"{_GIBBERISH_WORD}(?: {_GIBBERISH_WORD}){{0,3}}"
        return "(?:" + "|".join(re.escape(v) for v in FILLERS[name]) + ")"
    values = listed_values(piece[1:-1])
    return "(?:" + "|".join(re.escape(v) for v in values) + ")" if values else ".+?"


def _template_pattern(template: str) -> re.Pattern[str]:
    """A regex for the sentences ``template`` can render (before noise), ignoring case and spacing."""

    def plain(text: str) -> str:
        parts = []
        for piece in re.split(r"(\{\w+(?::\w+)?\}|<\w+>)", text):
            if piece.startswith(("{", "<")):
                parts.append(_slot_pattern(piece))
            else:
                parts.append(r"\s*".join(re.escape(word) for word in piece.split(" ")))
        return "".join(parts)

    body = re.sub(
        r"\(([^()]*)\)",
        lambda m: "\x00" + "|".join(plain(o) for o in m.group(1).split("|")) + "\x01",
        template,
    )
    chunks = re.split(r"(\x00[^\x01]*)\x01", body)
    pattern = "".join("(?:" + c[1:] + ")" if c.startswith("\x00") else plain(c) for c in chunks)
    return re.compile(rf"\s*{pattern}\s*[.?!]*", re.IGNORECASE)


# Phrasings like those a trial with people outside the project got wrong (paraphrased here, not
# copied from the evaluation sets), and near misses that share words with an intent but not its
# meaning: each must be a sentence that some template of the right label can produce.
_MUST_COVER = {
    "hr.payroll_question": (
        "where can I download my W-2", "update my direct deposit info", "payday?",
        "where can I get a copy of my W2", "I need my old W-2",
        "how do I move my direct deposit to another bank", "sign up for direct deposit for my salary",
    ),
    "hr.leave_request": (
        "can you help me put in a PTO request", "pto fri", "I won't be in on Monday",
        "I'd love to take next week off", "could I go on vacation the whole of August",
        "please put in for PTO on Friday",
        "I want to use some of my vacation time for a trip next month",
    ),
    "communication.send_email": ("email Priya Patel", "answer the email from Tom", "reply to this mail"),
    "scheduling.resource_booking": (
        "reserve a conference room on Friday at 4:30", "get me a conference room at 3pm",
        "I'd like to book a meeting room for tomorrow",
    ),
    "scheduling.meeting_schedule": (
        "help me organize a meeting", "schedule a team meeting", "can we schedule a call",
    ),
    "learning.classification_feedback": ("nope, this should have been a payroll question",),
    "recovery.rollback": ("reset Salesforce back to the last known good config",),
    "security.incident_report": ("someone claiming to be Globex asked us to change their bank details",),
    OOS_LABEL: (
        "set an alarm for 6am", "wake me up at seven", "switch off my wemo socket",
        "turn off the hallway lights", "reboot my router", "when should I leave for the office",
        "leave the lights on", "traffic update for tonight", "give me the weather report",
        "read me the sports report", "subtract sixty from 75", "what's 15% of 80",
        "transfer $50 to my savings", "book a table for two", "book a flight to Paris", "play my playlist",
        "text mom I'm late", "what's my credit card balance", "what's the status of my etsy order",
        # personal bookings are not resource bookings
        "book a table at the diner for 4 tonight", "I need a rental car when I land",
        "reserve a room at the hilton for the weekend", "book me a haircut for saturday",
        "are there any tickets left for the opera",
        # bare replies are not classification feedback
        "nope", "yeah", "i dunno", "that's correct", "wrong", "forget it", "okay thanks", "you're right",
        # personal money, gadgets, messages and fraud
        "what's the minimum payment on my amex", "when is my credit card bill due",
        "what's the apr on my visa", "how many rewards points do I have", "reset my network settings",
        "factory reset my iphone",
        "send my live location to my wife", "text my sister happy birthday",
        "someone stole my card number", "report fraud on my debit card",
    ),
}  # fmt: skip


@pytest.mark.parametrize("label", sorted(_MUST_COVER))
def test_reported_misses_and_near_misses_have_templates(label: str) -> None:
    patterns = [_template_pattern(t) for t in TEMPLATES[label]]
    for sentence in _MUST_COVER[label]:
        assert any(p.fullmatch(sentence) for p in patterns), f"no {label} template for {sentence!r}"


def test_templates_are_partitioned_per_intent() -> None:
    partition = partition_templates(TEMPLATES, 13)
    for intent, templates in TEMPLATES.items():
        assert len(templates) >= 12, intent
        parts = [set(partition[split][intent]) for split in SPLIT_NAMES]
        assert all(parts), f"{intent} lacks a template in some split"
        assert sum(map(len, parts)) == len(templates) == len(set().union(*parts))


def test_no_template_or_utterance_shared_between_splits(examples) -> None:
    templates = {split: {e.template for e in examples[split]} for split in SPLIT_NAMES}
    keys = {split: [dedup_key(e.utterance) for e in examples[split]] for split in SPLIT_NAMES}
    for split in SPLIT_NAMES:
        assert len(set(keys[split])) == len(keys[split]), f"duplicate utterance in {split}"
    for a, b in (("train", "dev"), ("train", "test"), ("dev", "test")):
        assert not templates[a] & templates[b]
        assert not set(keys[a]) & set(keys[b])


def test_held_out_values_only_in_dev_and_test(examples) -> None:
    held = {v.lower() for values in (lexicon.VENDORS, lexicon.SYSTEMS) for v in split_values(values)[1]}
    seen = {
        split: {e.rendered.value(s).lower() for e in examples[split] for s in e.rendered.spans} & held
        for split in SPLIT_NAMES
    }
    assert not seen["train"]
    assert seen["dev"] and seen["test"]


# --- tags ------------------------------------------------------------------------------


@pytest.mark.parametrize("split", SPLIT_NAMES)
def test_tags_are_valid_bio(committed, split: str) -> None:
    for u in committed.split(split):
        previous = OUTSIDE_TAG
        for tag in u.tags:
            if tag.startswith("I-"):
                assert previous in (f"B-{tag[2:]}", tag), f"{tag} after {previous} in {u.text!r}"
            previous = tag


@pytest.mark.parametrize("split", SPLIT_NAMES)
def test_committed_words_are_what_the_server_splits(committed, split: str) -> None:
    for u in committed.split(split):
        assert tuple(words_of(u.text)) == u.words


def test_words_come_from_split_words_of_the_raw_text(examples) -> None:
    for split in SPLIT_NAMES:
        for e in examples[split]:
            assert e.utterance.words == tuple(words_of(e.rendered.text))


def _entities_from_tags(words: tuple[str, ...], tags: tuple[str, ...]) -> list[tuple[str, list[str]]]:
    entities: list[tuple[str, list[str]]] = []
    for word, tag in zip(words, tags, strict=True):
        if tag.startswith("B-"):
            entities.append((tag[2:], [word]))
        elif tag.startswith("I-"):
            entities[-1][1].append(word)
    return entities


def test_entity_tags_reconstruct_the_span_values(examples) -> None:
    for split in SPLIT_NAMES:
        for e in examples[split]:
            u = e.utterance
            expected = [(s.type, words_of(e.rendered.value(s))) for s in e.rendered.spans]
            assert _entities_from_tags(u.words, u.tags) == expected, e.rendered.text


def test_rendered_spans_hold_the_sampled_values() -> None:
    rng = random.Random(0)
    values = ValueSource(evaluation=False)
    for template in TEMPLATES["finance.invoice_process"] + TEMPLATES["hr.leave_request"]:
        segments = render(template, rng, values)
        text, spans = join(segments)
        sampled = [s.text for s in segments if s.entity is not None]
        assert [text[s.start : s.end] for s in spans] == sampled
        assert [s.type for s in spans] == [s.entity for s in segments if s.entity is not None]


def test_amount_includes_its_currency_and_quantity_is_a_number(examples) -> None:
    for e in examples["train"]:
        for span in e.rendered.spans:
            value = e.rendered.value(span)
            if span.type == "quantity":
                assert re.fullmatch(r"[\d,]+", value), value
            if span.type == "amount":
                assert re.search(r"\d", value), value


def test_no_broken_articles_or_spacing(examples) -> None:
    bad = re.compile(r"\b(the the|a a|a an|an a|a the|an the)\b|  |^\s|\s$", re.IGNORECASE)
    for split in SPLIT_NAMES:
        for e in examples[split]:
            assert not bad.search(e.rendered.text), e.rendered.text


# --- building blocks -------------------------------------------------------------------


def test_bio_tags_reject_a_word_crossing_an_entity_edge() -> None:
    text = "pay INV-1042's total"
    with pytest.raises(ValueError, match="crosses"):
        bio_tags(text, (Span("invoice_id", 4, 12),))


def test_bio_tags_split_amounts_like_the_server() -> None:
    text, spans = join(
        [Segment("pay "), Segment("$12,400", "amount"), Segment(" to "), Segment("Acme Corp", "vendor")]
    )
    words, tags = bio_tags(text, spans)
    assert words == ["pay", "$", "12,400", "to", "Acme", "Corp"]
    assert tags == ["O", "B-amount", "I-amount", "O", "B-vendor", "I-vendor"]


@pytest.mark.parametrize(
    "template",
    ["pay {nonsense}", "pay {amount:weird}", "(a|(b|c))", "say <nothing>", "pay {amount", "(open"],
)
def test_check_rejects_malformed_templates(template: str) -> None:
    with pytest.raises(ValueError):
        check(template)


def test_article_fits_the_next_word() -> None:
    rng = random.Random(3)
    values = ValueSource(evaluation=False)
    for _ in range(50):
        text, _spans = join(render("draft {a} {document_type}", rng, values))
        article, noun = text.split(" ", 2)[1:3]
        assert article == (
            "an" if noun[0] in "aeiouAEIOU" or noun.startswith(("NDA", "MSA", "SOW")) else "a"
        ), text
