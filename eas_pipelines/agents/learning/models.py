"""The NLP service's models as the learning loop sees them: where they are, and reloading one.

Promotion copies a candidate into ``<models_dir>/promoted/<version>`` and asks every NLP replica
to load it through its reload endpoint (``POST /v1/models/reload``, ``Authorization: Bearer
<EAS_NLP_ADMIN_TOKEN>``), then waits until each serves it (``/readyz`` shows the directory). The
token is read from the environment when it is needed, never put in the resource's config (which
the Dagster UI shows): the NLP server refuses reloads while its own copy is unset, and so does this.
The serving model is found the same way (``/readyz``'s ``model_dir``): the learning assets run
next to the NLP service (embedded deployment) or on a volume it shares.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
from pydantic import Field

DEFAULT_TOKEN_ENV = "EAS_NLP_ADMIN_TOKEN"
RELOAD_TIMEOUT_S = 120.0


class PromotionFailed(RuntimeError):
    """A replica refused the reload, or did not serve the promoted model in time (says which)."""


class NlpModelsResource(dg.ConfigurableResource):
    """Where models live and the NLP replicas that serve them."""

    nlp_urls: list[str] = Field(description="NLP replicas (EAS_NLP_URLS)")
    models_dir: str = Field(description="candidates and promoted models go under this folder")
    admin_token_env: str = Field(DEFAULT_TOKEN_ENV, description="variable holding the NLP admin token")
    timeout_s: float = Field(10.0, description="HTTP timeout of one call")

    @classmethod
    def from_env(cls, redis_url: Any = None) -> NlpModelsResource:
        """From ``EAS_NLP_URLS`` (comma-separated) and ``EAS_LEARNING_MODELS_DIR`` (default
        ``<EAS_DATA_DIR>/models``), read when the definitions load."""
        urls = os.environ.get("EAS_NLP_URLS") or "http://127.0.0.1:8081"
        data_dir = os.environ.get("EAS_DATA_DIR") or ".eas"
        models_dir = os.environ.get("EAS_LEARNING_MODELS_DIR") or str(Path(data_dir) / "models")
        return cls(
            nlp_urls=[url.strip() for url in urls.strip("[]").replace('"', "").split(",") if url.strip()],
            models_dir=models_dir,
        )

    def candidates_dir(self, name: str) -> Path:
        return Path(self.models_dir).resolve() / "candidates" / name

    def _token(self) -> str:
        token = os.environ.get(self.admin_token_env, "").strip()
        if not token:
            raise PromotionFailed(
                f"{self.admin_token_env} is not set: the NLP service's reload endpoint needs its admin token"
            )
        return token

    def serving(self) -> dict[str, Any]:
        """The first replica's ``/readyz`` answer (model_version, model_dir...)."""
        errors = []
        for url in self.nlp_urls:
            try:
                response = httpx.get(f"{url}/readyz", timeout=self.timeout_s)
            except httpx.HTTPError as exc:
                errors.append(f"{url}: {exc}")
                continue
            if response.status_code == 200:
                return response.json()
            errors.append(f"{url}: {response.status_code} {response.text[:200]}")
        raise PromotionFailed(f"no NLP replica serves a model: {'; '.join(errors)}")

    def current_model_dir(self) -> Path:
        return Path(self.serving()["model_dir"])

    def promote(self, candidate: Path, version: str) -> Path:
        """Copy ``candidate`` to the promoted folder and make every replica serve it."""
        token = self._token()
        target = Path(self.models_dir).resolve() / "promoted" / version
        if not target.exists():
            staging = target.with_name(f".{version}.partial")
            shutil.rmtree(staging, ignore_errors=True)
            shutil.copytree(candidate, staging)
            staging.rename(target)  # a replica never sees a half-copied model
        for url in self.nlp_urls:
            self._reload(url, target, token)
        return target

    def _reload(self, url: str, target: Path, token: str) -> None:
        try:
            response = httpx.post(
                f"{url}/v1/models/reload",
                json={"model_dir": str(target)},
                headers={"Authorization": f"Bearer {token}"},
                timeout=self.timeout_s,
            )
        except httpx.HTTPError as exc:
            raise PromotionFailed(f"{url}: reload call failed: {exc}") from exc
        if response.status_code != 202:
            raise PromotionFailed(f"{url}: reload refused: {response.status_code} {response.text[:300]}")
        deadline = time.monotonic() + RELOAD_TIMEOUT_S
        while time.monotonic() < deadline:
            ready = httpx.get(f"{url}/readyz", timeout=self.timeout_s).json()
            if not ready.get("reloading"):
                if ready.get("model_dir") == str(target):
                    return
                if ready.get("last_reload_error"):
                    raise PromotionFailed(f"{url}: {ready['last_reload_error']}")
            time.sleep(0.2)
        raise PromotionFailed(f"{url}: did not serve {target} within {RELOAD_TIMEOUT_S:.0f}s")
