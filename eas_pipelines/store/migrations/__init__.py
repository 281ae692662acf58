"""Alembic migrations of the request store, run through :mod:`eas_pipelines.store.migrate`."""
