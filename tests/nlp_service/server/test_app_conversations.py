"""Conversation context over HTTP, against the real Redis (see ``redis_client`` in tests/conftest.py)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from nlp_service.server.app import create_app
from tests.nlp_service.server.server_helpers import INVOICE, RecordingParser, make_settings, running

pytestmark = pytest.mark.anyio


def closed_port_url() -> str:
    """A Redis URL on a local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


async def test_follow_up_carries_entities_over_http(
    tiny_model_dir: Path, parser: RecordingParser, redis_url: str, redis_key_prefix: str
) -> None:
    settings = make_settings(tiny_model_dir, redis_url=redis_url, context_key_prefix=redis_key_prefix)
    first_text = "I need PTO next week"
    async with running(create_app(settings, parser)) as client:
        first = await client.post(
            "/v1/parse",
            json={"text": first_text, "conversation_id": "chat-1", "reference_date": "2024-06-03"},
        )
        second = await client.post(
            "/v1/parse", json={"text": "same dates for Bob", "conversation_id": "chat-1"}
        )
        other = await client.post(
            "/v1/parse", json={"text": "same dates for Bob", "conversation_id": "chat-2"}
        )
        stored = await client.get("/v1/conversations/chat-1")
        reset = await client.delete("/v1/conversations/chat-1")
        reset_again = await client.delete("/v1/conversations/chat-1")
        gone = await client.get("/v1/conversations/chat-1")

    assert first.status_code == 200
    dates = [e for e in first.json()["entities"] if e["type"] == "date_range"]
    assert [d["text"] for d in dates] == ["next week"]  # the tiny model's precondition
    assert dates[0]["value"] == {"start": "2024-06-10", "end": "2024-06-16"}

    assert second.status_code == 200
    carried = second.json()["carried_entities"]
    assert carried == dates  # offsets point into the first turn's text
    assert first_text[carried[0]["start"] : carried[0]["end"]] == "next week"
    assert other.json()["carried_entities"] == []  # another conversation shares nothing

    assert stored.status_code == 200
    conversation = stored.json()
    assert conversation["conversation_id"] == "chat-1"
    assert [t["text"] for t in conversation["turns"]] == [first_text, "same dates for Bob"]
    assert conversation["entities"]["date_range"] == dates[0]
    assert 0 < conversation["expires_in"] <= settings.context_ttl_seconds

    assert reset.json() == {"conversation_id": "chat-1", "deleted": True}
    assert reset_again.json() == {"conversation_id": "chat-1", "deleted": False}
    assert gone.status_code == 404
    assert "chat-1" in gone.json()["detail"]


async def test_batch_items_record_their_turns_in_order(
    tiny_model_dir: Path, parser: RecordingParser, redis_url: str, redis_key_prefix: str
) -> None:
    settings = make_settings(tiny_model_dir, redis_url=redis_url, context_key_prefix=redis_key_prefix)
    items = [
        {"text": "I need PTO next week", "conversation_id": "batch-chat"},
        {"text": "same dates for Bob", "conversation_id": "batch-chat"},
        {"text": INVOICE},
    ]
    async with running(create_app(settings, parser)) as client:
        response = await client.post("/v1/parse/batch", json={"items": items})
        stored = await client.get("/v1/conversations/batch-chat")

    results = response.json()["results"]
    assert [c["type"] for c in results[1]["carried_entities"]] == ["date_range"]
    assert results[2]["carried_entities"] == []
    assert [t["text"] for t in stored.json()["turns"]] == [items[0]["text"], items[1]["text"]]


async def test_unknown_conversation_is_404_and_bad_ids_are_422(
    tiny_model_dir: Path, parser: RecordingParser, redis_url: str, redis_key_prefix: str
) -> None:
    settings = make_settings(tiny_model_dir, redis_url=redis_url, context_key_prefix=redis_key_prefix)
    async with running(create_app(settings, parser)) as client:
        unknown = await client.get("/v1/conversations/never-seen")
        bad = await client.get("/v1/conversations/a%20b")
        bad_delete = await client.delete("/v1/conversations/" + "x" * 200)
        non_ascii = await client.get("/v1/conversations/caf%C3%A9")

    assert unknown.status_code == 404
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["path", "conversation_id"]
    assert bad_delete.status_code == 422 and bad_delete.json()["detail"][0]["loc"] == [
        "path",
        "conversation_id",
    ]
    # The documented pattern says ASCII letters and digits: "café" is refused, as the schema says.
    assert non_ascii.status_code == 422
    assert non_ascii.json()["detail"][0]["loc"] == ["path", "conversation_id"]


async def test_unreachable_redis_is_503_for_conversations_only(
    tiny_model_dir: Path, parser: RecordingParser
) -> None:
    url = closed_port_url()
    async with running(create_app(make_settings(tiny_model_dir, redis_url=url), parser)) as client:
        with_context = await client.post("/v1/parse", json={"text": INVOICE, "conversation_id": "c-1"})
        lookup = await client.get("/v1/conversations/c-1")
        reset = await client.delete("/v1/conversations/c-1")
        plain = await client.post("/v1/parse", json={"text": INVOICE})
        plain_batch = await client.post("/v1/parse/batch", json={"items": [{"text": INVOICE}]})

    for response in (with_context, lookup, reset):
        assert response.status_code == 503
        assert response.json()["detail"].startswith(f"context store unavailable (Redis at {url})")
    assert plain.status_code == 200
    assert plain_batch.status_code == 200


async def test_redis_password_is_not_echoed(tiny_model_dir: Path, parser: RecordingParser) -> None:
    url = closed_port_url().replace("redis://", "redis://user:s3cret@")
    async with running(create_app(make_settings(tiny_model_dir, redis_url=url), parser)) as client:
        response = await client.post("/v1/parse", json={"text": INVOICE, "conversation_id": "c-1"})

    assert response.status_code == 503
    assert "s3cret" not in response.text and "user:***@" in response.text
