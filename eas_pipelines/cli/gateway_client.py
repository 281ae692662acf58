"""A small client of the intake API for the CLI: it signs its own token with the local key.

The CLI acts as the client ``cli`` with every scope. On the embedded default the signing key
is the one ``eas up`` generated under the data folder, so ``eas submit`` works with no setup.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from eas_pipelines.gateway.tokens import ALL_SCOPES, issue_token
from eas_pipelines.settings import EASSettings


class GatewayError(RuntimeError):
    """The gateway answered with an error (its message is kept) or could not be reached."""


@dataclass
class GatewayClient:
    base_url: str
    token: str
    timeout: float = 30.0

    @classmethod
    def from_settings(cls, settings: EASSettings, base_url: str | None = None, client_id: str = "cli"):
        if settings.jwt_secret is None:
            raise GatewayError("no signing key: set EAS_JWT_SECRET (load_settings() generates one locally)")
        token = issue_token(
            settings.jwt_secret.get_secret_value(),
            client_id,
            ALL_SCOPES,
            settings.jwt_issuer,
            settings.jwt_audience,
        )
        return cls(base_url or f"http://{settings.gateway_host}:{settings.gateway_port}", token)

    def _call(self, method: str, path: str, **kwargs: Any) -> dict:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        try:
            response = httpx.request(
                method, self.base_url + path, headers=headers, timeout=self.timeout, **kwargs
            )
        except httpx.HTTPError as exc:
            raise GatewayError(
                f"gateway at {self.base_url} is not reachable ({exc}); is `eas up` running?"
            ) from exc
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise GatewayError(f"{response.status_code}: {readable_detail(detail)}")
        return response.json()

    def submit(
        self,
        text: str,
        priority: str | None = None,
        idempotency_key: str | None = None,
        *,
        conversation_id: str | None = None,
        start_conversation: bool = False,
    ) -> dict:
        """``POST /v1/requests``; with ``conversation_id`` the text continues that conversation, with
        ``start_conversation`` the gateway starts one (its id is in the answer's ``conversation_id``)."""
        body: dict[str, Any] = {"text": text}
        if priority:
            body["priority"] = priority
        if conversation_id is not None:
            body["conversation_id"] = conversation_id
        if start_conversation:
            body["start_conversation"] = True
        key = idempotency_key or str(uuid.uuid4())
        return self._call("POST", "/v1/requests", json=body, headers={"Idempotency-Key": key})

    def get(self, request_id: str, include: str | None = "history") -> dict:
        params = {"include": include} if include else None
        return self._call("GET", f"/v1/requests/{request_id}", params=params)

    def decide(self, request_id: str, decision: str, reason: str | None) -> dict:
        body = {"reason": reason} if reason else {}
        return self._call("POST", f"/v1/approvals/{request_id}/{decision}", json=body)

    def review_queue(self, limit: int = 50, before: str | None = None) -> dict:
        """``GET /v1/review``: requests waiting for a person, newest first."""
        params: dict[str, Any] = {"limit": limit}
        if before:
            params["before"] = before
        return self._call("GET", "/v1/review", params=params)

    def review(self, request_id: str, action: str, body: dict[str, Any]) -> dict:
        """``POST /v1/review/{id}/{action}``: reclassify, reroute or cancel a request in review."""
        return self._call("POST", f"/v1/review/{request_id}/{action}", json=body)


def readable_detail(detail: Any) -> str:
    """A gateway error's ``detail`` as one line: validation errors as ``field: message`` pairs.

    FastAPI answers 422 with a list of errors (``loc``, ``msg``); printed raw, that list buries the
    one thing a CLI user needs, which field was wrong and why.
    """
    if isinstance(detail, list):
        parts = []
        for error in detail:
            if isinstance(error, dict):
                where = ".".join(str(part) for part in error.get("loc", ())[1:]) or "request"
                parts.append(f"{where}: {error.get('msg', error)}")
            else:
                parts.append(str(error))
        return "; ".join(parts)
    return str(detail)
