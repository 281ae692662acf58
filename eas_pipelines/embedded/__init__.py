"""The embedded defaults: PostgreSQL and Redis started by EAS itself when none is configured.

``resolve_services(settings)`` is the entry point: it returns the URLs to use, starting an embedded
server only for what ``EAS_DATABASE_URL`` / ``EAS_REDIS_URL`` leave unset. ``ProcessGroup`` runs the
child processes of ``eas up``, restarts one that crashes, and stops all of them, whatever stops
``eas up``; ``leftovers`` and ``watchdog`` make sure nothing outlives a killed ``eas up``.
"""

from eas_pipelines.embedded._common import EmbeddedServiceError, free_port
from eas_pipelines.embedded.postgres import EmbeddedPostgres
from eas_pipelines.embedded.redis_server import EmbeddedRedis
from eas_pipelines.embedded.services import ResolvedServices, resolve_services
from eas_pipelines.embedded.supervisor import Child, ProcessGroup, RestartPolicy

__all__ = [
    "Child",
    "EmbeddedPostgres",
    "EmbeddedRedis",
    "EmbeddedServiceError",
    "ProcessGroup",
    "ResolvedServices",
    "RestartPolicy",
    "free_port",
    "resolve_services",
]
