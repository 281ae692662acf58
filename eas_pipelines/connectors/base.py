"""What every connector resource shares: its circuit breaker, timeouts, retries and trusted CA.

A connector resource holds configuration only (the system's URL, credentials through
``dg.EnvVar``, limits); ``client()`` builds the typed client. Every call the client makes goes
through :meth:`ConnectorResource.guarded`: retried by the one rule in :mod:`.retry`, and counted
by the connector's breaker, whose state lives in Redis so that an outage seen by one run makes
every other run fail fast instead of piling on. Business refusals (:class:`VendorRejected`) are
answers from a healthy system and never open the circuit.

What a system may receive of the PII EAS handles is a per-connector clearance
(:attr:`ConnectorResource.pii_clearance`, :meth:`ConnectorResource.outgoing`): whatever is sent to a
system passes through ``outgoing`` first, which masks every PII type the system is not cleared for.
"""

from __future__ import annotations

import functools
import os
import ssl
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Self, TypeVar

import dagster as dg
import pybreaker
from pydantic import Field, PrivateAttr, field_validator

from eas_pipelines.connectors.ledger import DeliveryLedger
from eas_pipelines.connectors.retry import call_with_retries
from eas_pipelines.observability import metrics
from eas_pipelines.observability.spans import connector_span, set_connector_outcome
from eas_pipelines.pii import NEVER_CLEARED, mask_value
from eas_pipelines.pii.engine import engines as warm_masking
from eas_pipelines.resources.circuit import (
    DEFAULT_FAIL_MAX,
    DEFAULT_PREFIX,
    DEFAULT_RESET_TIMEOUT_S,
    ConnectorRejected,
    breaker_redis,
    shared_breaker,
)

T = TypeVar("T")
C = TypeVar("C")

CA_BUNDLE_SETTING = "EAS_CONNECTOR_CA_BUNDLE"
"""The extra CA every connector trusts (set by ``eas up`` to the emulators' generated CA)."""

PII_CLEARANCE_SETTING = "EAS_{SYSTEM}_PII_CLEARANCE"
"""Per deployment: the PII types a system may receive, comma-separated
(``EAS_SLACK_PII_CLEARANCE=EMAIL_ADDRESS,PHONE_NUMBER``; empty: none). Read when a payload is sent,
so it applies to every connector without each ``from_env`` naming it."""

DEFAULT_PII_CLEARANCE: Mapping[str, frozenset[str]] = {
    # A person's mailbox: the e-mails EAS sends go to the person a request is about, and their own
    # address and phone number (in a reply-to, a signature, "we will call you on ...") are theirs.
    "email": frozenset({"EMAIL_ADDRESS", "PHONE_NUMBER"}),
}
"""The clearance of a system when neither its resource nor its :data:`PII_CLEARANCE_SETTING` says;
a system not named here (Slack channels, every business system) is cleared for none."""


def _clearance_types(types: Iterable[str]) -> frozenset[str]:
    cleared = frozenset(t.strip().upper() for t in types if t.strip())
    if cleared & NEVER_CLEARED:
        raise ValueError(f"no system can be cleared for {sorted(cleared & NEVER_CLEARED)}")
    return cleared


def call_outcome(exc: BaseException, *, reached: bool) -> str:
    """How a connector call that raised ``exc`` is counted: ``rejected`` (the system refused: a
    business answer), ``open`` (the breaker refused before the system was ``reached``), else ``error``
    (an outage after the retries, including the failure that opened the circuit)."""
    if isinstance(exc, ConnectorRejected):
        return metrics.CALL_REJECTED
    if isinstance(exc, pybreaker.CircuitBreakerError) and not reached:
        return metrics.CALL_OPEN
    return metrics.CALL_ERROR


CONNECTORS_PACKAGE = __name__.rpartition(".")[0] + "."


def client_operation() -> str:
    """The connector client's method an agent called, for a connector span: the outermost frame of
    the stack that belongs to a connector module (``create_incident``, not the ``_request`` helper
    or the lambda handed to ``guarded``). A function name: never arguments, URLs or payloads.

    Called only for spans that are recorded (tracing exported), so its frame walk costs nothing
    otherwise.
    """
    frame = sys._getframe(1)
    name = "call"
    for _ in range(32):
        if frame is None:
            break
        module = frame.f_globals.get("__name__", "")
        if module.startswith(CONNECTORS_PACKAGE) and frame.f_code.co_name not in ("<lambda>", "guarded"):
            name = frame.f_code.co_name
        elif name != "call" and not module.startswith(CONNECTORS_PACKAGE):
            break
        frame = frame.f_back
    return name


def optional_env(name: str) -> dg.EnvVar | None:
    """``dg.EnvVar(name)`` when the variable is set now, else None (the field keeps its default).

    ``dg.EnvVar`` fails a run whose variable is unset; an optional setting must not.
    """
    return dg.EnvVar(name) if os.environ.get(name) else None


@functools.lru_cache(maxsize=32)
def tls_context(cafile: str | None, cert: tuple[str, str] | None = None) -> ssl.SSLContext:
    """One TLS context per CA file and client certificate, for the life of the process.

    Building one loads the system's CA store (about 27 ms of CPU here): done per client, it cost a
    fast-lane run more CPU than its workflow (BENCHMARKS.md). A context is safe to share between
    threads and clients once built; none is changed after this returns.
    """
    context = ssl.create_default_context()
    if cafile:
        context.load_verify_locations(cafile=cafile)
    if cert is not None:
        context.load_cert_chain(*cert)
    return context


def environment_ca_bundle() -> str | None:
    """``EAS_CONNECTOR_CA_BUNDLE`` as it is now (None when unset): the CA a connector trusts when
    its resource names none."""
    return os.environ.get(CA_BUNDLE_SETTING) or None


def warm_tls() -> None:
    """Build the TLS context that connectors configured from the environment verify with.

    For a process that forks runs (the warm run server): each run would otherwise build it again
    in its first step that calls a system, ~27 ms of CPU. A built context holds no connection
    and no thread, so forked children can use their copy.
    """
    tls_context(environment_ca_bundle(), None)  # as ConnectorResource.verify() asks for it


class ConnectorResource(dg.ConfigurableResource):
    """Base of the connector resources; a subclass names its system and builds its client."""

    system: ClassVar[str]
    """The system's name in breaker keys, errors and logs ("servicenow")."""

    redis_url: str = Field(description="Redis URL holding the circuit breaker's shared state (EAS_REDIS_URL)")
    ca_bundle: str | None = Field(
        default=None,
        description="PEM file of an extra CA to trust (the emulators' generated CA; EAS_CONNECTOR_CA_BUNDLE)",
    )
    timeout_s: float = Field(default=10.0, description="connect and read timeout of one call")
    max_attempts: int = Field(default=4, description="calls in all before a transient failure is final")
    initial_backoff_s: float = Field(default=0.2, description="first retry delay; doubles, with jitter")
    max_backoff_s: float = Field(default=30.0, description="longest wait between two attempts")
    breaker_fail_max: int = Field(default=DEFAULT_FAIL_MAX, description="consecutive outages that open it")
    breaker_reset_timeout_s: float = Field(default=DEFAULT_RESET_TIMEOUT_S, description="open this long")
    breaker_prefix: str = Field(default=DEFAULT_PREFIX, description="Redis key prefix of breaker state")
    pii_clearance: list[str] | None = Field(
        default=None,
        description=(
            "PII types this system may receive (EMAIL_ADDRESS, PHONE_NUMBER, IBAN_CODE, ...; never "
            "CREDIT_CARD); unset: EAS_<SYSTEM>_PII_CLEARANCE, else DEFAULT_PII_CLEARANCE (none for most)"
        ),
    )

    idempotency_prefix: str = Field(
        default="eas:delivered",
        description="Redis key prefix of the delivery ledger (keyed posts the system cannot look up cheaply)",
    )
    idempotency_ttl_s: float = Field(
        default=7 * 24 * 3600, description="how long the ledger remembers a keyed post"
    )

    _client: tuple[int, Any] | None = PrivateAttr(default=None)

    @field_validator("pii_clearance")
    @classmethod
    def _known_clearance(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else sorted(_clearance_types(value))

    def cleared_types(self) -> frozenset[str]:
        """The PII types this system may receive: the field, else the setting, else the default."""
        if self.pii_clearance is not None:
            return frozenset(self.pii_clearance)
        setting = os.environ.get(PII_CLEARANCE_SETTING.format(SYSTEM=self.system.upper()))
        if setting is not None:
            return _clearance_types(setting.split(","))
        return DEFAULT_PII_CLEARANCE.get(self.system, frozenset())

    def outgoing(self, payload: Any) -> Any:
        """``payload`` (text, or dicts/lists of it) as this system may see it: every PII type it is
        not cleared for masked; card numbers always."""
        return mask_value(payload, allowed=self.cleared_types())

    def reused_client(self, build: Callable[[Self], C]) -> C:
        """The client of this resource instance, built on first use.

        Dagster builds a run's resources once, so the steps of a run share one client: its
        connections, OAuth or CSRF token and look-ups, instead of paying for them again in every
        step. Closed at the end of the run (:meth:`teardown_after_execution`).
        """
        owner, client = self._client or (None, None)
        if owner != id(self):  # none yet, or copied with ``model_copy`` from another resource
            client = build(self)
            self._client = (id(self), client)
        return client

    builds_client_offline: ClassVar[bool] = False
    """Whether :meth:`client` can be built without calling the system (no handshake, no token):
    such a client is built when the resource is, see :meth:`setup_for_execution`."""

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Build, when the run starts, what the run's first call would otherwise build in its step.

        Why: Dagster builds a run's resources before its first step. A fresh run process (every
        standard-lane run, every Kubernetes run pod) would otherwise pay the masking engine that
        :meth:`outgoing` uses (Presidio and spaCy imported: ~1.3 s) and a heavy client's construction
        (boto3 loads S3's service model: ~0.2 s) inside the first step that sends something, which
        then takes seconds where the same step on a warm worker takes milliseconds. A warm worker
        builds its resources once, so it pays this once. A client whose construction calls the
        system (a handshake, a token) stays built on first use, so that an outage is met by the
        step's retries rather than failing the run before it starts.
        """
        warm_masking()
        if self.builds_client_offline:
            self.client()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        owner, client = self._client or (None, None)
        self._client = None
        close = getattr(client, "close", None)
        if owner == id(self) and callable(close):  # a copy's client is its original's to close
            close()

    def ledger(self, scope: str) -> DeliveryLedger:
        """The delivery ledger of keyed posts to ``scope`` (a channel, a webhook) of this system."""
        scoped = f"{self.system}:{scope}"
        redis_client = breaker_redis(self.redis_url)
        return DeliveryLedger(redis_client, self.idempotency_prefix, scoped, self.idempotency_ttl_s)

    @property
    def breaker(self) -> pybreaker.CircuitBreaker:
        """This system's breaker; resources with the same Redis and prefix share one circuit."""
        return shared_breaker(
            self.system,
            self.redis_url,
            fail_max=self.breaker_fail_max,
            reset_timeout_s=self.breaker_reset_timeout_s,
            prefix=self.breaker_prefix,
        )

    def guarded(self, func: Callable[[], T]) -> T:
        """Run one logical call: retried on transient failures, the outcome counted by the breaker.

        An open circuit raises ``pybreaker.CircuitBreakerError`` without calling the system. Every
        call is counted (``eas_connector_calls_total`` by :func:`call_outcome`) and timed, and traced
        as an ``eas.connector <system>`` span (:func:`client_operation` names its operation).
        """
        reached = False

        def call() -> T:
            nonlocal reached
            reached = True
            return call_with_retries(
                func,
                system=self.system,
                max_attempts=self.max_attempts,
                initial_backoff_s=self.initial_backoff_s,
                max_backoff_s=self.max_backoff_s,
            )

        started = time.perf_counter()
        outcome = metrics.CALL_ERROR
        # One span per logical call (retries included), a child of the step's: system, operation, outcome.
        with connector_span(self.system, client_operation) as span:
            try:
                result = self.breaker.call(call)
                outcome = metrics.CALL_OK
                return result
            except BaseException as exc:
                outcome = call_outcome(exc, reached=reached)
                raise
            finally:
                metrics.observe_connector_call(self.system, outcome, time.perf_counter() - started)
                set_connector_outcome(span, outcome)

    @property
    def trusted_ca(self) -> str | None:
        """The extra CA file: ``ca_bundle``, else ``EAS_CONNECTOR_CA_BUNDLE`` as it is when the client
        is built (the code location is often imported before ``eas up`` or a test sets it)."""
        return self.ca_bundle or environment_ca_bundle()

    def verify(self, cert: tuple[str, str] | None = None) -> ssl.SSLContext:
        """What TLS clients verify against: the system CAs, plus ``ca_bundle`` when set; presenting
        ``cert`` (certificate, key) where the system asks for mutual TLS."""
        return tls_context(self.trusted_ca, cert)
