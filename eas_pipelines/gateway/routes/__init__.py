"""The gateway's routers: intake and reads (``intake``), approvals, and operations (health, metrics)."""
