"""The communication agent end to end against the Slack, Teams, SMTP, BambooHR and S3 emulators,
plus its text rules.

What was sent is read back as its recipients would see it: Slack channels and DMs through
``conversations.history``, the Teams webhook's posts and the mailboxes from the emulators' records.
The emulators live for the whole session, so each test uses fresh people, departments and keys.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import date

import pytest

from eas_pipelines.agents.common import WorkItem
from eas_pipelines.agents.communication import (
    communication_announcement,
    communication_send_email,
    communication_send_message,
)
from eas_pipelines.agents.communication.delivery import find_person, members_of
from eas_pipelines.agents.communication.rules import (
    attachment_of,
    channel_name,
    channels_of,
    email_template,
    message_body,
    subject_of,
    to_everyone,
    wants_teams,
)
from eas_pipelines.agents.fanout import fanout_run_config
from eas_pipelines.connectors.bamboohr import BambooHRClient, BambooHRResource, Employee
from eas_pipelines.connectors.s3 import S3Client, S3ConnectorResource
from eas_pipelines.connectors.slack import SlackClient, SlackResource
from eas_pipelines.connectors.teams import TeamsResource
from eas_pipelines.runs import run_tags_for
from eas_pipelines.store import Status
from eas_sandbox.vendors.teams import CHANNEL_WEBHOOKS
from tests.eas_pipelines.dagster_support import entity, make_resources, queued_request, run_workflow
from tests.eas_pipelines.notifications_support import received

MESSAGE = "communication.send_message"
EMAIL = "communication.send_email"
ANNOUNCE = "communication.announcement"


def item(text: str, entities=()) -> WorkItem:
    return WorkItem("r", "communication", MESSAGE, text, "c", 1, tuple(entities), 1, "run")


# -- rules ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "body"),
    [
        ("post in #finance: the close is done", "the close is done"),
        ("tell Priya that the build is green", "the build is green"),
        ("let Dana know the call moved", "the call moved"),
        ("fetch s3://bucket/key.csv at 10:30", None),
        ("ping Bob", None),
    ],
)
def test_message_body(text, body):
    assert message_body(text) == body


def test_channels_subjects_templates_and_attachments():
    assert channel_name("#Eng-Alerts") == "#eng-alerts"
    assert channel_name("the engineering channel") == "#engineering"
    assert channel_name("the all-hands channel") == "#all-hands"
    entities = [{"type": "channel", "value": "#ops"}, {"type": "channel", "value": "the ops channel"}]
    assert channels_of(item("x", entities)) == ["#ops"]
    assert wants_teams(item("send a Teams message to #ops: hi")) and not wants_teams(item("slack #ops"))
    assert to_everyone(item("let everyone know: free lunch")) and not to_everyone(item("tell #ops"))
    assert subject_of("email Dana about the Q3 budget with the file: hi", "hi", "") == "The Q3 budget"
    assert subject_of("email Dana: lunch is at noon", "lunch is at noon", "") == "Lunch is at noon"
    assert email_template("send a reminder email to Dana") == "reminder"
    assert email_template("send a follow-up email to Dana") == "follow_up"
    assert email_template("email Dana") == "message"
    found = attachment_of("email it with s3://eas-docs/reports/q3.csv attached.")
    assert found is not None and (found.bucket, found.key, found.filename) == (
        "eas-docs",
        "reports/q3.csv",
        "q3.csv",
    )
    assert found.mime == "text/csv"
    assert attachment_of("no attachment here") is None


def test_people_are_found_by_email_full_name_or_a_unique_part():
    people = [
        Employee(
            id=1, firstName="Dana", lastName="Smith", workEmail="dana.smith@example.com", department="Eng"
        ),
        Employee(
            id=2, firstName="Dan", lastName="Brown", workEmail="dan.brown@example.com", department="Eng"
        ),
        Employee(
            id=3, firstName="Omar", lastName="Haddad", workEmail="omar@example.com", department="Finance"
        ),
    ]
    assert find_person(people, "DANA.SMITH@example.com").name == "Dana Smith"
    assert find_person(people, "Omar").email == "omar@example.com"
    assert find_person(people, "Dan").email == "dan.brown@example.com"  # a first name, exactly
    assert find_person(people, "Da") is None  # ambiguous
    assert [p.email for p in members_of(people, " eng ")] == [
        "dana.smith@example.com",
        "dan.brown@example.com",
    ]


def test_teams_channels_are_named_by_their_webhooks():
    hooks = '{"General": "https://hooks.example/general", "#eng": "https://hooks.example/eng"}'
    teams = TeamsResource(
        redis_url="redis://127.0.0.1:1/0", hook_url="https://hooks.example/default", channel_hooks=hooks
    )
    assert teams.channel_webhooks() == {
        "general": "https://hooks.example/general",
        "eng": "https://hooks.example/eng",
    }
    assert TeamsResource(redis_url="redis://127.0.0.1:1/0", hook_url="https://h/x").channel_webhooks() == {}
    with pytest.raises(ValueError, match="EAS_TEAMS_CHANNEL_WEBHOOKS"):
        TeamsResource(
            redis_url="redis://127.0.0.1:1/0", hook_url="https://h/x", channel_hooks="[1]"
        ).channel_webhooks()


# -- fixtures ------------------------------------------------------------------------------------


def _resource(cls, sandbox_session, redis_url: str, **fields):
    return cls(
        ca_bundle=sandbox_session.ca_bundle,
        redis_url=redis_url,
        breaker_prefix="eas:test:communication-reader",
        **fields,
    )


@pytest.fixture
def slack(sandbox_session, redis_url) -> SlackClient:
    env = sandbox_session.env
    return _resource(
        SlackResource,
        sandbox_session,
        redis_url,
        token=env["EAS_SLACK_BOT_TOKEN"],
        base_url=env["EAS_SLACK_URL"],
    ).client()


@pytest.fixture
def bamboohr(sandbox_session, redis_url) -> Iterator[BambooHRClient]:
    env = sandbox_session.env
    resource = _resource(
        BambooHRResource,
        sandbox_session,
        redis_url,
        base_url=env["EAS_BAMBOOHR_URL"],
        api_key=env["EAS_BAMBOOHR_API_KEY"],
    )
    with closing(resource.client()) as client:
        yield client


@pytest.fixture
def s3(sandbox_session, redis_url) -> Iterator[S3Client]:
    env = sandbox_session.env
    resource = _resource(
        S3ConnectorResource,
        sandbox_session,
        redis_url,
        region_name=env.get("EAS_S3_REGION"),
        endpoint_url=env.get("EAS_S3_ENDPOINT_URL"),
        aws_access_key_id=env.get("EAS_AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=env.get("EAS_AWS_SECRET_ACCESS_KEY"),
    )
    with closing(resource.client()) as client:
        yield client


def dm_texts(slack: SlackClient, user_id: str, request_id: str) -> list[str]:
    return [
        m.get("text", "") for m in slack.history(slack.open_dm(user_id)) if request_id in m.get("text", "")
    ]


def mails(sandbox_session, request_id: str) -> list[dict]:
    return [
        m
        for m in sandbox_session.sandbox.records.all("email", "messages")
        if request_id in m.get("body_text", "")
    ]


def steps_of(store, request_id: str) -> list[str]:
    """The agent's step actions (its request state transitions left out)."""
    trail = store.audit_trail(request_id)
    return [e.action for e in trail if e.actor == "communication" and not e.action.startswith("request.")]


# -- send_message --------------------------------------------------------------------------------


def test_a_message_is_posted_to_a_slack_channel_and_a_person(
    store, eas_resources, dagster_instance, sandbox_session, redis_url, slack
):
    text = "tell Priya Patel in #finance that the quarter close is done"
    entities = [entity(text, "recipient", "Priya Patel"), entity(text, "channel", "#finance")]
    record = queued_request(store, text, MESSAGE, entities)

    result = run_workflow(communication_send_message, record.id, dagster_instance, eas_resources, store)

    assert result.success
    assert store.get(record.id).status is Status.SUCCEEDED
    (post,) = received(sandbox_session, redis_url, "#finance", request_id=record.id)
    assert post.text.startswith("the quarter close is done\n") and record.client_id in post.text
    (dm,) = dm_texts(slack, "U0PRIYA", record.id)
    assert dm.startswith("the quarter close is done")
    assert steps_of(store, record.id) == ["message.composed", "message.sent", "workflow.completed"]
    sent = next(e for e in store.audit_trail(record.id) if e.action == "message.sent")
    assert sent.detail["targets"] == ["#finance", "Priya Patel"]


def test_a_teams_message_goes_to_the_teams_channel(store, eas_resources, dagster_instance, sandbox_session):
    text = "send a teams message to #general: standup moves to 10:30"
    record = queued_request(store, text, MESSAGE, [entity(text, "channel", "#general")])

    assert run_workflow(communication_send_message, record.id, dagster_instance, eas_resources, store).success

    assert store.get(record.id).status is Status.SUCCEEDED
    posts = [m for m in sandbox_session.sandbox.records.all("teams", "messages") if record.id in str(m)]
    (post,) = posts
    assert post["webhook"] == CHANNEL_WEBHOOKS["general"]  # the #general channel's own webhook
    card = post["payload"]["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["body"][1]["text"].startswith("standup moves to 10:30")
    assert card["body"][2]["facts"] == [{"title": "Channel", "value": "#general"}]


@pytest.mark.parametrize(
    ("text", "entities", "reason"),
    [
        (
            "post in #no-such-room: hello",
            [("channel", "#no-such-room")],
            "Slack has no channel #no-such-room",
        ),
        ("tell Zed Quux that hi", [("recipient", "Zed Quux")], "nobody in the company directory"),
        ("ping #finance", [("channel", "#finance")], "does not say what to send"),
        ("send a teams message to Priya Patel: hi", [("recipient", "Priya Patel")], "not to a person"),
        ("post a teams message to #random: hi", [("channel", "#random")], "Teams has no incoming webhook"),
    ],
)
def test_a_message_that_cannot_be_sent_is_refused_with_the_reason(
    store, eas_resources, dagster_instance, sandbox_session, redis_url, text, entities, reason
):
    record = queued_request(store, text, MESSAGE, [entity(text, kind, snippet) for kind, snippet in entities])

    assert run_workflow(communication_send_message, record.id, dagster_instance, eas_resources, store).success

    failed = store.get(record.id)
    assert failed.status is Status.FAILED and reason in failed.last_error
    assert "message.sent" not in steps_of(store, record.id)
    (told,) = received(sandbox_session, redis_url, record.client_id, request_id=record.id)
    assert reason in told.text


def test_slack_down_fails_the_run_after_retries(
    store, migrated_database_url, redis_url, redis_key_prefix, dagster_instance, sandbox_session
):
    resources = make_resources(
        migrated_database_url, redis_url, redis_key_prefix, max_attempts=2, initial_backoff_s=0.01
    )
    text = "post in #finance: invoices are late"
    record = queued_request(store, text, MESSAGE, [entity(text, "channel", "#finance")])
    sandbox_session.fault("error", "slack", count=200, status=503)
    try:
        result = run_workflow(communication_send_message, record.id, dagster_instance, resources, store)
    finally:
        sandbox_session.sandbox.faults.clear()

    assert not result.success  # the failure sensor retries the request, then fails it with the reason
    assert store.get(record.id).status is Status.RUNNING
    assert "message.sent" not in steps_of(store, record.id)


# -- send_email ----------------------------------------------------------------------------------


def test_a_templated_reminder_email_goes_out_with_its_s3_attachment(
    store, eas_resources, dagster_instance, sandbox_session, s3
):
    bucket, key = "eas-communication-tests", f"reports/{uuid.uuid4().hex[:8]}/q3.csv"
    s3.ensure_bucket(bucket)
    s3.put(bucket, key, b"region,revenue\nEMEA,1200\n", "text/csv")
    text = (
        f"send a reminder email to Dana Smith and ops@example.com about the Q3 budget "
        f"with s3://{bucket}/{key} attached: please send your numbers by Friday"
    )
    entities = [entity(text, "recipient", "Dana Smith"), entity(text, "email", "ops@example.com")]
    record = queued_request(store, text, EMAIL, entities)

    assert run_workflow(communication_send_email, record.id, dagster_instance, eas_resources, store).success

    assert store.get(record.id).status is Status.SUCCEEDED
    sent = {tuple(m["rcpt_to"]): m for m in mails(sandbox_session, record.id)}
    assert set(sent) == {("dana.smith@example.com",), ("ops@example.com",)}
    dana = sent[("dana.smith@example.com",)]
    assert dana["subject"] == "The Q3 budget"
    assert (
        dana["body_text"]
        .replace("\r\n", "\n")
        .startswith("Hi Dana,\n\na friendly reminder: please send your numbers by Friday\n\nThanks,\n")
    )
    assert sent[("ops@example.com",)]["body_text"].startswith("Hi Ops,")
    for message in sent.values():
        assert message["attachments"] == [{"filename": "q3.csv", "content_type": "text/csv", "size": 25}]
    assert steps_of(store, record.id) == [
        "email.composed",
        "email.attachment_fetched",
        "email.sent",
        "workflow.completed",
    ]


def test_an_email_with_a_missing_attachment_is_refused(
    store, eas_resources, dagster_instance, sandbox_session
):
    text = "email Omar Haddad with s3://eas-communication-tests/nothing/here.pdf attached: the contract"
    record = queued_request(store, text, EMAIL, [entity(text, "recipient", "Omar Haddad")])

    assert run_workflow(communication_send_email, record.id, dagster_instance, eas_resources, store).success

    failed = store.get(record.id)
    assert failed.status is Status.FAILED
    assert failed.last_error == "the attachment s3://eas-communication-tests/nothing/here.pdf does not exist"
    assert not [m for m in mails(sandbox_session, record.id) if "omar.haddad@example.com" in m["rcpt_to"]]


# -- announcement (fan-out) ----------------------------------------------------------------------


def test_an_announcement_fans_out_to_a_department_and_a_channel_in_batches(
    store, eas_resources, dagster_instance, sandbox_session, redis_url, bamboohr
):
    tag = uuid.uuid4().hex[:6]
    department = f"Comms {tag}"
    members = [
        bamboohr.add_employee(
            first,
            f"Tester{tag}",
            f"{first.lower()}.tester.{tag}@example.com",
            "Analyst",
            department,
            date(2024, 1, 8),
            idempotency_key=f"hire-{tag}-{first}",
        )
        for first in ("Ana", "Ben", "Cleo", "Dev", "Eli")
    ]
    text = f"tell all of {department} and #general and Zed Nobody{tag} that the office is closed on Friday"
    entities = [
        entity(text, "department", department),
        entity(text, "channel", "#general"),
        entity(text, "recipient", f"Zed Nobody{tag}"),
    ]
    record = queued_request(store, text, ANNOUNCE, entities)

    result = communication_announcement.execute_in_process(
        run_config=fanout_run_config(communication_announcement, record.id, batch_size=3),
        instance=dagster_instance,
        resources=eas_resources,
        tags=run_tags_for(store.get(record.id)),
        raise_on_error=False,
    )

    assert result.success
    done = store.get(record.id)
    assert done.status is Status.SUCCEEDED
    assert store.history(record.id)[-1].reason == "6 of 7 recipients done, 1 failed"
    inboxes = {m["rcpt_to"][0]: m for m in mails(sandbox_session, record.id)}
    assert set(inboxes) >= {m.work_email for m in members}
    mail = inboxes[members[0].work_email]
    assert mail["subject"] == "Announcement: the office is closed on Friday"
    assert "the office is closed on Friday" in mail["body_text"]
    (post,) = received(sandbox_session, redis_url, "#general", request_id=record.id)
    assert "Announcement: the office is closed on Friday" in post.text
    trail = store.audit_trail(record.id)
    planned = next(e for e in trail if e.action == "fanout.planned")
    assert (planned.detail["items"], planned.detail["batches"]) == (7, 3)
    completed = next(e for e in trail if e.action == "fanout.completed")
    assert (completed.detail["succeeded"], completed.detail["failed"]) == (6, 1)
    assert completed.detail["failures"] == [
        {"target": f"Zed Nobody{tag}", "reason": f"nobody in the company directory matches 'Zed Nobody{tag}'"}
    ]
    (report,) = received(sandbox_session, redis_url, record.client_id, request_id=record.id)
    assert "6 of 7 recipients done, 1 failed" in report.text


def test_an_announcement_to_an_unknown_department_is_refused(store, eas_resources, dagster_instance):
    text = "make an announcement to Nowhere Dept: pizza at noon"
    record = queued_request(store, text, ANNOUNCE, [entity(text, "department", "Nowhere Dept")])

    assert run_workflow(communication_announcement, record.id, dagster_instance, eas_resources, store).success

    failed = store.get(record.id)
    assert failed.status is Status.FAILED
    assert failed.last_error == "BambooHR has no one in the department 'Nowhere Dept'"
    assert not any(e.action.startswith("fanout.") for e in store.audit_trail(record.id))


def test_an_announcement_to_everyone_reaches_the_whole_directory_with_the_default_batches(
    store, eas_resources, dagster_instance, sandbox_session, bamboohr
):
    text = "let everyone know: the new expense tool is live"
    record = queued_request(store, text, ANNOUNCE, [])

    assert run_workflow(communication_announcement, record.id, dagster_instance, eas_resources, store).success

    assert store.get(record.id).status is Status.SUCCEEDED
    staff = {e.work_email for e in bamboohr.directory() if e.work_email}
    assert "morgan.reyes@example.com" in staff
    delivered = {m["rcpt_to"][0] for m in mails(sandbox_session, record.id)}
    assert staff <= delivered
    planned = next(e for e in store.audit_trail(record.id) if e.action == "fanout.planned")
    batches = -(-len(staff) // 100)  # the session's other tests may have hired people too
    assert (planned.detail["batch_size"], planned.detail["batches"]) == (100, batches)
    completed = next(e for e in store.audit_trail(record.id) if e.action == "fanout.completed")
    assert (completed.detail["total"], completed.detail["failed"]) == (len(staff), 0)
