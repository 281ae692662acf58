"""Running the app in-process against a real (tiny) model, and parsers that record their calls."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from nlp_service.config import NLPSettings
from nlp_service.inference.parser import NLUParser
from nlp_service.inference.result import ParseResult

INVOICE = "process invoice INV-2201 from Acme Corp for $12,400"
LEAVE = "book vacation for Bob next week"


def make_settings(model_dir: Path, **overrides: Any) -> NLPSettings:
    """Settings for a test app: the given model, no default-model training, test Redis db."""
    values: dict[str, Any] = {
        "model_dir": model_dir,
        "train_default_if_missing": False,
        "redis_url": "redis://127.0.0.1:6379/15",
        "threads": 1,
        **overrides,
    }
    return NLPSettings(**values)


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan running, and a client that calls it in-process."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://nlp.test") as client:
            yield client


class RecordingParser(NLUParser):
    """The real parser, also recording the size of every ``parse_batch`` call.

    ``fail_on``: a text containing it makes the whole call raise, as a broken model would.
    """

    def __init__(self, predictor, fail_on: str | None = None) -> None:
        super().__init__(predictor)
        self.batch_sizes: list[int] = []
        self.fail_on = fail_on
        self._lock = threading.Lock()

    def parse_batch(
        self, texts: Sequence[str], reference_dates: Sequence[date | None] | None = None
    ) -> list[ParseResult]:
        with self._lock:
            self.batch_sizes.append(len(texts))
        if self.fail_on is not None and any(self.fail_on in t for t in texts):
            raise RuntimeError(f"model exploded on {self.fail_on!r}")
        return super().parse_batch(texts, reference_dates)


def copy_model_with_version(model_dir: Path, target: Path, version: str) -> Path:
    """A copy of ``model_dir`` that reports ``version``: a "new" model for reload tests."""
    shutil.copytree(model_dir, target)
    manifest_path = target / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["version"] = version
    manifest_path.write_text(json.dumps(manifest))
    return target
