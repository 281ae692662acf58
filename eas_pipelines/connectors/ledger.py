"""The delivery ledger: exactly-once posts to systems that have no idempotency key.

Slack and Teams accept the same message twice. Before a keyed post the connector writes
*pending since <time>* under the key in Redis (the connectors' Redis, with a TTL), and after it
*delivered: <reference>*. A later post with the same key then:

- finds *delivered*: returns the first post's reference, sending nothing;
- finds *pending*: an earlier attempt may have been delivered with its answer lost, so the
  connector looks for it where it can (Slack: the channel's history since that time; a webhook
  cannot be read back, so Teams sends again) before posting;
- finds nothing: never attempted, so it posts at once, without reading the channel back.

Why not read the channel back before every post: in a busy channel that is pages of history per
message, growing with the channel (the fast-lane benchmark's ``#finance`` got a thousand messages a
run). The ledger's price is one Redis round trip before and one after a post.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import redis


@dataclass(frozen=True)
class LedgerEntry:
    """What the ledger knows of a key: when its first attempt began, and its reference once delivered."""

    since: float
    reference: str | None = None

    @property
    def delivered(self) -> bool:
        return self.reference is not None


class DeliveryLedger:
    """Keyed posts of one system and destination, remembered in Redis for ``ttl_s``."""

    def __init__(self, client: redis.Redis, prefix: str, scope: str, ttl_s: float):
        self._redis = client
        self._prefix = f"{prefix}:{scope}:"
        self._ttl_s = max(1, int(ttl_s))

    def _key(self, idempotency_key: str) -> str:
        return self._prefix + idempotency_key

    def recall(self, idempotency_key: str) -> LedgerEntry | None:
        raw = self._redis.get(self._key(idempotency_key))
        if raw is None:
            return None
        if raw in (b"1", "1"):  # written by releases before the ledger kept times: delivered
            return LedgerEntry(since=0.0, reference="")
        value = json.loads(raw)
        return LedgerEntry(since=float(value["since"]), reference=value.get("reference"))

    def begin(self, idempotency_key: str) -> LedgerEntry:
        """Mark the key pending (keeping an earlier attempt's time); the entry as it now stands."""
        entry = LedgerEntry(since=time.time())
        created = self._redis.set(
            self._key(idempotency_key), json.dumps({"since": entry.since}), ex=self._ttl_s, nx=True
        )
        return entry if created else (self.recall(idempotency_key) or entry)

    def delivered(self, idempotency_key: str, reference: str, since: float) -> None:
        body = json.dumps({"since": since, "reference": reference})
        self._redis.set(self._key(idempotency_key), body, ex=self._ttl_s)
