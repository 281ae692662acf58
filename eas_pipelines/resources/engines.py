"""One SQLAlchemy engine per database URL per process.

Dagster builds resources for every run (and every op process), and sensors tick every few
seconds; creating an engine each time would open a new connection pool each time. Engines are
thread-safe and cheap to share, so resources look theirs up here.
"""

from __future__ import annotations

import threading

from sqlalchemy import Engine

from eas_pipelines.store.db import make_engine, normalize_database_url

_lock = threading.Lock()
_engines: dict[str, Engine] = {}


def engine_for(database_url: str) -> Engine:
    """The process's engine for ``database_url`` (``postgresql://`` is accepted and normalised)."""
    url = normalize_database_url(database_url)
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = make_engine(url, pool_size=2, max_overflow=8, application_name="eas-dagster")
            _engines[url] = engine
        return engine


def dispose_all() -> None:
    """Close every cached pool (tests that drop their database call this first)."""
    with _lock:
        engines = list(_engines.values())
        _engines.clear()
    for engine in engines:
        engine.dispose()
