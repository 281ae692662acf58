"""Nothing outlives a killed ``eas up``: its watchdog stops what it ran, and the next ``eas up`` does too.

A "fake eas up" (:data:`FAKE_UP`) does what ``eas up`` does to a data folder, with ``sleep`` for
services: it claims the folder, starts the embedded PostgreSQL and Redis, and runs two children
through a :class:`ProcessGroup`, one of which starts a grandchild in its own process group (as
``dagster dev`` starts its webserver and daemon). The tests kill it with SIGKILL.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from eas_pipelines.embedded import free_port
from eas_pipelines.embedded._common import pid_alive, process_create_time
from eas_pipelines.embedded.leftovers import (
    DataFolderClaim,
    DataFolderInUse,
    RecordedChild,
    UpRecord,
    stop_leftovers_of,
)
from tests.eas_pipelines.embedded.conftest import REPO_ROOT

PY = sys.executable
DEADLINE_S = 20.0  # generous: a busy 2-core machine; the watchdog needs a few seconds at most

FAMILY = (
    "import pathlib, subprocess, sys, time\n"
    "p = subprocess.Popen(['sleep', '600'])\n"
    "pathlib.Path(sys.argv[1]).write_text(str(p.pid))\n"
    "time.sleep(600)"
)

FAKE_UP = """
import json, pathlib, sys, time
from eas_pipelines.embedded import EmbeddedPostgres, EmbeddedRedis, ProcessGroup
from eas_pipelines.embedded.leftovers import TOKEN_VARIABLE, DataFolderClaim
from eas_pipelines.embedded.watchdog import Watchdog

data_dir, mode, family_code = pathlib.Path(sys.argv[1]), sys.argv[4], sys.argv[5]
pg_port, redis_port = int(sys.argv[2]), int(sys.argv[3])
claim = DataFolderClaim(data_dir, echo=print).__enter__()
if mode == "watched":
    watchdog = Watchdog(data_dir, data_dir / "logs" / "watchdog.log")
    watchdog.start()
    claim.record_watchdog(watchdog.pid)
postgres, redis = EmbeddedPostgres(data_dir, pg_port), EmbeddedRedis(data_dir, redis_port)
postgres.start()
redis.start()
# "orphans": as if the kernel's parent-death signal did not exist (macOS), so the children survive too.
group = ProcessGroup(data_dir / "logs", on_change=claim.record_children, die_with_parent=mode == "watched")
env = {TOKEN_VARIABLE: claim.token}
svc = group.start("svc", ["sleep", "600"], env=env)
grandchild_file = data_dir / "grandchild.pid"
grandchild_file.unlink(missing_ok=True)
family = group.start("family", [sys.executable, "-c", family_code, str(grandchild_file)], env=env)
while not grandchild_file.exists() or not grandchild_file.read_text():
    time.sleep(0.02)
pids = {
    "svc": svc.pid,
    "family": family.pid,
    "grandchild": int(grandchild_file.read_text()),
    "postgres": postgres.pid,
    "redis": redis.pid,
    "watchdog": claim.record.watchdog_pid,
    "token": claim.token,
}
print(json.dumps(pids), flush=True)
time.sleep(600)
"""


def poll_until(condition: Callable[[], bool], what: str, timeout: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout:.0f}s: {what}"
        time.sleep(0.05)


class FakeUp:
    def __init__(self, data_dir: Path, mode: str) -> None:
        self.process = subprocess.Popen(
            [PY, "-c", FAKE_UP, str(data_dir), str(free_port()), str(free_port()), mode, FAMILY],
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        )
        assert self.process.stdout is not None
        self.info: dict = {}
        for line in self.process.stdout:
            if line.startswith("{"):
                self.info = json.loads(line)
                break
        if not self.info:
            self.process.wait(30)
            raise AssertionError(f"the fake eas up failed to start (exit {self.process.returncode})")

    @property
    def pid(self) -> int:
        return self.process.pid

    def pids(self, *names: str) -> list[int]:
        return [self.info[name] for name in names]

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def cleanup(self) -> None:
        if self.process.poll() is None:
            self.kill()
        for name in ("svc", "family", "grandchild", "redis", "watchdog"):
            pid = self.info.get(name)
            if pid and pid_alive(pid):  # a failed test must not leave them running
                os.kill(pid, signal.SIGKILL)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def fake_ups() -> Iterator[list[FakeUp]]:
    started: list[FakeUp] = []
    yield started
    for fake in started:
        fake.cleanup()


def all_dead(pids: list[int]) -> bool:
    return not any(pid_alive(pid) for pid in pids)


def test_the_watchdog_stops_everything_when_eas_up_is_killed(pg_dir: Path, fake_ups: list[FakeUp]) -> None:
    fake = FakeUp(pg_dir, "watched")
    fake_ups.append(fake)
    pids = fake.pids("svc", "family", "grandchild", "postgres", "redis", "watchdog")
    assert all(pid_alive(pid) for pid in pids)
    grandchild, postgres, redis_pid = fake.pids("grandchild", "postgres", "redis")

    fake.kill()
    poll_until(lambda: all_dead(pids), "children, grandchild, servers and watchdog gone")
    assert not UpRecord.path(pg_dir).exists(), "the watchdog removes the record it acted on"
    log = (pg_dir / "logs" / "watchdog.log").read_text()
    assert f"eas up (pid {fake.pid}) died; stopped what it left:" in log, log
    # The grandchild is in the group of "family"; the parent-death signal never reaches it.
    assert re.search(rf"family \(pids? [0-9, ]*\b{grandchild}\b", log), log
    assert f"postgres (pid {postgres})" in log and f"redis (pid {redis_pid})" in log, log


def test_the_next_eas_up_stops_what_a_dead_one_left_and_says_so(pg_dir: Path, fake_ups: list[FakeUp]) -> None:
    fake = FakeUp(pg_dir, "orphans")  # no watchdog, no parent-death signal: everything survives it
    fake_ups.append(fake)
    svc, family, grandchild, postgres, redis_pid = fake.pids(
        "svc", "family", "grandchild", "postgres", "redis"
    )
    fake.kill()
    assert all(pid_alive(pid) for pid in (svc, family, grandchild, postgres, redis_pid))

    lines: list[str] = []
    with DataFolderClaim(pg_dir, echo=lines.append) as claim:
        assert len(lines) == 1, lines
        message = lines[0]
        assert message.startswith(f"stopped leftovers of a previous eas up (pid {fake.pid}): "), message
        for part in (
            f"svc (pid {svc})",
            f"family (pids {min(family, grandchild)}, {max(family, grandchild)})",
            f"postgres (pid {postgres})",
            f"redis (pid {redis_pid})",
        ):
            assert part in message, message
        assert all_dead([svc, family, grandchild, postgres, redis_pid])
        record = UpRecord.read(pg_dir)
        assert record is not None and record.pid == os.getpid() and record.token == claim.token
        assert record.token != fake.info["token"]
    assert not UpRecord.path(pg_dir).exists(), "a clean stop removes the record"


def test_a_live_eas_up_is_refused_and_left_alone(tmp_path: Path) -> None:
    live = subprocess.Popen(["sleep", "60"])
    try:
        created = process_create_time(live.pid) or 0.0
        UpRecord(
            pid=live.pid, create_time=created, token="t", children=[RecordedChild("svc", live.pid, created)]
        ).write(tmp_path)
        with pytest.raises(DataFolderInUse) as info, DataFolderClaim(tmp_path, echo=print):
            pass
        assert f"another eas up is running on this data folder ({tmp_path}), pid {live.pid}" in str(
            info.value
        )
        assert pid_alive(live.pid)
        assert UpRecord.read(tmp_path) is not None and UpRecord.read(tmp_path).pid == live.pid  # type: ignore[union-attr]
        # Its watchdog would not act either: the record names a live process.
        assert stop_leftovers_of(tmp_path, live.pid, created) == [] and pid_alive(live.pid)
    finally:
        live.kill()
        live.wait()


def test_pids_reused_by_other_processes_are_never_signalled(tmp_path: Path) -> None:
    """A record from before a reboot: its PIDs now name unrelated processes, started at other times."""
    unrelated = subprocess.Popen(["sleep", "60"])
    try:
        UpRecord(
            pid=unrelated.pid,
            create_time=1.0,  # not when this process started: not the eas up recorded
            token="not-in-anyones-environment",
            children=[RecordedChild("svc", unrelated.pid, 1.0), RecordedChild("me", os.getpid(), 1.0)],
        ).write(tmp_path)
        lines: list[str] = []
        with DataFolderClaim(tmp_path, echo=lines.append):
            assert lines == []
        assert pid_alive(unrelated.pid)
    finally:
        unrelated.kill()
        unrelated.wait()
