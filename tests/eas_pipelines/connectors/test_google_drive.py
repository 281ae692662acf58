"""Google Drive's connector against its emulator: service-account token, shapes, paging, retries."""

from __future__ import annotations

import json
import time

import pytest

from eas_pipelines.connectors.google_drive import GoogleDriveResource
from eas_pipelines.connectors.retry import ConnectorUnavailable, VendorRejected

INVOICES = "1easInvoicesFolder"


@pytest.fixture
def drive(sandbox, connector_options) -> GoogleDriveResource:
    env = sandbox.env
    return GoogleDriveResource(
        api_root=env["EAS_GDRIVE_URL"],
        service_account_file=env["EAS_GDRIVE_SERVICE_ACCOUNT_FILE"],
        **connector_options,
    )


def test_service_account_token_then_multipart_upload_and_download(drive, sandbox):
    client = drive.client()
    made = client.upload("inv-1.pdf", b"%PDF-1\n\x00\r\nbinary", "application/pdf", folder_id=INVOICES)

    assert made.parents == [INVOICES] and made.size == 16 and made.mime_type == "application/pdf"
    assert client.get(made.id) == b"%PDF-1\n\x00\r\nbinary"
    calls = sandbox.calls("google_drive")
    token = calls[0]
    assert token["path"] == "/google_drive/token"
    assert "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer" in token["body"]
    upload = next(c for c in calls if c["path"] == "/google_drive/upload/drive/v3/files")
    assert upload["method"] == "POST" and "uploadType=multipart" in upload["query"]
    assert upload["headers"]["authorization"].startswith("Bearer ya29.")
    assert upload["headers"]["content-type"].startswith("multipart/related")
    metadata = json.loads(upload["body"].split("\n\n", 2)[1].split("\n--", 1)[0])
    assert metadata["id"] == made.id and metadata["name"] == "inv-1.pdf"
    assert any(c["path"] == "/google_drive/drive/v3/files/generateIds" for c in calls)


def test_listing_follows_next_page_tokens(drive, sandbox):
    client = drive.client()
    for n in range(5):
        client.upload(f"r{n}.csv", b"a,b", "text/csv", folder_id=INVOICES)

    found = client.list(f"'{INVOICES}' in parents and trashed = false", page_size=2)

    assert [f.name for f in found] == [f"r{n}.csv" for n in range(5)]
    lists = [c for c in sandbox.calls("google_drive") if c["path"] == "/google_drive/drive/v3/files"]
    assert len(lists) == 3 and "pageToken=" in lists[-1]["query"] and "pageSize=2" in lists[0]["query"]


def test_a_retried_create_with_the_same_id_returns_the_first_file(drive, monkeypatch):
    client = drive.client()
    fixed = client.generate_id()
    monkeypatch.setattr(client, "generate_id", lambda: fixed)

    first = client.upload("once.txt", b"1", "text/plain")
    again = client.upload("once.txt", b"1", "text/plain")  # the create answers 409: the id is taken

    assert again.id == first.id == fixed
    assert [f.id for f in client.list("name = 'once.txt'")] == [fixed]


def test_an_idempotency_key_finds_the_earlier_upload(drive):
    client = drive.client()
    first = client.upload("k.txt", b"1", "text/plain", idempotency_key="run-7/k")
    again = client.upload("k.txt", b"1", "text/plain", idempotency_key="run-7/k")

    assert again.id == first.id
    assert len(client.list("name = 'k.txt'")) == 1


def test_rate_limit_403_is_retried_after_retry_after(drive, sandbox):
    client = drive.client()
    client.list("name = 'warm'")  # fetch the token first
    sandbox.fault("throttle", "google_drive", count=1, retry_after_s=0.3)
    started = time.monotonic()

    assert [f.name for f in client.list("trashed = false")] == ["Invoices", "Reports"]
    assert time.monotonic() - started >= 0.3


def test_server_errors_are_retried_then_fail_cleanly(drive, sandbox):
    client = drive.client()
    client.list("name = 'warm'")
    sandbox.fault("error", "google_drive", count=10, status=503)

    with pytest.raises(ConnectorUnavailable, match="google_drive: still failing after 3 attempts.*503"):
        client.get(INVOICES)


def test_refusals_are_final(drive, sandbox):
    client = drive.client()
    with pytest.raises(VendorRejected, match="File not found") as refused:
        client.get("no-such-file")
    assert refused.value.status == 404 and refused.value.code == "notFound"
    with pytest.raises(VendorRejected, match="fileNotDownloadable"):
        client.get(INVOICES)
