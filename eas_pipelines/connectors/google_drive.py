"""Google Drive v3 through google-api-python-client, as a service account: list, download, upload.

The service account's key file signs a JWT that its ``token_uri`` trades for an access token
(google-auth). Requests go through ``AuthorizedHttp`` over an ``httplib2.Http`` that trusts
``ca_bundle``. The client is built from the bundled (static) discovery document with its ``rootUrl``
set to ``api_root``: ``client_options={"api_endpoint": ...}`` moves API calls but not uploads, whose
URL keeps the document's ``/upload/...`` path on the endpoint's host (losing any path prefix, such as
the sandbox's ``/google_drive``). googleapiclient's own retries (``num_retries``) are off; every call
goes through :meth:`ConnectorResource.guarded`: Google's throttle answers (403 ``userRateLimitExceeded``
/ ``rateLimitExceeded``, 429) and 5xx are :class:`Transient`, other errors :class:`VendorRejected`.
Uploads are idempotent: the id comes from ``files.generateIds`` before the create, so a retried create
gets 409 and returns the file the first attempt made; with an ``idempotency_key`` (kept in the file's
``appProperties``) a repeated upload finds the earlier file before creating.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import dagster as dg
import google.auth.exceptions
import google_auth_httplib2
import httplib2
from google.oauth2 import service_account
from googleapiclient.discovery import build_from_document
from googleapiclient.discovery_cache import get_static_doc
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaIoBaseUpload
from pydantic import BaseModel, ConfigDict, Field

from eas_pipelines.connectors.base import CA_BUNDLE_SETTING, ConnectorResource, optional_env
from eas_pipelines.connectors.http import RETRYABLE_STATUSES
from eas_pipelines.connectors.retry import Transient, VendorRejected, parse_retry_after

DRIVE_SCOPE = "https://www.googleapis.com/auth/drive"
GOOGLE_API_ROOT = "https://www.googleapis.com/"
PAGE_SIZE = 100
IDEMPOTENCY_PROPERTY = "eas_idempotency_key"
FILE_FIELDS = "id,name,mimeType,parents,size,md5Checksum,createdTime,modifiedTime,appProperties"
THROTTLE_REASONS = frozenset({"userRateLimitExceeded", "rateLimitExceeded"})


class DriveFile(BaseModel):
    """A file's metadata as ``files.get``/``files.list`` return it."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str
    name: str = ""
    mime_type: str = Field(default="", alias="mimeType")
    parents: list[str] = Field(default_factory=list)
    size: int | None = None
    md5_checksum: str | None = Field(default=None, alias="md5Checksum")
    modified_time: str | None = Field(default=None, alias="modifiedTime")
    app_properties: dict[str, str] = Field(default_factory=dict, alias="appProperties")


def _reason_and_message(exc: HttpError) -> tuple[str, str]:
    try:
        error = json.loads(exc.content.decode("utf-8", errors="replace"))["error"]
    except (ValueError, KeyError, TypeError, AttributeError):
        return "", exc.content[:200].decode("utf-8", errors="replace") if exc.content else ""
    details = error.get("errors") or [{}]
    return str(details[0].get("reason", "")), str(error.get("message", ""))


def classify(exc: Exception, action: str) -> Exception:
    """The connector error for a failed Drive call (returned, for the caller to raise)."""
    if isinstance(exc, HttpError):
        status = exc.resp.status
        reason, message = _reason_and_message(exc)
        text = f"google_drive: {action}: HTTP {status} {reason}: {message}"
        if status in RETRYABLE_STATUSES or (status == 403 and reason in THROTTLE_REASONS):
            return Transient(text, status=status, retry_after=parse_retry_after(exc.resp.get("retry-after")))
        return VendorRejected(text, status=status, code=reason or None)
    if isinstance(exc, google.auth.exceptions.RefreshError):
        # google-auth's message may quote the token endpoint's answer, never the key.
        text = f"google_drive: {action}: token refused: {exc.args[0] if exc.args else ''}"
        return Transient(text) if getattr(exc, "retryable", False) else VendorRejected(text, code="token")
    if isinstance(exc, google.auth.exceptions.TransportError | httplib2.HttpLib2Error | OSError):
        return Transient(f"google_drive: {action}: {type(exc).__name__}: {exc}")
    return exc


class GoogleDriveClient:
    """Typed Drive calls; each request is one attempt, retried and guarded by the resource."""

    def __init__(self, resource: GoogleDriveResource):
        self._resource = resource
        credentials = service_account.Credentials.from_service_account_file(
            resource.service_account_file, scopes=[DRIVE_SCOPE]
        )
        http = httplib2.Http(timeout=resource.timeout_s, ca_certs=resource.trusted_ca)
        self._http = google_auth_httplib2.AuthorizedHttp(credentials, http=http)
        document = json.loads(get_static_doc("drive", "v3"))
        root = resource.api_root.rstrip("/") + "/"
        document["rootUrl"] = root
        document["baseUrl"] = root + document["servicePath"]
        self.service = build_from_document(document, http=self._http)

    def _execute(self, action: str, request: Callable[[], Any]) -> Any:
        def attempt() -> Any:
            try:
                return request().execute(num_retries=0)
            except (
                HttpError,
                google.auth.exceptions.RefreshError,
                google.auth.exceptions.TransportError,
                httplib2.HttpLib2Error,
                OSError,
            ) as exc:
                raise classify(exc, action) from exc

        return self._resource.guarded(attempt)

    def list(self, query: str = "trashed = false", page_size: int | None = None) -> list[DriveFile]:
        """Every file matching ``query`` (Drive's ``q`` language), following ``nextPageToken``."""
        files = self.service.files()
        found: list[DriveFile] = []
        token: str | None = None
        while True:
            args: dict[str, Any] = {
                "q": query,
                "pageSize": page_size or PAGE_SIZE,
                "fields": f"nextPageToken,files({FILE_FIELDS})",
            }
            if token:
                args["pageToken"] = token
            page = self._execute("list files", lambda args=args: files.list(**args))
            found += [DriveFile.model_validate(item) for item in page.get("files", [])]
            token = page.get("nextPageToken")
            if not token:
                return found

    def metadata(self, file_id: str) -> DriveFile:
        files = self.service.files()
        found = self._execute(f"get {file_id}", lambda: files.get(fileId=file_id, fields=FILE_FIELDS))
        return DriveFile.model_validate(found)

    def get(self, file_id: str) -> bytes:
        """The file's bytes (``alt=media``)."""
        files = self.service.files()
        return self._execute(f"download {file_id}", lambda: files.get_media(fileId=file_id))

    def generate_id(self) -> str:
        files = self.service.files()
        return self._execute("generate ids", lambda: files.generateIds(count=1, space="drive"))["ids"][0]

    def upload(
        self,
        name: str,
        data: bytes,
        mime: str = "application/octet-stream",
        folder_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> DriveFile:
        """Create a file (multipart upload) once: under a generated id, and per ``idempotency_key``."""
        if idempotency_key is not None:
            escaped = idempotency_key.replace("\\", "\\\\").replace("'", "\\'")
            query = f"appProperties has {{ key='{IDEMPOTENCY_PROPERTY}' and value='{escaped}' }}"
            query += " and trashed = false"
            earlier = self.list(query, page_size=1)
            if earlier:
                return earlier[0]
        file_id = self.generate_id()
        metadata: dict[str, Any] = {"id": file_id, "name": name, "mimeType": mime}
        if folder_id:
            metadata["parents"] = [folder_id]
        if idempotency_key is not None:
            metadata["appProperties"] = {IDEMPOTENCY_PROPERTY: idempotency_key}
        files = self.service.files()

        def create() -> Any:
            media = MediaIoBaseUpload(io.BytesIO(data), mimetype=mime, resumable=False)
            return files.create(body=metadata, media_body=media, fields=FILE_FIELDS)

        try:
            return DriveFile.model_validate(self._execute(f"upload {name}", create))
        except VendorRejected as refused:
            if refused.status != 409:
                raise
            return self.metadata(file_id)  # an earlier attempt created it with this id

    def close(self) -> None:
        self._http.http.close()


class GoogleDriveResource(ConnectorResource):
    """Google Drive: the API root and a service account's key file (``EAS_GDRIVE_*``)."""

    system = "google_drive"

    api_root: str = Field(
        default=GOOGLE_API_ROOT, description="API root, https://www.googleapis.com/ (EAS_GDRIVE_URL)"
    )
    service_account_file: str = Field(
        description="service-account key JSON; its token_uri is where tokens come from "
        "(EAS_GDRIVE_SERVICE_ACCOUNT_FILE)"
    )
    documents_folder_id: str | None = Field(
        default=None,
        description="folder generated documents go to; none: the service account's root "
        "(EAS_GDRIVE_DOCUMENTS_FOLDER_ID)",
    )

    def client(self) -> GoogleDriveClient:
        return self.reused_client(GoogleDriveClient)

    @classmethod
    def from_env(cls, redis_url: str | dg.EnvVar) -> GoogleDriveResource:
        root = optional_env("EAS_GDRIVE_URL")
        return cls(
            redis_url=redis_url,
            ca_bundle=optional_env(CA_BUNDLE_SETTING),
            service_account_file=dg.EnvVar("EAS_GDRIVE_SERVICE_ACCOUNT_FILE"),
            documents_folder_id=optional_env("EAS_GDRIVE_DOCUMENTS_FOLDER_ID"),
            **({"api_root": root} if root is not None else {}),
        )
