"""Jira Cloud's connector (the ``jira`` SDK) against the REST API emulator: request shapes, search/jql paging,
429 + Retry-After, retries, refusals, transitions and label-keyed idempotency."""

from __future__ import annotations

import base64
import gc
import json
import time
from urllib.parse import parse_qs

import pybreaker
import pytest

from eas_pipelines.connectors.jira import JiraClient, JiraResource
from eas_pipelines.connectors.retry import ConnectorUnavailable, VendorRejected

API = "/jira/rest/api/2"


@pytest.fixture
def jira(sandbox, connector_options) -> JiraResource:
    env = sandbox.env
    return JiraResource(
        base_url=env["EAS_JIRA_URL"],
        email=env["EAS_JIRA_EMAIL"],
        api_token=env["EAS_JIRA_API_TOKEN"],
        **connector_options,
    )


@pytest.fixture(autouse=True)
def _close_clients(monkeypatch):
    """Close every client a test made: an idle keep-alive TLS connection holds up the sandbox's shutdown
    (uvicorn waits for the client's TLS close_notify, and the sandbox's stop() joins for 10 s)."""
    made: list[JiraClient] = []
    original = JiraClient.__init__

    def tracking(self, resource) -> None:
        original(self, resource)
        made.append(self)

    monkeypatch.setattr(JiraClient, "__init__", tracking)
    yield
    for client in made:
        client.close()
    gc.collect()  # exceptions kept by pytest.raises hold responses (and their sockets) in reference cycles


def test_create_issue_sends_the_documented_request(jira, sandbox):
    issue = jira.client().create_issue(
        "OPS", "Disk full on db-1", idempotency_key="req-1", description="95% used", labels=["storage"]
    )

    assert (issue.key, issue.status, issue.issue_type, issue.project) == ("OPS-1", "To Do", "Task", "OPS")
    assert issue.labels == ["storage", "eas-req-1"]
    calls = sandbox.calls("jira")
    assert calls[0]["path"] == f"{API}/serverInfo"  # the SDK asks first
    post = next(c for c in calls if c["method"] == "POST" and c["path"] == f"{API}/issue")
    env = sandbox.env
    token = base64.b64encode(f"{env['EAS_JIRA_EMAIL']}:{env['EAS_JIRA_API_TOKEN']}".encode()).decode()
    assert post["headers"]["authorization"] == f"Basic {token}"
    assert post["headers"]["x-atlassian-token"] == "no-check"
    fields = json.loads(post["body"])["fields"]
    assert fields["project"] == {"key": "OPS"} and fields["issuetype"] == {"name": "Task"}
    assert fields["summary"] == "Disk full on db-1"
    lookup = next(c for c in calls if c["path"] == f"{API}/search/jql")
    assert parse_qs(lookup["query"])["jql"] == ['labels = "eas-req-1"']


def test_a_retried_create_returns_the_first_issue(jira, sandbox):
    client = jira.client()
    first = client.create_issue("SUP", "Cannot log in", idempotency_key="req-2")
    sandbox.fault("throttle", "jira", count=1, retry_after_s=0)
    again = client.create_issue("SUP", "Cannot log in", idempotency_key="req-2")

    assert again.key == first.key == "SUP-1"
    assert [i.key for i in client.search('labels = "eas-req-2"')] == ["SUP-1"]
    assert len([c for c in sandbox.calls("jira") if c["method"] == "POST"]) == 1


def test_search_follows_next_page_token(jira, sandbox, monkeypatch):
    monkeypatch.setattr("eas_pipelines.connectors.jira.PAGE_SIZE", 2)
    client = jira.client()
    for n in range(5):
        client.create_issue("OPS", f"issue {n}", idempotency_key=f"page-{n}")
    before = len(sandbox.calls("jira"))

    found = client.search("project = OPS ORDER BY key DESC")

    assert [i.key for i in found] == [f"OPS-{n}" for n in range(5, 0, -1)]
    pages = [c for c in sandbox.calls("jira")[before:] if c["path"] == f"{API}/search/jql"]
    assert len(pages) == 3
    assert "nextPageToken" not in parse_qs(pages[0]["query"])
    assert all("nextPageToken" in parse_qs(page["query"]) for page in pages[1:])
    assert len(client.search("project = OPS", limit=3)) == 3


def test_workflow_transitions_to_do_in_progress_done(jira):
    client = jira.client()
    issue = client.create_issue("OPS", "Rotate certificates", idempotency_key="req-3")

    assert [t.name for t in client.transitions(issue.key)] == ["Start Progress"]
    assert client.transition(issue.key, "Start Progress").status == "In Progress"
    assert client.transition(issue.key, "Done").status == "Done"
    assert client.transition(issue.key, "Done").status == "Done"  # already there: unchanged
    with pytest.raises(VendorRejected, match="no transition 'Start Progress'"):
        client.transition(issue.key, "Start Progress")


def test_throttling_is_retried_after_retry_after(jira, sandbox):
    client = jira.client()
    assert client.issue("OPS-99") is None  # connected
    sandbox.fault("throttle", "jira", count=1, retry_after_s=0.3)
    started = time.monotonic()

    issue = client.create_issue("OPS", "slow", idempotency_key="req-4")

    assert issue.key == "OPS-1"
    assert time.monotonic() - started >= 0.3


def test_server_errors_are_retried_then_fail_cleanly(jira, sandbox):
    sandbox.fault("error", "jira", count=10, status=502)

    with pytest.raises(ConnectorUnavailable, match="jira: still failing after 3 attempts.*502"):
        jira.client().issue("OPS-1")
    assert len(sandbox.calls("jira")) == 3  # the SDK itself did not retry


def test_refusals_are_final_and_carry_jira_messages(jira, sandbox):
    client = jira.client()
    with pytest.raises(VendorRejected, match="valid project is required") as refused:
        client.create_issue("NOPE", "Nowhere", idempotency_key="req-5")

    assert refused.value.status == 400
    assert len([c for c in sandbox.calls("jira") if c["method"] == "POST"]) == 1
    assert sandbox.env["EAS_JIRA_API_TOKEN"] not in str(refused.value)
    assert refused.value.__cause__ is None and refused.value.__suppress_context__


def test_bad_credentials_are_refused(jira, sandbox):
    wrong = jira.model_copy(update={"api_token": "not-the-token"})

    with pytest.raises(VendorRejected, match="not authenticated") as refused:
        wrong.client().search("project = OPS")
    assert refused.value.status == 401 and "not-the-token" not in str(refused.value)


def test_the_breaker_opens_on_outages_and_closes_after_recovery(jira, sandbox):
    # pybreaker's Redis storage keeps opened_at in whole seconds: an open circuit may look up to 1 s older.
    jira = jira.model_copy(update={"breaker_reset_timeout_s": 1.5})
    sandbox.fault("error", "jira", count=6)
    client = jira.client()
    with pytest.raises(ConnectorUnavailable):
        client.issue("OPS-1")
    with pytest.raises(pybreaker.CircuitBreakerError):
        client.issue("OPS-1")
    calls = len(sandbox.calls("jira"))
    with pytest.raises(pybreaker.CircuitBreakerError):
        client.issue("OPS-1")
    assert len(sandbox.calls("jira")) == calls

    sandbox.reset()
    time.sleep(1.6)  # past breaker_reset_timeout_s
    assert client.issue("OPS-1") is None
    assert jira.breaker.current_state == "closed"
