"""The email emulator: an SMTP server (aiosmtpd) with STARTTLS and AUTH, storing what it receives.

Like a submission server (port 587) it greets in clear text, offers ``STARTTLS`` and advertises
``AUTH`` (PLAIN, LOGIN) only on the encrypted channel; mail is refused until both happened
(``530``). Each message is stored in the records (vendor "email", collection "messages", keyed by
its ``Message-ID``): a resend with the same ID answers 250 and is stored once, which is how EAS's
idempotency keys (``Message-ID: <key@eas>``) show. Recipients in the reserved ``.invalid`` domain
are refused (``550``).

Faults for "email" are drawn once per connection, at AUTH: ``unauthorized`` answers 535,
``throttle`` 421 and ``error`` 451 to ``MAIL FROM``, ``slow`` delays it.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import email.utils
import hmac
import ssl
from datetime import UTC, datetime
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from eas_sandbox.faults import Fault, FaultInjector
from eas_sandbox.state import RecordExists, Records
from eas_sandbox.tls import Certificates
from eas_sandbox.vendors.email import NAME, PASSWORD, USER

SERVER_NAME = "smtp.eas-sandbox.local"
THROTTLED = "421 4.7.0 Too many messages from this account, try again later"
FAILED = "451 4.3.0 Temporary local problem, try again later"


class _Controller(Controller):
    """aiosmtpd's controller, able to bind port 0 (it checks readiness by connecting to ``port``)."""

    def _trigger_server(self) -> None:
        if self.port == 0 and self.server is not None:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def _summary(message: email.message.EmailMessage, envelope: Envelope, message_id: str) -> dict[str, Any]:
    def body(kind: str) -> str:
        part = message.get_body(preferencelist=(kind,))
        return part.get_content() if part is not None else ""

    attachments = [
        {
            "filename": part.get_filename() or "",
            "content_type": part.get_content_type(),
            "size": len(part.get_payload(decode=True) or b""),
        }
        for part in message.iter_attachments()
    ]
    return {
        "message_id": message_id,
        "mail_from": envelope.mail_from,
        "rcpt_to": list(envelope.rcpt_tos),
        "from": str(message.get("From", "")),
        "to": str(message.get("To", "")),
        "cc": str(message.get("Cc", "")),
        "subject": str(message.get("Subject", "")),
        "date": str(message.get("Date", "")),
        "body_text": body("plain"),
        "body_html": body("html"),
        "attachments": attachments,
        "received_at": datetime.now(UTC).isoformat(),
    }


class _Handler:
    def __init__(self, records: Records, faults: FaultInjector):
        self.records = records
        self.faults = faults

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not hasattr(session, "eas_fault"):  # once per connection (smtplib tries each mechanism)
            session.eas_fault = self.faults.draw(NAME)  # type: ignore[attr-defined]
        fault: Fault | None = session.eas_fault  # type: ignore[attr-defined]
        if not isinstance(auth_data, LoginPassword) or (fault is not None and fault.kind == "unauthorized"):
            return AuthResult(success=False, handled=False)
        good = hmac.compare_digest(auth_data.login, USER.encode()) and hmac.compare_digest(
            auth_data.password, PASSWORD.encode()
        )
        return AuthResult(success=good, handled=False, auth_data=auth_data if good else None)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        fault: Fault | None = getattr(session, "eas_fault", None)
        if fault is not None and fault.kind == "throttle":
            return THROTTLED
        if fault is not None and fault.kind == "error":
            return FAILED
        if fault is not None and fault.kind == "slow":
            await asyncio.sleep(fault.delay_s)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        domain = address.rpartition("@")[2].lower()
        if not domain or domain == "invalid" or domain.endswith(".invalid"):
            return f"550 5.1.2 <{address}>: Recipient address rejected: domain not found"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        message_id = str(message.get("Message-ID") or email.utils.make_msgid(domain=SERVER_NAME)).strip()
        record = _summary(message, envelope, message_id)  # type: ignore[arg-type]
        with contextlib.suppress(RecordExists):  # the same Message-ID again: accepted, stored once
            await asyncio.to_thread(self.records.insert, NAME, "messages", record, message_id)
        return f"250 2.0.0 OK: queued as {message_id}"


class SmtpEmulator:
    """The SMTP server on ``host:port`` (0: a free port), run in a thread by aiosmtpd's controller."""

    def __init__(self, records: Records, faults: FaultInjector, certs: Certificates, host: str, port: int):
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(str(certs.server_cert), str(certs.server_key))
        handler = _Handler(records, faults)
        self.controller = _Controller(
            handler,
            hostname=host,
            port=port,
            server_hostname=SERVER_NAME,
            ident="EAS sandbox ESMTP",
            tls_context=tls_context,
            require_starttls=True,
            auth_required=True,
            auth_require_tls=True,
            authenticator=handler.authenticate,
        )

    def start(self) -> int:
        """Start serving; the port actually bound."""
        self.controller.start()
        return self.controller.port

    def stop(self) -> None:
        self.controller.stop()
