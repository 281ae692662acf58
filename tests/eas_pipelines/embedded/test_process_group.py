"""ProcessGroup: stopping (children that ignore SIGTERM, grandchildren, inherited ignored signals, Ctrl-C
forwarding), supervising (restarts with backoff, giving up) and dying with the parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import psutil
import pytest

from eas_pipelines.embedded import Child, ProcessGroup, RestartPolicy
from eas_pipelines.embedded._common import pid_alive
from tests.eas_pipelines.embedded.conftest import REPO_ROOT

PY = sys.executable
# Quick restarts for the tests: 0.1s, then 0.2s (the cap); three within a minute, then give up.
FAST_RESTARTS = RestartPolicy(limit=3, window=60.0, delay=0.1, max_delay=0.2)


def ready_child(body: str, ready_file: Path) -> list[str]:
    """A python child that runs ``body`` and then says it is ready (so signals reach its handlers)."""
    return [
        PY,
        "-c",
        f"{body}\nimport pathlib, time\npathlib.Path({str(ready_file)!r}).touch()\ntime.sleep(60)",
    ]


def wait_for(path: Path, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def poll_until(condition: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout:.0f}s: {what}"
        time.sleep(0.02)


@pytest.fixture
def lines() -> list[str]:
    return []


@pytest.fixture
def group(tmp_path: Path, lines: list[str]) -> Iterator[ProcessGroup]:
    with ProcessGroup(
        tmp_path / "logs", stop_timeout=5.0, echo=lines.append, restart=FAST_RESTARTS
    ) as created:
        yield created
    assert created.children == []


def test_child_ignoring_sigterm_is_killed_after_the_timeout(group: ProcessGroup, tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    child = group.start(
        "stubborn", ready_child("import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN)", ready)
    )
    wait_for(ready)
    started = time.monotonic()
    status = group.stop_child(child, timeout=1.0)
    elapsed = time.monotonic() - started
    assert status == -signal.SIGKILL
    assert 0.9 <= elapsed < 5.0
    assert not pid_alive(child.pid)


def test_well_behaved_child_stops_on_sigterm_without_waiting(group: ProcessGroup) -> None:
    child = group.start("sleeper", ["sleep", "60"])
    started = time.monotonic()
    assert group.stop_child(child) == -signal.SIGTERM
    assert time.monotonic() - started < 2.0


def test_grandchildren_are_stopped_too(group: ProcessGroup, tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    body = (
        "import subprocess, pathlib\n"
        "p = subprocess.Popen(['sleep', '60'])\n"
        f"pathlib.Path({str(pid_file)!r}).write_text(str(p.pid))"
    )
    group.start("parent", [PY, "-c", body + "\nimport time\ntime.sleep(60)"])
    wait_for(pid_file)
    while not pid_file.read_text():
        time.sleep(0.02)
    grandchild = int(pid_file.read_text())
    assert pid_alive(grandchild)
    group.stop_all()
    assert not pid_alive(grandchild)


def test_signals_ignored_in_the_parent_are_restored_in_the_child(group: ProcessGroup) -> None:
    """Ignored dispositions survive exec; a `dagster dev` started so would never stop on SIGTERM/SIGINT."""
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        child = group.start("sleeper", ["sleep", "60"])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    ignored = next(
        line for line in Path(f"/proc/{child.pid}/status").read_text().splitlines() if "SigIgn" in line
    )
    mask = int(ignored.split()[1], 16)
    assert not mask & (1 << (signal.SIGTERM - 1)) and not mask & (1 << (signal.SIGINT - 1))
    assert group.stop_child(child) == -signal.SIGTERM


def test_env_log_file_and_announcements(group: ProcessGroup, tmp_path: Path, lines: list[str]) -> None:
    child = group.start(
        "echoer",
        [PY, "-c", "import os; print('value=' + os.environ['EAS_TEST_VALUE'])"],
        env={"EAS_TEST_VALUE": "42"},
    )
    child.process.wait(15)
    assert child.log_path == tmp_path / "logs" / "echoer.log"
    assert "value=42" in child.log_path.read_text()
    assert lines[0] == f"started echoer (pid {child.pid}), log: {child.log_path}"
    assert group.exited() == [child]


def test_stop_signal_is_configurable(group: ProcessGroup, tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    body = (
        "import signal, sys\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "signal.signal(signal.SIGINT, lambda *a: sys.exit(3))"
    )
    child = group.start("int-only", ready_child(body, ready), stop_signal=signal.SIGINT)
    wait_for(ready)
    assert group.stop_child(child, timeout=3.0) == 3


def test_with_restarts_off_a_crash_stops_everything(tmp_path: Path, lines: list[str]) -> None:
    with ProcessGroup(tmp_path / "logs", echo=lines.append, restart=RestartPolicy(limit=0)) as group:
        survivor = group.start("server", ["sleep", "60"])
        group.start("crasher", [PY, "-c", "import sys; sys.exit(7)"])
        assert group.wait(poll_interval=0.05) == 1
    assert not pid_alive(survivor.pid)
    assert any("crasher" in line and "exited with status 7; restarts are off" in line for line in lines)


def test_a_child_that_keeps_crashing_is_restarted_with_backoff_then_given_up(
    group: ProcessGroup, lines: list[str]
) -> None:
    survivor = group.start("server", ["sleep", "60"])
    crasher = group.start("crasher", [PY, "-c", "print('crashing', flush=True); raise SystemExit(7)"])
    assert group.wait(poll_interval=0.05) == 1
    assert not pid_alive(survivor.pid), "giving up stops everything"
    restarts = [line for line in lines if line.startswith("restarting crasher")]
    assert [line.split("; see ")[0].split("; ", 1)[1] for line in restarts] == [
        "restart 1 of 3) in 0.1s",
        "restart 2 of 3) in 0.2s",
        "restart 3 of 3) in 0.2s",  # the delay doubles up to max_delay
    ]
    assert all("exited with status 7" in line for line in restarts)
    given_up = [line for line in lines if "giving up" in line]
    assert len(given_up) == 1 and given_up[0].startswith("crasher (pid ")
    assert "restarted 3 times in the last 60s: giving up" in given_up[0]
    assert "Stopping everything" in given_up[0]
    assert crasher.restarts == 3
    log = crasher.log_path.read_text()
    assert log.count("\ncrashing\n") == 4, "every run appends to the same log"
    assert log.count("restarting crasher (restart") == 3


def test_a_killed_child_is_restarted_and_the_others_keep_running(tmp_path: Path, lines: list[str]) -> None:
    """SIGKILL one child while wait() supervises: same command, env, folder and log; the rest untouched."""
    records: list[list[tuple[str, int]]] = []

    def record(children: Sequence[Child]) -> None:
        records.append([(child.name, child.pid) for child in children])

    work = tmp_path / "work"
    work.mkdir()
    ready = tmp_path / "ready"
    body = (
        "import os, pathlib, time\n"
        "print('value=' + os.environ['EAS_TEST_VALUE'], 'cwd=' + os.getcwd(), flush=True)\n"
        f"pathlib.Path({str(ready)!r}).write_text(str(os.getpid()))\n"
        "time.sleep(60)"
    )
    group = ProcessGroup(
        tmp_path / "logs", stop_timeout=5.0, echo=lines.append, restart=FAST_RESTARTS, on_change=record
    )
    server = group.start("server", ["sleep", "60"])
    worker = group.start("worker", [PY, "-c", body], env={"EAS_TEST_VALUE": "42"}, cwd=work)
    first_pid = worker.pid
    seen: dict[str, object] = {}

    def kill_then_stop() -> None:  # runs beside wait(); always ends it
        try:
            poll_until(lambda: ready.exists() and ready.read_text() == str(first_pid), "worker ready")
            os.kill(first_pid, signal.SIGKILL)
            poll_until(
                lambda: ready.read_text() not in ("", str(first_pid)), "worker restarted and ready again"
            )
            seen["new_pid"] = worker.pid
            seen["server_alive"] = pid_alive(server.pid)
        except BaseException as exc:
            seen["error"] = exc
        finally:
            group.request_stop()

    helper = threading.Thread(target=kill_then_stop)
    with group:
        helper.start()
        assert group.wait(poll_interval=0.05) == 0
    helper.join()
    assert "error" not in seen, seen["error"]
    assert seen["new_pid"] != first_pid and seen["server_alive"]
    assert server.process.returncode == -signal.SIGTERM, "the server ran on until the stop"
    assert f"restarting worker (pid {first_pid} exited with status -9; restart 1 of 3) in 0.1s" in " ".join(
        lines
    )
    assert f"restarted worker (pid {seen['new_pid']})" in lines
    log = worker.log_path.read_text()
    assert log.count(f"value=42 cwd={work}") == 2, log
    assert any(("worker", seen["new_pid"]) in record for record in records), "on_change saw the new PID"
    assert not pid_alive(server.pid) and not pid_alive(worker.pid)


def test_restarts_older_than_the_window_do_not_count(tmp_path: Path, lines: list[str]) -> None:
    """A child that crashes now and then, never twice within the window, is restarted for ever."""
    policy = RestartPolicy(limit=1, window=0.3, delay=0.05, max_delay=0.05)
    with ProcessGroup(tmp_path / "logs", echo=lines.append, restart=policy) as group:
        child = group.start(
            "flaky", [PY, "-c", "import time; time.sleep(0.5)"]
        )  # lives longer than the window
        deadline = time.monotonic() + 30.0
        while child.restarts < 3:
            assert group.supervise(), lines
            assert time.monotonic() < deadline, lines
            time.sleep(0.02)
    assert sum("restart 1 of 1" in line for line in lines) >= 3


def test_restart_delays_double_up_to_the_cap() -> None:
    policy = RestartPolicy(delay=1.0, max_delay=5.0)
    assert [policy.delay_before(n) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_stop_all_goes_in_reverse_order(group: ProcessGroup, lines: list[str]) -> None:
    for name in ("db", "api", "worker"):
        group.start(name, ["sleep", "60"])
    group.stop_all()
    stopped = [line.split()[1] for line in lines if line.startswith("stopped")]
    assert stopped == ["worker", "api", "db"]


SUPERVISOR = """
import pathlib, signal, sys
from eas_pipelines.embedded import ProcessGroup
out = pathlib.Path(sys.argv[1])
group = ProcessGroup(out / "logs", stop_timeout=1.0)
a = group.start("a", ["sleep", "60"])
deaf = "import signal, time; [signal.signal(s, signal.SIG_IGN) for s in (signal.SIGTERM, signal.SIGINT)]; "
deaf += "open(%r, 'w').close(); time.sleep(60)" % str(out / "b-ready")
b = group.start("b", [sys.executable, "-c", deaf])
with group.handling_stop_signals():
    (out / "pids").write_text(f"{a.pid} {b.pid}")
    sys.exit(group.wait(poll_interval=0.05))
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda sig: sig.name)
def test_ctrl_c_or_sigterm_to_the_parent_stops_every_child(tmp_path: Path, sig: signal.Signals) -> None:
    supervisor = subprocess.Popen(
        [PY, "-c", SUPERVISOR, str(tmp_path)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(tmp_path / "pids")
        wait_for(tmp_path / "b-ready")
        pids = [int(pid) for pid in (tmp_path / "pids").read_text().split()]
        supervisor.send_signal(sig)
        _, stderr = supervisor.communicate(timeout=20)
        assert supervisor.returncode == 0, stderr
        assert f"received {sig.name}: stopping" in stderr
        assert "still running after 1s: killing it" in stderr  # b ignores both signals
        for pid in pids:
            assert not pid_alive(pid)
    finally:
        if supervisor.poll() is None:
            for process in psutil.Process(supervisor.pid).children(recursive=True):
                process.kill()
            supervisor.kill()
            supervisor.wait()


ORPHANING_PARENT = """
import pathlib, sys, time
from eas_pipelines.embedded import ProcessGroup
out = pathlib.Path(sys.argv[1])
group = ProcessGroup(out / "logs")
child = group.start("child", ["sleep", "60"])
(out / "pid").write_text(str(child.pid))
time.sleep(60)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_children_die_with_their_parent(tmp_path: Path) -> None:
    """A parent killed with SIGKILL cannot stop its children: the kernel's parent-death signal does."""
    parent = subprocess.Popen(
        [PY, "-c", ORPHANING_PARENT, str(tmp_path)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    child_pid = None
    try:
        wait_for(tmp_path / "pid")
        poll_until(lambda: bool((tmp_path / "pid").read_text()), "child PID written")
        child_pid = int((tmp_path / "pid").read_text())
        assert pid_alive(child_pid)
        parent.kill()
        parent.wait()
        poll_until(lambda: not pid_alive(child_pid), "the child died with its parent")
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if child_pid is not None and pid_alive(child_pid):
            os.kill(child_pid, signal.SIGKILL)
