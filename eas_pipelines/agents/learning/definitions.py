"""The learning agent's part of the code location: the feedback workflow and the retraining assets.

``jobs`` holds only the request workflow (what the lanes launch); the retraining asset job comes
with its schedule, like the audit chain's.
"""

import dagster as dg

from eas_pipelines.agents.learning.assets import LEARNING_ASSETS, learning_retrain_schedule
from eas_pipelines.agents.learning.feedback import learning_classification_feedback
from eas_pipelines.agents.learning.models import NlpModelsResource
from eas_pipelines.agents.notifications import NotificationsResource

CONNECTORS = {"notifications": NotificationsResource, "nlp_models": NlpModelsResource}
"""Resource key -> connector class: answers go to the requester; the models resource reaches the
NLP replicas (reload) and the models folder."""

defs = dg.Definitions(
    assets=LEARNING_ASSETS,
    jobs=[learning_classification_feedback],
    schedules=[learning_retrain_schedule],
)
