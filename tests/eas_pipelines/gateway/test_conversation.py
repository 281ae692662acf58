"""Conversation follow-ups through the gateway: "same dates for Bob" after a leave request for Dana.

The real NLP service (the session's tiny model) on a real socket, its conversation context in the
session's real Redis under this test's key prefix, the real store; nothing is mocked. The tiny model
reads "book vacation for <name> next week" as hr.leave_request with an ``employee`` and a
``date_range`` (see tests/support/tiny_model.py), which is what a leave follow-up needs. It knows
only the names of its training set, so the first person is Dana, not Alice (the shipped model reads
any name); alone, it reads "same dates for Bob" as out of scope, so the follow-up also shows the
intent carried over from the turn before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from eas_pipelines.agents.common import WorkItem
from eas_pipelines.agents.hr.leave import leave_dates
from eas_pipelines.gateway.nlp_client import Classification, NLPClient, ParsedEntity
from eas_pipelines.gateway.schemas import (
    CONVERSATION_ID_MAX_LENGTH,
    CONVERSATION_ID_PATTERN,
    check_conversation_id,
)
from eas_pipelines.gateway.triage import decide
from eas_pipelines.store import RequestRecord, RequestStore
from nlp_service.context import conversation as nlp_conversation
from nlp_service.inference.parser import NLUParser
from nlp_service.server.app import create_app as create_nlp_app
from tests.eas_pipelines.gateway.conftest import bearer, submit_headers
from tests.eas_pipelines.gateway.servers import ServerThread, free_port
from tests.nlp_service.server.server_helpers import make_settings

FIRST = "book vacation for Dana next week"
FOLLOW_UP = "same dates for Bob"


@pytest.fixture
def start_context_nlp(
    nlp_parser: NLUParser, tiny_model_dir: Path, redis_url: str, redis_key_prefix: str
) -> Iterator[Callable[..., ServerThread]]:
    """Start NLP servers whose conversations live in the session's Redis under this test's prefix.

    Every server started here shares that context, as replicas behind one Redis do in production.
    """
    started: list[ServerThread] = []

    def start(port: int | None = None) -> ServerThread:
        settings = make_settings(
            tiny_model_dir,
            batch_wait_ms=0.0,
            redis_url=redis_url,
            context_key_prefix=f"{redis_key_prefix}nlp:",
        )
        server = ServerThread(create_nlp_app(settings, parser=nlp_parser), port).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def context_gateway(
    make_gateway: Callable[..., Any], start_context_nlp: Callable[..., ServerThread]
) -> Iterator[TestClient]:
    with make_gateway([start_context_nlp().url]) as client:
        yield client


def submit(gateway: TestClient, key: str, text: str, **fields: Any) -> Any:
    return gateway.post("/v1/requests", json={"text": text, **fields}, headers=submit_headers(key))


def by_type(entities: list[dict[str, Any]], entity_type: str) -> list[dict[str, Any]]:
    return [e for e in entities if e["type"] == entity_type]


def work_item(record: RequestRecord) -> WorkItem:
    """The request as a workflow's ops see it (built from the stored record as the skeleton does)."""
    return WorkItem(
        request_id=record.id,
        agent=record.agent or "",
        intent=record.intent or "",
        text=record.text,
        client_id=record.client_id,
        priority=int(record.effective_priority),
        entities=tuple(dict(e) for e in record.entities),
        attempts=record.attempts,
        run_id="test",
        requested_on=record.created_at.astimezone(UTC).date(),
    )


def test_same_dates_for_bob_inherits_the_dates_of_the_leave_before(
    context_gateway: TestClient, request_store: RequestStore
) -> None:
    first = submit(context_gateway, "conv-1", FIRST, conversation_id="chat-leave-1")
    assert first.status_code == 201, first.text
    dana = first.json()
    assert dana["intent"] == "hr.leave_request"  # the tiny model's precondition
    assert [e["text"] for e in by_type(dana["entities"], "employee")] == ["Dana"]
    (dates,) = by_type(dana["entities"], "date_range")
    assert dates["text"] == "next week" and not dates["inherited"]
    assert dana["conversation_id"] == "chat-leave-1"

    second = submit(context_gateway, "conv-2", FOLLOW_UP, conversation_id="chat-leave-1")

    assert second.status_code == 201, second.text
    bob = second.json()
    assert (bob["status"], bob["intent"], bob["workflow"]) == (
        "queued",
        "hr.leave_request",
        "hr_leave_request",
    )
    assert bob["conversation_id"] == "chat-leave-1"
    (employee,) = by_type(bob["entities"], "employee")
    assert (employee["text"], employee["inherited"]) == ("Bob", False)
    (carried,) = by_type(bob["entities"], "date_range")
    assert carried["inherited"] is True
    assert {k: carried[k] for k in ("text", "start", "end", "value")} == {
        k: dates[k] for k in ("text", "start", "end", "value")
    }  # offsets point into the first turn's text
    assert FIRST[carried["start"] : carried["end"]] == "next week"

    # What the routed workflow gets: the stored request holds Bob and Dana's dates.
    stored = request_store.get(bob["id"])
    assert any(e.get("inherited") for e in stored.entities)
    item = work_item(stored)
    assert item.texts("employee") == ["Bob"]
    start, end = leave_dates(item)
    assert (start.isoformat(), end.isoformat()) == (dates["value"]["start"], dates["value"]["end"])

    # Kept with the request (its own column), shown when it is read back or listed, and audited.
    assert stored.conversation_id == "chat-leave-1"
    fetched = context_gateway.get(f"/v1/requests/{bob['id']}", headers=bearer()).json()
    assert fetched["conversation_id"] == "chat-leave-1"
    (received,) = [a for a in fetched["audit"] if a["action"] == "request.received"]
    assert received["detail"]["conversation_id"] == "chat-leave-1"
    listed = context_gateway.get("/v1/requests?limit=5", headers=bearer()).json()["items"]
    assert {item["id"]: item["conversation_id"] for item in listed}[bob["id"]] == "chat-leave-1"
    assert (
        context_gateway.get(f"/v1/requests/{bob['id']}?include=", headers=bearer()).json()["conversation_id"]
        == "chat-leave-1"
    )


def test_the_same_words_outside_the_conversation_inherit_nothing(context_gateway: TestClient) -> None:
    submit(context_gateway, "other-1", FIRST, conversation_id="chat-leave-2")

    elsewhere = submit(context_gateway, "other-2", FOLLOW_UP, conversation_id="chat-leave-3").json()
    alone = submit(context_gateway, "other-3", FOLLOW_UP).json()

    for body in (elsewhere, alone):
        assert by_type(body["entities"], "date_range") == []
        assert not any(e["inherited"] for e in body["entities"])
    assert alone["conversation_id"] is None


def test_a_started_conversation_gets_an_id_the_follow_up_continues(
    context_gateway: TestClient, request_store: RequestStore
) -> None:
    started = submit(context_gateway, "start-1", FIRST, start_conversation=True)
    assert started.status_code == 201, started.text
    conversation_id = started.json()["conversation_id"]
    assert conversation_id and re.fullmatch(CONVERSATION_ID_PATTERN, conversation_id)

    again = submit(context_gateway, "start-1", FIRST, start_conversation=True)  # a retry of the same key
    follow_up = submit(context_gateway, "start-2", FOLLOW_UP, conversation_id=conversation_id).json()

    assert again.status_code == 200
    assert again.json()["conversation_id"] == conversation_id  # started once, not once per retry
    assert request_store.get(again.json()["id"]).conversation_id == conversation_id
    assert [e["inherited"] for e in by_type(follow_up["entities"], "date_range")] == [True]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"conversation_id": "chat 42"}, "conversation_id", "may only contain"),
        ({"conversation_id": "chat/42"}, "conversation_id", "may only contain"),
        ({"conversation_id": ""}, "conversation_id", "at least 1"),
        ({"conversation_id": "c" * (CONVERSATION_ID_MAX_LENGTH + 1)}, "conversation_id", "at most 128"),
        ({"conversation_id": 42}, "conversation_id", "valid string"),
        ({"conversation_id": "chat-1", "start_conversation": True}, "start_conversation", "cannot be true"),
        ({"start_conversation": "yes"}, "start_conversation", "valid boolean"),
        ({"conversationId": "chat-1"}, "conversationId", "Extra inputs"),
    ],
)
def test_a_bad_conversation_is_a_422_naming_the_field(
    context_gateway: TestClient, fields: dict[str, Any], field: str, message: str
) -> None:
    key = f"bad-{field}-{len(str(fields))}"
    response = submit(context_gateway, key, FIRST, **fields)

    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", field]
    assert message in error["msg"]


def test_a_follow_up_classified_late_still_continues_its_conversation(
    make_gateway: Callable[..., Any],
    start_context_nlp: Callable[..., ServerThread],
    request_store: RequestStore,
) -> None:
    """The NLP service is down when the follow-up arrives: the reconciler classifies it later, in the
    conversation it was submitted in (read back from the store), on a replica started since."""
    live = start_context_nlp()
    with make_gateway([live.url]) as gateway:
        submit(gateway, "late-1", FIRST, conversation_id="chat-late")
    live.stop()

    port = free_port()
    with make_gateway([f"http://127.0.0.1:{port}"]) as gateway:
        waiting = submit(gateway, "late-2", FOLLOW_UP, conversation_id="chat-late")
        assert waiting.status_code == 202
        assert (waiting.json()["status"], waiting.json()["conversation_id"]) == ("received", "chat-late")

        start_context_nlp(port)
        gateway.app.state.gateway.nlp.check_health()
        report = gateway.app.state.reconcile_once()

    assert report.classified == [waiting.json()["id"]]
    record = request_store.get(waiting.json()["id"])
    assert [(e["type"], e.get("inherited", False)) for e in record.entities if e["type"] == "date_range"] == [
        ("date_range", True)
    ]


def test_the_store_keeps_the_first_submits_conversation(request_store: RequestStore) -> None:
    """Set in the submit's own transaction; a retry of the key (whatever it names) reads it back."""
    first, created = request_store.submit("conv-store", "key-1", FOLLOW_UP, conversation_id="chat-a")
    retry, again = request_store.submit("conv-store", "key-1", FOLLOW_UP, conversation_id="chat-b")
    alone, _ = request_store.submit("conv-store", "key-2", FOLLOW_UP)

    assert (created, again) == (True, False)
    assert first.conversation_id == retry.conversation_id == "chat-a"
    assert request_store.get(first.id).conversation_id == "chat-a"
    assert alone.conversation_id is None
    (received,) = [e for e in request_store.audit_trail(first.id) if e.action == "request.received"]
    assert received.detail["conversation_id"] == "chat-a"
    assert "conversation_id" not in request_store.audit_trail(alone.id)[0].detail


def test_the_gateway_checks_conversation_ids_as_the_nlp_service_does() -> None:
    """The rule is written out in the gateway (it talks to the NLP service over HTTP only): pinned here."""
    assert CONVERSATION_ID_MAX_LENGTH == nlp_conversation.CONVERSATION_ID_MAX_LENGTH
    assert f"^{nlp_conversation._CONVERSATION_ID.pattern}$" == CONVERSATION_ID_PATTERN
    for candidate in ("chat-42", "a.b_c:d-e", "x" * 128, "x" * 129, "chat 42", "chat/42", "ünï", "{tag}", ""):
        nlp_ok = _accepts(nlp_conversation.validate_conversation_id, candidate)
        assert _accepts(check_conversation_id, candidate) == nlp_ok, candidate


def _accepts(check: Callable[[str], object], value: str) -> bool:
    try:
        check(value)
    except ValueError:
        return False
    return True


def test_inherited_entities_count_for_routing_and_are_marked() -> None:
    """Rule: the carried entities are part of the request; a carried priority raises it like its own."""
    own = ParsedEntity("employee", "Bob", 15, 18, None)
    carried = ParsedEntity("priority", "urgent", 0, 6, "P0", inherited=True)
    result = Classification(
        intent="hr.leave_request",
        confidence=0.9,
        out_of_scope=False,
        entities=(own,),
        model_version="test",
        carried_entities=(carried,),
    )

    assert result.all_entities == (own, carried)
    assert own.to_dict() == {"type": "employee", "text": "Bob", "start": 15, "end": 18, "value": None}
    assert carried.to_dict()["inherited"] is True
    decision = decide(result, min_confidence=0.5, amount_thresholds={"approval_amount_threshold": 10_000.0})
    assert decision.review_reason is None
    assert decision.priority is not None and decision.priority.name == "P0"


def test_the_nlp_client_reads_carried_entities(start_context_nlp: Callable[..., ServerThread]) -> None:
    server = start_context_nlp()
    with NLPClient([server.url]) as client:
        client.parse(FIRST, conversation_id="chat-client")
        follow_up = client.parse(FOLLOW_UP, conversation_id="chat-client")
        alone = client.parse(FOLLOW_UP)

    assert [(e.type, e.inherited) for e in follow_up.carried_entities] == [("date_range", True)]
    assert [e.type for e in follow_up.entities] == ["employee"]
    assert alone.carried_entities == ()
