"""Jira Cloud REST API v2 (``/rest/api/2/``): issues, transitions and JQL search, as the ``jira`` SDK sees it.

Basic auth ``email:api_token``. ``GET serverInfo`` (anonymous, ``deploymentType: "Cloud"``: the SDK calls it
first and picks the Cloud search from it); ``POST issue`` → 201 ``{id, key, self}``; ``GET issue/{idOrKey}``;
``GET|POST issue/{key}/transitions`` (``{"transition": {"id"}}`` → 204); ``GET|POST search/jql`` with
``nextPageToken`` (absent on the last page; the old ``/search`` with ``startAt`` is gone on Cloud, and
answers 410 here). JQL subset: ``field = value``, ``field != value``, ``field in (a, b)`` terms joined by
``AND``, then ``ORDER BY field [ASC|DESC]``, over ``project``, ``key``, ``labels``, ``status``, ``issuetype``,
``summary``.
Errors are ``{"errorMessages": [...], "errors": {field: message}}``; throttling 429 + ``Retry-After`` and
``X-RateLimit-Reset``. ``GET field`` lists the system fields (the SDK reads it before a search naming fields).

Projects ``OPS`` and ``SUP`` are seeded with the workflow To Do → In Progress → Done (plus Stop Progress back
to To Do and Reopen from Done). A project archived by an admin (a record under ``archived_project``, keyed
by the project key) is gone to the API, as on Cloud: creating an issue in it is a 400 "valid project is
required", reading it a 404. ``nextPageToken`` is opaque to clients; here it encodes the next offset and a
digest of the JQL, so paging keeps no server state and a token from another query is refused.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from eas_sandbox.state import Records
from eas_sandbox.vendor import Endpoints, NotAuthenticated, Store, Vendor

NAME = "jira"
EMAIL = "eas-bot@example.com"
API_TOKEN = "sandbox-jira-api-token"
MAX_RESULTS = 100
"""The largest page search/jql returns (Jira Cloud's cap when fields are requested)."""

PROJECTS = {"OPS": "Operations", "SUP": "Support"}
ARCHIVED = "archived_project"
"""The collection of archived projects' keys (put there by a test, as a Jira admin would archive one)."""
ISSUE_TYPES = {"Task": "10001", "Bug": "10002", "Story": "10003", "Incident": "10004"}
STATUSES = {
    "To Do": {"id": "10000", "category": ("new", "To Do")},
    "In Progress": {"id": "3", "category": ("indeterminate", "In Progress")},
    "Done": {"id": "10001", "category": ("done", "Done")},
}
WORKFLOW = {
    "To Do": [("21", "Start Progress", "In Progress")],
    "In Progress": [("31", "Done", "Done"), ("11", "Stop Progress", "To Do")],
    "Done": [("41", "Reopen", "To Do")],
}


def error(
    status: int,
    messages: list[str] | None = None,
    errors: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = {"errorMessages": messages or [], "errors": errors or {}}
    return JSONResponse(body, status_code=status, headers=headers)


def authenticated(request: Request) -> None:
    expected = "Basic " + base64.b64encode(f"{EMAIL}:{API_TOKEN}".encode()).decode()
    if request.headers.get("authorization") != expected:
        raise NotAuthenticated()


router = APIRouter()
api = APIRouter(dependencies=[Depends(authenticated)])


def _base(request: Request) -> str:
    return f"{str(request.base_url).rstrip('/')}/{NAME}"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


@router.get("/rest/api/2/serverInfo")
def server_info(request: Request) -> Response:
    return JSONResponse(
        {
            "baseUrl": _base(request),
            "version": "1001.0.0-SNAPSHOT",
            "versionNumbers": [1001, 0, 0],
            "deploymentType": "Cloud",
            "buildNumber": 100290,
            "serverTime": _now(),
            "scmInfo": "eas-sandbox",
            "serverTitle": "EAS sandbox Jira",
        }
    )


def _status(name: str) -> dict[str, Any]:
    key, category = STATUSES[name]["category"]
    return {"id": STATUSES[name]["id"], "name": name, "statusCategory": {"key": key, "name": category}}


def _live_project(store: Records, key: str) -> bool:
    """Whether ``key`` is a project the API serves (seeded and not archived)."""
    return key in PROJECTS and store.get(NAME, ARCHIVED, key) is None


def _view(request: Request, issue: dict[str, Any]) -> dict[str, Any]:
    """The stored issue as the API shows it (``self`` links on this host)."""
    return {**issue, "self": f"{_base(request)}/rest/api/2/issue/{issue['id']}"}


def _find(store: Records, id_or_key: str) -> dict[str, Any] | None:
    if id_or_key.isdigit():
        return next((i for i in store.all(NAME, "issue") if i["id"] == id_or_key), None)
    return store.get(NAME, "issue", id_or_key.upper())


def _missing() -> Response:
    return error(404, ["Issue does not exist or you do not have permission to see it."])


async def _json_body(request: Request) -> dict[str, Any] | Response:
    try:
        body = await request.json()
    except ValueError:
        return error(400, ["Unexpected character: the request body is not valid JSON."])
    return body if isinstance(body, dict) else error(400, ["The request body must be a JSON object."])


@api.post("/rest/api/2/issue")
async def create_issue(request: Request, store: Store) -> Response:
    body = await _json_body(request)
    if isinstance(body, Response):
        return body
    fields = body.get("fields") or {}
    problems: dict[str, str] = {}
    project = fields.get("project") or {}
    project_key = str(project.get("key") or "").upper()
    if not _live_project(store, project_key):
        problems["project"] = "valid project is required"
    issue_type = (fields.get("issuetype") or {}).get("name")
    if issue_type not in ISSUE_TYPES:
        problems["issuetype"] = "valid issue type is required"
    summary = fields.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        problems["summary"] = "You must specify a summary of the issue."
    labels = fields.get("labels") or []
    bad_label = next((label for label in labels if not isinstance(label, str) or " " in label), None)
    if bad_label is not None:
        problems["labels"] = f"The label '{bad_label}' contains spaces which is invalid."
    known = {"project", "issuetype", "summary", "description", "labels", "priority"}
    for field in fields:
        if field not in known:
            problems[field] = (
                f"Field '{field}' cannot be set. It is not on the appropriate screen, or unknown."
            )
    if problems:
        return error(400, [], problems)
    number = sum(1 for i in store.all(NAME, "issue") if i["fields"]["project"]["key"] == project_key) + 1
    key = f"{project_key}-{number}"
    issue_id = str(10000 + store.count(NAME, "issue") + 1)
    now = _now()
    issue = {
        "id": issue_id,
        "key": key,
        "fields": {
            "summary": summary,
            "description": fields.get("description"),
            "issuetype": {"id": ISSUE_TYPES[issue_type], "name": issue_type},
            "project": {"key": project_key, "name": PROJECTS[project_key]},
            "labels": list(labels),
            "priority": fields.get("priority") or {"name": "Medium"},
            "status": _status("To Do"),
            "created": now,
            "updated": now,
        },
    }
    store.insert(NAME, "issue", issue, key=key)
    return JSONResponse(
        {"id": issue_id, "key": key, "self": f"{_base(request)}/rest/api/2/issue/{issue_id}"}, status_code=201
    )


@api.get("/rest/api/2/issue/{id_or_key}")
def get_issue(id_or_key: str, request: Request, store: Store) -> Response:
    issue = _find(store, id_or_key)
    return _missing() if issue is None else JSONResponse(_view(request, issue))


def _transitions(issue: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": transition_id,
            "name": name,
            "to": _status(target),
            "hasScreen": False,
            "isGlobal": False,
            "isInitial": False,
            "isConditional": False,
        }
        for transition_id, name, target in WORKFLOW[issue["fields"]["status"]["name"]]
    ]


@api.get("/rest/api/2/issue/{id_or_key}/transitions")
def list_transitions(id_or_key: str, store: Store) -> Response:
    issue = _find(store, id_or_key)
    if issue is None:
        return _missing()
    return JSONResponse({"expand": "transitions", "transitions": _transitions(issue)})


@api.post("/rest/api/2/issue/{id_or_key}/transitions")
async def do_transition(id_or_key: str, request: Request, store: Store) -> Response:
    issue = _find(store, id_or_key)
    if issue is None:
        return _missing()
    body = await _json_body(request)
    if isinstance(body, Response):
        return body
    wanted = str((body.get("transition") or {}).get("id", ""))
    transition = next((t for t in _transitions(issue) if t["id"] == wanted), None)
    if transition is None:
        return error(400, [f"Transition id '{wanted}' is not valid for this issue."])
    issue["fields"]["status"] = transition["to"]
    issue["fields"]["updated"] = _now()
    store.put(NAME, "issue", issue["key"], issue)
    return Response(status_code=204)


# --- JQL subset ------------------------------------------------------------------------------------

_JQL_FIELDS = {"project", "key", "labels", "status", "issuetype", "summary"}
_VALUE = r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|[\w.\-]+'
_TERM = re.compile(
    rf"\s*(?P<field>\w+)\s*(?:(?P<op>!=|=)\s*(?P<value>{_VALUE})|(?P<neg>not\s+)?in\s*\((?P<values>[^)]*)\))\s*",
    re.IGNORECASE,
)
_ORDER = re.compile(r"\s+ORDER\s+BY\s+(?P<field>\w+)(?:\s+(?P<direction>ASC|DESC))?\s*$", re.IGNORECASE)


class _BadJql(Exception):
    pass


def _unquote(text: str) -> str:
    text = text.strip()
    if text[:1] in "\"'" and text[-1:] == text[:1]:
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def _field_values(issue: dict[str, Any], field: str) -> list[str]:
    fields = issue["fields"]
    if field == "key":
        return [issue["key"]]
    if field == "labels":
        return list(fields.get("labels") or [])
    if field == "project":
        return [fields["project"]["key"], fields["project"]["name"]]
    if field in ("status", "issuetype"):
        return [fields[field]["name"]]
    return [fields.get(field) or ""]


def _parse(jql: str) -> tuple[list[tuple[str, bool, list[str]]], tuple[str, bool] | None]:
    """``(field, negated, values)`` terms and the ordering of a JQL query."""
    order = None
    if (match := _ORDER.search(" " + jql)) is not None:
        order = (match["field"].lower(), (match["direction"] or "").upper() == "DESC")
        jql = (" " + jql)[: match.start()]
    terms: list[tuple[str, bool, list[str]]] = []
    parts = re.split(r"\s+AND\s+", jql.strip(), flags=re.IGNORECASE) if jql.strip() else []
    for part in parts:
        match = _TERM.fullmatch(part)
        if match is None:
            raise _BadJql(f"Error in the JQL Query: unable to parse '{part.strip()[:60]}'.")
        field = match["field"].lower()
        if field not in _JQL_FIELDS:
            raise _BadJql(
                f"Field '{match['field']}' does not exist or you do not have permission to view it."
            )
        if match["op"]:
            terms.append((field, match["op"] == "!=", [_unquote(match["value"])]))
        else:
            values = [_unquote(v) for v in re.findall(_VALUE, match["values"])]
            terms.append((field, bool(match["neg"]), values))
    if order is not None and order[0] not in _JQL_FIELDS | {"created", "updated"}:
        raise _BadJql(f"Not able to sort using field '{order[0]}'.")
    return terms, order


def _search(store: Records, jql: str) -> list[dict[str, Any]]:
    terms, order = _parse(jql)
    found = []
    for issue in store.all(NAME, "issue"):
        ok = True
        for field, negated, values in terms:
            have = {value.lower() for value in _field_values(issue, field)}
            hit = any(value.lower() in have for value in values)
            ok = ok and hit != negated
        if ok:
            found.append(issue)
    if order is not None:
        field, descending = order
        if field == "key":
            found.sort(key=lambda i: (i["fields"]["project"]["key"], int(i["key"].rsplit("-", 1)[1])))
        elif field in ("created", "updated"):
            found.sort(key=lambda i: (i["fields"][field], int(i["id"])))
        else:
            found.sort(key=lambda i: _field_values(i, field)[0].lower())
        if descending:
            found.reverse()
    return found


def _digest(jql: str) -> str:
    return hashlib.sha256(jql.encode()).hexdigest()[:16]


def _page_token(jql: str, offset: int) -> str:
    raw = json.dumps({"o": offset, "q": _digest(jql)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _offset(jql: str, token: str | None) -> int:
    if not token:
        return 0
    try:
        state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if state["q"] != _digest(jql):
            raise ValueError
        return int(state["o"])
    except (ValueError, KeyError, TypeError) as exc:
        raise _BadJql("The provided next page token is invalid or expired.") from exc


def _search_page(request: Request, store: Records, jql: str, token: str | None, max_results: int) -> Response:
    try:
        offset = _offset(jql, token)
        found = _search(store, jql)
    except _BadJql as exc:
        return error(400, [str(exc)])
    size = max(1, min(max_results, MAX_RESULTS))
    page = found[offset : offset + size]
    body: dict[str, Any] = {"issues": [_view(request, issue) for issue in page], "isLast": True}
    if offset + size < len(found):
        body["nextPageToken"] = _page_token(jql, offset + size)
        body["isLast"] = False
    return JSONResponse(body)


@api.get("/rest/api/2/search/jql")
def search_get(
    request: Request, store: Store, jql: str = "", nextPageToken: str | None = None, maxResults: int = 50
) -> Response:
    return _search_page(request, store, jql, nextPageToken, maxResults)


@api.post("/rest/api/2/search/jql")
async def search_post(request: Request, store: Store) -> Response:
    body = await _json_body(request)
    if isinstance(body, Response):
        return body
    return _search_page(
        request,
        store,
        str(body.get("jql") or ""),
        body.get("nextPageToken"),
        int(body.get("maxResults") or 50),
    )


@api.api_route("/rest/api/2/search", methods=["GET", "POST"])
def search_removed() -> Response:
    return error(
        410, ["The requested API has been removed. Please migrate to the /rest/api/3/search/jql API."]
    )


_SYSTEM_FIELDS = {
    "summary": ("Summary", "string"),
    "description": ("Description", "string"),
    "status": ("Status", "status"),
    "labels": ("Labels", "array"),
    "issuetype": ("Issue Type", "issuetype"),
    "project": ("Project", "project"),
    "priority": ("Priority", "priority"),
    "created": ("Created", "datetime"),
    "updated": ("Updated", "datetime"),
}


@api.get("/rest/api/2/field")
def fields() -> Response:
    """The system fields (the SDK reads it once to translate JQL names in ``fields=``)."""
    return JSONResponse(
        [
            {
                "id": field_id,
                "key": field_id,
                "name": name,
                "custom": False,
                "navigable": True,
                "searchable": True,
                "clauseNames": [field_id],
                "schema": {"type": kind, "system": field_id},
            }
            for field_id, (name, kind) in _SYSTEM_FIELDS.items()
        ]
    )


@api.get("/rest/api/2/project/{key}")
def project(key: str, request: Request, store: Store) -> Response:
    if not _live_project(store, key.upper()):
        return error(404, [f"No project could be found with key '{key}'."])
    return JSONResponse(
        {
            "id": str(10000 + sorted(PROJECTS).index(key.upper())),
            "key": key.upper(),
            "name": PROJECTS[key.upper()],
            "self": f"{_base(request)}/rest/api/2/project/{key.upper()}",
            "issueTypes": [{"id": type_id, "name": name} for name, type_id in ISSUE_TYPES.items()],
        }
    )


# --- users and groups ------------------------------------------------------------------------------
# Accounts are stored under "user" by accountId, each with the names of its groups. Jira Cloud answers a
# user search with the accounts whose e-mail or display name starts with the query (unconfirmed: Cloud's
# prefix match over several attributes); removing a user from a group they are not in is a 400.

GROUPS = ("jira-software-users", "jira-administrators", "jira-viewers", "site-admins")


def _user_view(request: Request, user: dict[str, Any]) -> dict[str, Any]:
    shown = {key: value for key, value in user.items() if key != "groups"}
    return {**shown, "self": f"{_base(request)}/rest/api/2/user?accountId={user['accountId']}"}


def _user(store: Records, account_id: str) -> dict[str, Any] | None:
    return store.get(NAME, "user", account_id)


@api.get("/rest/api/2/user/search")
def search_users(request: Request, store: Store, query: str = "", maxResults: int = 50) -> Response:  # noqa: N803
    wanted = query.strip().lower()
    found = [
        u
        for u in store.all(NAME, "user")
        if wanted
        and (
            u.get("emailAddress", "").lower().startswith(wanted)
            or u["displayName"].lower().startswith(wanted)
        )
    ]
    return JSONResponse([_user_view(request, u) for u in found[:maxResults]])


@api.get("/rest/api/2/users/search")
def all_users(request: Request, store: Store, startAt: int = 0, maxResults: int = 50) -> Response:  # noqa: N803
    users = store.all(NAME, "user")
    return JSONResponse([_user_view(request, u) for u in users[startAt : startAt + maxResults]])


@api.post("/rest/api/2/user")
async def create_user(request: Request, store: Store) -> Response:
    body = await _json_body(request)
    if isinstance(body, Response):
        return body
    email = str(body.get("emailAddress") or "").strip()
    if "@" not in email:
        return error(400, [], {"emailAddress": "You must specify a valid email address."})
    if any(u.get("emailAddress", "").lower() == email.lower() for u in store.all(NAME, "user")):
        return error(400, [], {"emailAddress": "A user with that email address already exists."})
    account_id = f"712020:{hashlib.sha1(email.lower().encode()).hexdigest()[:24]}"
    products = body.get("products") or ["jira-software"]
    user = {
        "accountId": account_id,
        "accountType": "atlassian",
        "emailAddress": email,
        "displayName": str(body.get("displayName") or email.split("@")[0]),
        "active": True,
        "groups": ["jira-software-users"] if "jira-software" in products else [],
    }
    store.put(NAME, "user", account_id, user)
    return JSONResponse(_user_view(request, user), status_code=201)


@api.get("/rest/api/2/user/groups")
def user_groups(store: Store, accountId: str = "") -> Response:  # noqa: N803
    user = _user(store, accountId)
    if user is None:
        return error(404, [f"The user with account ID '{accountId}' does not exist."])
    return JSONResponse([{"name": g, "groupId": hashlib.md5(g.encode()).hexdigest()} for g in user["groups"]])


@api.post("/rest/api/2/group/user")
async def add_user_to_group(request: Request, store: Store, groupname: str = "") -> Response:
    body = await _json_body(request)
    if isinstance(body, Response):
        return body
    if groupname not in GROUPS:
        return error(404, [f"Group '{groupname}' does not exist."])
    user = _user(store, str(body.get("accountId") or ""))
    if user is None:
        return error(400, ["You must specify the user by accountId."])
    if groupname in user["groups"]:
        return error(400, [f"Cannot add user. User is already a member of '{groupname}'."])
    user["groups"].append(groupname)
    store.put(NAME, "user", user["accountId"], user)
    return JSONResponse(
        {"name": groupname, "groupId": hashlib.md5(groupname.encode()).hexdigest()}, status_code=201
    )


@api.delete("/rest/api/2/group/user")
def remove_user_from_group(store: Store, groupname: str = "", accountId: str = "") -> Response:  # noqa: N803
    user = _user(store, accountId)
    if groupname not in GROUPS:
        return error(404, [f"Group '{groupname}' does not exist."])
    if user is None or groupname not in user["groups"]:
        return error(400, [f"Cannot remove user. User is not a member of '{groupname}'."])
    user["groups"].remove(groupname)
    store.put(NAME, "user", accountId, user)
    return Response(status_code=200)


router.include_router(api)


def _env(endpoints: Endpoints) -> dict[str, str]:
    return {
        "EAS_JIRA_URL": endpoints.vendor_url(NAME),
        "EAS_JIRA_EMAIL": EMAIL,
        "EAS_JIRA_API_TOKEN": API_TOKEN,
    }


def _throttled(retry_after_s: float | None) -> Response:
    headers = {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0"}
    if retry_after_s is not None:
        headers["Retry-After"] = f"{retry_after_s:g}"
        reset = datetime.fromtimestamp(datetime.now(UTC).timestamp() + retry_after_s, UTC)
        headers["X-RateLimit-Reset"] = reset.strftime("%Y-%m-%dT%H:%MZ")
    return error(429, ["Rate limit exceeded."], headers=headers)


VENDOR = Vendor(
    name=NAME,
    router=router,
    env=_env,
    throttled=_throttled,
    failed=lambda status: error(status, ["Internal server error (injected fault)."]),
    unauthorized=lambda: error(
        401, ["You are not authenticated. Authentication required to perform this operation."]
    ),
)
