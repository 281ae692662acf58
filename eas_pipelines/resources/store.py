"""The request store as a Dagster resource."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from eas_pipelines.resources.engines import engine_for
from eas_pipelines.store import RequestStore


class RequestStoreResource(dg.ConfigurableResource):
    """Gives ops and sensors the process's :class:`RequestStore` on ``EAS_DATABASE_URL``.

    The store is cheap (an engine and a session factory) but its engine is not, so it is built on
    the process-wide cached engine: a sensor ticking every 5 s reuses one pool.
    """

    database_url: str = Field(description="PostgreSQL URL of the request store (EAS_DATABASE_URL)")

    def get_store(self) -> RequestStore:
        return RequestStore(engine_for(self.database_url))
