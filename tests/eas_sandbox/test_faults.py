"""Fault rules: counted faults are certain, rated faults repeatable from a seed."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from eas_sandbox.faults import Fault, FaultInjector


def test_counted_faults_hit_the_next_calls_of_their_vendor_only():
    faults = FaultInjector()
    faults.add(Fault(kind="throttle", vendor="slack", count=2))

    assert faults.draw("jira") is None
    assert [faults.draw("slack").kind, faults.draw("slack").kind] == ["throttle", "throttle"]
    assert faults.draw("slack") is None
    assert faults.rules() == []


def test_rated_faults_hit_about_their_share_and_repeat_with_the_seed():
    def outcomes(seed: int) -> list[str | None]:
        faults = FaultInjector(seed)
        faults.add(Fault(kind="error", rate=0.10))
        faults.add(Fault(kind="throttle", rate=0.05))
        return [getattr(faults.draw("sap"), "kind", None) for _ in range(4000)]

    first = outcomes(7)
    assert first == outcomes(7)
    assert 0.08 < first.count("error") / len(first) < 0.12
    assert 0.035 < first.count("throttle") / len(first) < 0.065


@pytest.mark.parametrize("options", [{}, {"count": 1, "rate": 0.5}, {"count": 0}, {"rate": 1.5}])
def test_a_fault_needs_exactly_one_of_count_and_rate(options):
    with pytest.raises(ValidationError):
        Fault(kind="slow", **options)
