"""What every connector resource does when Dagster builds it for a run."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

FRESH_RUN_PROCESS = textwrap.dedent(
    """
    import dagster as dg
    from eas_pipelines.connectors.jira import JiraResource
    from eas_pipelines.connectors.s3 import S3ConnectorResource
    from eas_pipelines.pii import engine

    s3 = S3ConnectorResource(redis_url="redis://127.0.0.1:1/0", endpoint_url="https://127.0.0.1:1",
                             region_name="us-east-1")
    jira = JiraResource(redis_url="redis://127.0.0.1:1/0", base_url="https://127.0.0.1:1",
                        email="bot@example.com", api_token="t")
    assert engine._engines is None, "masking engine built before any resource was"
    with dg.build_resources({"s3": s3, "jira": jira}) as built:
        assert engine._engines is not None, "masking engine not built with the resources"
        assert built.s3._client is not None, "S3's client (built offline) left to the first step"
        assert built.jira._client is None, "Jira's client (a handshake) built before any step"
    print("ok")
    """
)


def test_a_run_builds_masking_and_offline_clients_before_its_first_step():
    """In a fresh process (a standard-lane run), building the resources builds the PII engine and the
    clients that need no call to their system; a client whose construction calls the system does not
    (an outage must meet the step's retries, not fail the run before it starts)."""
    done = subprocess.run(
        [sys.executable, "-c", FRESH_RUN_PROCESS], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok")


def test_warm_tls_builds_the_context_a_connector_verifies_with(monkeypatch, tmp_path):
    """The run server calls ``warm_tls`` before forking; each run's connectors must then find the
    context built, not build their own (the CA store costs ~27 ms of CPU per run)."""
    import certifi

    from eas_pipelines.connectors.base import CA_BUNDLE_SETTING, tls_context, warm_tls
    from eas_pipelines.connectors.jira import JiraResource

    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(Path(certifi.where()).read_bytes())
    monkeypatch.setenv(CA_BUNDLE_SETTING, str(bundle))
    tls_context.cache_clear()
    warm_tls()
    built = tls_context.cache_info()
    jira = JiraResource(
        redis_url="redis://127.0.0.1:1/0",
        base_url="https://127.0.0.1:1",
        email="bot@example.com",
        api_token="t",
    )
    context = jira.verify()
    assert tls_context.cache_info().hits == built.hits + 1  # found, not built again
    assert context is jira.verify()
