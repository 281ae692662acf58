"""The NLP client against real NLP servers: round-robin, ejection of a dead replica, re-admission."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from eas_pipelines.gateway.nlp_client import NLPClient, NLPRejected, NLPUnavailable
from tests.eas_pipelines.gateway.conftest import INVOICE
from tests.eas_pipelines.gateway.servers import ServerThread, free_port


class CallLog:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.states: list[tuple[str, bool]] = []

    def on_call(self, replica: str, outcome: str, seconds: float) -> None:
        self.calls.append((replica, outcome))

    def on_state(self, replica: str, available: bool) -> None:
        self.states.append((replica, available))


def test_round_robin_across_live_replicas(
    nlp_server: ServerThread, start_nlp_server: Callable[..., ServerThread]
) -> None:
    second = start_nlp_server()
    log = CallLog()
    with NLPClient([nlp_server.url, second.url]) as client:
        client.attach_observers(log.on_state, log.on_call)
        results = [client.parse(INVOICE) for _ in range(4)]
    assert {r.intent for r in results} == {"finance.invoice_process"}
    assert [r.replica for r in results] == [nlp_server.url, second.url, nlp_server.url, second.url]
    assert [outcome for _, outcome in log.calls] == ["ok"] * 4


def test_dead_replica_is_ejected_after_one_failure(nlp_server: ServerThread) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    log = CallLog()
    with NLPClient([dead, nlp_server.url], cooldown_s=60) as client:
        client.attach_observers(log.on_state, log.on_call)
        results = [client.parse(INVOICE) for _ in range(6)]
        states = {s.url: s for s in client.states()}
    assert all(r.replica == nlp_server.url for r in results)
    # One failed try on the dead replica (failed over within the same call), then never again.
    assert [c for c in log.calls if c[0] == dead] == [(dead, "error")]
    assert (dead, False) in log.states
    assert not states[dead].available and states[dead].ejected_for_s > 50
    assert "ConnectError" in (states[dead].last_error or "")


def test_all_replicas_down_fails_fast_once_ejected() -> None:
    urls = [f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"]
    with NLPClient(urls, cooldown_s=60) as client:
        with pytest.raises(NLPUnavailable, match="no NLP replica answered"):
            client.parse(INVOICE)
        started = time.perf_counter()
        with pytest.raises(NLPUnavailable, match="every NLP replica is ejected"):
            client.parse(INVOICE)
        assert time.perf_counter() - started < 0.05


def test_health_check_readmits_a_replica_that_came_back(
    start_nlp_server: Callable[..., ServerThread],
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with NLPClient([url], cooldown_s=600) as client:
        with pytest.raises(NLPUnavailable):
            client.parse(INVOICE)
        assert client.check_health() == {url: False}
        start_nlp_server(port)
        assert client.check_health() == {url: True}
        assert client.parse(INVOICE).replica == url


def test_text_the_service_refuses_is_not_a_replica_failure(nlp_server: ServerThread) -> None:
    with NLPClient([nlp_server.url]) as client:
        with pytest.raises(NLPRejected) as caught:
            client.parse("x" * 5000)  # over the NLP service's max_text_length
        assert caught.value.status_code == 422
        assert client.states()[0].available
