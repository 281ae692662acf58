"""BambooHR's connector against its emulator: shapes, look-ups, hires, time off, balances, retries."""

from __future__ import annotations

import base64
import json
import time
from datetime import date

import pybreaker
import pytest

from eas_pipelines.connectors.bamboohr import BambooHRResource, InsufficientBalance
from eas_pipelines.connectors.retry import ConnectorUnavailable, VendorRejected

START, END = date(2026, 7, 6), date(2026, 7, 8)


@pytest.fixture
def bamboohr(sandbox, connector_options) -> BambooHRResource:
    env = sandbox.env
    return BambooHRResource(
        base_url=env["EAS_BAMBOOHR_URL"], api_key=env["EAS_BAMBOOHR_API_KEY"], **connector_options
    )


def test_directory_sends_the_api_key_as_basic_user(bamboohr, sandbox):
    people = bamboohr.client().directory()

    assert len(people) == 10
    dana = next(p for p in people if p.work_email == "dana.smith@example.com")
    priya = next(p for p in people if p.full_name == "Priya Patel")
    assert (dana.job_title, dana.supervisor, dana.supervisor_id) == (
        "Engineering Manager",
        "Priya Patel",
        priya.id,
    )
    assert next(p for p in people if p.full_name == "Morgan Reyes").supervisor_id is None
    call = sandbox.calls("bamboohr")[-1]
    assert (call["method"], call["path"]) == ("GET", "/bamboohr/api/v1/employees/directory")
    key = sandbox.env["EAS_BAMBOOHR_API_KEY"]
    assert call["headers"]["authorization"] == "Basic " + base64.b64encode(f"{key}:x".encode()).decode()
    assert call["headers"]["accept"] == "application/json"


def test_employees_are_found_by_email_name_or_id(bamboohr):
    client = bamboohr.client()

    by_email = client.employee_by_name_or_email("Kenji.Tanaka@example.com")
    assert by_email is not None and by_email.job_title == "AP Specialist"
    assert client.employee_by_name_or_email("sofia rossi").supervisor == "Omar Haddad"
    assert client.employee_by_name_or_email("Okafor").first_name == "Aisha"
    assert client.employee_by_name_or_email("Nobody Here") is None
    one = client.employee(by_email.id)
    assert one.hire_date == date(2024, 1, 8) and one.department == "Finance"
    assert client.employee(99999) is None


def test_adding_an_employee_twice_creates_one(bamboohr, sandbox):
    client = bamboohr.client()
    hire = {
        "first_name": "Lena",
        "last_name": "Berg",
        "work_email": "lena.berg@example.com",
        "job_title": "Software Engineer",
        "department": "Engineering",
        "hire_date": date(2026, 8, 3),
    }
    first = client.add_employee(**hire, idempotency_key="hire-1")
    again = client.add_employee(**hire, idempotency_key="hire-1")

    assert first.id == again.id and first.job_title == "Software Engineer"
    assert first.hire_date == date(2026, 8, 3)
    assert len(client.directory()) == 11
    posts = [call for call in sandbox.calls("bamboohr") if call["method"] == "POST"]
    assert len(posts) == 1 and posts[0]["path"] == "/bamboohr/api/v1/employees"
    assert json.loads(posts[0]["body"])["workEmail"] == "lena.berg@example.com"


def test_time_off_is_filed_once_decided_and_counted_against_the_balance(bamboohr, sandbox):
    client = bamboohr.client()
    marcus = client.employee_by_name_or_email("marcus.chen@example.com")
    before = {b.name: b for b in client.balances(marcus.id)}
    assert (before["Vacation"].balance, before["Sick"].balance, before["Personal"].balance) == (15, 10, 3)

    filed = client.request_time_off(
        marcus.id, START, END, "vacation", 3, "Family trip", idempotency_key="to-1"
    )
    again = client.request_time_off(
        marcus.id, START, END, "Vacation", 3, "Family trip", idempotency_key="to-1"
    )

    assert again.id == filed.id and filed.status == "requested" and filed.amount == 3
    assert filed.type_name == "Vacation" and filed.employee_note.startswith("Family trip")
    put = [call for call in sandbox.calls("bamboohr") if call["method"] == "PUT"]
    assert len(put) == 1 and put[0]["path"] == f"/bamboohr/api/v1/employees/{marcus.id}/time_off/request"
    sent = json.loads(put[0]["body"])
    assert sent["timeOffTypeId"] == "1" and sent["notes"][0]["from"] == "employee"

    client.set_time_off_status(filed.id, "approved", "Enjoy")
    [approved] = client.time_off_requests(START, END, employee_id=marcus.id, status="approved")
    assert approved.id == filed.id and approved.manager_note == "Enjoy"
    assert client.time_off_requests(date(2026, 1, 1), date(2026, 1, 31)) == []
    after = {b.name: b for b in client.balances(marcus.id, as_of=END)}
    assert after["Vacation"].balance == 12 and after["Vacation"].used_year_to_date == 3
    calculator = sandbox.calls("bamboohr")[-1]
    assert calculator["path"].endswith(f"/employees/{marcus.id}/time_off/calculator")
    assert calculator["query"] == "end=2026-07-08"


def test_a_request_above_the_balance_is_refused_with_insufficient_balance(bamboohr, sandbox):
    client = bamboohr.client()
    kenji = client.employee_by_name_or_email("Kenji Tanaka")

    with pytest.raises(InsufficientBalance, match="Insufficient balance: 3 days of Vacation") as refused:
        client.request_time_off(kenji.id, START, END, "vacation", 3, "", idempotency_key="to-2")
    assert refused.value.status == 400
    assert len([call for call in sandbox.calls("bamboohr") if call["method"] == "PUT"]) == 1


def test_throttling_429_honours_retry_after_and_503_is_retried(bamboohr, sandbox):
    sandbox.fault("throttle", "bamboohr", count=1, retry_after_s=0.3)
    started = time.monotonic()
    assert len(bamboohr.client().directory()) == 10
    assert time.monotonic() - started >= 0.3

    sandbox.fault("throttle", "bamboohr", count=1, retry_after_s=None)  # legacy: a bare 503
    assert len(bamboohr.client().directory()) == 10


def test_server_errors_are_retried_then_fail_cleanly(bamboohr, sandbox):
    sandbox.fault("error", "bamboohr", count=10, status=502)

    with pytest.raises(ConnectorUnavailable, match="bamboohr: still failing after 3 attempts.*502"):
        bamboohr.client().directory()
    assert len(sandbox.calls("bamboohr")) == 3


def test_refusals_are_final_and_carry_the_error_header(bamboohr, sandbox):
    sandbox.fault("unauthorized", "bamboohr", count=1)
    with pytest.raises(VendorRejected, match="Invalid API key") as refused:
        bamboohr.client().directory()
    assert refused.value.status == 401 and len(sandbox.calls("bamboohr")) == 1

    with pytest.raises(VendorRejected, match="Employee 99999 not found"):
        bamboohr.client().request_time_off(99999, START, END, "sick", 1, "", idempotency_key="to-3")
    with pytest.raises(VendorRejected, match="start and end are required") as refused:
        bamboohr.client()._http.json("GET", "time_off/requests", params={"start": "2026-07-01"})
    assert refused.value.status == 400


def test_the_breaker_opens_on_outages_and_closes_after_recovery(bamboohr, sandbox):
    sandbox.fault("error", "bamboohr", count=6)
    client = bamboohr.client()
    with pytest.raises(ConnectorUnavailable):
        client.directory()
    with pytest.raises(pybreaker.CircuitBreakerError):
        client.directory()

    sandbox.reset()
    time.sleep(1.6)  # past breaker_reset_timeout_s
    assert len(client.directory()) == 10
    assert bamboohr.breaker.current_state == "closed"
