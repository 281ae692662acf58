"""The failed-run saga job, apart from the recovery agent's workflows: no intent routes to it (the
failure sensor launches it), so it is one of the parts every agent shares (``agents.SHARED``), not
an agent job that the lanes launch and the failure sensor recovers."""

import dagster as dg

from eas_pipelines.agents.recovery.definitions import CONNECTORS as CONNECTORS
from eas_pipelines.agents.recovery.failed_runs import recovery_saga_compensation

defs = dg.Definitions(jobs=[recovery_saga_compensation])
