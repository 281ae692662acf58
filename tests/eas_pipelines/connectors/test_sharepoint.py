"""SharePoint's connector (MSAL + Graph) against its emulator: token, shapes, paging, retries, idempotency."""

from __future__ import annotations

import time

import pytest

from eas_pipelines.connectors.retry import ConnectorUnavailable, VendorRejected
from eas_pipelines.connectors.sharepoint import SharePointResource, quick_xor_hash
from eas_sandbox.vendors import sharepoint as emulator


@pytest.fixture
def sharepoint(sandbox, connector_options) -> SharePointResource:
    env = sandbox.env
    return SharePointResource(
        authority=env["EAS_SHAREPOINT_AUTHORITY"],
        client_id=env["EAS_SHAREPOINT_CLIENT_ID"],
        client_secret=env["EAS_SHAREPOINT_CLIENT_SECRET"],
        graph_url=env["EAS_SHAREPOINT_GRAPH_URL"],
        site_id=env["EAS_SHAREPOINT_SITE_ID"],
        **connector_options,
    )


def test_client_credentials_token_then_upload_and_download(sharepoint, sandbox):
    client = sharepoint.client()
    site = sharepoint.site_id
    made = client.upload(site, "Invoices", "inv 1.pdf", b"%PDF-1 \x00\xff")

    assert made.name == "inv 1.pdf" and made.size == 9 and made.parent_path == "/drive/root:/Invoices"
    assert made.quick_xor_hash == quick_xor_hash(b"%PDF-1 \x00\xff")
    assert client.get(site, made.id) == b"%PDF-1 \x00\xff"
    calls = sandbox.calls("sharepoint")
    assert calls[0]["path"].endswith("/v2.0/.well-known/openid-configuration")
    token = next(c for c in calls if c["path"].endswith("/oauth2/v2.0/token"))
    assert "grant_type=client_credentials" in token["body"]
    assert "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default" in token["body"]
    put = next(c for c in calls if c["method"] == "PUT")
    assert (
        put["path"] == f"/sharepoint/v1.0/sites/{site}/drive/root:/Invoices/inv 1.pdf:/content"
    )  # logged decoded
    assert put["query"] == "%40microsoft.graph.conflictBehavior=fail"
    assert put["headers"]["authorization"].startswith("Bearer ")


def test_seeded_site_and_children_follow_next_links(sharepoint, sandbox, monkeypatch):
    client = sharepoint.client()
    site = sharepoint.site_id
    assert [item.name for item in client.children(site)] == ["Invoices", "Reports"]
    assert all(item.is_folder for item in client.children(site))
    monkeypatch.setattr("eas_pipelines.connectors.sharepoint.PAGE_SIZE", 2)
    for n in range(5):
        client.upload(site, "Reports", f"r{n}.csv", b"a,b")

    assert [item.name for item in client.children(site, "Reports")] == [f"r{n}.csv" for n in range(5)]
    lists = [c for c in sandbox.calls("sharepoint") if c["path"].endswith("Reports:/children")]
    assert len(lists) == 3 and "%24skiptoken=4" in lists[-1]["query"]


def test_a_retried_upload_returns_the_item_it_made(sharepoint):
    client = sharepoint.client()
    site = sharepoint.site_id
    first = client.upload(site, "Invoices", "once.pdf", b"one")
    again = client.upload(site, "Invoices", "once.pdf", b"one")  # 409 nameAlreadyExists, same bytes

    assert again.id == first.id
    assert [item.name for item in client.children(site, "Invoices")] == ["once.pdf"]
    with pytest.raises(VendorRejected, match="nameAlreadyExists|already exists") as refused:
        client.upload(site, "Invoices", "once.pdf", b"other bytes")
    assert refused.value.status == 409
    renamed = client.upload(site, "Invoices", "once.pdf", b"other bytes", conflict="rename")
    assert renamed.name == "once 1.pdf"


def test_throttling_is_retried_after_retry_after(sharepoint, sandbox):
    client = sharepoint.client()
    client.children(sharepoint.site_id)  # token first
    sandbox.fault("throttle", "sharepoint", count=1, retry_after_s=0.3)
    started = time.monotonic()

    assert len(client.children(sharepoint.site_id)) == 2
    assert time.monotonic() - started >= 0.3


def test_server_errors_are_retried_then_fail_cleanly(sharepoint, sandbox):
    client = sharepoint.client()
    client.children(sharepoint.site_id)
    sandbox.fault("error", "sharepoint", count=10, status=503)

    with pytest.raises(ConnectorUnavailable, match="sharepoint: still failing after 3 attempts.*503"):
        client.children(sharepoint.site_id)


def test_refusals_are_final(sharepoint, sandbox):
    client = sharepoint.client()
    with pytest.raises(VendorRejected, match="itemNotFound|could not be found") as refused:
        client.get(sharepoint.site_id, "01NOSUCHITEM")
    assert refused.value.status == 404
    bad = sharepoint.model_copy(update={"client_secret": "wrong"}).client()
    with pytest.raises(VendorRejected, match="invalid_client") as refused:
        bad.children(sharepoint.site_id)
    assert "wrong" not in str(refused.value)


def test_quick_xor_hash_matches_the_emulator_and_known_values():
    assert quick_xor_hash(b"") == "AAAAAAAAAAAAAAAAAAAAAAAAAAA="
    data = bytes(range(256)) * 3
    assert quick_xor_hash(data) == emulator.quick_xor_hash(data)
