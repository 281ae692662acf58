"""The business rules' numbers: thresholds, deadlines, notice periods, retry limits.

One resource so that every op and sensor reads the same values and a test can change one rule
without touching the environment. The values, their defaults and their validation are the
validated settings' (:class:`~eas_pipelines.settings.EASSettings`, one ``EAS_*`` variable each):
:meth:`WorkflowPolicyResource.from_settings` copies them when the code location loads, and a field
left out when the resource is built by hand (a test) takes the setting's default.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import dagster as dg
from pydantic import Field

from eas_pipelines.blackouts import Blackout
from eas_pipelines.settings import EASSettings, load_settings

SETTING_OF: dict[str, str] = {
    "approval_amount_threshold": "approval_amount_threshold",
    "approval_deadline_hours": "approval_deadline_hours",
    "approval_second_threshold": "approval_second_threshold",
    "approval_second_role": "approval_second_role",
    "expense_approval_threshold": "expense_approval_threshold",
    "po_match_tolerance": "po_match_tolerance",
    "default_currency": "default_currency",
    "leave_notice_days": "leave_notice_days",
    "leave_blackouts": "leave_blackout",
    "max_attempts": "max_attempts",
    "retry_backoff_seconds": "retry_backoff_seconds",
    "fast_lane_fallback_seconds": "fast_lane_fallback_seconds",
    "worker_heartbeat_seconds": "worker_heartbeat_seconds",
    "k8s_agent_resources": "k8s_agent_resources",
}
"""Policy field -> the :class:`EASSettings` field it comes from."""


def _default(field: str) -> Any:
    """The default of the setting behind policy ``field``: defaults live in the settings alone."""
    return EASSettings.model_fields[SETTING_OF[field]].get_default(call_default_factory=True)


def _described(field: str, **kwargs: Any) -> Any:
    """A policy field with its setting's default and description (a fresh copy of a list default)."""
    setting = EASSettings.model_fields[SETTING_OF[field]]
    if setting.default_factory is not None:
        return Field(default_factory=lambda: _default(field), description=setting.description, **kwargs)
    return Field(setting.default, description=setting.description, **kwargs)


class WorkflowPolicyResource(dg.ConfigurableResource):
    """Rules the agents apply; every field is an ``EAS_*`` setting (see :meth:`from_settings`)."""

    approval_amount_threshold: float = _described("approval_amount_threshold")
    approval_deadline_hours: float = _described("approval_deadline_hours")
    approval_second_threshold: float = _described("approval_second_threshold")
    approval_second_role: str = _described("approval_second_role")
    expense_approval_threshold: float = _described("expense_approval_threshold")
    po_match_tolerance: float = _described("po_match_tolerance")
    default_currency: str = _described("default_currency")
    leave_notice_days: int = _described("leave_notice_days")
    leave_blackouts: list[str] = _described("leave_blackouts")
    max_attempts: int = _described("max_attempts")
    retry_backoff_seconds: float = _described("retry_backoff_seconds")
    fast_lane_fallback_seconds: float = _described("fast_lane_fallback_seconds")
    worker_heartbeat_seconds: float = _described("worker_heartbeat_seconds")
    # Not a business rule, but what the standard-lane sensor needs of the settings besides them: the
    # pod resources its runs ask Kubernetes for (runs.run_tags_for).
    k8s_agent_resources: dict[str, dict[str, dict[str, str]]] = _described("k8s_agent_resources")

    @classmethod
    def from_settings(cls, settings: EASSettings | None = None) -> WorkflowPolicyResource:
        """The policy of ``settings`` (default: the environment's, validated by :func:`load_settings`)."""
        settings = settings or load_settings(generate_secrets=False)
        return cls(**{field: getattr(settings, setting) for field, setting in SETTING_OF.items()})

    @property
    def approval_deadline(self) -> timedelta:
        return timedelta(hours=self.approval_deadline_hours)

    def blackouts(self) -> list[Blackout]:
        return [Blackout(spec) for spec in self.leave_blackouts]
