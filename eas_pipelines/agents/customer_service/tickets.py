"""Ticket rules, free of Dagster: queue, priority, SLA and the first response.

The queue is chosen from the request's words and entities by a small keyword score (access
problems first when tied: a locked-out customer cannot do anything else). Priority is the most
urgent of the routed priority, an explicit priority entity and the escalate intent (always P0).

A ticket is a ServiceNow incident; how its fields map is :data:`URGENCY_IMPACT` and
:func:`queue_group` here, the rest in :mod:`eas_pipelines.agents.customer_service.jobs`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import timedelta
from string import Template
from typing import Any

from eas_pipelines.agents.common import WorkItem
from eas_pipelines.routing import Priority

QUEUES = ("access", "billing", "technical", "general")
ESCALATE_INTENT = "customer_service.ticket_escalate"

_KEYWORDS: dict[str, re.Pattern[str]] = {
    "access": re.compile(
        r"\b(?:log ?in|login|sign ?in|password|locked out|lockout|access|permissions?|sso|mfa|2fa|"
        r"account (?:locked|disabled)|can'?t get in)\b"
    ),
    "billing": re.compile(
        r"\b(?:bill(?:ing|ed)?|invoices?|charged?|charges|refund|payment|paid|pricing|price|subscription|"
        r"credit card|overcharged|receipt)\b"
    ),
    "technical": re.compile(
        r"\b(?:error|errors|down|outage|crash(?:es|ed|ing)?|bug|timing out|time ?out|timeouts?|slow|"
        r"not working|broken|fails?|failing|500|api|sync|throwing)\b"
    ),
}
_ENTITY_HINTS: dict[str, str] = {"system": "technical", "amount": "billing", "invoice_id": "billing"}
_BREACH = re.compile(r"\b(?:breach(?:ed)?|sla)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Sla:
    first_response: timedelta
    resolution: timedelta
    escalate_to: str


SLA: dict[str, Sla] = {
    "P0": Sla(timedelta(minutes=15), timedelta(hours=4), "support-oncall"),
    "P1": Sla(timedelta(hours=4), timedelta(hours=24), "support-tier2"),
    "P2": Sla(timedelta(hours=24), timedelta(hours=72), "support-tier2"),
}
"""Response and resolution targets per priority, and who an escalation goes to."""

URGENCY_IMPACT: dict[str, tuple[int, int]] = {"P0": (1, 1), "P1": (2, 1), "P2": (2, 2), "P3": (3, 2)}
"""Priority -> the incident's (urgency, impact), 1 the highest of each.

Chosen so that ServiceNow's default priority lookup (urgency x impact) gives P0 -> 1 Critical,
P1 -> 2 High, P2 -> 3 Moderate, P3 -> 4 Low, and so that an escalation, which raises urgency one
step, lifts a P1 (2, 1) to Critical like a P0: a customer's ticket always affects them fully
(impact 1) once it is urgent. P3 is kept for the day routing uses it; the SLA table has no P3.
"""


def queue_group(queue: str) -> str:
    """The ServiceNow assignment group that works a queue ("access" -> "support-access"): named as
    the Slack channel it reads, like the escalation targets of :data:`SLA` ("support-oncall")."""
    return f"support-{queue}"


FIRST_RESPONSES: dict[str, Template] = {
    "access": Template(
        "Hello,\n\nthanks for reporting an access problem. We have opened ticket $ticket ($priority) "
        "and our identity team is on it. Please do not share your password with anyone, including "
        "us. If you are locked out, a reset link will come from our sign-in page only.\n\n"
        "You will hear from us within $response.\n\nEAS Support"
    ),
    "billing": Template(
        "Hello,\n\nthanks for contacting us about billing. Ticket $ticket ($priority) is with our "
        "billing team, who will review the charges on your account$reference. No payment action is "
        "needed from you while we look into it.\n\nYou will hear from us within $response.\n\nEAS Support"
    ),
    "technical": Template(
        "Hello,\n\nthanks for reporting this technical issue$system. Ticket $ticket ($priority) is with "
        "our engineers. If you can, reply with the time it happened, any error message and the steps "
        "that lead to it: it speeds up the fix.\n\nYou will hear from us within $response.\n\nEAS Support"
    ),
    "general": Template(
        "Hello,\n\nthanks for getting in touch. We have logged your request as ticket $ticket "
        "($priority) and a member of the support team will pick it up.\n\n"
        "You will hear from us within $response.\n\nEAS Support"
    ),
}


@dataclass(frozen=True)
class TicketCase:
    """The ticket a request leads to, as the workflow carries it from op to op."""

    item: WorkItem
    queue: str
    priority: str
    subject: str
    requester: str
    external_ref: str | None
    escalate: bool
    escalation_reason: str | None
    ticket_number: str | None = None  # the incident's number (INC0010001), quoted to the requester
    ticket_id: str | None = None  # the incident's sys_id, what updates address
    existing: bool = False
    first_response: str | None = None
    escalated_to: str | None = None

    def with_(self, **changes: Any) -> TicketCase:
        return replace(self, **changes)


def classify_queue(item: WorkItem) -> str:
    """The queue with the most keyword and entity hits; ties go in :data:`QUEUES` order."""
    text = item.text.lower()
    scores = {queue: len(pattern.findall(text)) for queue, pattern in _KEYWORDS.items()}
    for entity_type, queue in _ENTITY_HINTS.items():
        if item.values(entity_type):
            scores[queue] += 1
    best = max(QUEUES[:-1], key=lambda queue: (scores[queue], -QUEUES.index(queue)))
    return best if scores[best] > 0 else "general"


def ticket_priority(item: WorkItem) -> str:
    """The most urgent of routed priority, priority entities and the escalate intent."""
    candidates = [Priority(item.priority)]
    for value in item.values("priority"):
        if isinstance(value, str) and value in Priority.__members__:
            candidates.append(Priority[value])
    if item.intent == ESCALATE_INTENT:
        candidates.append(Priority.P0)
    return min(candidates).name


def escalation_reason(item: WorkItem, priority: str) -> str | None:
    """Why the ticket is escalated at once, if it is: asked to, an SLA breach, or a P0."""
    if item.intent == ESCALATE_INTENT:
        return "escalation requested"
    if _BREACH.search(item.text):
        return "SLA breach reported"
    if priority == "P0":
        return f"P0: first response due within {_human(SLA['P0'].first_response)}"
    return None


def subject_of(item: WorkItem, queue: str) -> str:
    words = " ".join(item.text.split())
    return f"[{queue}] {words[:100]}{'...' if len(words) > 100 else ''}"


def queue_of_subject(subject: str) -> str | None:
    """The queue a subject written by :func:`subject_of` names ("[technical] ..." -> "technical")."""
    found = re.match(r"\[(\w+)\] ", subject)
    return found.group(1) if found and found.group(1) in QUEUES else None


def first_response(case: TicketCase) -> str:
    """The templated first reply to the requester for the case's queue."""
    reference = case.item.value("invoice_id")
    system = case.item.value("system")
    return FIRST_RESPONSES[case.queue].safe_substitute(
        ticket=case.ticket_number or "(pending)",
        priority=case.priority,
        response=_human(SLA[case.priority].first_response),
        reference=f" (invoice {reference})" if reference else "",
        system=f" with {system}" if system else "",
    )


def _human(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} minutes"
    hours = minutes // 60
    return f"{hours} hour{'s' if hours != 1 else ''}"
