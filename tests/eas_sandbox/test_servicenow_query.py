"""The ServiceNow emulator's encoded queries: ``=``, ``!=``, ``IN``/``NOT IN`` and date/number ranges.

Records are put straight into the emulator's state with chosen ``sys_created_on`` times (as an instance
holds them: UTC, ``YYYY-MM-DD HH:MM:SS``) and read back over the Table API.
"""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from eas_sandbox.vendors.servicenow import Condition, parse_query

CREATED = [
    ("INC0090001", "1", "2025-06-30 23:59:59", "3"),
    ("INC0090002", "2", "2025-07-01 00:00:00", "1"),
    ("INC0090003", "6", "2025-07-15 12:30:00", "2"),
    ("INC0090004", "3", "2025-07-31 23:59:59", "10"),
    ("INC0090005", "7", "2025-08-01 00:00:00", ""),
]
"""number, state, sys_created_on, priority."""


@pytest.fixture
def table(sandbox) -> Iterator[httpx.Client]:
    """A plain client on the Table API, with the incidents of :data:`CREATED` stored."""
    for number, state, created, priority in CREATED:
        sys_id = uuid.uuid4().hex
        record = {"sys_id": sys_id, "number": number, "state": state, "sys_created_on": created}
        if priority:
            record["priority"] = priority
        sandbox.sandbox.records.put("servicenow", "incident", sys_id, record)
    env = sandbox.env
    with httpx.Client(
        base_url=f"{env['EAS_SERVICENOW_URL']}/api/now/table/",
        auth=(env["EAS_SERVICENOW_USER"], env["EAS_SERVICENOW_PASSWORD"]),
        verify=ssl.create_default_context(cafile=sandbox.ca_bundle),
        headers={"Accept": "application/json"},
        timeout=10,
    ) as client:
        yield client


def _numbers(table: httpx.Client, query: str, **params: Any) -> list[str]:
    response = table.get("incident", params={"sysparm_query": query, **params})
    assert response.status_code == 200, response.text
    return [row["number"] for row in response.json()["result"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("stateIN1,2,3^ORDERBYnumber", ["INC0090001", "INC0090002", "INC0090004"]),
        ("stateNOT IN1,2,3^ORDERBYnumber", ["INC0090003", "INC0090005"]),
        ("state!=6^stateIN6,7", ["INC0090005"]),
        (
            "sys_created_on>=2025-07-01 00:00:00^sys_created_on<2025-08-01 00:00:00^ORDERBYnumber",
            ["INC0090002", "INC0090003", "INC0090004"],
        ),
        (
            "sys_created_on>2025-07-01 00:00:00^sys_created_on<=2025-07-31 23:59:59",
            ["INC0090003", "INC0090004"],
        ),
        ("sys_created_on<2025-07-01^ORDERBYnumber", ["INC0090001"]),
        ("sys_created_on>=2025-07-15^stateIN2,6", ["INC0090003"]),
        ("priority<3^ORDERBYDESCnumber", ["INC0090003", "INC0090002"]),  # numbers: "10" is not < 3
        ("priority>=0^ORDERBYnumber", ["INC0090001", "INC0090002", "INC0090003", "INC0090004"]),
    ],
)
def test_in_and_ranges_select_on_the_server(table, query, expected):
    assert _numbers(table, query) == expected


def test_ranges_page_with_the_total_of_the_selection(table):
    response = table.get(
        "incident",
        params={"sysparm_query": "sys_created_on>=2025-07-01^ORDERBYnumber", "sysparm_limit": 2},
    )

    assert response.headers["X-Total-Count"] == "4"
    assert [row["number"] for row in response.json()["result"]] == ["INC0090002", "INC0090003"]
    assert 'rel="next"' in response.headers["Link"]


@pytest.mark.parametrize(
    "query", ["numberSTARTSWITHINC", "state=1^ORstate=2", "active=true^NQstate=1", "Priority=1", "=1"]
)
def test_a_condition_it_does_not_understand_answers_400(table, query):
    response = table.get("incident", params={"sysparm_query": query})

    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "failure" and body["error"]["message"] == "Invalid query"
    assert "Unsupported condition" in body["error"]["detail"]


def test_parse_query_splits_conditions_from_the_order():
    query = parse_query("u_requester=a@b.c^stateIN1,2^sys_created_on>=2025-07-01 00:00:00^ORDERBYDESCnumber")

    assert query.conditions == (
        Condition("u_requester", "=", "a@b.c"),
        Condition("state", "IN", "1,2"),
        Condition("sys_created_on", ">=", "2025-07-01 00:00:00"),
    )
    assert query.order == (("number", True),)
    assert query.equalities() == {"u_requester": "a@b.c"}  # only "=" narrows the store's read


def test_conditions_on_values():
    assert Condition("state", "IN", "1,2").holds({"state": "2"})
    assert not Condition("state", "IN", "1,2").holds({})
    assert Condition("state", "NOT IN", "1,2").holds({})
    assert Condition("email", "=", "A@B.C").holds({"email": "a@b.c"})  # "=" ignores case
    assert Condition("email", "!=", "x@y.z").holds({"email": "a@b.c"})
    assert not Condition("resolved_at", "<", "2025-07-01").holds({"resolved_at": ""})  # empty: no match
    assert Condition("resolved_at", "<", "2025-07-01").holds({"resolved_at": "2025-06-30 10:00:00"})
    assert Condition("short_description", ">", "m").holds({"short_description": "printer"})  # text order
