"""Teams' connector (a dagster-msteams TeamsClient) against the webhook emulator: the Adaptive Card,
throttling in a 200 body, retries, refusals, breaker, idempotent posts."""

from __future__ import annotations

import json
import ssl
import time

import httpx
import pybreaker
import pytest
from dagster_msteams.client import TeamsClient

from eas_pipelines.connectors.retry import ConnectorUnavailable, VendorRejected
from eas_pipelines.connectors.teams import TeamsResource


@pytest.fixture
def teams(sandbox, connector_options) -> TeamsResource:
    return TeamsResource(
        hook_url=sandbox.env["EAS_TEAMS_WEBHOOK_URL"],
        **connector_options,
    )


def _posts(sandbox) -> list[dict]:
    return [call for call in sandbox.calls("teams") if call["method"] == "POST"]


def _stored(sandbox) -> list[dict]:
    return sandbox.sandbox.records.all("teams", "messages")


def test_post_card_sends_the_documented_adaptive_card(teams, sandbox):
    delivery = teams.client().post_card(
        "Purchase order approved", "PO 4500000001 for 12,400 EUR", facts={"Approver": "Morgan Reyes"}
    )

    assert delivery.delivered and not delivery.duplicate
    (post,) = _posts(sandbox)
    assert sandbox.env["EAS_TEAMS_WEBHOOK_URL"].endswith(post["path"])
    assert post["headers"]["content-type"] == "application/json"
    payload = json.loads(post["body"])
    assert payload["type"] == "message"
    (attachment,) = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["contentUrl"] is None
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.2"
    assert [block["type"] for block in card["body"]] == ["TextBlock", "TextBlock", "FactSet"]
    assert card["body"][2]["facts"] == [{"title": "Approver", "value": "Morgan Reyes"}]
    assert [m["payload"] for m in _stored(sandbox)] == [payload]


def test_the_listing_shows_what_was_posted(teams, sandbox):
    teams.client().post_card("Hello", "world")
    verify = ssl.create_default_context(cafile=sandbox.ca_bundle)
    listing = httpx.get(f"{sandbox.env['EAS_TEAMS_WEBHOOK_URL']}/messages", verify=verify).json()

    assert [m["payload"]["attachments"][0]["content"]["body"][0]["text"] for m in listing["messages"]] == [
        "Hello"
    ]


def test_it_is_still_a_dagster_msteams_client(teams, sandbox):
    client = teams.get_client()

    assert isinstance(client, TeamsClient)
    assert client.post_message({"text": "a legacy MessageCard"}) is True
    assert len(_stored(sandbox)) == 1


def test_throttling_in_a_200_body_is_retried(teams, sandbox, monkeypatch):
    monkeypatch.setattr("eas_pipelines.connectors.teams.THROTTLE_WAIT_S", 0.3)
    sandbox.fault("throttle", "teams", count=1)
    started = time.monotonic()

    teams.client().post_card("slow", "down")

    assert time.monotonic() - started >= 0.3
    assert len(_posts(sandbox)) == 2 and len(_stored(sandbox)) == 1


def test_server_errors_are_retried_then_fail_cleanly(teams, sandbox):
    sandbox.fault("error", "teams", count=10, status=502)

    with pytest.raises(ConnectorUnavailable, match="teams: still failing after 3 attempts.*502") as failed:
        teams.client().post_card("down", "down")
    assert len(_posts(sandbox)) == 3
    assert "IncomingWebhook" not in str(failed.value)  # the URL is the credential


def test_refusals_are_final(teams, sandbox):
    sandbox.fault("unauthorized", "teams", count=1)
    with pytest.raises(VendorRejected, match="403") as refused:
        teams.client().post_card("no", "no")
    assert refused.value.status == 403

    with pytest.raises(VendorRejected, match="Bad payload"):
        teams.client().post({"type": "message", "attachments": [{"contentType": "text/plain"}]})
    assert len(_posts(sandbox)) == 2 and not _stored(sandbox)


def test_a_retried_post_with_its_key_posts_once(teams, sandbox):
    client = teams.client()
    first = client.post_card("Leave approved", "Priya, 3 days", idempotency_key="req-1")
    again = client.post_card("Leave approved", "Priya, 3 days", idempotency_key="req-1")
    other = client.post_card("Leave approved", "Priya, 3 days", idempotency_key="req-2")

    assert not first.duplicate and again.duplicate and not other.duplicate
    assert len(_stored(sandbox)) == 2


def test_the_breaker_opens_on_outages_and_closes_after_recovery(sandbox, connector_options):
    options = {**connector_options, "breaker_reset_timeout_s": 1.0}  # 0.5 s can pass on a busy machine
    teams = TeamsResource(hook_url=sandbox.env["EAS_TEAMS_WEBHOOK_URL"], **options)
    sandbox.fault("error", "teams", count=6)
    client = teams.client()
    with pytest.raises(ConnectorUnavailable):
        client.post_card("down", "down")
    with pytest.raises(pybreaker.CircuitBreakerError):
        client.post_card("down", "down")  # the second outage opens it (fail_max=2)
    with pytest.raises(pybreaker.CircuitBreakerError):
        client.post_card("down", "down")  # open: Teams is not called
    assert len(_posts(sandbox)) == 6

    sandbox.reset()
    time.sleep(1.1)
    assert client.post_card("back", "up").delivered
    assert teams.breaker.current_state == "closed"
