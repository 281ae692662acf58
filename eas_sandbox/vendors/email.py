"""Email: the SMTP emulator's settings, and a read-only listing of the mail it received.

The SMTP server itself is :mod:`eas_sandbox.smtp` (aiosmtpd, STARTTLS + AUTH on
``endpoints.smtp_port``). This module registers the vendor "email", so that faults can name it,
gives the ``EAS_SMTP_*`` settings, and serves ``GET /email/messages`` (``?to=`` filters by
recipient) for tests and demos: each message's envelope, subject, Message-ID, bodies and
attachment names. Not an API of any mail system.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from eas_sandbox.vendor import Endpoints, Store, Vendor

NAME = "email"
USER, PASSWORD = "eas-mailer", "sandbox-smtp-password"
SENDER = "eas@example.com"

router = APIRouter()


@router.get("/messages")
def list_messages(store: Store, to: str | None = None) -> Response:
    messages = store.all(NAME, "messages")
    if to is not None:
        messages = [m for m in messages if to.lower() in (r.lower() for r in m["rcpt_to"])]
    return JSONResponse({"messages": messages})


def _env(endpoints: Endpoints) -> dict[str, str]:
    return {
        "EAS_SMTP_HOST": endpoints.smtp_host,
        "EAS_SMTP_PORT": str(endpoints.smtp_port),
        "EAS_SMTP_USER": USER,
        "EAS_SMTP_PASSWORD": PASSWORD,
        "EAS_SMTP_FROM": SENDER,
    }


VENDOR = Vendor(name=NAME, router=router, env=_env)
