"""All templates of the enterprise data set, keyed by intent (``oos`` included).

One module per EAS agent keeps each agent's phrasings together and short enough to
review; this package only merges them and refuses a duplicated template, because the
same wording under two intents would teach the model a contradiction.
"""

from __future__ import annotations

from nlp_service.enterprise.labels import OOS_LABEL
from nlp_service.enterprise.templates import (
    approvals,
    audit,
    communication,
    customer_service,
    data_analysis,
    documents,
    finance,
    hr,
    integration,
    learning,
    monitoring,
    oos,
    operations,
    recovery,
    scheduling,
    security,
)

_AGENT_MODULES = (
    finance, hr, operations, customer_service, data_analysis, security, integration, monitoring,
    scheduling, communication, documents, approvals, audit, learning, recovery,
)  # fmt: skip


def _collect() -> dict[str, tuple[str, ...]]:
    merged: dict[str, tuple[str, ...]] = {}
    for module in _AGENT_MODULES:
        for intent, templates in module.TEMPLATES.items():
            if intent in merged:
                raise ValueError(f"intent {intent!r} has templates in two modules")
            merged[intent] = templates
    merged[OOS_LABEL] = oos.TEMPLATES
    owners: dict[str, str] = {}
    for intent, templates in merged.items():
        for template in templates:
            if template in owners:
                raise ValueError(f"template {template!r} is under both {owners[template]!r} and {intent!r}")
            owners[template] = intent
    return merged


TEMPLATES: dict[str, tuple[str, ...]] = _collect()
"""Templates per intent label, in the order they are written."""
