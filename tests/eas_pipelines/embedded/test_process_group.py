"""ProcessGroup: children that ignore SIGTERM, grandchildren, inherited ignored signals, Ctrl-C forwarding."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from eas_pipelines.embedded import ProcessGroup
from eas_pipelines.embedded._common import pid_alive
from tests.eas_pipelines.embedded.conftest import REPO_ROOT

PY = sys.executable


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


@pytest.fixture
def lines() -> list[str]:
    return []


@pytest.fixture
def group(tmp_path: Path, lines: list[str]) -> Iterator[ProcessGroup]:
    with ProcessGroup(tmp_path / "logs", stop_timeout=5.0, echo=lines.append) as created:
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


def test_wait_returns_when_a_child_dies_and_stops_the_rest(group: ProcessGroup, lines: list[str]) -> None:
    survivor = group.start("server", ["sleep", "60"])
    group.start("crasher", [PY, "-c", "import sys; sys.exit(7)"])
    assert group.wait(poll_interval=0.05) == 1
    assert not pid_alive(survivor.pid)
    assert any("crasher" in line and "exited with status 7" in line for line in lines)


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
