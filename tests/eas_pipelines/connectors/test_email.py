"""The email connector (smtplib, STARTTLS + AUTH) against the aiosmtpd emulator: the message as sent,
reply codes classified, retries, breaker, one message per idempotency key."""

from __future__ import annotations

import smtplib
import ssl
import time

import httpx
import pybreaker
import pytest

from eas_pipelines.connectors.email import EmailResource, message_id_for
from eas_pipelines.connectors.retry import ConnectorUnavailable, VendorRejected

PDF = b"%PDF-1.4 tiny"


def _resource(sandbox, options: dict, **overrides) -> EmailResource:
    env = sandbox.env
    settings = {
        "host": env["EAS_SMTP_HOST"],
        "port": int(env["EAS_SMTP_PORT"]),
        "user": env["EAS_SMTP_USER"],
        "password": env["EAS_SMTP_PASSWORD"],
        "sender": env["EAS_SMTP_FROM"],
        **options,
        **overrides,
    }
    return EmailResource(**settings)


@pytest.fixture
def mail(sandbox, connector_options) -> EmailResource:
    return _resource(sandbox, connector_options)


def _received(sandbox) -> list[dict]:
    return sandbox.sandbox.records.all("email", "messages")


def test_send_delivers_the_message_as_composed(mail, sandbox):
    message_id = mail.client().send(
        ["priya.patel@example.com", "dana.smith@example.com"],
        "Your leave request",
        "Approved: 3 days.",
        body_html="<p>Approved: <b>3 days</b>.</p>",
        attachments=[("approval.pdf", PDF, "application/pdf")],
        idempotency_key="req-1",
    )

    assert message_id == "<req-1@eas>"
    (received,) = _received(sandbox)
    assert received["message_id"] == message_id
    assert received["mail_from"] == "eas@example.com" and received["from"] == "eas@example.com"
    assert received["rcpt_to"] == ["priya.patel@example.com", "dana.smith@example.com"]
    assert received["subject"] == "Your leave request"
    assert received["body_text"].strip() == "Approved: 3 days."
    assert "<b>3 days</b>" in received["body_html"]
    assert received["attachments"] == [
        {"filename": "approval.pdf", "content_type": "application/pdf", "size": len(PDF)}
    ]


def test_the_listing_shows_received_mail(mail, sandbox):
    mail.client().send("omar.haddad@example.com", "Hi", "Hello Omar")
    verify = ssl.create_default_context(cafile=sandbox.ca_bundle)
    base = sandbox.sandbox.endpoints.base_url

    listing = httpx.get(f"{base}/email/messages", params={"to": "omar.haddad@example.com"}, verify=verify)

    assert [m["subject"] for m in listing.json()["messages"]] == ["Hi"]


def test_the_server_requires_starttls_and_auth(sandbox, connector_options):
    env = sandbox.env
    with smtplib.SMTP(env["EAS_SMTP_HOST"], int(env["EAS_SMTP_PORT"]), timeout=5) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("starttls") and not smtp.has_extn("auth")
        code, _ = smtp.mail("eas@example.com")
        assert code == 530
    plain = _resource(sandbox, connector_options, starttls=False)
    with pytest.raises(VendorRejected):  # AUTH is not offered in clear text
        plain.client().send("dana.smith@example.com", "no tls", "no")
    assert not _received(sandbox)


def test_a_resend_with_its_key_is_stored_once(mail, sandbox):
    client = mail.client()
    first = client.send("tom.nguyen@example.com", "PO approved", "PO 4500000001", idempotency_key="req-2")
    again = client.send("tom.nguyen@example.com", "PO approved", "PO 4500000001", idempotency_key="req-2")
    other = client.send("tom.nguyen@example.com", "PO approved", "PO 4500000001")

    assert first == again != other
    assert [m["message_id"] for m in _received(sandbox)] == [first, other]


def test_awkward_keys_still_give_a_stable_message_id():
    assert message_id_for("run 42/step:notify") == message_id_for("run 42/step:notify")
    assert message_id_for("run 42/step:notify").endswith("@eas>") and " " not in message_id_for("run 42/x")


@pytest.mark.parametrize("kind", ["throttle", "error"])
def test_4xx_answers_are_retried(mail, sandbox, kind):
    sandbox.fault(kind, "email", count=2)

    mail.client().send("sofia.rossi@example.com", "eventually", "delivered")

    assert len(_received(sandbox)) == 1


def test_an_unreachable_server_fails_cleanly(sandbox, connector_options):
    down = _resource(sandbox, connector_options, port=1)  # nothing listens: connection refused

    with pytest.raises(ConnectorUnavailable, match="email: still failing after 3 attempts"):
        down.client().send("kenji.tanaka@example.com", "down", "down")


def test_refusals_are_final(mail, sandbox, connector_options):
    sandbox.fault("unauthorized", "email", count=1)
    with pytest.raises(VendorRejected, match="535") as refused:
        mail.client().send("aisha.okafor@example.com", "no", "no")
    assert refused.value.status == 535

    wrong = _resource(sandbox, connector_options, password="wrong-password")
    with pytest.raises(VendorRejected, match="535") as refused:
        wrong.client().send("aisha.okafor@example.com", "no", "no")
    assert "wrong-password" not in str(refused.value)

    with pytest.raises(VendorRejected, match="550"):
        mail.client().send("someone@nowhere.invalid", "no", "no")
    assert not _received(sandbox)


def test_the_breaker_opens_on_outages_and_closes_after_recovery(sandbox, connector_options):
    mail = _resource(sandbox, {**connector_options, "breaker_reset_timeout_s": 1.0})
    client = mail.client()
    sandbox.fault("throttle", "email", count=6)
    with pytest.raises(ConnectorUnavailable):
        client.send("marcus.chen@example.com", "down", "down")
    with pytest.raises(pybreaker.CircuitBreakerError):
        client.send("marcus.chen@example.com", "down", "down")  # the second outage opens it
    with pytest.raises(pybreaker.CircuitBreakerError):
        client.send("marcus.chen@example.com", "down", "down")  # open: no connection made
    assert sandbox.sandbox.faults.draw("email") is None  # all six throttles were used, no more

    sandbox.reset()
    time.sleep(1.1)
    client.send("marcus.chen@example.com", "back", "up")
    assert mail.breaker.current_state == "closed"
