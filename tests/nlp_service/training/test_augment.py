"""Entity-swap augmentation: well-formed BIO sentences, values kept within intent and type."""

import pytest

from nlp_service.data.schema import Utterance
from nlp_service.text.spans import bio_spans
from nlp_service.training import augment
from nlp_service.training.augment import substitute_entities


def _utterance(intent: str, text: str) -> Utterance:
    """``play [artist:abba] now`` style text to an utterance."""
    words, tags = [], []
    for chunk in text.replace("]", "[").split("["):
        if ":" in chunk:
            kind, value = chunk.split(":", 1)
            for position, word in enumerate(value.split()):
                words.append(word)
                tags.append(("B-" if position == 0 else "I-") + kind)
        else:
            words.extend(chunk.split())
            tags.extend(["O"] * len(chunk.split()))
    return Utterance(tuple(words), tuple(tags), intent)


@pytest.fixture
def examples(monkeypatch):
    monkeypatch.setattr(augment, "OPEN_CLASS_MIN_VALUES", 3)
    music = [
        _utterance("play", f"play [artist:{name}] on [service:spotify]")
        for name in ("abba", "daft punk", "u2")
    ]
    weather = [_utterance("weather", f"rain in [city:{city}]") for city in ("paris", "new york", "rome")]
    return music + weather + [_utterance("play", "stop")]


def test_copies_swap_open_class_values_within_intent_and_type(examples):
    made = substitute_entities(examples, copies=3, seed=1)
    assert made, "some copies differ from their source"
    artists = {("abba",), ("daft", "punk"), ("u2",)}
    cities = {("paris",), ("new", "york"), ("rome",)}
    for utterance in made:
        assert len(utterance.words) == len(utterance.tags)
        assert all(tag == "O" or tag[2:] in {"artist", "service", "city"} for tag in utterance.tags)
        values = {kind: utterance.words[first : last + 1] for kind, first, last in bio_spans(utterance.tags)}
        if utterance.intent == "play":
            assert values["artist"] in artists and values["service"] == ("spotify",)  # closed class kept
            assert utterance.words[0] == "play"
        else:
            assert values["city"] in cities and utterance.words[:2] == ("rain", "in")
    assert all(u.words != ("stop",) for u in made)  # nothing to swap, no copy


def test_copies_are_seeded_and_at_most_copies_per_example_with_entities(examples):
    assert substitute_entities(examples, 2, seed=7) == substitute_entities(examples, 2, seed=7)
    assert substitute_entities(examples, 2, seed=7) != substitute_entities(examples, 2, seed=8)
    assert len(substitute_entities(examples, 4, seed=7)) <= 4 * 6


def test_a_copy_equal_to_its_source_is_dropped(monkeypatch):
    monkeypatch.setattr(augment, "OPEN_CLASS_MIN_VALUES", 1)
    assert substitute_entities([_utterance("play", "play [artist:abba]")], copies=5, seed=1) == []


def test_no_copies_and_bad_counts():
    assert substitute_entities([_utterance("play", "play [artist:abba]")], 0, seed=1) == []
    with pytest.raises(ValueError, match="augment_copies must be 0 or more"):
        substitute_entities([], -1, seed=1)
