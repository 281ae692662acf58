"""Where a document is: read from a request's words, fetched from and stored to S3, SharePoint or Drive.

The NLP service extracts no location entity, so the request's text is read for one, in this order:

- ``s3://bucket/key``: that object;
- a SharePoint link (``https://<tenant>.sharepoint.com/sites/<site>/Shared Documents/<path>``) or
  ``sharepoint:/<path>``: that file of the configured site's document library;
- a Google Drive link (``https://drive.google.com/file/d/<id>/...``, ``...open?id=<id>``) or
  ``gdrive://<id>``: that file;
- a bare key ending in ``.pdf`` ("invoices/acme-0042.pdf"): in SharePoint's library when the text
  names SharePoint, else in the S3 documents bucket (the S3 connector's ``documents_bucket``).

A generated document goes where the request says ("to s3://bucket/prefix/", "to SharePoint",
"sharepoint:/Reports", "to Google Drive"), else to the S3 documents bucket under
``generated/<request id>/``. Every store is idempotent by request (a retried step finds its own
earlier write): S3 writes only a new key (``If-None-Match``), SharePoint fails on an existing name
unless the bytes are the same, Drive looks the request's key up before creating.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote

from eas_pipelines.connectors.google_drive import GoogleDriveResource
from eas_pipelines.connectors.retry import VendorRejected
from eas_pipelines.connectors.s3 import S3ConnectorResource
from eas_pipelines.connectors.sharepoint import SharePointResource

System = Literal["s3", "sharepoint", "google_drive"]
PDF = "application/pdf"

_TRAILING = ".,;:!?)\"'>]"
_S3_URL = re.compile(r"\bs3://([a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])(?:/(\S*))?", re.I)
_SHAREPOINT_URL = re.compile(
    r"https://[\w.-]+\.sharepoint\.com/sites/[^/\s]+/(?:Shared(?:%20|\s)Documents|Documents)/(\S+)", re.I
)
_SHAREPOINT_PATH = re.compile(r"\bsharepoint:/{1,2}(\S*)", re.I)
_DRIVE_URL = re.compile(r"https://drive\.google\.com/(?:file/d/|open\?id=|uc\?id=)([\w-]{8,})", re.I)
_DRIVE_ID = re.compile(r"\b(?:gdrive|drive)://([\w-]{8,})", re.I)
_BARE_KEY = re.compile(r"(?<![\w/:.-])((?:[\w.\-]+/)*[\w.\-]+\.pdf)\b", re.I)
_NAMES_SHAREPOINT = re.compile(r"\bshare\s?point\b", re.I)
_NAMES_DRIVE = re.compile(r"\b(?:google\s+drive|gdrive|drive)\b", re.I)
_NAMES_S3 = re.compile(r"\bs3\b", re.I)


@dataclass(frozen=True)
class DocumentRef:
    """A file in one of the document stores: ``container`` is the bucket or folder (S3: bucket;
    SharePoint: folder path in the library; Drive: folder id or None), ``path`` the key, file path
    or Drive file id."""

    system: System
    container: str | None
    path: str

    def __str__(self) -> str:
        if self.system == "s3":
            return f"s3://{self.container}/{self.path}"
        if self.system == "sharepoint":
            return f"sharepoint:/{self.path}"
        return f"gdrive://{self.path}"


class DocumentNotFound(LookupError):
    """The store answered, and has no such document."""


def _clean(text: str) -> str:
    return text.rstrip(_TRAILING)


def locate(text: str, documents_bucket: str) -> DocumentRef | None:
    """The document the request's ``text`` names, or None when it names none."""
    if found := _S3_URL.search(text):
        key = _clean(found.group(2) or "")
        return DocumentRef("s3", found.group(1), key) if key else None
    if found := _SHAREPOINT_URL.search(text):
        return DocumentRef("sharepoint", None, unquote(_clean(found.group(1))).strip("/"))
    if (found := _SHAREPOINT_PATH.search(text)) and _clean(found.group(1)).strip("/"):
        return DocumentRef("sharepoint", None, unquote(_clean(found.group(1))).strip("/"))
    if found := _DRIVE_URL.search(text) or _DRIVE_ID.search(text):
        return DocumentRef("google_drive", None, found.group(1))
    if found := _BARE_KEY.search(text):
        key = found.group(1).lstrip("/")
        if _NAMES_SHAREPOINT.search(text):
            return DocumentRef("sharepoint", None, key)
        return DocumentRef("s3", documents_bucket, key)
    return None


def destination(
    text: str, filename: str, request_id: str, *, documents_bucket: str, sharepoint_folder: str
) -> DocumentRef:
    """Where a generated document goes: the place the request names, else the S3 documents bucket."""
    if found := _S3_URL.search(text):
        prefix = _clean(found.group(2) or "")
        prefix = prefix if not prefix or prefix.endswith("/") else prefix.rpartition("/")[0] + "/"
        return DocumentRef("s3", found.group(1), f"{prefix.lstrip('/')}{filename}")
    if (found := _SHAREPOINT_PATH.search(text)) and _clean(found.group(1)).strip("/"):
        return DocumentRef("sharepoint", unquote(_clean(found.group(1))).strip("/"), filename)
    if _NAMES_SHAREPOINT.search(text):
        return DocumentRef("sharepoint", sharepoint_folder, filename)
    if _NAMES_DRIVE.search(text) and not _NAMES_S3.search(text):
        return DocumentRef("google_drive", None, filename)
    return DocumentRef("s3", documents_bucket, f"generated/{request_id}/{filename}")


def fetch(
    ref: DocumentRef,
    *,
    s3: S3ConnectorResource,
    sharepoint: SharePointResource,
    google_drive: GoogleDriveResource,
) -> bytes:
    """The document's bytes; :class:`DocumentNotFound` when the store has no such file."""
    if ref.system == "s3":
        assert ref.container is not None
        data = s3.client().get(ref.container, ref.path)
        if data is None:
            raise DocumentNotFound(f"{ref} does not exist")
        return data
    if ref.system == "sharepoint":
        site = _site(sharepoint)
        client = sharepoint.client()
        item = client.item(site, ref.path)
        if item is None or item.is_folder:
            raise DocumentNotFound(f"{ref} is not a file in SharePoint's library")
        return client.get(site, item.id)
    try:
        return google_drive.client().get(ref.path)
    except VendorRejected as refused:
        if refused.status == 404:
            raise DocumentNotFound(f"Google Drive has no file {ref.path}") from refused
        raise


def store(
    ref: DocumentRef,
    data: bytes,
    *,
    idempotency_key: str,
    s3: S3ConnectorResource,
    sharepoint: SharePointResource,
    google_drive: GoogleDriveResource,
) -> str:
    """Store a PDF at ``ref`` once per ``idempotency_key``; the address to quote to people."""
    if ref.system == "s3":
        assert ref.container is not None
        s3.client().put(ref.container, ref.path, data, PDF, if_none_match=True)
        return str(ref)
    if ref.system == "sharepoint":
        item = sharepoint.client().upload(_site(sharepoint), ref.container or "", ref.path, data, "fail")
        return item.web_url or f"sharepoint:/{ref.container}/{ref.path}"
    folder = ref.container or google_drive.documents_folder_id
    made = google_drive.client().upload(ref.path, data, PDF, folder, idempotency_key=idempotency_key)
    return f"https://drive.google.com/file/d/{made.id}/view"


def _site(sharepoint: SharePointResource) -> str:
    if not sharepoint.site_id:
        raise VendorRejected("sharepoint: no site configured (EAS_SHAREPOINT_SITE_ID)", code="config")
    return sharepoint.site_id
