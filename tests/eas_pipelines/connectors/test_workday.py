"""Workday's REST connector against the emulator: OAuth refresh, paging, absence, idempotent time off."""

from __future__ import annotations

import base64
import json
import time
from datetime import date
from urllib.parse import parse_qs

import pytest

from eas_pipelines.connectors.retry import ConnectorUnavailable, Transient, VendorRejected
from eas_pipelines.connectors.workday import InsufficientBalance, WorkdayResource


@pytest.fixture
def workday(sandbox, connector_options) -> WorkdayResource:
    env = sandbox.env
    return WorkdayResource(
        base_url=env["EAS_WORKDAY_URL"],
        tenant=env["EAS_WORKDAY_TENANT"],
        client_id=env["EAS_WORKDAY_CLIENT_ID"],
        client_secret=env["EAS_WORKDAY_CLIENT_SECRET"],
        refresh_token=env["EAS_WORKDAY_REFRESH_TOKEN"],
        **connector_options,
    )


def _calls(sandbox, method: str, suffix: str) -> list[dict]:
    return [c for c in sandbox.calls("workday") if c["method"] == method and c["path"].endswith(suffix)]


def test_search_gets_a_token_then_sends_bearer_requests(workday, sandbox):
    (found,) = workday.client().workers("marcus")

    assert found.id == "marcus.chen" and found.email == "marcus.chen@example.com"
    assert found.title == "Software Engineer" and found.manager_id == "dana.smith"
    env = sandbox.env
    tenant = env["EAS_WORKDAY_TENANT"]
    (grant,) = _calls(sandbox, "POST", "/token")
    assert grant["path"] == f"/workday/ccx/oauth2/{tenant}/token"
    basic = base64.b64encode(f"{env['EAS_WORKDAY_CLIENT_ID']}:{env['EAS_WORKDAY_CLIENT_SECRET']}".encode())
    assert grant["headers"]["authorization"] == f"Basic {basic.decode()}"
    assert parse_qs(grant["body"])["grant_type"] == ["refresh_token"]
    (search,) = _calls(sandbox, "GET", "/workers")
    assert search["path"] == f"/workday/ccx/api/staffing/v6/{tenant}/workers"
    assert parse_qs(search["query"]) == {"search": ["marcus"], "limit": ["100"], "offset": ["0"]}
    assert search["headers"]["authorization"].startswith("Bearer ")


def test_listing_follows_limit_and_offset_pages(workday, sandbox, monkeypatch):
    monkeypatch.setattr("eas_pipelines.connectors.workday.PAGE_SIZE", 3)

    workers = workday.client().workers()

    assert len(workers) == 10 and len({w.id for w in workers}) == 10
    offsets = [parse_qs(c["query"])["offset"][0] for c in _calls(sandbox, "GET", "/workers")]
    assert offsets == ["0", "3", "6", "9"]


def test_workers_by_id_name_or_email(workday):
    client = workday.client()

    assert client.worker("priya.patel").manager_id == "morgan.reyes"
    assert client.worker("morgan.reyes").manager_id is None and client.worker("morgan.reyes").is_manager
    assert client.worker("nobody") is None
    assert client.worker_by_name_or_email("Aisha.Okafor@example.com").id == "aisha.okafor"
    assert client.worker_by_name_or_email("sofia rossi").id == "sofia.rossi"
    assert client.worker_by_name_or_email("Kenji").id == "kenji.tanaka"
    assert client.worker_by_name_or_email("nobody at all") is None


def test_balances_per_time_off_type(workday):
    client = workday.client()

    assert {b.time_off_type: b.quantity for b in client.balances("marcus.chen")} == {
        "vacation": 15,
        "sick": 10,
        "personal": 3,
    }
    assert {b.name: b.quantity for b in client.balances("sofia.rossi")} == {"Vacation": 12.5, "Sick": 10}
    assert [t.name for t in client.eligible_absence_types("tom.nguyen")] == ["Vacation", "Sick", "Personal"]


def test_request_time_off_once_per_key(workday, sandbox):
    client = workday.client()
    days = [(date(2025, 7, 1), 1), (date(2025, 7, 2), 0.5)]

    made = client.request_time_off("marcus.chen", days, "Vacation", comment="Beach", idempotency_key="k-1")
    again = client.request_time_off("marcus.chen", days, "Vacation", comment="Beach", idempotency_key="k-1")

    assert made.created and not again.created and again.id == made.id
    assert [(d.date, d.quantity) for d in again.days] == [("2025-07-01", 1), ("2025-07-02", 0.5)]
    (post,) = _calls(sandbox, "POST", "/requestTimeOff")
    assert post["path"].endswith("/absenceManagement/v1/eas_sandbox1/workers/marcus.chen/requestTimeOff")
    body = json.loads(post["body"])
    assert body["days"][0] == {
        "date": "2025-07-01",
        "dailyQuantity": 1,
        "timeOffType": {"id": "vacation"},
        "comment": "Beach [eas:k-1]",
    }
    vacation = next(b for b in client.balances("marcus.chen") if b.time_off_type == "vacation")
    assert vacation.quantity == 13.5


def test_a_retry_after_a_lost_answer_finds_the_first_request(workday, sandbox, monkeypatch):
    client = workday.client()
    real_json = client._http.json
    lost = []

    def lose_first_post_answer(method, path, **kwargs):
        answer = real_json(method, path, **kwargs)
        if method == "POST" and path.endswith("requestTimeOff") and not lost:
            lost.append(answer)
            raise Transient("workday: ReadTimeout (simulated after the server acted)")
        return answer

    monkeypatch.setattr(client._http, "json", lose_first_post_answer)

    request = client.request_time_off("aisha.okafor", [("2025-08-04", 1)], "vacation", idempotency_key="k-2")

    assert request.id == lost[0]["id"] and not request.created
    assert len(_calls(sandbox, "POST", "/requestTimeOff")) == 1
    assert next(b for b in client.balances("aisha.okafor") if b.time_off_type == "vacation").quantity == 21


def test_insufficient_balance_is_a_final_refusal(workday, sandbox):
    client = workday.client()
    days = [("2025-09-01", 1), ("2025-09-02", 1)]

    with pytest.raises(InsufficientBalance, match="exceeds the available balance") as refused:
        client.request_time_off("kenji.tanaka", days, "Vacation", idempotency_key="k-3")
    assert isinstance(refused.value, VendorRejected) and refused.value.status == 400
    assert len(_calls(sandbox, "POST", "/requestTimeOff")) == 1
    with pytest.raises(VendorRejected, match="not eligible"):
        client.request_time_off("kenji.tanaka", days, "Personal", idempotency_key="k-4")


def test_throttling_is_retried_after_retry_after(workday, sandbox):
    client = workday.client()
    client.worker("tom.nguyen")
    sandbox.fault("throttle", "workday", count=1, retry_after_s=0.3)
    started = time.monotonic()

    assert client.worker("tom.nguyen").name == "Tom Nguyen"
    assert time.monotonic() - started >= 0.3


def test_an_expired_token_is_refreshed_once_then_refused(workday, sandbox):
    client = workday.client()
    client.worker("tom.nguyen")
    sandbox.fault("unauthorized", "workday", count=1)
    assert client.worker("tom.nguyen") is not None
    assert len(_calls(sandbox, "POST", "/token")) == 2

    sandbox.fault("unauthorized", "workday", count=2)
    with pytest.raises(VendorRejected, match="Invalid access token") as refused:
        client.worker("tom.nguyen")
    assert refused.value.status == 401


def test_server_errors_are_retried_then_fail_cleanly(workday, sandbox):
    client = workday.client()
    client.worker("tom.nguyen")
    sandbox.fault("error", "workday", count=10, status=502)
    calls = len(sandbox.calls("workday"))

    with pytest.raises(ConnectorUnavailable, match="workday: still failing after 3 attempts.*502"):
        client.worker("tom.nguyen")
    assert len(sandbox.calls("workday")) == calls + 3
