"""``python -m eas_sandbox``: every emulator until SIGTERM/SIGINT (``eas up`` and ``eas sandbox`` start it).

When ready it writes the EAS_* settings that point EAS's connectors at it to ``--env-file`` (JSON),
which ``eas up`` reads to configure the other processes.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

import sqlalchemy as sa

from eas_sandbox.server import Sandbox


def ensure_database(url: str) -> None:
    """Create the emulators' database when the server has none of that name (on first start)."""
    target = sa.make_url(url)
    admin = sa.create_engine(
        target.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool
    )
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
            ).first()
            if exists is None:
                conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eas_sandbox", description=__doc__)
    parser.add_argument("--database-url", required=True, help="PostgreSQL URL of the emulators' database")
    parser.add_argument("--data-dir", type=Path, required=True, help="folder for the generated CA and keys")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8443)
    parser.add_argument("--mtls-port", type=int, default=8444)
    parser.add_argument("--smtp-port", type=int, default=8025)
    parser.add_argument("--env-file", type=Path, help="write the connectors' EAS_* settings here (JSON)")
    args = parser.parse_args(argv)

    ensure_database(args.database_url)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    sandbox = Sandbox(
        args.database_url,
        args.data_dir,
        host=args.host,
        port=args.port,
        mtls_port=args.mtls_port,
        smtp_port=args.smtp_port,
    )
    with sandbox:
        settings = sandbox.env()
        if args.env_file is not None:
            partial = args.env_file.with_suffix(".tmp")
            partial.write_text(json.dumps(settings, indent=2, sort_keys=True))
            os.replace(partial, args.env_file)
        print(f"EAS sandbox ready at {sandbox.endpoints.base_url} (SMTP port {sandbox.endpoints.smtp_port})")
        print(f"vendors: {', '.join(vendor.name for vendor in sandbox.vendors)}", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
