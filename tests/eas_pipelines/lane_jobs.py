"""Test-only Dagster Definitions for the fast-lane worker tests.

Jobs with the agents' lifecycle (the real ``start_request`` and ``complete_request`` ops around the
work), whose middle op is steered from the test through Redis keys under ``EAS_TEST_LANES_PREFIX``:

- ``lanes_quick``: does nothing; the request succeeds;
- ``lanes_hold``: records that it started (``<prefix>started:<request id>`` = run id) and waits until
  the test sets ``<prefix>release:<request id>``: a run long enough to kill its worker mid-way;
- ``lanes_flaky``: fails while ``<prefix>fail:<request id>`` is above zero (decrementing it).

Workers load this module with ``--definitions tests.eas_pipelines.lane_jobs:defs``; nothing in
product code knows about it.
"""

import time

import dagster as dg
import redis
from pydantic import Field

from eas_pipelines.agents.common import WorkItem, WorkResult, complete_request, start_request
from eas_pipelines.resources.store import RequestStoreResource

QUICK_JOB = "lanes_quick"
HOLD_JOB = "lanes_hold"
FLAKY_JOB = "lanes_flaky"
HOLD_TIMEOUT_S = 120.0


class LaneGate(dg.ConfigurableResource):
    """The test's remote control for the jobs' middle op (a Redis client and the test's prefix)."""

    redis_url: str = Field(description="EAS_REDIS_URL")
    prefix: str = Field(description="EAS_TEST_LANES_PREFIX")

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url, socket_timeout=5)


@dg.op
def quick_work(item: WorkItem) -> WorkResult:
    return WorkResult(item, "nothing to do")


@dg.op
def hold_work(context: dg.OpExecutionContext, item: WorkItem, gate: LaneGate) -> WorkResult:
    client = gate.client()
    client.set(f"{gate.prefix}started:{item.request_id}", context.run_id)
    client.incr(f"{gate.prefix}starts:{item.request_id}")
    deadline = time.monotonic() + HOLD_TIMEOUT_S
    while not client.exists(f"{gate.prefix}release:{item.request_id}"):
        if time.monotonic() > deadline:
            raise TimeoutError("never released")
        time.sleep(0.05)
    return WorkResult(item, "released")


@dg.op
def flaky_work(item: WorkItem, gate: LaneGate) -> WorkResult:
    client = gate.client()
    if int(client.decr(f"{gate.prefix}fail:{item.request_id}")) >= 0:
        raise RuntimeError("connector down (test)")
    return WorkResult(item, "worked on a later try")


@dg.job(name=QUICK_JOB)
def lanes_quick() -> None:
    complete_request(quick_work(start_request()))


@dg.job(name=HOLD_JOB)
def lanes_hold() -> None:
    complete_request(hold_work(start_request()))


@dg.job(name=FLAKY_JOB)
def lanes_flaky() -> None:
    complete_request(flaky_work(start_request()))


defs = dg.Definitions(
    jobs=[lanes_quick, lanes_hold, lanes_flaky],
    resources={
        "store": RequestStoreResource(database_url=dg.EnvVar("EAS_DATABASE_URL")),
        "gate": LaneGate(redis_url=dg.EnvVar("EAS_REDIS_URL"), prefix=dg.EnvVar("EAS_TEST_LANES_PREFIX")),
    },
)
