"""Client of the NLP replicas: round-robin, health checks, ejection of failing replicas, failover.

Why not a load balancer in front: the embedded deployment has none, and the gateway must know
whether *any* replica answered to decide between "classified" and "stored, classified later".
Each call starts at the next replica in turn and fails over to the others, so one dead replica
costs one short timeout, once: it is then ejected for ``cooldown_s`` and skipped. A background
health check (``GET /readyz``) ejects replicas that are up but not ready (model still loading)
and re-admits ejected ones as soon as they are ready again, without waiting for the cool-down.

The retry *is* the failover to the next replica; a retry library would add nothing but latency,
and a request that no replica can classify is not lost (it stays ``received`` for the reconciler).

Conversations: with a ``conversation_id`` the NLP service resolves the text against the earlier
turns of that conversation (kept in its Redis) and answers the entities it inherited from them in
``carried_entities``; they come back here as :attr:`Classification.carried_entities`, marked
``inherited``. A replica that answers 409 (another turn of the same conversation kept changing it)
is healthy: the call is given up as :class:`ConversationBusy` without ejecting anything, and the
request is classified again later. A failover after a replica recorded the turn but timed out
before answering records the turn twice; the second resolution repeats the first (the context it
sees already holds the turn's own entities), so nothing but the history length is affected.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from eas_pipelines.observability.spans import nlp_call_span, set_http_status
from eas_pipelines.observability.tracing import inject_headers

logger = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT_S = 0.5
DEFAULT_READ_TIMEOUT_S = 3.0
DEFAULT_COOLDOWN_S = 15.0


@dataclass(frozen=True)
class ParsedEntity:
    """One entity of a parse. ``inherited``: carried over from an earlier turn of the conversation,
    so ``text``/``start``/``end`` point into that turn's text, not into the request's."""

    type: str
    text: str
    start: int
    end: int
    value: Any = None
    inherited: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The stored shape; ``inherited`` only when set, so a request's own entities keep the
        shape they always had."""
        data = {
            "type": self.type,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "value": self.value,
        }
        if self.inherited:
            data["inherited"] = True
        return data

    @classmethod
    def from_response(cls, body: dict[str, Any], *, inherited: bool = False) -> ParsedEntity:
        return cls(
            str(body["type"]),
            str(body["text"]),
            int(body["start"]),
            int(body["end"]),
            body.get("value"),
            inherited,
        )


@dataclass(frozen=True)
class Classification:
    """What the NLP service said about one text, and which replica said it."""

    intent: str
    confidence: float
    out_of_scope: bool
    entities: tuple[ParsedEntity, ...]
    model_version: str
    alternatives: tuple[tuple[str, float], ...] = ()
    replica: str = ""
    carried_entities: tuple[ParsedEntity, ...] = ()

    @property
    def all_entities(self) -> tuple[ParsedEntity, ...]:
        """The text's own entities, then those inherited from the conversation (marked).

        What the request is about: "same dates for Bob" is a leave request for Bob *on the dates
        of the turn before*, so routing, approval and the workflow must all see both.
        """
        return self.entities + self.carried_entities

    @classmethod
    def from_response(cls, body: dict[str, Any], replica: str) -> Classification:
        """Read a ``POST /v1/parse`` body; a body of another shape is a replica fault (ValueError)."""
        try:
            return cls(
                intent=str(body["intent"]),
                confidence=float(body["confidence"]),
                out_of_scope=bool(body["out_of_scope"]),
                entities=tuple(ParsedEntity.from_response(e) for e in body.get("entities") or ()),
                model_version=str(body.get("model_version") or "unknown"),
                alternatives=tuple(
                    (str(a["intent"]), float(a["confidence"])) for a in body.get("alternatives") or ()
                ),
                replica=replica,
                carried_entities=tuple(
                    ParsedEntity.from_response(e, inherited=True) for e in body.get("carried_entities") or ()
                ),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"unexpected parse response from {replica}: {exc!r}") from None


class NLPUnavailable(Exception):
    """No replica answered; the request must wait for a later try. Says what each replica did."""


class ConversationBusy(NLPUnavailable):
    """The replica answered 409: other turns of the same conversation kept changing it.

    Not the text's fault and not the replica's: the request waits and is classified again later.
    """


class NLPRejected(Exception):
    """A replica answered but refused the text (4xx): retrying elsewhere would give the same answer."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(f"NLP service refused the text ({status_code}): {detail}")
        self.status_code = status_code
        self.detail = detail


@dataclass
class Replica:
    url: str
    ejected_until: float = 0.0
    last_error: str | None = None
    consecutive_failures: int = 0
    ready: bool | None = None  # None: not checked yet
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def available(self, now: float) -> bool:
        return now >= self.ejected_until


@dataclass(frozen=True)
class ReplicaState:
    url: str
    available: bool
    ejected_for_s: float
    consecutive_failures: int
    last_error: str | None


ReplicaObserver = Callable[[str, bool], None]
CallObserver = Callable[[str, str, float], None]


class NLPClient:
    """Thread-safe; one per gateway process (it owns a pooled :class:`httpx.Client`)."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        read_timeout_s: float = DEFAULT_READ_TIMEOUT_S,
        cooldown_s: float = DEFAULT_COOLDOWN_S,
        transport: httpx.BaseTransport | None = None,
        on_replica_state: ReplicaObserver | None = None,
        on_call: CallObserver | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not urls:
            raise ValueError("at least one NLP replica URL is needed")
        self.replicas = [Replica(url.rstrip("/")) for url in urls]
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._turn = itertools.count()
        self._turn_lock = threading.Lock()
        self._on_replica_state = on_replica_state
        self._on_call = on_call
        timeout = httpx.Timeout(read_timeout_s, connect=connect_timeout_s)
        self._http = httpx.Client(
            timeout=timeout,
            transport=transport,
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
            headers={"user-agent": "eas-gateway"},
        )
        for replica in self.replicas:
            self._notify(replica, True)

    def attach_observers(
        self, on_replica_state: ReplicaObserver | None, on_call: CallObserver | None = None
    ) -> None:
        """Report replica state changes and calls (the gateway's metrics); the current state at once."""
        self._on_replica_state = on_replica_state
        self._on_call = on_call
        now = self._clock()
        for replica in self.replicas:
            self._notify(replica, replica.available(now))

    # --- calls ---------------------------------------------------------------------------

    def parse(
        self, text: str, *, request_id: str | None = None, conversation_id: str | None = None
    ) -> Classification:
        """Classify ``text`` on the next available replica, failing over to the others.

        With ``conversation_id`` the text is resolved against that conversation (and recorded as
        its next turn); the inherited entities are in the result's ``carried_entities``.

        Raises :class:`NLPUnavailable` when no replica answered, :class:`ConversationBusy` (one of
        those) when the conversation was too busy to record the turn, and :class:`NLPRejected`
        when a replica answered with a client error (the text itself is the problem).
        """
        headers = {"x-request-id": request_id} if request_id else {}
        body: dict[str, Any] = {"text": text}
        if conversation_id is not None:
            body["conversation_id"] = conversation_id
        failures: list[str] = []
        for replica in self._order():
            started = time.perf_counter()
            try:
                response = self._post_traced(replica, "/v1/parse", body, headers)
            except httpx.HTTPError as exc:
                self._failed(replica, f"{type(exc).__name__}: {exc}", started)
                failures.append(f"{replica.url}: {type(exc).__name__}")
                continue
            if response.status_code == 409:
                self._succeeded(replica, started, outcome="busy")
                raise ConversationBusy(
                    f"conversation {conversation_id!r} is busy on {replica.url}: {_detail_of(response)}"
                )
            if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
                self._succeeded(replica, started, outcome="rejected")
                raise NLPRejected(response.status_code, _detail_of(response))
            if response.status_code != 200:
                self._failed(replica, f"HTTP {response.status_code}: {_detail_of(response)}", started)
                failures.append(f"{replica.url}: HTTP {response.status_code}")
                continue
            try:
                result = Classification.from_response(response.json(), replica.url)
            except ValueError as exc:
                self._failed(replica, str(exc), started)
                failures.append(f"{replica.url}: bad response")
                continue
            self._succeeded(replica, started)
            return result
        if not failures:
            raise NLPUnavailable(self._all_ejected_message())
        raise NLPUnavailable("no NLP replica answered (" + "; ".join(failures) + ")")

    def _post_traced(
        self, replica: Replica, path: str, body: dict[str, Any], headers: dict[str, str]
    ) -> httpx.Response:
        """POST to one replica in a ``CLIENT`` span of the request's trace, whose ``traceparent`` the
        NLP service continues (each failover attempt is a span of its own)."""
        with nlp_call_span(path, replica.url) as span:
            response = self._http.post(
                f"{replica.url}{path}", json=body, headers=inject_headers(dict(headers))
            )
            set_http_status(span, response.status_code)
            return response

    def check_health(self) -> dict[str, bool]:
        """Ask every replica's ``/readyz`` (ejected ones too) and eject or re-admit accordingly.

        Run periodically by the gateway; a replica that is ready again is used at once rather
        than after its cool-down, and one that is up but has no model is not sent parses.
        """
        results: dict[str, bool] = {}
        for replica in self.replicas:
            started = time.perf_counter()
            try:
                response = self._http.get(f"{replica.url}/readyz")
                ready = response.status_code == 200
                error = None if ready else f"not ready (HTTP {response.status_code}): {_detail_of(response)}"
            except httpx.HTTPError as exc:
                ready, error = False, f"health check failed: {type(exc).__name__}: {exc}"
            with replica.lock:
                replica.ready = ready
            if ready:
                self._succeeded(replica, started, outcome="healthy")
            else:
                self._failed(replica, error or "not ready", started, outcome="unhealthy")
            results[replica.url] = ready
        return results

    def states(self) -> list[ReplicaState]:
        now = self._clock()
        return [
            ReplicaState(
                url=r.url,
                available=r.available(now),
                ejected_for_s=max(0.0, r.ejected_until - now),
                consecutive_failures=r.consecutive_failures,
                last_error=r.last_error,
            )
            for r in self.replicas
        ]

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> NLPClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- bookkeeping ------------------------------------------------------------------------

    def _order(self) -> list[Replica]:
        """Available replicas, starting at the next one in turn (round-robin across calls)."""
        with self._turn_lock:
            start = next(self._turn) % len(self.replicas)
        now = self._clock()
        rotated = self.replicas[start:] + self.replicas[:start]
        return [r for r in rotated if r.available(now)]

    def _failed(self, replica: Replica, error: str, started: float, outcome: str = "error") -> None:
        with replica.lock:
            was_available = replica.available(self._clock())
            replica.consecutive_failures += 1
            replica.last_error = error
            replica.ejected_until = self._clock() + self.cooldown_s
        if was_available:
            logger.warning(
                "NLP replica %s ejected for %.0fs: %s",
                replica.url,
                self.cooldown_s,
                error,
                extra={"replica": replica.url, "error": error},
            )
            self._notify(replica, False)
        self._observe(replica, outcome, started)

    def _succeeded(self, replica: Replica, started: float, outcome: str = "ok") -> None:
        with replica.lock:
            was_ejected = not replica.available(self._clock()) or replica.consecutive_failures > 0
            replica.consecutive_failures = 0
            replica.last_error = None
            replica.ejected_until = 0.0
        if was_ejected:
            logger.info("NLP replica %s is back", replica.url, extra={"replica": replica.url})
            self._notify(replica, True)
        self._observe(replica, outcome, started)

    def _notify(self, replica: Replica, available: bool) -> None:
        if self._on_replica_state is not None:
            self._on_replica_state(replica.url, available)

    def _observe(self, replica: Replica, outcome: str, started: float) -> None:
        if self._on_call is not None:
            self._on_call(replica.url, outcome, time.perf_counter() - started)

    def _all_ejected_message(self) -> str:
        states = "; ".join(f"{s.url}: {s.last_error or 'ejected'}" for s in self.states())
        return f"every NLP replica is ejected after failures ({states})"


def _detail_of(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    detail = body.get("detail") if isinstance(body, dict) else body
    return str(detail)[:500]
