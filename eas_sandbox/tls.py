"""The emulators' TLS: a CA generated at start, a server certificate for 127.0.0.1/localhost, and
a client certificate for the systems that require mutual TLS (ADP).

Several vendor SDKs build ``https://`` URLs whatever they are given (simple-salesforce, MSAL,
Google's upload URLs), so the emulators must speak TLS; the CA is written to a file that only
EAS's connectors are told to trust (``EAS_CONNECTOR_CA_BUNDLE``), never the system's trust store.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme

HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Certificates:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def generate(folder: Path) -> Certificates:
    """A fresh CA and its server and client certificates, as PEM files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="EAS sandbox")
    server = ca.issue_cert(*HOSTS)
    client = ca.issue_cert("eas-connector@sandbox.local")
    paths = Certificates(
        ca=folder / "ca.pem",
        server_cert=folder / "server.pem",
        server_key=folder / "server-key.pem",
        client_cert=folder / "client.pem",
        client_key=folder / "client-key.pem",
    )
    for chain in (paths.server_cert, paths.client_cert):
        chain.unlink(missing_ok=True)  # chains are appended below; a restart must not keep the old one
    ca.cert_pem.write_to_path(str(paths.ca))
    server.private_key_pem.write_to_path(str(paths.server_key))
    for blob in server.cert_chain_pems:
        blob.write_to_path(str(paths.server_cert), append=True)
    client.private_key_pem.write_to_path(str(paths.client_key))
    for blob in client.cert_chain_pems:
        blob.write_to_path(str(paths.client_cert), append=True)
    for key in (paths.server_key, paths.client_key):
        key.chmod(0o600)
    return paths
