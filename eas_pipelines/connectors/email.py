"""Email through SMTP submission (``smtplib``): STARTTLS, then AUTH, then one message.

Every send opens its own connection (``SMTP(host, port)``, ``starttls`` with a context trusting
the system CAs plus ``ca_bundle``, ``login``, ``send_message``) inside
:meth:`ConnectorResource.guarded`; smtplib never retries by itself. Reply codes decide: 4xx
(``421`` throttling, ``451``...), a dropped connection or a refused/timed-out connect are
transient; 5xx (``535`` bad credentials, ``550`` unknown recipient...), a server without
STARTTLS/AUTH, or an untrusted certificate are final.

SMTP has no idempotency key. A send with one gets a deterministic ``Message-ID: <key@eas>``: a
retried send carries the same ID, so the emulator (keyed by Message-ID) and mail clients that
collapse duplicates see one message.
"""

from __future__ import annotations

import hashlib
import logging
import re
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import dagster as dg
from pydantic import Field

from eas_pipelines.connectors.base import CA_BUNDLE_SETTING, ConnectorResource, optional_env
from eas_pipelines.connectors.retry import Transient, VendorRejected

log = logging.getLogger(__name__)

SUBMISSION_PORT = 587
MESSAGE_ID_DOMAIN = "eas"
_SAFE_ID = re.compile(r"^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]{1,64}$")

Attachment = tuple[str, bytes, str]
"""(filename, content, MIME type such as "application/pdf")."""


def message_id_for(idempotency_key: str) -> str:
    """``<key@eas>``; a key that is not a valid Message-ID local part is hashed (still deterministic)."""
    local = idempotency_key
    if not _SAFE_ID.match(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        local = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
    return f"<{local}@{MESSAGE_ID_DOMAIN}>"


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def classify(exc: Exception) -> Transient | VendorRejected:
    """The connector error for what smtplib raised (credentials never appear: only server replies)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = {address: code for address, (code, _reply) in exc.recipients.items()}
        detail = "; ".join(f"{a}: {c} {_text(r)}" for a, (c, r) in exc.recipients.items())
        if codes and all(400 <= code < 500 for code in codes.values()):
            return Transient(f"email: recipients deferred: {detail}", status=min(codes.values()))
        return VendorRejected(
            f"email: recipients refused: {detail}", status=max(codes.values(), default=None)
        )
    if isinstance(exc, smtplib.SMTPResponseException):  # auth, sender, data, helo, connect replies
        message = f"email: {exc.smtp_code} {_text(exc.smtp_error)}"
        if 400 <= exc.smtp_code < 500:
            return Transient(message, status=exc.smtp_code)
        return VendorRejected(message, status=exc.smtp_code, code=str(exc.smtp_code))
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return Transient(f"email: server disconnected: {exc}")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return VendorRejected(f"email: the server does not offer what is needed: {exc}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return VendorRejected(f"email: the server's certificate is not trusted: {exc.verify_message}")
    if isinstance(exc, OSError):  # refused, reset, timed out, TLS handshake dropped
        return Transient(f"email: {type(exc).__name__}: {exc}")
    return VendorRejected(f"email: {type(exc).__name__}: {exc}")


class EmailClient:
    """Sends mail through the resource's SMTP server; each send is retried and guarded."""

    def __init__(self, resource: EmailResource):
        self._resource = resource
        self._tls = resource.verify()

    def compose(
        self,
        to: str | Sequence[str],
        subject: str,
        body_text: str,
        body_html: str | None = None,
        attachments: Sequence[Attachment] = (),
        idempotency_key: str | None = None,
        cc: str | Sequence[str] = (),
        reply_to: str | None = None,
    ) -> EmailMessage:
        """The message :meth:`send` would send."""
        message = EmailMessage()
        message["From"] = self._resource.sender
        message["To"] = to if isinstance(to, str) else ", ".join(to)
        if cc:
            message["Cc"] = cc if isinstance(cc, str) else ", ".join(cc)
        if reply_to:
            message["Reply-To"] = reply_to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = (
            message_id_for(idempotency_key) if idempotency_key else make_msgid(domain=MESSAGE_ID_DOMAIN)
        )
        message.set_content(body_text)
        if body_html is not None:
            message.add_alternative(body_html, subtype="html")
        for filename, content, mime in attachments:
            maintype, _, subtype = (mime or "application/octet-stream").partition("/")
            message.add_attachment(
                content, maintype=maintype, subtype=subtype or "octet-stream", filename=filename
            )
        return message

    def _deliver(self, message: EmailMessage) -> None:
        resource = self._resource
        try:
            with smtplib.SMTP(resource.host, resource.port, timeout=resource.timeout_s) as smtp:
                smtp.ehlo()
                if resource.starttls:
                    smtp.starttls(context=self._tls)
                    smtp.ehlo()
                if resource.user:
                    smtp.login(resource.user, resource.password)
                refused = smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise classify(exc) from exc
        if refused:  # some recipients refused, the others accepted: a retry would send them twice
            log.warning("email %s: refused for %s", message["Message-ID"], sorted(refused))

    def send(
        self,
        to: str | Sequence[str],
        subject: str,
        body_text: str,
        body_html: str | None = None,
        attachments: Sequence[Attachment] = (),
        idempotency_key: str | None = None,
        *,
        cc: str | Sequence[str] = (),
        reply_to: str | None = None,
    ) -> str:
        """Send one message; its Message-ID (``<key@eas>`` when ``idempotency_key`` is given)."""
        message = self.compose(
            to, subject, body_text, body_html, attachments, idempotency_key, cc=cc, reply_to=reply_to
        )
        self._resource.guarded(lambda: self._deliver(message))
        return str(message["Message-ID"])


class EmailResource(ConnectorResource):
    """Email: an SMTP submission server with STARTTLS and AUTH (``EAS_SMTP_*``)."""

    system = "email"

    host: str = Field(description="SMTP server (EAS_SMTP_HOST)")
    port: int = Field(default=SUBMISSION_PORT, description="submission port (EAS_SMTP_PORT)")
    user: str = Field(default="", description="AUTH user; empty: no AUTH (EAS_SMTP_USER)")
    password: str = Field(default="", description="its password (EAS_SMTP_PASSWORD)")
    sender: str = Field(description="From address (EAS_SMTP_FROM)")
    starttls: bool = Field(
        default=True, description="upgrade with STARTTLS before AUTH (always, in production)"
    )

    def client(self) -> EmailClient:
        return self.reused_client(EmailClient)

    @classmethod
    def from_env(cls, redis_url: str | dg.EnvVar) -> EmailResource:
        port = dg.EnvVar.int("EAS_SMTP_PORT") if optional_env("EAS_SMTP_PORT") else SUBMISSION_PORT
        return cls(
            redis_url=redis_url,
            ca_bundle=optional_env(CA_BUNDLE_SETTING),
            host=dg.EnvVar("EAS_SMTP_HOST"),
            port=port,
            user=dg.EnvVar("EAS_SMTP_USER"),
            password=dg.EnvVar("EAS_SMTP_PASSWORD"),
            sender=dg.EnvVar("EAS_SMTP_FROM"),
        )
