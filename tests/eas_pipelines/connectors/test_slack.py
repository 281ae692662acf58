"""Slack's connector (slack-sdk WebClient) against the Web API emulator: shapes, errors in 200s,
throttling, paging, breaker, idempotent posts."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs

import dagster_slack
import pybreaker
import pytest

from eas_pipelines.connectors.retry import ConnectorUnavailable, VendorRejected
from eas_pipelines.connectors.slack import SlackResource


@pytest.fixture
def slack(sandbox, connector_options) -> SlackResource:
    env = sandbox.env
    return SlackResource(token=env["EAS_SLACK_BOT_TOKEN"], base_url=env["EAS_SLACK_URL"], **connector_options)


def _posts(sandbox) -> list[dict]:
    return [call for call in sandbox.calls("slack") if call["path"].endswith("/chat.postMessage")]


def _messages(sandbox) -> list[dict]:
    return sandbox.sandbox.records.all("slack", "messages")


def test_it_is_still_a_dagster_slack_resource(slack):
    assert isinstance(slack, dagster_slack.SlackResource)
    assert slack.get_client().base_url == slack.base_url


def test_post_message_sends_the_documented_request(slack, sandbox):
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Approve* PO 4500000001?"}}]

    posted = slack.client().post_message("C0FINANCE", "Approve PO 4500000001?", blocks=blocks)

    assert posted.channel == "C0FINANCE" and posted.ts
    (post,) = _posts(sandbox)
    assert post["method"] == "POST" and post["path"] == "/slack/api/chat.postMessage"
    assert post["headers"]["authorization"] == f"Bearer {sandbox.env['EAS_SLACK_BOT_TOKEN']}"
    assert post["headers"]["content-type"].startswith("application/json")
    body = json.loads(post["body"])
    assert body["channel"] == "C0FINANCE" and body["blocks"] == blocks
    assert [m["ts"] for m in _messages(sandbox)] == [posted.ts]


def test_a_thread_reply_and_a_channel_name(slack):
    client = slack.client()
    parent = client.post_message("#support", "Ticket opened")
    reply = client.post_message("#support", "Assigned to Dana", thread_ts=parent.ts)

    assert parent.channel == reply.channel == "C0SUPPORT"
    assert [m["text"] for m in client.replies("C0SUPPORT", parent.ts)] == [
        "Ticket opened",
        "Assigned to Dana",
    ]
    assert [m["text"] for m in client.history("C0SUPPORT")] == ["Ticket opened"]


def test_people_are_found_by_email_and_reached_in_their_dm(slack, sandbox):
    client = slack.client()
    user = client.user_by_email("priya.patel@example.com")

    assert user is not None and user.id == "U0PRIYA" and user.email == "priya.patel@example.com"
    assert client.user_by_email("nobody@example.com") is None
    lookup = [c for c in sandbox.calls("slack") if c["path"].endswith("/users.lookupByEmail")][0]
    assert parse_qs(lookup["body"])["email"] == ["priya.patel@example.com"]

    posted = client.post_direct_message("priya.patel@example.com", "Your leave was approved")
    assert posted.channel == "D0PRIYA"
    assert client.post_message("U0PRIYA", "by member ID").channel == "D0PRIYA"


def test_listing_follows_cursor_pages(slack, sandbox, monkeypatch):
    monkeypatch.setattr("eas_pipelines.connectors.slack.PAGE_SIZE", 2)
    client = slack.client()
    made = [client.post_message("C0GENERAL", f"note {n}").ts for n in range(5)]

    assert [m["ts"] for m in client.history("C0GENERAL")] == made[::-1]
    pages = [c for c in sandbox.calls("slack") if c["path"].endswith("/conversations.history")]
    assert len(pages) == 3
    assert client.channel_id("#hr") == "C0HR"  # conversations.list, two channels a page


def test_a_retried_post_with_its_key_posts_once(slack, sandbox):
    client = slack.client()
    first = client.post_message("#finance", "PO approved", idempotency_key="req-1")
    again = client.post_message("#finance", "PO approved", idempotency_key="req-1")
    other = client.post_message("#finance", "PO approved", idempotency_key="req-2")

    assert again == first and other.ts != first.ts
    assert len(_messages(sandbox)) == 2
    stored = _messages(sandbox)[0]["metadata"]
    assert stored == {"event_type": "eas_request", "event_payload": {"key": "req-1"}}
    reads = [call for call in sandbox.calls("slack") if "conversations." in call["path"]]
    assert reads == []  # the ledger answered: no channel read back before a post


def test_a_post_whose_answer_was_lost_is_found_not_sent_again(slack, sandbox):
    client = slack.client()
    ledger = slack.ledger("finance/")
    ledger.begin("req-lost")  # the first attempt began...
    delivered = client.web.chat_postMessage(  # ...and Slack stored it, but its answer never came
        channel="C0FINANCE",
        text="PO approved",
        metadata={"event_type": "eas_request", "event_payload": {"key": "req-lost"}},
    )

    retried = client.post_message("#finance", "PO approved", idempotency_key="req-lost")

    assert retried.ts == delivered["ts"] and retried.channel == delivered["channel"]
    assert len(_posts(sandbox)) == 1
    assert ledger.recall("req-lost").delivered


def test_a_pending_attempt_that_never_arrived_is_posted(slack, sandbox):
    slack.ledger("finance/").begin("req-failed")  # began, and failed before reaching Slack

    posted = slack.client().post_message("#finance", "PO approved", idempotency_key="req-failed")

    assert [m["ts"] for m in _messages(sandbox)] == [posted.ts]


def test_ratelimited_is_retried_after_retry_after(slack, sandbox):
    sandbox.fault("throttle", "slack", count=1, retry_after_s=0.3)
    started = time.monotonic()

    posted = slack.client().post_message("C0HR", "slow")

    assert posted.ts and time.monotonic() - started >= 0.3
    assert len(_posts(sandbox)) == 2


def test_server_errors_are_retried_then_fail_cleanly(slack, sandbox):
    sandbox.fault("error", "slack", count=10, status=503)

    with pytest.raises(ConnectorUnavailable, match="slack: still failing after 3 attempts.*internal_error"):
        slack.client().post_message("C0HR", "down")
    assert len(_posts(sandbox)) == 3


@pytest.mark.parametrize(
    ("channel", "fault", "code"),
    [("C0NOPE", None, "channel_not_found"), ("C0HR", "unauthorized", "invalid_auth")],
)
def test_refusals_in_a_200_are_final(slack, sandbox, channel, fault, code):
    if fault:
        sandbox.fault(fault, "slack", count=1)

    with pytest.raises(VendorRejected, match=code) as refused:
        slack.client().post_message(channel, "hello")
    assert refused.value.code == code and refused.value.status == 200
    assert len(_posts(sandbox)) == 1
    assert sandbox.env["EAS_SLACK_BOT_TOKEN"] not in str(refused.value)


def test_a_wrong_token_is_refused(sandbox, connector_options):
    wrong = SlackResource(token="xoxb-wrong", base_url=sandbox.env["EAS_SLACK_URL"], **connector_options)

    with pytest.raises(VendorRejected, match="invalid_auth"):
        wrong.client().user_by_email("dana.smith@example.com")


def test_the_breaker_opens_on_outages_and_closes_after_recovery(sandbox, connector_options):
    options = {**connector_options, "breaker_reset_timeout_s": 1.0}  # 0.5 s can pass on a busy machine
    slack = SlackResource(
        token=sandbox.env["EAS_SLACK_BOT_TOKEN"], base_url=sandbox.env["EAS_SLACK_URL"], **options
    )
    sandbox.fault("error", "slack", count=6)
    client = slack.client()
    with pytest.raises(ConnectorUnavailable):
        client.post_message("C0HR", "down")
    with pytest.raises(pybreaker.CircuitBreakerError):
        client.post_message("C0HR", "down")  # the second outage opens it (fail_max=2)
    with pytest.raises(pybreaker.CircuitBreakerError):
        client.post_message("C0HR", "down")  # open: Slack is not called
    assert len(_posts(sandbox)) == 6

    sandbox.reset()
    time.sleep(1.1)
    assert client.post_message("C0HR", "back").ts  # a trial call succeeds and closes it
    assert slack.breaker.current_state == "closed"
