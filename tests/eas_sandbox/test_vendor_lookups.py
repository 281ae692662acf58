"""Lookups by a field that the emulators ask the store for (rather than filtering every record)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import httpx
import pytest

from eas_sandbox.vendors import servicenow, slack


def _client(sandbox, base_url: str, **options) -> httpx.Client:
    verify = ssl.create_default_context(cafile=sandbox.ca_bundle)
    return httpx.Client(base_url=base_url, verify=verify, timeout=10, **options)


@pytest.fixture
def now_api(sandbox) -> Iterator[httpx.Client]:
    url = sandbox.env["EAS_SERVICENOW_URL"]
    with _client(sandbox, f"{url}/api/now/table/", auth=(servicenow.USER, servicenow.PASSWORD)) as client:
        yield client


@pytest.fixture
def slack_api(sandbox) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {slack.TOKEN}"}
    with _client(sandbox, sandbox.env["EAS_SLACK_URL"], headers=headers) as client:
        yield client


def test_servicenow_equality_ignores_case_and_combines_with_ordering(now_api):
    for correlation, urgency in (("EAS-Key-1", "2"), ("other", "1"), ("eas-key-1", "1"), ("", "3")):
        assert now_api.post("incident", json={"correlation_id": correlation, "urgency": urgency}).is_success

    def correlations(query: str, **params) -> tuple[list[str], str]:
        response = now_api.get("incident", params={"sysparm_query": query, **params})
        return [row["correlation_id"] for row in response.json()["result"]], response.headers["X-Total-Count"]

    assert correlations("correlation_id=EAS-KEY-1") == (["EAS-Key-1", "eas-key-1"], "2")
    assert correlations("correlation_id=eas-key-1^urgency=1") == (["eas-key-1"], "1")
    assert correlations("correlation_id=eas-key-1^ORDERBYDESCurgency", sysparm_limit=1) == (
        ["EAS-Key-1"],
        "2",
    )
    assert correlations("correlation_id=") == ([""], "1")  # an empty value matches a missing field too
    assert correlations("correlation_id=nobody") == ([], "0")


def test_slack_history_reads_one_channel_newest_first_page_by_page(slack_api):
    for channel, text in (("C0FINANCE", "f1"), ("C0HR", "h1"), ("C0FINANCE", "f2"), ("C0FINANCE", "f3")):
        assert slack_api.post("chat.postMessage", json={"channel": channel, "text": text}).json()["ok"]
    assert slack_api.post("chat.postMessage", json={"channel": "#hr", "text": "h2"}).json()["ok"]

    first = slack_api.post("conversations.history", json={"channel": "C0FINANCE", "limit": 2}).json()
    cursor = first["response_metadata"]["next_cursor"]
    rest = slack_api.post(
        "conversations.history", json={"channel": "C0FINANCE", "limit": 2, "cursor": cursor}
    )
    hr = slack_api.post("conversations.history", json={"channel": "C0HR"}).json()

    assert [m["text"] for m in first["messages"]] == ["f3", "f2"] and first["has_more"]
    assert [m["text"] for m in rest.json()["messages"]] == ["f1"] and not rest.json()["has_more"]
    assert [m["text"] for m in hr["messages"]] == ["h2", "h1"]
