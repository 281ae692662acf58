"""SharePoint document libraries through Microsoft Graph (``/sharepoint/v1.0/sites/{site}/drive/...``), and
the Entra ID endpoints MSAL's client-credentials flow uses (``/sharepoint/{tenant}/...``).

MSAL reads ``{authority}/v2.0/.well-known/openid-configuration`` and posts the client's id and secret to
its ``token_endpoint`` (scope ``https://graph.microsoft.com/.default``). Graph: children of the root or of
a folder by path (``root:/{path}:/children``) paged by ``$top`` with an absolute ``@odata.nextLink``;
items by id; ``/content`` answers 302 to a pre-authenticated download URL, as Graph does; small uploads
``PUT ...:/{filename}:/content`` with ``@microsoft.graph.conflictBehavior`` fail (409 ``nameAlreadyExists``)
/ replace / rename. Files carry ``hashes.quickXorHash``. Errors ``{"error": {"code", "message",
"innerError": {...}}}``; throttling 429 + ``Retry-After``. Seeded: site "eas-site" with folders Invoices
and Reports.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import mimetypes
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, unquote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from eas_sandbox.state import Records
from eas_sandbox.vendor import Endpoints, NotAuthenticated, Store, Vendor

NAME = "sharepoint"
TENANT = "6f1c7c1e-5a3b-4d2a-9c11-eas000000001"
CLIENT_ID, CLIENT_SECRET = "3b0c2f57-eas0-4c1d-8f5e-sharepoint01", "sandbox-sharepoint-secret"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
SITE_ID = "eas.sharepoint.com,1d2c3b4a-0000-4000-8000-00000000e451,5e6f7a8b-0000-4000-8000-00000000e452"
SITE_NAME = "eas-site"
DRIVE_ID = "b!eas-site-documents"
ITEMS = "items"
SEEDED_FOLDERS = ("Invoices", "Reports")
DEFAULT_TOP = 200

_SECRET = secrets.token_bytes(32)


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    inner = {
        "code": code,
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "request-id": str(uuid.uuid4()),
        "client-request-id": str(uuid.uuid4()),
    }
    return JSONResponse({"error": {"code": code, "message": message, "innerError": inner}}, status, headers)


def quick_xor_hash(data: bytes) -> str:
    """Microsoft's QuickXorHash (160-bit; each byte XORed in 11 bits further on, then the length)."""
    width, value = 160, 0
    for index, byte in enumerate(data):
        shifted = byte << ((index * 11) % width)
        value ^= (shifted & ((1 << width) - 1)) | (shifted >> width)
    digest = bytearray(value.to_bytes(width // 8, "little"))
    for index, byte in enumerate(len(data).to_bytes(8, "little")):
        digest[width // 8 - 8 + index] ^= byte
    return base64.b64encode(bytes(digest)).decode()


def _sign(text: str) -> str:
    return hmac.new(_SECRET, text.encode(), hashlib.sha256).hexdigest()[:32]


def _token() -> str:
    nonce = secrets.token_urlsafe(16)
    return f"eyJ0eXAiOiJKV1QifQ.{nonce}.{_sign(nonce)}"


def authenticated(request: Request) -> None:
    header = request.headers.get("authorization", "")
    parts = header[len("Bearer ") :].split(".") if header.startswith("Bearer ") else []
    if len(parts) != 3 or not hmac.compare_digest(parts[2], _sign(parts[1])):
        raise NotAuthenticated()


identity = APIRouter()
graph = APIRouter(dependencies=[Depends(authenticated)])
downloads = APIRouter()


@identity.get("/{tenant}/v2.0/.well-known/openid-configuration")
def openid_configuration(tenant: str, request: Request) -> Response:
    if tenant != TENANT:
        return JSONResponse(
            {"error": "invalid_tenant", "error_description": f"AADSTS90002: Tenant '{tenant}' not found."},
            400,
        )
    base = str(request.base_url).rstrip("/") + f"/{NAME}/{tenant}"
    return JSONResponse(
        {
            "issuer": f"https://login.microsoftonline.com/{tenant}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "tenant_region_scope": "EU",
        }
    )


@identity.post("/{tenant}/oauth2/v2.0/token")
async def token(tenant: str, request: Request) -> Response:
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
    if form.get("grant_type") != "client_credentials":
        return JSONResponse({"error": "unsupported_grant_type", "error_description": "AADSTS70003"}, 400)
    if tenant != TENANT or form.get("client_id") != CLIENT_ID:
        body = {
            "error": "unauthorized_client",
            "error_description": "AADSTS700016: Application not found.",
            "error_codes": [700016],
        }
        return JSONResponse(body, 400)
    if form.get("client_secret") != CLIENT_SECRET:
        body = {
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided.",
            "error_codes": [7000215],
        }
        return JSONResponse(body, 401)
    if form.get("scope", "").split() != [GRAPH_SCOPE]:
        return JSONResponse(
            {"error": "invalid_scope", "error_description": "AADSTS1002012: scope is not valid."}, 400
        )
    return JSONResponse(
        {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": _token()}
    )


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _new_id() -> str:
    return "01EAS" + base64.b32encode(secrets.token_bytes(20)).decode()[:29]


def _public(record: dict[str, Any], base: str) -> dict[str, Any]:
    parent_path = record["path"].rsplit("/", 1)[0]
    item: dict[str, Any] = {
        "id": record["id"],
        "name": record["name"],
        "size": record.get("size", 0),
        "createdDateTime": record["created"],
        "lastModifiedDateTime": record["modified"],
        "eTag": f'"{{{record["id"]}}},{record["version"]}"',
        "cTag": f'"c:{{{record["id"]}}},{record["version"]}"',
        "webUrl": f"https://eas.sharepoint.com/sites/{SITE_NAME}/Shared%20Documents{quote(record['path'])}",
    }
    if record["id"] != "root":
        item["parentReference"] = {
            "driveType": "documentLibrary",
            "driveId": DRIVE_ID,
            "id": record["parent_id"],
            "path": "/drive/root:" + parent_path,
            "siteId": SITE_ID,
        }
    else:
        item["root"] = {}
    if record.get("folder"):
        item["folder"] = {"childCount": record.get("child_count", 0)}
    else:
        item["file"] = {"mimeType": record["mime"], "hashes": {"quickXorHash": record["quick_xor"]}}
        item["@microsoft.graph.downloadUrl"] = (
            f"{base}/_download/{record['id']}?tempauth={_sign(record['id'])}"
        )
    return item


def _by_path(store: Records, path: str) -> dict[str, Any] | None:
    wanted = "/" + "/".join(part for part in path.split("/") if part)
    if wanted == "/":
        return store.get(NAME, ITEMS, "root")
    return next((r for r in store.all(NAME, ITEMS) if r["path"].lower() == wanted.lower()), None)


def _children(store: Records, parent_id: str) -> list[dict[str, Any]]:
    return [r for r in store.all(NAME, ITEMS) if r.get("parent_id") == parent_id]


def _insert(
    store: Records, parent: dict[str, Any], name: str, *, content: bytes | None, mime: str = ""
) -> dict[str, Any]:
    now = _now()
    record: dict[str, Any] = {
        "id": _new_id(),
        "name": name,
        "parent_id": parent["id"],
        "path": parent["path"].rstrip("/") + "/" + name,
        "created": now,
        "modified": now,
        "version": 1,
    }
    if content is None:
        record["folder"] = True
    else:
        record.update(size=len(content), mime=mime, quick_xor=quick_xor_hash(content))
        record["content_b64"] = base64.b64encode(content).decode()
    store.insert(NAME, ITEMS, record, key=record["id"])
    _recount(store, parent)
    return record


def _recount(store: Records, folder: dict[str, Any]) -> None:
    folder["child_count"] = len(_children(store, folder["id"]))
    store.put(NAME, ITEMS, folder["id"], folder)


def _not_found(what: str = "The resource could not be found.") -> Response:
    return error(404, "itemNotFound", what)


def _page(request: Request, rows: list[dict[str, Any]], base: str) -> Response:
    query = request.query_params
    try:
        top = int(query.get("$top", DEFAULT_TOP))
        skip = int(query.get("$skiptoken", "0") or 0)
    except ValueError:
        return error(400, "invalidRequest", "Invalid $top or $skiptoken.")
    body: dict[str, Any] = {
        "@odata.context": f"{base}/$metadata#Collection(driveItem)",
        "value": [_public(row, base) for row in rows[skip : skip + top]],
    }
    if skip + top < len(rows):
        body["@odata.nextLink"] = str(
            request.url.include_query_params(**{"$top": top, "$skiptoken": skip + top})
        )
    return JSONResponse(body)


def _split_colon_path(rest: str) -> tuple[str, str]:
    """``root:/a/b:/children`` → (``a/b``, ``children``); ``root:/a/b`` → (``a/b``, ``""``)."""
    inner = rest[len("root:") :]
    if ":/" in inner[1:]:
        path, _, action = inner.rpartition(":/")
        return unquote(path), action
    return unquote(inner.rstrip(":")), ""


@graph.get("/v1.0/sites/{site_id}/drive/{rest:path}")
def drive_get(site_id: str, rest: str, request: Request, store: Store) -> Response:
    if site_id != SITE_ID:
        return _not_found("Requested site could not be found")
    base = str(request.base_url).rstrip("/") + f"/{NAME}/v1.0"
    if rest in ("root", "root/children"):
        root = store.get(NAME, ITEMS, "root")
        assert root is not None
        return (
            _page(request, _children(store, "root"), base)
            if rest.endswith("children")
            else JSONResponse(_public(root, base))
        )
    if rest.startswith("root:"):
        path, action = _split_colon_path(rest)
        item = _by_path(store, path)
    elif rest.startswith("items/"):
        item_id, _, action = rest[len("items/") :].partition("/")
        item = store.get(NAME, ITEMS, item_id)
    else:
        return error(400, "invalidRequest", f"Unsupported segment: {rest}")
    if item is None:
        return _not_found()
    if action == "children":
        if not item.get("folder"):
            return error(400, "invalidRequest", "The item is not a folder.")
        return _page(request, _children(store, item["id"]), base)
    if action == "content":
        if item.get("folder"):
            return error(400, "notSupported", "Cannot download a folder.")
        # Graph answers 302 to a short-lived pre-authenticated URL.
        return RedirectResponse(_public(item, base)["@microsoft.graph.downloadUrl"], status_code=302)
    if action:
        return error(400, "invalidRequest", f"Unsupported action: {action}")
    return JSONResponse(_public(item, base))


@downloads.get("/v1.0/_download/{item_id}")
def download(item_id: str, store: Store, tempauth: str = "") -> Response:
    item = store.get(NAME, ITEMS, item_id)
    if item is None or not hmac.compare_digest(tempauth, _sign(item_id)):
        return _not_found()
    return Response(base64.b64decode(item["content_b64"]), media_type=item["mime"])


@graph.put("/v1.0/sites/{site_id}/drive/{rest:path}")
async def drive_put(site_id: str, rest: str, request: Request, store: Store) -> Response:
    if site_id != SITE_ID:
        return _not_found("Requested site could not be found")
    base = str(request.base_url).rstrip("/") + f"/{NAME}/v1.0"
    if rest.startswith("root:"):
        path, action = _split_colon_path(rest)
        parent_path, _, filename = path.rstrip("/").rpartition("/")
        parent = _by_path(store, parent_path)
    elif rest.startswith("items/"):
        parent_id, _, tail = rest[len("items/") :].partition(":/")
        filename, _, action = tail.partition(":/")
        filename = unquote(filename)
        parent = store.get(NAME, ITEMS, parent_id)
    else:
        return error(400, "invalidRequest", f"Unsupported segment: {rest}")
    if action != "content" or not filename:
        return error(400, "invalidRequest", "Expected ...:/{filename}:/content")
    if parent is None or not parent.get("folder"):
        return _not_found("The parent folder could not be found.")
    content = await request.body()
    mime = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    behavior = request.query_params.get("@microsoft.graph.conflictBehavior", "replace")
    existing = next(
        (r for r in _children(store, parent["id"]) if r["name"].lower() == filename.lower()), None
    )
    if existing is not None:
        if behavior == "fail":
            return error(
                409, "nameAlreadyExists", f"The specified item name already exists. Name: {filename}"
            )
        if behavior == "replace" and not existing.get("folder"):
            existing.update(size=len(content), quick_xor=quick_xor_hash(content), modified=_now())
            existing.update(content_b64=base64.b64encode(content).decode(), version=existing["version"] + 1)
            store.put(NAME, ITEMS, existing["id"], existing)
            return JSONResponse(_public(existing, base))
        stem, dot, ext = filename.rpartition(".")
        if not dot:
            stem, ext = filename, ""
        taken = {r["name"].lower() for r in _children(store, parent["id"])}
        number = 1
        while f"{stem} {number}{dot}{ext}".lower() in taken:
            number += 1
        filename = f"{stem} {number}{dot}{ext}"
    created = _insert(store, parent, filename, content=content, mime=mime)
    return JSONResponse(_public(created, base), status_code=201)


def _seed(records: Records) -> None:
    if records.get(NAME, ITEMS, "root") is not None:
        return
    now = _now()
    # the root's path is "" so that a child's is "/Invoices"
    root = {
        "id": "root",
        "name": "root",
        "path": "",
        "folder": True,
        "created": now,
        "modified": now,
        "version": 1,
    }
    records.put(NAME, ITEMS, "root", root)
    for folder in SEEDED_FOLDERS:
        _insert(records, root, folder, content=None)


def _env(endpoints: Endpoints) -> dict[str, str]:
    return {
        "EAS_SHAREPOINT_AUTHORITY": f"{endpoints.vendor_url(NAME)}/{TENANT}",
        "EAS_SHAREPOINT_CLIENT_ID": CLIENT_ID,
        "EAS_SHAREPOINT_CLIENT_SECRET": CLIENT_SECRET,
        "EAS_SHAREPOINT_GRAPH_URL": f"{endpoints.vendor_url(NAME)}/v1.0",
        "EAS_SHAREPOINT_SITE_ID": SITE_ID,
    }


def _throttled(retry_after_s: float | None) -> Response:
    headers = {} if retry_after_s is None else {"Retry-After": f"{retry_after_s:g}"}
    return error(429, "TooManyRequests", "Please retry again later.", headers)


def _failed(status: int) -> Response:
    code = {503: "serviceNotAvailable", 504: "gatewayTimeout"}.get(status, "generalException")
    return error(status, code, "The service is not available. Try the request again after a delay.")


_all = APIRouter()
_all.include_router(graph)
_all.include_router(downloads)
_all.include_router(identity)

VENDOR = Vendor(
    name=NAME,
    router=_all,
    env=_env,
    throttled=_throttled,
    failed=_failed,
    unauthorized=lambda: error(401, "InvalidAuthenticationToken", "Access token is empty or invalid."),
    seed=_seed,
)
