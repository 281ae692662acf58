"""Circuit breakers whose state lives in Redis: one process's outage is every process's."""

from __future__ import annotations

import time

import pybreaker
import pytest
import redis

from eas_pipelines.connectors.servicenow import ServiceNowResource
from eas_pipelines.resources.circuit import ConnectorRejected, make_breaker


def _client(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url)  # bytes replies, as CircuitRedisStorage needs


def _down() -> None:
    raise ConnectionError("ledger unreachable")


def test_breaker_opens_after_fail_max_and_a_second_breaker_sees_it(redis_url, redis_key_prefix):
    prefix = f"{redis_key_prefix}circuit"
    first = make_breaker("ledger", _client(redis_url), fail_max=3, reset_timeout_s=60, prefix=prefix)
    second = make_breaker("ledger", _client(redis_url), fail_max=3, reset_timeout_s=60, prefix=prefix)

    for _ in range(2):
        with pytest.raises(ConnectionError):
            first.call(_down)
    assert second.fail_counter == 2 and second.current_state == "closed"
    with pytest.raises(pybreaker.CircuitBreakerError):
        first.call(_down)  # the third failure trips it

    assert second.current_state == "open"
    calls: list[int] = []
    with pytest.raises(pybreaker.CircuitBreakerError):
        second.call(lambda: calls.append(1))
    assert calls == []  # failing fast: the system is not even called
    other = make_breaker("calendar", _client(redis_url), fail_max=3, prefix=prefix)
    assert other.current_state == "closed"  # one namespace per connector


def test_business_refusals_do_not_count(redis_url, redis_key_prefix):
    breaker = make_breaker("ledger", _client(redis_url), fail_max=2, prefix=f"{redis_key_prefix}circuit")

    def refuse() -> None:
        raise ConnectorRejected("duplicate posting")

    for _ in range(5):
        with pytest.raises(ConnectorRejected):
            breaker.call(refuse)
    assert breaker.current_state == "closed"


def test_open_circuit_closes_after_a_successful_trial(redis_url, redis_key_prefix):
    prefix = f"{redis_key_prefix}circuit"
    breaker = make_breaker("ledger", _client(redis_url), fail_max=1, reset_timeout_s=1, prefix=prefix)
    with pytest.raises(pybreaker.CircuitBreakerError):
        breaker.call(_down)
    time.sleep(2.1)  # Redis keeps opened_at in whole seconds

    assert breaker.call(lambda: "ok") == "ok"
    assert make_breaker("ledger", _client(redis_url), prefix=prefix).current_state == "closed"


def test_connector_resources_share_the_circuit(redis_url, redis_key_prefix):
    settings = dict(
        base_url="https://127.0.0.1:1",  # nothing listens there: every call is an outage
        user="u",
        password="p",
        redis_url=redis_url,
        breaker_prefix=f"{redis_key_prefix}circuit",
        breaker_fail_max=2,
        breaker_reset_timeout_s=60,
        max_attempts=1,
        timeout_s=2,
    )
    run_a, run_b = ServiceNowResource(**settings), ServiceNowResource(**settings)

    with pytest.raises(Exception) as raised:  # the first failure is the real error...
        run_a.client().incident("INC0010001")
    assert not isinstance(raised.value, pybreaker.CircuitBreakerError)
    with pytest.raises(pybreaker.CircuitBreakerError):  # ...the second opens the circuit
        run_a.client().incident("INC0010001")

    with pytest.raises(pybreaker.CircuitBreakerError):
        run_b.client().incidents()  # another run, same connector: fails fast
    assert run_b.breaker.current_state == "open"
