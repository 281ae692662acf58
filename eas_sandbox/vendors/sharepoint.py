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
import hmac
import mimetypes
import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from eas_sandbox.state import Records
from eas_sandbox.vendor import Endpoints, Store
from eas_sandbox.vendors.graph import EntraApp, error

NAME = "sharepoint"
TENANT = "6f1c7c1e-5a3b-4d2a-9c11-eas000000001"
CLIENT_ID, CLIENT_SECRET = "3b0c2f57-eas0-4c1d-8f5e-sharepoint01", "sandbox-sharepoint-secret"
SITE_ID = "eas.sharepoint.com,1d2c3b4a-0000-4000-8000-00000000e451,5e6f7a8b-0000-4000-8000-00000000e452"
SITE_NAME = "eas-site"
DRIVE_ID = "b!eas-site-documents"
ITEMS = "items"
SEEDED_FOLDERS = ("Invoices", "Reports")
DEFAULT_TOP = 200

APP = EntraApp(NAME, TENANT, CLIENT_ID, CLIENT_SECRET)


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


graph = APIRouter(dependencies=[Depends(APP.authenticated)])
downloads = APIRouter()


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
            f"{base}/_download/{record['id']}?tempauth={APP.sign(record['id'])}"
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
    if item is None or not hmac.compare_digest(tempauth, APP.sign(item_id)):
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
    return {**APP.env(endpoints, "EAS_SHAREPOINT"), "EAS_SHAREPOINT_SITE_ID": SITE_ID}


VENDOR = APP.vendor(graph, downloads, env=_env, seed=_seed)
