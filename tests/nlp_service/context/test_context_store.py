"""The conversation store against a real Redis server (see ``redis_client`` in tests/conftest.py)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
import redis
import redis.asyncio

from nlp_service.context import (
    AsyncConversationStore,
    ConversationStore,
    UnknownConversationError,
)
from tests.nlp_service.context.context_helpers import LEAVE, ent, leave_request, parse, same_dates_for_bob

CID = "conv-1"


@pytest.fixture
def store(redis_client: redis.Redis, redis_key_prefix: str) -> ConversationStore:
    return ConversationStore(redis_client, key_prefix=redis_key_prefix)


def _keys(store: ConversationStore, conversation_id: str = CID) -> list[str]:
    keys = store._keys(conversation_id)
    return [keys.turns, keys.entities]


def test_same_dates_for_bob_carries_the_date_range(store: ConversationStore) -> None:
    first = store.apply(CID, *leave_request())
    assert first.carried_entities == []

    out = store.apply(CID, *same_dates_for_bob())

    assert (out.intent, out.out_of_scope) == ("approve_leave", False)
    assert [e.text for e in out.entities] == ["Bob"]
    assert len(out.carried_entities) == 1
    dates = out.carried_entities[0]
    assert dates.type == "date_range" and dates.text == "2024-06-03 to 2024-06-05"
    assert LEAVE[dates.start : dates.end] == dates.text
    assert dates.value == {"start": "2024-06-03", "end": "2024-06-05"}

    conversation = store.get(CID)
    assert [t.text for t in conversation.turns] == [LEAVE, "same dates for Bob"]
    assert conversation.turns[1].intent == "approve_leave"  # recorded as resolved
    assert [e.text for e in conversation.turns[1].entities] == ["Bob"]  # its own entities only


def test_new_entities_replace_those_of_the_same_type(store: ConversationStore) -> None:
    store.apply(CID, *leave_request())
    store.apply(CID, *same_dates_for_bob())
    assert store.get(CID).entities["person"].text == "Bob"

    text = "and for Carol too"
    out = store.apply(CID, text, parse("oos", 0.3, ent(text, "Carol", "person")))

    assert [e.type for e in out.carried_entities] == ["date_range"]  # Bob is not carried
    entities = store.get(CID).entities
    assert entities["person"].text == "Carol"
    assert entities["date_range"].text == "2024-06-03 to 2024-06-05"


def test_new_request_carries_nothing(store: ConversationStore) -> None:
    store.apply(CID, *leave_request())
    text = "show me invoice INV-2201"
    out = store.apply(CID, text, parse("show_invoice", 0.91, ent(text, "INV-2201", "invoice_id")))

    assert out.carried_entities == [] and out.intent == "show_invoice"
    assert list(store.get(CID).entities) == ["invoice_id"]
    # A follow-up now refers to the invoice request, not to the leave request before it.
    text = "what about INV-2202?"
    out = store.apply(CID, text, parse("oos", 0.2, ent(text, "INV-2202", "invoice_id")))
    assert out.intent == "show_invoice" and out.carried_entities == []


def test_history_is_bounded(redis_client: redis.Redis, redis_key_prefix: str) -> None:
    store = ConversationStore(redis_client, key_prefix=redis_key_prefix, max_turns=3)
    texts = [f"show me invoice INV-{n}" for n in range(5)]
    for text in texts:
        store.apply(CID, text, parse("show_invoice", 0.9))

    assert redis_client.llen(_keys(store)[0]) == 3
    assert [t.text for t in store.get(CID).turns] == texts[-3:]


def test_ttl_is_set_and_refreshed(redis_client: redis.Redis, redis_key_prefix: str) -> None:
    store = ConversationStore(redis_client, key_prefix=redis_key_prefix, ttl_seconds=100)
    store.apply(CID, *leave_request())
    for key in _keys(store):
        assert 90 <= redis_client.ttl(key) <= 100
    assert 90 <= store.get(CID).expires_in <= 100

    for key in _keys(store):
        redis_client.expire(key, 5)
    store.apply(CID, *same_dates_for_bob())
    for key in _keys(store):
        assert redis_client.ttl(key) > 5


def test_expired_conversation_is_unknown(store: ConversationStore, redis_client: redis.Redis) -> None:
    store.apply(CID, *leave_request())
    for key in _keys(store):
        redis_client.pexpire(key, 1)
    time.sleep(0.05)
    with pytest.raises(UnknownConversationError):
        store.get(CID)
    # An expired conversation starts afresh: the follow-up has nothing to refer to.
    out = store.apply(CID, *same_dates_for_bob())
    assert out.out_of_scope and out.carried_entities == []


def test_reset(store: ConversationStore, redis_client: redis.Redis) -> None:
    store.apply(CID, *leave_request())
    assert store.reset(CID) is True
    assert redis_client.exists(*_keys(store)) == 0
    with pytest.raises(UnknownConversationError):
        store.get(CID)
    assert store.reset(CID) is False


def test_unknown_conversation(store: ConversationStore) -> None:
    with pytest.raises(UnknownConversationError, match="never-seen") as info:
        store.get("never-seen")
    assert info.value.conversation_id == "never-seen"


@pytest.mark.parametrize("bad", ["", "x" * 129, "has space", "a/b", "tag{x}", "wild*", "é", None, 42])
def test_invalid_conversation_ids(store: ConversationStore, bad: object) -> None:
    text, result = leave_request()
    for call in (lambda: store.apply(bad, text, result), lambda: store.get(bad), lambda: store.reset(bad)):
        with pytest.raises(ValueError, match="conversation_id"):
            call()


def test_longest_valid_id(store: ConversationStore) -> None:
    cid = "A-z_0.9:" * 16
    assert len(cid) == 128
    store.apply(cid, *leave_request())
    assert store.get(cid).conversation_id == cid


def test_concurrent_turns_are_all_recorded(store: ConversationStore, redis_client: redis.Redis) -> None:
    """Each thread adds entity types of its own; a lost write would drop turns or types."""
    store = ConversationStore(redis_client, key_prefix=store.key_prefix, max_turns=100)
    store.apply(CID, *leave_request())
    per_thread = 10
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            start.wait()
            for n in range(per_thread):
                text = f"also for {name}{n}"
                store.apply(CID, text, parse("oos", 0.2, ent(text, f"{name}{n}", f"{name}_{n}")))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors

    conversation = store.get(CID)
    assert len(conversation.turns) == 1 + 2 * per_thread
    assert {t.text for t in conversation.turns} >= {
        f"also for {x}{n}" for x in "ab" for n in range(per_thread)
    }
    expected = {"person", "date_range"} | {f"{x}_{n}" for x in "ab" for n in range(per_thread)}
    assert set(conversation.entities) == expected
    assert all(t.intent == "approve_leave" for t in conversation.turns)


def test_decoded_client(redis_url: str, redis_client: redis.Redis, redis_key_prefix: str) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        store = ConversationStore(client, key_prefix=redis_key_prefix)
        store.apply(CID, *leave_request())
        out = store.apply(CID, *same_dates_for_bob())
        assert [e.type for e in out.carried_entities] == ["date_range"]
        assert set(store.get(CID).entities) == {"person", "date_range"}
    finally:
        client.close()


def test_async_store(redis_url: str, redis_client: redis.Redis, redis_key_prefix: str) -> None:
    async def scenario() -> None:
        store = AsyncConversationStore.from_url(redis_url, key_prefix=redis_key_prefix, ttl_seconds=60)
        try:
            await store.apply(CID, *leave_request())
            first, second = await asyncio.gather(
                store.apply(CID, *same_dates_for_bob()),
                store.apply(
                    CID, "and for Carol too", parse("oos", 0.1, ent("and for Carol too", "Carol", "person"))
                ),
            )
            for out in (first, second):
                assert out.intent == "approve_leave"
                assert [e.type for e in out.carried_entities] == ["date_range"]
            conversation = await store.get(CID)
            assert len(conversation.turns) == 3
            assert 0 < conversation.expires_in <= 60
            assert await store.reset(CID) is True
            with pytest.raises(UnknownConversationError):
                await store.get(CID)
        finally:
            await store.aclose()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("option", "value"), [("ttl_seconds", 0), ("max_turns", 0), ("key_prefix", ""), ("min_confidence", 2.0)]
)
def test_invalid_options(redis_client: redis.Redis, option: str, value: object) -> None:
    with pytest.raises(ValueError, match=option):
        ConversationStore(redis_client, **{option: value})
