"""Migration scripts, one per revision, written by hand (Alembic skips this file)."""
