"""SharePoint document libraries through Microsoft Graph, as an app (MSAL client credentials).

MSAL's ``ConfidentialClientApplication`` gets the app token (scope ``https://graph.microsoft.com/.default``)
from the authority (``https://login.microsoftonline.com/<tenant>``, or the emulator's), over a
``requests.Session`` trusting ``ca_bundle``; instance discovery is off so that any https authority with a
path works. MSAL caches the token. Graph calls use :class:`VendorHTTP` with ``Authorization: Bearer``:
429 + ``Retry-After`` and 5xx are :class:`Transient`, other errors :class:`VendorRejected` with Graph's
message. Listing follows the absolute ``@odata.nextLink``; downloads follow Graph's 302 to the
pre-authenticated URL. Uploads (``PUT ...:/{filename}:/content``) default to
``conflictBehavior=fail``: a retried upload that meets 409 ``nameAlreadyExists`` returns the existing
item when its ``quickXorHash`` matches the bytes (the first attempt's own write), else the refusal stands.
"""

from __future__ import annotations

import base64
from typing import Any, Literal
from urllib.parse import quote

import dagster as dg
from pydantic import BaseModel, ConfigDict, Field

from eas_pipelines.connectors.base import CA_BUNDLE_SETTING, ConnectorResource, optional_env
from eas_pipelines.connectors.graph import GRAPH_URL, GraphClient
from eas_pipelines.connectors.retry import VendorRejected

PAGE_SIZE = 200


def quick_xor_hash(data: bytes) -> str:
    """Microsoft's QuickXorHash, as Graph reports it for SharePoint/OneDrive files (base64).

    A 160-bit accumulator: byte *i* is XORed in at bit ``11 * i mod 160`` (wrapping round), then the
    length (64-bit little-endian) is XORed into the last 8 bytes.
    """
    width, value = 160, 0
    for index, byte in enumerate(data):
        shifted = byte << ((index * 11) % width)
        value ^= (shifted & ((1 << width) - 1)) | (shifted >> width)
    digest = bytearray(value.to_bytes(width // 8, "little"))
    for index, byte in enumerate(len(data).to_bytes(8, "little")):
        digest[width // 8 - 8 + index] ^= byte
    return base64.b64encode(bytes(digest)).decode()


class DriveItem(BaseModel):
    """A file or folder of a document library."""

    model_config = ConfigDict(extra="ignore")

    id: str
    name: str
    size: int = 0
    web_url: str = ""
    e_tag: str = ""
    is_folder: bool = False
    mime_type: str | None = None
    quick_xor_hash: str | None = None
    parent_path: str | None = None

    @classmethod
    def from_graph(cls, item: dict[str, Any]) -> DriveItem:
        file = item.get("file") or {}
        return cls(
            id=item["id"],
            name=item.get("name", ""),
            size=item.get("size", 0),
            web_url=item.get("webUrl", ""),
            e_tag=item.get("eTag", ""),
            is_folder="folder" in item,
            mime_type=file.get("mimeType"),
            quick_xor_hash=(file.get("hashes") or {}).get("quickXorHash"),
            parent_path=(item.get("parentReference") or {}).get("path"),
        )


def _path(path: str) -> str:
    return "/".join(quote(part, safe="") for part in path.split("/") if part)


class SharePointClient(GraphClient):
    """Typed Graph calls on SharePoint sites; each is retried and guarded by the resource."""

    def __init__(self, resource: SharePointResource):
        super().__init__(resource, system="sharepoint", headers={"Accept": "application/json"})

    def _drive(self, site_id: str) -> str:
        return f"sites/{quote(site_id, safe=',')}/drive"

    def children(self, site_id: str, folder_path: str | None = None) -> list[DriveItem]:
        """The items in a folder (by path; the library's root when none), following ``@odata.nextLink``."""
        drive = self._drive(site_id)
        url = (
            f"{drive}/root:/{_path(folder_path)}:/children"
            if _path(folder_path or "")
            else f"{drive}/root/children"
        )
        params: dict[str, Any] | None = {"$top": PAGE_SIZE}
        found: list[DriveItem] = []
        while url:
            page = self._request("GET", url, params=params).json()
            found += [DriveItem.from_graph(item) for item in page.get("value", [])]
            url, params = page.get("@odata.nextLink"), None  # absolute, carries its own query
        return found

    def item(self, site_id: str, path: str) -> DriveItem | None:
        """The item at ``path`` in the library, or None."""
        try:
            found = self._request("GET", f"{self._drive(site_id)}/root:/{_path(path)}").json()
        except VendorRejected as refused:
            if refused.status == 404:
                return None
            raise
        return DriveItem.from_graph(found)

    def get(self, site_id: str, item_id: str) -> bytes:
        """A file's bytes (``/content``, following Graph's redirect to the download URL)."""
        path = f"{self._drive(site_id)}/items/{quote(item_id, safe='')}/content"
        return self._request("GET", path, follow_redirects=True).content

    def upload(
        self,
        site_id: str,
        parent_path: str,
        filename: str,
        data: bytes,
        conflict: Literal["fail", "replace", "rename"] = "fail",
    ) -> DriveItem:
        """Store a small file (≤ 250 MB) in the folder ``parent_path``; idempotent with ``fail``."""
        target = "/".join(p for p in (_path(parent_path), quote(filename, safe="")) if p)
        path = f"{self._drive(site_id)}/root:/{target}:/content"
        params = {"@microsoft.graph.conflictBehavior": conflict}
        headers = {"Content-Type": "application/octet-stream"}
        try:
            made = self._request("PUT", path, params=params, content=data, headers=headers).json()
        except VendorRejected as refused:
            if refused.status != 409 or conflict != "fail":
                raise
            existing = self.item(site_id, f"{parent_path}/{filename}")
            if existing is None or existing.quick_xor_hash != quick_xor_hash(data):
                raise
            return existing
        return DriveItem.from_graph(made)


class SharePointResource(ConnectorResource):
    """SharePoint via Graph: the Entra authority, the app's id and secret, a site (``EAS_SHAREPOINT_*``)."""

    system = "sharepoint"

    authority: str = Field(
        description="https://login.microsoftonline.com/<tenant> (EAS_SHAREPOINT_AUTHORITY)"
    )
    client_id: str = Field(description="the app registration's id (EAS_SHAREPOINT_CLIENT_ID)")
    client_secret: str = Field(description="its client secret (EAS_SHAREPOINT_CLIENT_SECRET)")
    graph_url: str = Field(
        default=GRAPH_URL, description="Graph root with version (EAS_SHAREPOINT_GRAPH_URL)"
    )
    site_id: str | None = Field(default=None, description="the default site (EAS_SHAREPOINT_SITE_ID)")
    documents_folder: str = Field(
        default="Reports",
        description="library folder generated documents go to when a request names none; it must exist "
        "(EAS_SHAREPOINT_DOCUMENTS_FOLDER)",
    )

    def client(self) -> SharePointClient:
        return self.reused_client(SharePointClient)

    @classmethod
    def from_env(cls, redis_url: str | dg.EnvVar) -> SharePointResource:
        graph_url = optional_env("EAS_SHAREPOINT_GRAPH_URL")
        return cls(
            redis_url=redis_url,
            ca_bundle=optional_env(CA_BUNDLE_SETTING),
            authority=dg.EnvVar("EAS_SHAREPOINT_AUTHORITY"),
            client_id=dg.EnvVar("EAS_SHAREPOINT_CLIENT_ID"),
            client_secret=dg.EnvVar("EAS_SHAREPOINT_CLIENT_SECRET"),
            site_id=optional_env("EAS_SHAREPOINT_SITE_ID"),
            **({"documents_folder": f} if (f := optional_env("EAS_SHAREPOINT_DOCUMENTS_FOLDER")) else {}),
            **({"graph_url": graph_url} if graph_url is not None else {}),
        )
