"""Running schemathesis against a live server, the way its CLI does, and collecting every problem.

Both services (this one and the intake gateway, whose tests import this module) are checked with the
same settings: every phase (examples, coverage, fuzzing, stateful), every check schemathesis offers,
a fixed seed and deterministic generation, so that a run is reproducible and its duration bounded.

The engine is driven directly, as the CLI drives it, rather than through ``schema.parametrize()``:
one call runs every phase, the stateful one included (which the pytest integration leaves to a
separate state machine), and every failure of every check comes back in one report.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from schemathesis.checks import CHECKS
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema

SEED = 20240603
MAX_EXAMPLES = 8
STATEFUL_MAX_STEPS = 6
# Generous: the response-time check is there to catch a hang, not to benchmark 2 slow cores.
MAX_RESPONSE_TIME_S = 10.0

ALL_CHECKS: dict[str, Any] = {
    "enabled": True,
    "not_a_server_error": {"enabled": True},
    "status_code_conformance": {"enabled": True},
    "content_type_conformance": {"enabled": True},
    "response_schema_conformance": {"enabled": True, "validate-formats": True},
    "response_headers_conformance": {"enabled": True},
    "positive_data_acceptance": {"enabled": True},
    "negative_data_rejection": {"enabled": True},
    "use_after_free": {"enabled": True},
    "ensure_resource_availability": {"enabled": True},
    "missing_required_header": {"enabled": True},
    "ignored_auth": {"enabled": True},
    "object_level_authorization": {"enabled": True},
    "unsupported_method": {"enabled": True},
    "allow_header_conformance": {"enabled": True},
    "max_response_time": MAX_RESPONSE_TIME_S,
}


def every_check() -> frozenset[str]:
    """Every check this schemathesis registers (a newer one may add some), plus the response time."""
    return frozenset(CHECKS.get_all_names()) | {"max_response_time"}


def contract_config(
    base_url: str,
    *,
    headers: dict[str, str] | None = None,
    max_examples: int = MAX_EXAMPLES,
    seed: int = SEED,
) -> SchemathesisConfig:
    """Every phase and check, a fixed seed, deterministic generation and bounded example counts."""
    # No example database: a failure remembered from an earlier run must not change what this one sends.
    generation = {"mode": "all", "max-examples": max_examples, "deterministic": True, "database": "none"}
    return SchemathesisConfig.from_dict(
        {
            "seed": seed,
            "base-url": base_url,
            "headers": headers or {},
            "workers": 1,  # one request at a time: reproducible, and kind to 2 shared cores
            "request-timeout": 30,
            "generation": generation,
            "checks": ALL_CHECKS,
            "phases": {
                "examples": {"enabled": True},
                "coverage": {
                    "enabled": True,
                    "unexpected-methods": ["GET", "PUT", "POST", "DELETE", "OPTIONS", "PATCH", "TRACE"],
                },
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": True, "max-steps": STATEFUL_MAX_STEPS},
            },
        }
    )


@dataclass
class ContractReport:
    """What went wrong in a run: failed checks (with a curl line to reproduce) and engine errors."""

    problems: list[str] = field(default_factory=list)
    scenarios: int = 0
    checks_passed: int = 0
    # Phase name -> how it ended ("success", "skip", ...): a skipped phase would test nothing quietly.
    phases: dict[str, str] = field(default_factory=dict)
    operations: set[str] = field(default_factory=set)
    # Names of the checks that ran at least once.
    checks_run: set[str] = field(default_factory=set)

    def render(self) -> str:
        return f"{len(self.problems)} contract problem(s):\n\n" + "\n\n".join(self.problems)

    def assert_complete(self, operations: set[str]) -> None:
        """No problem, and nothing silently left out: every phase ran, every check, on ``operations``."""
        assert not self.problems, self.render()
        assert set(self.phases.values()) == {"success"}, self.phases
        assert self.checks_run == every_check(), sorted(every_check() - self.checks_run)
        assert operations <= self.operations, sorted(operations - self.operations)


def _failed_checks(recorder: Any) -> Iterable[str]:
    """Each failed check with what to run to see it again; a check that crashed counts too."""
    for nodes in recorder.checks.values():
        for node in nodes:
            if node.status is Status.ERROR:
                yield f"[{node.name}] {recorder.label}: the check itself raised an error"
            if node.status is not Status.FAILURE or node.failure_info is None:
                continue
            failure = node.failure_info.failure
            yield (
                f"[{node.name}] {failure.operation}: {failure.title}\n{failure.message}\n"
                f"reproduce: {node.failure_info.code_sample}"
            )


def _record(report: ContractReport, event: events.EngineEvent) -> None:
    if isinstance(event, events.PhaseFinished):
        report.phases[event.phase.name.value] = event.status.value
    elif isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
        report.scenarios += 1
        if event.recorder.label:
            report.operations.add(event.recorder.label)
        for nodes in event.recorder.checks.values():
            report.checks_passed += sum(node.status is Status.SUCCESS for node in nodes)
            report.checks_run.update(node.name for node in nodes)
        for problem in _failed_checks(event.recorder):
            if problem not in report.problems:
                report.problems.append(problem)
    elif isinstance(event, events.NonFatalError):
        report.problems.append(f"[error] {event.label}: {event.info.format()}")
    elif isinstance(event, events.FatalError):
        report.problems.append(f"[fatal] {event.exception!r}")
    elif isinstance(event, events.EngineFinished):
        report.problems.extend(
            f"[after run] {failure.title}: {failure.message}" for failure in event.failures
        )


def run_contract(
    base_url: str,
    *,
    headers: dict[str, str] | None = None,
    max_examples: int = MAX_EXAMPLES,
    seed: int = SEED,
) -> ContractReport:
    """Load ``{base_url}/openapi.json`` and run every phase and check against the server.

    ``seed`` and ``max_examples`` exist for exploring by hand (more examples, other seeds); the
    tests keep the defaults, so that every run sends the same requests.
    """
    config = contract_config(base_url, headers=headers, max_examples=max_examples, seed=seed)
    # A check this file does not name (added by a newer schemathesis) is enabled by "enabled": True.
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", config=config)
    report = ContractReport()
    for event in from_schema(schema).execute():
        _record(report, event)
    return report
