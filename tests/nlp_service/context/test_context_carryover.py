"""The carry-over rules alone, without Redis."""

from __future__ import annotations

import pytest

from nlp_service.context.carryover import is_follow_up, is_fragment, resolve
from nlp_service.context.conversation import Turn
from nlp_service.inference.result import IntentScore
from tests.nlp_service.context.context_helpers import (
    LEAVE,
    LEAVE_ENTITIES,
    ent,
    leave_request,
    parse,
    same_dates_for_bob,
)


def _leave_turn() -> Turn:
    return Turn(LEAVE, "approve_leave", 0.93, False, list(LEAVE_ENTITIES), 1.0)


def _leave_context() -> dict:
    return {e.type: e for e in LEAVE_ENTITIES}


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        ("same dates for Bob", ["Bob"]),
        ("and for Bob too", ["Bob"]),
        ("also for Maria", ["Maria"]),
        ("do the same for INV-2201", ["INV-2201"]),
        ("what about next week?", ["next week"]),
        ("for Bob", ["Bob"]),
        ("next week then?", ["next week"]),
        ("those for Dana as well", ["Dana"]),
        ("do that again", []),
    ],
)
def test_follow_ups_are_detected(text: str, spans: list[str]) -> None:
    assert is_follow_up(text, [ent(text, s, "x") for s in spans])


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        # A new request: content words, no cue.
        ("approve leave for Bob", ["Bob"]),
        ("show me invoice INV-2201", ["INV-2201"]),
        # Cue words but nothing new and nothing to repeat: must not replay the last request.
        ("thank you too", []),
        ("what about it?", []),
        # A weak cue in a long sentence is a relative pronoun, not a reference.
        ("show me the invoice INV-22 that Bob sent last week", ["INV-22", "Bob", "last week"]),
        # A long sentence is a new request even with "also".
        ("also please create an invoice for Acme for 500 dollars due next Friday and email Dana", ["Acme"]),
        # A cue inside an entity is part of a name, not a reference.
        ("pay Same Day Couriers Ltd", ["Same Day Couriers Ltd"]),
        ("", []),
    ],
)
def test_new_requests_are_not_follow_ups(text: str, spans: list[str]) -> None:
    assert not is_follow_up(text, [ent(text, s, "x") for s in spans])


def test_fragment_needs_an_entity_and_only_function_words() -> None:
    assert is_fragment("for Bob please", [ent("for Bob please", "Bob", "person")])
    assert not is_fragment("ok then", [])
    assert not is_fragment("approve Bob", [ent("approve Bob", "Bob", "person")])


def test_same_dates_for_bob_inherits_intent_and_carries_dates() -> None:
    text, result = same_dates_for_bob()
    resolution = resolve(text, result, _leave_turn(), _leave_context())
    out = resolution.result
    assert resolution.follow_up and resolution.intent_inherited
    assert (out.intent, out.confidence, out.out_of_scope) == ("approve_leave", 0.93, False)
    assert out.entities == result.entities
    assert [e.type for e in out.carried_entities] == ["date_range"]
    carried = out.carried_entities[0]
    assert LEAVE[carried.start : carried.end] == carried.text  # offsets into the earlier turn
    # What the model said about the utterance alone stays visible.
    assert out.alternatives[0] == IntentScore("oos", 0.2)
    # Bob replaces Alice; the dates stay in context.
    assert resolution.context["person"].text == "Bob"
    assert resolution.context["date_range"] == LEAVE_ENTITIES[1]
    # The input is not modified.
    assert result.intent == "oos" and result.carried_entities == []


def test_do_the_same_is_a_fragment_and_repeats_the_intent() -> None:
    text = "do the same for INV-2201"
    result = parse("pay_invoice", 0.88, ent(text, "INV-2201", "invoice_id"))
    resolution = resolve(text, result, _leave_turn(), _leave_context())
    assert resolution.intent_inherited and resolution.result.intent == "approve_leave"


def test_confident_follow_up_keeps_its_own_intent() -> None:
    text = "also pay INV-2201"
    result = parse("pay_invoice", 0.88, ent(text, "INV-2201", "invoice_id"))
    resolution = resolve(text, result, _leave_turn(), _leave_context())
    assert resolution.follow_up and not resolution.intent_inherited
    assert resolution.result.intent == "pay_invoice"
    assert [e.type for e in resolution.result.carried_entities] == ["date_range", "person"]


def test_fragment_inherits_even_when_confident() -> None:
    text = "for Bob"
    result = parse("transfer_money", 0.9, ent(text, "Bob", "person"))
    resolution = resolve(text, result, _leave_turn(), _leave_context())
    assert resolution.intent_inherited and resolution.result.intent == "approve_leave"


def test_out_of_scope_previous_turn_gives_no_intent() -> None:
    previous = Turn("blah blah", "oos", 0.1, True, [], 1.0)
    text, result = same_dates_for_bob()
    resolution = resolve(text, result, previous, {})
    assert resolution.follow_up and not resolution.intent_inherited
    assert resolution.result.out_of_scope and resolution.result.carried_entities == []


def test_new_request_carries_nothing_and_replaces_the_context() -> None:
    text = "show me invoice INV-2201"
    result = parse("show_invoice", 0.91, ent(text, "INV-2201", "invoice_id"))
    resolution = resolve(text, result, _leave_turn(), _leave_context())
    assert not resolution.follow_up
    assert resolution.result.carried_entities == []
    assert resolution.result.intent == "show_invoice"
    assert list(resolution.context) == ["invoice_id"]


def test_first_turn_is_returned_as_is() -> None:
    text, result = leave_request()
    resolution = resolve(text, result, None, {})
    assert resolution.result == result and not resolution.follow_up
    assert set(resolution.context) == {"person", "date_range"}
