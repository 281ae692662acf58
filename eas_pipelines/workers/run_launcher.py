"""The embedded default's run launcher: standard-lane runs forked from the warm run server.

Why: Dagster's ``DefaultRunLauncher`` asks the code server to *spawn* a Python process per run, which
imports Dagster, the code location and everything its first steps touch (the PII engine, pandas,
boto3...) before the run's first op: seconds on 2 cores (BENCHMARKS.md), paid again by every
standard-lane run, and billed partly to its first steps. :mod:`eas_pipelines.workers.run_server`
holds all of that imported and built once; a run forked from it starts with it, in a process of its
own as before (a crash or a leak ends with the run).

This launcher is a ``DefaultRunLauncher`` that asks the run server first and falls back to its
parent's way (a new process through the code server) whenever the run server cannot take the run:
none listening (``eas run-server`` not started, ``EAS_RUN_SERVER_PORT=0``), its code older than the
files on disk, or any other refusal. It only falls back when the run server certainly did not
start the run; if the server took the request but its reply is lost, the run is left to Dagster's
run monitoring (``start_timeout_seconds``) rather than risk a second process for it. Kubernetes
deployments use ``dagster_k8s.K8sRunLauncher`` instead (the Helm chart's ``dagster.yaml``).

``dagster.yaml``::

    run_launcher:
      module: eas_pipelines.workers.run_launcher
      class: WarmRunLauncher
      config:            # optional
        port: 8099       # default: EAS_RUN_SERVER_PORT
        timeout_seconds: 10
"""

from __future__ import annotations

import errno
import os
import signal
import socket
from collections.abc import Mapping
from typing import Any, Self

from dagster import Field, IntSource
from dagster._core.launcher import DefaultRunLauncher, LaunchRunContext
from dagster._grpc.types import ExecuteRunArgs
from dagster._serdes.config_class import ConfigurableClassData

from eas_pipelines.settings import load_settings
from eas_pipelines.workers.run_wire import WireError, decode_reply, encode_request, read_line

TAG_RUN_SERVER_PID = "eas/run_server_pid"
"""Set on a run forked by the run server: the run's process id (terminate signals it)."""
HOST = "127.0.0.1"


class RunServerUnavailable(RuntimeError):
    """The run server did not start the run; a new process may (the message says why)."""


class RunServerNoReply(RuntimeError):
    """The request reached the run server but no reply came back: it may have started the run."""


def fork_run(port: int, args: ExecuteRunArgs, timeout_s: float) -> int:
    """Ask the run server on ``127.0.0.1:port`` to fork a process executing ``args``; its pid."""
    try:
        conn = socket.create_connection((HOST, port), timeout=min(timeout_s, 2.0))
    except OSError as exc:
        reason = "nothing listens" if exc.errno == errno.ECONNREFUSED else str(exc)
        raise RunServerUnavailable(f"no run server on {HOST}:{port} ({reason})") from None
    with conn:
        conn.settimeout(timeout_s)
        try:
            conn.sendall(encode_request(args))
        except OSError as exc:
            raise RunServerUnavailable(f"{HOST}:{port} did not take the request ({exc})") from None
        try:
            reply = decode_reply(read_line(conn))
        except WireError as exc:
            raise RunServerUnavailable(
                f"{HOST}:{port} answered, but not as an EAS run server ({exc})"
            ) from None
        except OSError as exc:
            raise RunServerNoReply(f"{HOST}:{port} took the request but did not reply ({exc})") from None
    if reply.pid is None:
        raise RunServerUnavailable(f"the run server did not fork the run: {reply.error}")
    return reply.pid


class WarmRunLauncher(DefaultRunLauncher):
    """Forks runs from the warm run server; Dagster's default launcher when it cannot."""

    def __init__(
        self,
        inst_data: ConfigurableClassData | None = None,
        port: int | None = None,
        timeout_seconds: float = 10.0,
    ) -> None:
        super().__init__(inst_data=inst_data)
        self._port = port
        self._timeout_s = timeout_seconds

    @classmethod
    def config_type(cls) -> dict[str, Field]:
        return {
            "port": Field(IntSource, is_required=False, description="default: EAS_RUN_SERVER_PORT"),
            "timeout_seconds": Field(float, is_required=False, default_value=10.0),
        }

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]) -> Self:
        return cls(inst_data=inst_data, **config_value)

    @property
    def port(self) -> int:
        """The run server's port (0: none; every run gets a new process)."""
        if self._port is None:
            self._port = load_settings(generate_secrets=False).run_server_port
        return self._port

    def launch_run(self, context: LaunchRunContext) -> None:
        run = context.dagster_run
        if self.port and run.job_code_origin is not None:
            args = ExecuteRunArgs(
                job_origin=run.job_code_origin, run_id=run.run_id, instance_ref=self._instance.get_ref()
            )
            try:
                pid = fork_run(self.port, args, self._timeout_s)
            except RunServerUnavailable as exc:
                self._instance.report_engine_event(
                    f"{exc}: starting a new process for the run", run, cls=type(self)
                )
            except RunServerNoReply as exc:
                self._instance.report_engine_event(
                    f"{exc}; not starting a second process (run monitoring fails the run if it never starts)",
                    run,
                    cls=type(self),
                )
                return
            else:
                self._instance.add_run_tags(run.run_id, {TAG_RUN_SERVER_PID: str(pid)})
                self._run_ids.add(run.run_id)
                return
        super().launch_run(context)

    def terminate(self, run_id: str) -> bool:
        """A forked run gets SIGTERM (Dagster's interrupt handling ends it as canceled); any other
        run goes through the code server, as with the default launcher."""
        run = self._instance.get_run_by_id(run_id) if self.has_instance else None
        pid = run.tags.get(TAG_RUN_SERVER_PID) if run is not None else None
        if run is None or pid is None:
            return super().terminate(run_id)
        if run.is_finished:
            return False
        self._instance.report_run_canceling(run)
        try:
            os.kill(int(pid), signal.SIGTERM)
        except ProcessLookupError:
            self._instance.report_engine_event(f"run process {pid} is gone", run, cls=type(self))
            return False
        return True
