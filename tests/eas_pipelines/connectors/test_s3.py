"""S3's connector against moto served inside the sandbox: shapes, paging, SlowDown, retries, breaker."""

from __future__ import annotations

import time

import pybreaker
import pytest

from eas_pipelines.connectors.retry import ConnectorUnavailable, VendorRejected
from eas_pipelines.connectors.s3 import S3ConnectorResource


@pytest.fixture
def s3(sandbox, connector_options) -> S3ConnectorResource:
    env = sandbox.env
    return S3ConnectorResource(
        endpoint_url=env["EAS_S3_ENDPOINT_URL"],
        region_name=env["EAS_S3_REGION"],
        aws_access_key_id=env["EAS_AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["EAS_AWS_SECRET_ACCESS_KEY"],
        **connector_options,
    )


def test_put_and_get_send_path_style_signed_requests(s3, sandbox):
    client = s3.client()
    put = client.put("eas-documents", "invoices/inv-1.pdf", b"%PDF-1", "application/pdf")

    assert put.etag.strip('"')
    assert client.get("eas-documents", "invoices/inv-1.pdf") == b"%PDF-1"
    assert client.get("eas-documents", "invoices/missing.pdf") is None
    sent = [call for call in sandbox.calls("s3") if call["method"] == "PUT"][-1]
    assert sent["path"] == "/s3/eas-documents/invoices/inv-1.pdf"
    assert sent["headers"]["authorization"].startswith("AWS4-HMAC-SHA256 Credential=testing/")
    assert sent["headers"]["content-type"] == "application/pdf"


def test_default_buckets_are_seeded_and_reset(s3, sandbox):
    client = s3.client()
    client.put("eas-reports", "r.csv", b"a,b")
    client.ensure_bucket("eas-archive")
    client.ensure_bucket("eas-archive")  # already there: no error

    sandbox.reset()

    assert client.list("eas-reports") == []
    with pytest.raises(VendorRejected, match="NoSuchBucket"):
        client.list("eas-archive")


def test_listing_follows_continuation_tokens(s3, sandbox, monkeypatch):
    monkeypatch.setattr("eas_pipelines.connectors.s3.PAGE_SIZE", 2)
    client = s3.client()
    for n in range(5):
        client.put("eas-documents", f"batch/{n}.txt", str(n).encode())
    client.put("eas-documents", "other/x.txt", b"x")

    listed = client.list("eas-documents", "batch/")

    assert [o.key for o in listed] == [f"batch/{n}.txt" for n in range(5)]
    assert listed[0].size == 1
    lists = [c for c in sandbox.calls("s3") if c["method"] == "GET" and "list-type=2" in c["query"]]
    assert len(lists) == 3 and "continuation-token" in lists[-1]["query"]


def test_conditional_put_is_idempotent_for_the_same_bytes(s3):
    client = s3.client()
    first = client.put("eas-documents", "once.txt", b"hello", if_none_match=True)
    again = client.put("eas-documents", "once.txt", b"hello", if_none_match=True)

    assert again.etag == first.etag
    with pytest.raises(VendorRejected, match="PreconditionFailed") as refused:
        client.put("eas-documents", "once.txt", b"other", if_none_match=True)
    assert refused.value.status == 412
    assert client.get("eas-documents", "once.txt") == b"hello"


def test_slowdown_is_retried_after_retry_after(s3, sandbox):
    client = s3.client()
    sandbox.fault("throttle", "s3", count=1, retry_after_s=0.3)
    started = time.monotonic()

    client.put("eas-documents", "slow.txt", b"x")

    assert time.monotonic() - started >= 0.3
    assert client.get("eas-documents", "slow.txt") == b"x"


def test_server_errors_are_retried_then_fail_cleanly(s3, sandbox):
    client = s3.client()
    sandbox.fault("error", "s3", count=10, status=500)

    with pytest.raises(ConnectorUnavailable, match="s3: still failing after 3 attempts.*InternalError"):
        client.get("eas-documents", "a.txt")
    assert len(sandbox.calls("s3")) == 3


def test_refusals_are_final(s3, sandbox):
    sandbox.fault("unauthorized", "s3", count=1)

    with pytest.raises(VendorRejected, match="InvalidAccessKeyId") as refused:
        s3.client().get("eas-documents", "a.txt")
    assert refused.value.status == 403
    assert len(sandbox.calls("s3")) == 1


def test_the_breaker_opens_and_closes(s3, sandbox):
    client = s3.client()
    sandbox.fault("error", "s3", count=6)
    with pytest.raises(ConnectorUnavailable):
        client.get("eas-documents", "a.txt")
    with pytest.raises(pybreaker.CircuitBreakerError):
        client.get("eas-documents", "a.txt")

    sandbox.reset()
    time.sleep(1.6)  # past breaker_reset_timeout_s
    assert client.get("eas-documents", "a.txt") is None
    assert s3.breaker.current_state == "closed"
