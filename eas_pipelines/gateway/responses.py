"""The error answers of the intake API, documented once and picked per route.

Every status a route can answer must be in the OpenAPI document with the shape of its body (and the
headers that come with it): clients generate their error handling from it, and the contract tests
fail on any status, body or header the document does not announce.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from eas_pipelines.gateway.schemas import ErrorOut


class ValidationErrorItem(BaseModel):
    loc: list[str | int] = Field(description="Where the bad value is, e.g. ['body', 'text'].")
    msg: str
    type: str


class ValidationErrorOut(BaseModel):
    detail: list[ValidationErrorItem]


def _header(description: str, kind: str = "string") -> dict[str, Any]:
    return {"description": description, "schema": {"type": kind}}


_CHALLENGE = _header("Bearer challenge (RFC 6750) with the error and its description.")
_RETRY_AFTER = _header("Seconds to wait before retrying.", "integer")

_CATALOG: dict[int, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "The body could not be decoded (not UTF-8, -16 or -32 JSON)."},
    401: {
        "model": ErrorOut,
        "description": "Missing, malformed, expired or otherwise invalid bearer token.",
        "headers": {"WWW-Authenticate": _CHALLENGE},
    },
    403: {
        "model": ErrorOut,
        "description": "The token lacks the scope this endpoint needs.",
        "headers": {"WWW-Authenticate": _CHALLENGE},
    },
    404: {"model": ErrorOut, "description": "No request with this id."},
    409: {"model": ErrorOut, "description": "Conflicts with the request's current state."},
    422: {
        "model": ValidationErrorOut,
        "description": "Invalid parameters, headers or body; each error names its field.",
    },
    429: {
        "model": ErrorOut,
        "description": "Rate limit exceeded; see Retry-After.",
        "headers": {
            "Retry-After": _RETRY_AFTER,
            "RateLimit-Limit": _header("Requests allowed per minute.", "integer"),
            "RateLimit-Remaining": _header("Requests left in the window.", "integer"),
            "RateLimit-Reset": _header("Seconds until the window frees a request.", "integer"),
        },
    },
    503: {
        "model": ErrorOut,
        "description": "The request store is unreachable: nothing was changed; retry later.",
        "headers": {"Retry-After": _RETRY_AFTER},
    },
}

# What every authenticated route that reads or writes the store can answer, besides its own codes.
AUTHENTICATED = (401, 403, 422, 503)


def documented(*codes: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route answering ``codes``; ``descriptions`` (``e404="..."``) reword some."""
    chosen: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        entry = dict(_CATALOG[code])
        if f"e{code}" in descriptions:
            entry["description"] = descriptions[f"e{code}"]
        chosen[code] = entry
    return chosen
