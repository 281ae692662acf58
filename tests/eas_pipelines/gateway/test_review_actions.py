"""The review queue's actions: reclassify (correction stored, request queued), reroute, cancel."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from eas_pipelines.gateway.tokens import SCOPE_REQUESTS_READ, SCOPE_REQUESTS_WRITE
from eas_pipelines.routing import BULK_INVOICE_JOB, Lane
from eas_pipelines.store import CorrectionStore, RequestStore
from tests.eas_pipelines.gateway.conftest import LEAVE, OUT_OF_SCOPE, bearer, submit_headers


@pytest.fixture
def strict_gateway(make_gateway: Callable[..., Any]) -> Iterator[TestClient]:
    """A gateway that sends every classification to review (no confidence is above 1.0)."""
    with make_gateway(min_confidence=1.0) as client:
        yield client


def in_review(client: TestClient, text: str) -> dict[str, Any]:
    response = client.post("/v1/requests", json={"text": text}, headers=submit_headers(str(uuid.uuid4())))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "needs_review", body
    return body


def test_reclassify_stores_the_correction_and_queues_the_request(
    strict_gateway: TestClient, request_store: RequestStore
) -> None:
    request = in_review(strict_gateway, LEAVE)

    response = strict_gateway.post(
        f"/v1/review/{request['id']}/reclassify",
        json={
            "intent": "hr.leave_request",
            "entities": [{"type": "employee", "text": "bob"}, {"type": "date_range", "text": "next week"}],
        },
        headers=bearer("reviewer-1"),
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["request"]["status"] == "queued"
    assert body["request"]["intent"] == "hr.leave_request"
    assert body["request"]["workflow"] == "hr_leave_request"
    assert body["request"]["lane"] in {"fast", "standard"}
    assert body["correction"]["corrected_intent"] == "hr.leave_request"
    assert body["correction"]["reviewer"] == "client:reviewer-1"
    [stored] = CorrectionStore(request_store).list(request_id=request["id"])
    assert stored.text == LEAVE
    assert stored.model_intent == request["intent"]
    bob = stored.corrected_entities[0]
    assert (bob["type"], bob["text"], LEAVE[bob["start"] : bob["end"]]) == ("employee", "Bob", "Bob")
    actions = [entry.action for entry in request_store.audit_trail(request["id"])]
    assert "classification.corrected" in actions
    assert actions[-1] == "request.queued"


def test_reclassify_names_the_bad_field(strict_gateway: TestClient, request_store: RequestStore) -> None:
    request = in_review(strict_gateway, LEAVE)
    url = f"/v1/review/{request['id']}/reclassify"

    unknown = strict_gateway.post(url, json={"intent": "hr.sabbatical"}, headers=bearer())
    missing = strict_gateway.post(
        url,
        json={"intent": "hr.leave_request", "entities": [{"type": "employee", "text": "Alice"}]},
        headers=bearer(),
    )
    bad_type = strict_gateway.post(
        url,
        json={"intent": "hr.leave_request", "entities": [{"type": "pet", "text": "Bob"}]},
        headers=bearer(),
    )

    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["body", "intent"]
    # Well formed, but not this request's words: a conflict with the request, naming the entity.
    assert missing.status_code == 409
    assert missing.json()["detail"].startswith("entities[0].text: 'Alice' does not occur")
    assert bad_type.status_code == 422
    assert bad_type.json()["detail"][0]["loc"] == ["body", "entities", 0, "type"]
    assert request_store.get(request["id"]).status == "needs_review"
    assert CorrectionStore(request_store).list(request_id=request["id"]) == []


def test_reroute_runs_the_models_intent_without_a_correction(
    strict_gateway: TestClient, request_store: RequestStore
) -> None:
    request = in_review(strict_gateway, LEAVE)
    url = f"/v1/review/{request['id']}/reroute"

    bad = strict_gateway.post(url, json={"job": "no_such_job"}, headers=bearer())
    response = strict_gateway.post(url, json={"reason": "confirmed"}, headers=bearer())

    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "job"]
    assert response.status_code == 200, response.text
    body = response.json()["request"]
    assert body["status"] == "queued"
    assert body["intent"] == request["intent"]
    assert response.json()["correction"] is None
    assert CorrectionStore(request_store).list(request_id=request["id"]) == []


def test_reroute_of_an_intent_that_routes_nowhere_needs_a_job(strict_gateway: TestClient) -> None:
    request = in_review(strict_gateway, OUT_OF_SCOPE)
    url = f"/v1/review/{request['id']}/reroute"

    response = strict_gateway.post(url, headers=bearer())  # no body: "its intent's workflow"
    undecodable = strict_gateway.post(
        url, content=b"\xff\xfe\xfa", headers={**bearer(), "Content-Type": "application/json"}
    )

    assert response.status_code == 409
    assert response.json()["detail"].startswith("job: ")
    assert "routes to no workflow" in response.json()["detail"]
    assert undecodable.status_code == 400  # documented: the body could not be decoded


def test_cancel_then_any_action_is_a_conflict(strict_gateway: TestClient) -> None:
    request = in_review(strict_gateway, OUT_OF_SCOPE)
    base = f"/v1/review/{request['id']}"

    cancelled = strict_gateway.post(f"{base}/cancel", json={"reason": "not for us"}, headers=bearer())
    again = strict_gateway.post(f"{base}/reclassify", json={"intent": "hr.leave_request"}, headers=bearer())

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["request"]["status"] == "cancelled"
    assert again.status_code == 409
    assert "cancelled" in again.json()["detail"]


def test_review_actions_need_the_approvals_scope(strict_gateway: TestClient) -> None:
    request = in_review(strict_gateway, OUT_OF_SCOPE)
    headers = bearer("submitter", scopes=(SCOPE_REQUESTS_READ, SCOPE_REQUESTS_WRITE))

    response = strict_gateway.post(
        f"/v1/review/{request['id']}/cancel", json={"reason": "x"}, headers=headers
    )

    assert response.status_code == 403


def test_an_unknown_request_is_not_found(strict_gateway: TestClient) -> None:
    response = strict_gateway.post(
        f"/v1/review/{uuid.uuid4()}/cancel", json={"reason": "x"}, headers=bearer()
    )

    assert response.status_code == 404


def test_a_correction_made_through_the_api_is_in_the_training_set(
    strict_gateway: TestClient, migrated_database_url: str
) -> None:
    import dagster as dg

    from eas_pipelines.agents.learning.assets import TRAINING_SET, training_set
    from eas_pipelines.resources import RequestStoreResource

    request = in_review(strict_gateway, LEAVE)
    strict_gateway.post(
        f"/v1/review/{request['id']}/reclassify",
        json={"intent": "hr.leave_request", "entities": [{"type": "employee", "text": "Bob"}]},
        headers=bearer(),
    ).raise_for_status()

    result = dg.materialize(
        [training_set],
        resources={"store": RequestStoreResource(database_url=migrated_database_url)},
        run_config={"ops": {"learning__training_set": {"config": {"per_intent_limit": 1}}}},
    )

    examples = [u for u in result.asset_value(TRAINING_SET).split("train") if u.words == tuple(LEAVE.split())]
    assert examples and {(u.intent, u.tags[3]) for u in examples} == {("hr.leave_request", "B-employee")}


def test_the_cli_lists_the_queue_and_reclassifies(
    build_gateway_app: Callable[..., Any],
    request_store: RequestStore,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    from typer.testing import CliRunner

    from eas_pipelines.cli.main import app as cli
    from tests.eas_pipelines.gateway.conftest import SECRET
    from tests.eas_pipelines.gateway.servers import ServerThread

    monkeypatch.setenv("EAS_JWT_SECRET", SECRET)
    monkeypatch.setenv("EAS_DATA_DIR", str(tmp_path / "eas"))
    with ServerThread(build_gateway_app(min_confidence=1.0)) as server:
        with TestClient(build_gateway_app(min_confidence=1.0)) as client:
            request = in_review(client, LEAVE)
        runner = CliRunner()
        listed = runner.invoke(cli, ["review", "list", "--json", "--gateway", server.url])
        done = runner.invoke(
            cli,
            ["review", "reclassify", request["id"], "hr.leave_request", "--entity", "employee=Bob"]
            + ["--json", "--gateway", server.url],
        )
        bad = runner.invoke(cli, ["review", "reclassify", request["id"], "hr.nope", "--gateway", server.url])

    assert listed.exit_code == 0, listed.output
    assert request["id"] in listed.output
    assert done.exit_code == 0, done.output
    assert request_store.get(request["id"]).status == "queued"
    assert (
        CorrectionStore(request_store).list(request_id=request["id"])[0].corrected_entities[0]["text"]
        == "Bob"
    )
    assert bad.exit_code == 2


def test_a_reviewed_request_naming_a_file_runs_the_bulk_workflow(
    strict_gateway: TestClient, request_store: RequestStore
) -> None:
    """Reclassified as an invoice, a request naming an ``s3://`` CSV runs the bulk job, as the gateway's
    own routing would; and a reviewer may reroute any request to the bulk job by name."""
    text = "Process the invoices in s3://ap-inbox/2026-11/invoices.csv"
    reclassified = in_review(strict_gateway, text)
    rerouted = in_review(strict_gateway, text)

    response = strict_gateway.post(
        f"/v1/review/{reclassified['id']}/reclassify",
        json={"intent": "finance.invoice_process"},
        headers=bearer(),
    )
    by_job = strict_gateway.post(
        f"/v1/review/{rerouted['id']}/reroute", json={"job": BULK_INVOICE_JOB}, headers=bearer()
    )

    assert response.status_code == 200, response.text
    assert by_job.status_code == 200, by_job.text
    for request in (reclassified, rerouted):
        record = request_store.get(request["id"])
        assert (record.workflow, record.agent, record.lane) == (BULK_INVOICE_JOB, "finance", Lane.STANDARD)
