"""The emulators' app: TLS with its own CA, mutual TLS, the admin API, records in PostgreSQL."""

from __future__ import annotations

import ssl

import httpx
import pytest


def _client(sandbox, **options) -> httpx.Client:
    return httpx.Client(verify=ssl.create_default_context(cafile=sandbox.ca_bundle), timeout=10, **options)


def test_tls_is_trusted_only_with_the_generated_ca(sandbox):
    url = f"{sandbox.sandbox.endpoints.base_url}/_sandbox/faults"
    with _client(sandbox) as client:
        assert client.get(url).status_code == 200
    with httpx.Client(timeout=10) as untrusting, pytest.raises(httpx.ConnectError):
        untrusting.get(url)


def test_the_mutual_tls_port_requires_the_client_certificate(sandbox):
    endpoints = sandbox.sandbox.endpoints
    url = f"{endpoints.mtls_url}/_sandbox/faults"
    with _client(sandbox) as anonymous, pytest.raises(httpx.HTTPError):
        anonymous.get(url).raise_for_status()
    context = ssl.create_default_context(cafile=sandbox.ca_bundle)
    context.load_cert_chain(endpoints.client_cert_path, endpoints.client_key_path)
    with httpx.Client(verify=context, timeout=10) as client:
        assert client.get(url).status_code == 200


def test_faults_are_posted_listed_and_cleared_through_the_admin_api(sandbox):
    base = sandbox.sandbox.endpoints.base_url
    with _client(sandbox, base_url=base) as client:
        assert (
            client.post(
                "/_sandbox/faults", json={"kind": "error", "vendor": "servicenow", "count": 2}
            ).status_code
            == 204
        )
        assert (
            client.post(
                "/_sandbox/faults", json={"kind": "error", "vendor": "nobody", "count": 1}
            ).status_code
            == 422
        )
        refused = client.post("/_sandbox/faults", json={"kind": "error", "count": 1, "rate": 0.5})
        assert refused.status_code == 422 and "count and rate" in refused.text
        assert [rule["vendor"] for rule in client.get("/_sandbox/faults").json()] == ["servicenow"]
        assert client.delete("/_sandbox/faults").status_code == 204
        assert client.get("/_sandbox/faults").json() == []


def test_every_vendor_module_is_served_and_gives_its_settings(sandbox):
    names = {vendor.name for vendor in sandbox.sandbox.vendors}
    assert "servicenow" in names
    settings = sandbox.env
    assert settings["EAS_CONNECTOR_CA_BUNDLE"] == sandbox.ca_bundle
    assert all(name.startswith("EAS_") for name in settings)
