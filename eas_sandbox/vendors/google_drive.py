"""Google Drive v3 (``/google_drive/drive/v3/...``, uploads ``/google_drive/upload/drive/v3/...``) and
Google's OAuth token endpoint for service accounts (``/google_drive/token``).

A service account signs a JWT (RS256) and trades it for an access token with the JWT-bearer grant;
``env`` writes the key file (an RSA key generated once, next to the sandbox's CA) whose ``token_uri``
points here, and the token endpoint checks the JWT against that key. Files: ``files.list`` with a
subset of the ``q`` language (``name =``/``contains``, ``'id' in parents``, ``mimeType =``/``!=``,
``trashed =``, ``appProperties has { key='k' and value='v' }``, joined by ``and``) paged by
``pageSize``/``nextPageToken``; ``files.get`` (``alt=media`` for the bytes); ``files.generateIds``;
``files.create`` as metadata or a ``multipart``/``media`` upload, taking a caller's id (a second
create with it: 409). Errors ``{"error": {"code", "message", "errors": [{"domain", "reason"}]}}``;
throttling is 403 ``usageLimits``/``userRateLimitExceeded``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from eas_sandbox.state import RecordExists, Records
from eas_sandbox.vendor import Endpoints, NotAuthenticated, Store, Vendor

NAME = "google_drive"
FILES = "files"
DRIVE_SCOPE = "https://www.googleapis.com/auth/drive"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
KEY_FILE_NAME = "google-service-account.json"
SERVICE_ACCOUNT = "eas-connector@eas-sandbox.iam.gserviceaccount.com"
FOLDER_MIME = "application/vnd.google-apps.folder"
SEEDED_FOLDERS = {"1easInvoicesFolder": "Invoices", "1easReportsFolder": "Reports"}
PUBLIC_FIELDS = ("kind", "id", "name", "mimeType", "parents", "size", "md5Checksum", "createdTime")
PUBLIC_FIELDS += ("modifiedTime", "trashed", "appProperties")

_SECRET = secrets.token_bytes(32)
_PUBLIC_KEYS: dict[str, Any] = {}
"""Service-account public keys by ``private_key_id``, registered when ``env`` writes or reads the key."""


def error(status: int, message: str, reason: str, domain: str = "global", **extra: str) -> Response:
    detail = {"domain": domain, "reason": reason, "message": message, **extra}
    body = {"error": {"code": status, "message": message, "errors": [detail]}}
    return JSONResponse(body, status_code=status)


def _token_for(subject: str) -> str:
    nonce = secrets.token_urlsafe(16)
    mac = hmac.new(_SECRET, f"{nonce}.{subject}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"ya29.{nonce}.{mac}"


def _token_valid(token: str) -> bool:
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != "ya29":
        return False
    expected = hmac.new(_SECRET, f"{parts[1]}.{SERVICE_ACCOUNT}".encode(), hashlib.sha256).hexdigest()[:32]
    return hmac.compare_digest(parts[2], expected)


def authenticated(request: Request) -> None:
    header = request.headers.get("authorization", "")
    if not header.startswith("Bearer ") or not _token_valid(header[len("Bearer ") :]):
        raise NotAuthenticated()


token_router = APIRouter()
router = APIRouter(dependencies=[Depends(authenticated)])


@token_router.post("/token")
async def token(request: Request) -> Response:
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
    if form.get("grant_type") != JWT_BEARER:
        body = {"error": "unsupported_grant_type", "error_description": "Invalid grant_type."}
        return JSONResponse(body, status_code=400)
    assertion = form.get("assertion", "")
    try:
        key_id = jwt.get_unverified_header(assertion).get("kid", "")
        public_key = _PUBLIC_KEYS.get(key_id)
        if public_key is None:
            raise jwt.InvalidTokenError("unknown key")
        claims = jwt.decode(assertion, public_key, algorithms=["RS256"], options={"verify_aud": False})
    except jwt.InvalidTokenError:
        return JSONResponse({"error": "invalid_grant", "error_description": "Invalid JWT Signature."}, 400)
    # google-auth always names Google's endpoint as the audience, whatever the key file's token_uri.
    audience = str(claims.get("aud", ""))
    if claims.get("iss") != SERVICE_ACCOUNT or audience not in (GOOGLE_TOKEN_URI, str(request.url)):
        return JSONResponse({"error": "invalid_grant", "error_description": "Invalid JWT: bad iss/aud."}, 400)
    if DRIVE_SCOPE not in str(claims.get("scope", "")).split():
        return JSONResponse({"error": "invalid_scope", "error_description": "Invalid OAuth scope."}, 400)
    return JSONResponse(
        {"access_token": _token_for(SERVICE_ACCOUNT), "expires_in": 3599, "token_type": "Bearer"}
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _public(record: dict[str, Any]) -> dict[str, Any]:
    return {key: record[key] for key in PUBLIC_FIELDS if key in record}


def _new_id() -> str:
    return "1" + secrets.token_urlsafe(24).replace("-", "x").replace("_", "y")[:32]


_STRING = r"'((?:[^'\\]|\\.)*)'"
_TERMS = [
    (re.compile(rf"^name\s*=\s*{_STRING}$"), lambda f, v: f.get("name") == v),
    (re.compile(rf"^name\s+contains\s+{_STRING}$"), lambda f, v: v in f.get("name", "")),
    (re.compile(rf"^mimeType\s*=\s*{_STRING}$"), lambda f, v: f.get("mimeType") == v),
    (re.compile(rf"^mimeType\s*!=\s*{_STRING}$"), lambda f, v: f.get("mimeType") != v),
    (re.compile(rf"^{_STRING}\s+in\s+parents$"), lambda f, v: v in f.get("parents", [])),
    (re.compile(r"^trashed\s*=\s*(true|false)$"), lambda f, v: f.get("trashed", False) == (v == "true")),
]
_APP_PROPERTY = re.compile(
    rf"appProperties\s+has\s+\{{\s*key\s*=\s*{_STRING}\s+and\s+value\s*=\s*{_STRING}\s*\}}"
)


def _filter(query: str) -> Any:
    """A predicate for a ``q`` expression, or None when it uses what the emulator does not know."""
    checks: list[Any] = []

    def app_property(match: re.Match[str]) -> str:
        key, value = (_unescape(match.group(1)), _unescape(match.group(2)))
        checks.append(lambda f: f.get("appProperties", {}).get(key) == value)
        return "__matched__"

    rest = _APP_PROPERTY.sub(app_property, query)
    for term in filter(None, (t.strip() for t in re.split(r"\s+and\s+", rest))):
        if term == "__matched__":
            continue
        for pattern, test in _TERMS:
            match = pattern.match(term)
            if match:
                value = _unescape(match.group(1))
                checks.append(lambda f, test=test, value=value: test(f, value))
                break
        else:
            return None
    return lambda record: all(check(record) for check in checks)


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


@router.get("/drive/v3/files")
def list_files(store: Store, q: str = "", pageSize: int = 100, pageToken: str = "") -> Response:  # noqa: N803
    matches = _filter(q)
    if matches is None:
        return error(400, "Invalid Value", "invalid", location="q", locationType="parameter")
    if not 1 <= pageSize <= 1000:
        return error(
            400, f"Invalid value '{pageSize}'. Values must be within the range: [1, 1000]", "invalid"
        )
    try:
        offset = int(base64.urlsafe_b64decode(pageToken.encode()).decode()) if pageToken else 0
    except ValueError:
        return error(400, "Invalid Value", "invalid", location="pageToken", locationType="parameter")
    selected = [record for record in store.all(NAME, FILES) if matches(record)]
    body: dict[str, Any] = {
        "kind": "drive#fileList",
        "incompleteSearch": False,
        "files": [_public(record) for record in selected[offset : offset + pageSize]],
    }
    if offset + pageSize < len(selected):
        body["nextPageToken"] = base64.urlsafe_b64encode(str(offset + pageSize).encode()).decode()
    return JSONResponse(body)


@router.get("/drive/v3/files/generateIds")
def generate_ids(count: int = 10, space: str = "drive", type: str = "files") -> Response:  # noqa: A002
    if not 1 <= count <= 1000:
        return error(400, "Invalid value for count", "invalid")
    return JSONResponse(
        {"kind": "drive#generatedIds", "space": space, "ids": [_new_id() for _ in range(count)]}
    )


@router.get("/drive/v3/files/{file_id}")
def get_file(file_id: str, store: Store, alt: str = "json") -> Response:
    record = store.get(NAME, FILES, file_id)
    if record is None:
        return error(
            404, f"File not found: {file_id}.", "notFound", location="fileId", locationType="parameter"
        )
    if alt == "media":
        if record["mimeType"] == FOLDER_MIME:
            return error(403, "Only files with binary content can be downloaded.", "fileNotDownloadable")
        return Response(base64.b64decode(record["content_b64"]), media_type=record["mimeType"])
    return JSONResponse(_public(record))


def _create(store: Records, metadata: dict[str, Any], content: bytes | None, content_type: str) -> Response:
    file_id = str(metadata.get("id") or _new_id())
    now = _now()
    record: dict[str, Any] = {
        "kind": "drive#file",
        "id": file_id,
        "name": str(metadata.get("name") or "Untitled"),
        "mimeType": str(metadata.get("mimeType") or content_type or "application/octet-stream"),
        "parents": list(metadata.get("parents") or ["root"]),
        "createdTime": now,
        "modifiedTime": now,
        "trashed": False,
        "appProperties": {str(k): str(v) for k, v in (metadata.get("appProperties") or {}).items()},
    }
    for parent in record["parents"]:
        if parent != "root" and store.get(NAME, FILES, parent) is None:
            return error(
                404, f"File not found: {parent}.", "notFound", location="parents", locationType="other"
            )
    if content is not None:
        record["size"] = str(len(content))
        record["md5Checksum"] = hashlib.md5(content).hexdigest()  # noqa: S324
        record["content_b64"] = base64.b64encode(content).decode()
    try:
        store.insert(NAME, FILES, record, key=file_id)
    except RecordExists:
        # Drive's answer to a second create with one generated id (wording unconfirmed).
        return error(409, "A file already exists with the provided ID.", "duplicate")
    return JSONResponse(_public(record))


@router.post("/drive/v3/files")
async def create_metadata(request: Request, store: Store) -> Response:
    try:
        metadata = json.loads(await request.body() or b"{}")
    except ValueError:
        return error(400, "Invalid JSON payload received.", "parseError")
    return _create(store, metadata, None, "")


def _multipart(body: bytes, content_type: str) -> list[tuple[str, bytes]] | None:
    """The parts of a ``multipart/related`` body as (content type, bytes); googleapiclient uses ``\\n``."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if match is None:
        return None
    parts: list[tuple[str, bytes]] = []
    for chunk in body.split(b"--" + match.group(1).encode())[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk[1:] if chunk.startswith(b"\n") else chunk
        ends = [i for i in (chunk.find(b"\r\n\r\n"), chunk.find(b"\n\n")) if i >= 0]
        if not ends:
            return None
        split = min(ends)
        head = chunk[:split].decode("latin-1")
        content = chunk[split + (4 if chunk[split : split + 4] == b"\r\n\r\n" else 2) :]
        content = (
            content[:-2]
            if content.endswith(b"\r\n")
            else content[:-1]
            if content.endswith(b"\n")
            else content
        )
        part_type = next(
            (
                line.split(":", 1)[1].strip()
                for line in head.splitlines()
                if line.lower().startswith("content-type:")
            ),
            "application/octet-stream",
        )
        parts.append((part_type, content))
    return parts


@router.post("/upload/drive/v3/files")
async def upload(request: Request, store: Store, uploadType: str = "media") -> Response:  # noqa: N803
    body = await request.body()
    content_type = request.headers.get("content-type", "application/octet-stream")
    if uploadType == "media":
        return _create(store, {}, body, content_type)
    if uploadType != "multipart":
        return error(400, f"Upload type {uploadType!r} is not supported by the sandbox.", "invalid")
    parts = _multipart(body, content_type)
    if not parts or len(parts) != 2:
        return error(400, "Malformed multipart body.", "badContent")
    try:
        metadata = json.loads(parts[0][1] or b"{}")
    except ValueError:
        return error(400, "Invalid JSON payload received.", "parseError")
    return _create(store, metadata, parts[1][1], parts[1][0])


def _seed(records: Records) -> None:
    for file_id, name in SEEDED_FOLDERS.items():
        if records.get(NAME, FILES, file_id) is None:
            _create(records, {"id": file_id, "name": name, "mimeType": FOLDER_MIME}, None, "")


def write_service_account_key(path: Path, token_uri: str) -> dict[str, Any]:
    """The sandbox's service-account key file (RSA key made once), pointing at ``token_uri``."""
    if path.exists():
        info = json.loads(path.read_text())
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        info = {
            "type": "service_account",
            "project_id": "eas-sandbox",
            "private_key_id": uuid.uuid4().hex,
            "private_key": pem,
            "client_email": SERVICE_ACCOUNT,
            "client_id": "100000000000000000001",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "universe_domain": "googleapis.com",
        }
    if info.get("token_uri") != token_uri:
        info["token_uri"] = token_uri
        path.write_text(json.dumps(info, indent=2))
        path.chmod(0o600)
    private_key = serialization.load_pem_private_key(info["private_key"].encode(), password=None)
    _PUBLIC_KEYS[info["private_key_id"]] = private_key.public_key()
    return info


def _env(endpoints: Endpoints) -> dict[str, str]:
    key_file = endpoints.ca_path.parent / KEY_FILE_NAME
    write_service_account_key(key_file, f"{endpoints.vendor_url(NAME)}/token")
    return {
        "EAS_GDRIVE_URL": f"{endpoints.vendor_url(NAME)}/",
        "EAS_GDRIVE_SERVICE_ACCOUNT_FILE": str(key_file),
    }


def _throttled(retry_after_s: float | None) -> Response:
    response = error(403, "User Rate Limit Exceeded", "userRateLimitExceeded", domain="usageLimits")
    if retry_after_s is not None:  # Google rarely sends one; the sandbox does when the fault has it
        response.headers["Retry-After"] = f"{retry_after_s:g}"
    return response


def _unauthorized() -> Response:
    response = error(401, "Request had invalid authentication credentials.", "authError")
    response.headers["WWW-Authenticate"] = 'Bearer realm="https://accounts.google.com/"'
    return response


# The token endpoint needs no bearer token: one router holding both, the token route unguarded.
_all = APIRouter()
_all.include_router(token_router)
_all.include_router(router)

VENDOR = Vendor(
    name=NAME,
    router=_all,
    env=_env,
    throttled=_throttled,
    failed=lambda status: error(status, "Backend Error", "backendError"),
    unauthorized=_unauthorized,
    seed=_seed,
)
