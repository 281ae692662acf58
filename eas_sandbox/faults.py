"""Faults the emulators can be told to inject: throttling, server errors, slowness, bad credentials.

A fault applies to one vendor (or every vendor) and either to the next ``count`` calls (tests: the
outcome is certain) or to a share ``rate`` of calls (benchmarks and demos: drawn from a seeded
generator, so a run can be repeated). Each vendor answers a fault in its own way (Salesforce
throttles with 403 ``REQUEST_LIMIT_EXCEEDED``, Slack says ``ok: false`` in a 200...): the fault
names the kind, the vendor's :class:`~eas_sandbox.vendor.Vendor` shapes the answer.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field, model_validator

FaultKind = Literal["throttle", "error", "slow", "unauthorized"]


class Fault(BaseModel):
    """One fault rule, as posted to ``POST /_sandbox/faults``."""

    kind: FaultKind
    vendor: str | None = Field(default=None, description="the vendor's path prefix; none: every vendor")
    count: int | None = Field(default=None, ge=1, description="apply to the next N calls")
    rate: float | None = Field(default=None, gt=0, le=1, description="apply to this share of calls")
    retry_after_s: float | None = Field(default=1.0, ge=0, description="Retry-After of a throttle answer")
    status: int = Field(default=503, ge=500, le=599, description="status of an 'error' fault")
    delay_s: float = Field(default=0.5, ge=0, le=60, description="added latency of a 'slow' fault")

    @model_validator(mode="after")
    def _count_or_rate(self) -> Fault:
        if (self.count is None) == (self.rate is None):
            raise ValueError("give exactly one of count and rate")
        return self


@dataclass
class _Rule:
    fault: Fault
    left: int | None


class FaultInjector:
    """The active fault rules; thread-safe, consulted once per emulated call."""

    def __init__(self, seed: int = 0):
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._random = random.Random(seed)

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._rules.append(_Rule(fault, fault.count))

    def clear(self, seed: int | None = None) -> None:
        with self._lock:
            self._rules.clear()
            if seed is not None:
                self._random.seed(seed)

    def draw(self, vendor: str) -> Fault | None:
        """The fault this call to ``vendor`` suffers, if any (counted rules first, then rates)."""
        with self._lock:
            for rule in self._rules:
                if rule.left and rule.fault.vendor in (None, vendor):
                    rule.left -= 1
                    return rule.fault
            point = self._random.random()
            for rule in self._rules:
                if rule.fault.rate is not None and rule.fault.vendor in (None, vendor):
                    if point < rule.fault.rate:
                        return rule.fault
                    point -= rule.fault.rate
        return None

    def rules(self) -> list[Fault]:
        with self._lock:
            return [rule.fault for rule in self._rules if rule.fault.rate is not None or rule.left]
