"""``405 Method Not Allowed`` and ``OPTIONS`` answers whose ``Allow`` header lists every method of the path.

FastAPI registers one route per (path, method). For a method no route serves, Starlette answers 405
with the ``Allow`` header of the *first* route of that path only, so the NLP service's
``/v1/conversations/{id}`` advertised ``GET`` alone although it also serves ``DELETE`` (and the
gateway's ``/v1/requests`` ``POST`` alone, without ``GET``); and ``OPTIONS`` got that same
incomplete 405. RFC 9110 wants ``Allow`` to list the methods the resource supports: this middleware
answers both cases itself, from the union of the methods of every route whose path matches. Paths no
route matches are passed on (the router's 404), as are requests a route serves.

Used by the intake gateway and the NLP service alike. A request a route serves costs one pass over
the route table here before the router's own.
"""

from __future__ import annotations

import json

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

# Methods probed to learn what a path serves; OPTIONS is answered here, so it is not among them.
CANDIDATE_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "QUERY", "TRACE")


def _served(routes: list[BaseRoute], scope: Scope, method: str) -> bool:
    probe = {**scope, "method": method}
    return any(route.matches(probe)[0] is Match.FULL for route in routes)


def allowed_methods(scope: Scope) -> frozenset[str] | None:
    """The methods this path is served with; ``None`` when the request's own method is one of them.

    Asks the routes themselves (``matches`` with each candidate method) rather than reading their
    ``methods``: FastAPI nests included routers in objects of its own, and only ``matches`` is the
    same for all of them. An empty set means no route serves the path at all (the router's 404).
    """
    routes = scope["app"].router.routes
    if _served(routes, scope, scope["method"]):
        return None
    return frozenset(method for method in CANDIDATE_METHODS if _served(routes, scope, method))


def allow_header(methods: frozenset[str]) -> str:
    """``Allow`` value: the served methods, plus ``OPTIONS`` (answered here), sorted for stable output."""
    return ", ".join(sorted(methods | {"OPTIONS"}))


class AllowedMethodsMiddleware:
    """Answers ``OPTIONS`` with 204 and an unserved method with 405, both with the complete ``Allow``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        methods = allowed_methods(scope) if scope["type"] == "http" else None
        if not methods:
            await self.app(scope, receive, send)
            return
        allow = allow_header(methods)
        if scope["method"] == "OPTIONS":
            await _respond(send, 204, allow, b"")
        elif scope["method"] == "HEAD":  # a HEAD answer never has a body (RFC 9110, 9.3.2)
            await _respond(send, 405, allow, b"")
        else:
            detail = f"method {scope['method']} is not allowed here; allowed: {allow}"
            await _respond(send, 405, allow, json.dumps({"detail": detail}).encode())


async def _respond(send: Send, status: int, allow: str, body: bytes) -> None:
    headers = [(b"allow", allow.encode("latin-1"))]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
