"""A Dagster console logger that masks PII: the default logger of every EAS job.

Why a logger definition: ``context.log`` is a Dagster log manager, not a logger of the standard
library's tree, so a filter on the root or "dagster" handlers never sees what an op logs. Dagster
passes each message to the run's loggers (``@dg.logger``); this one is Dagster's console logger
with :class:`~eas_pipelines.pii.PiiLogFilter` on its handler, registered on the code location's
``Definitions`` under Dagster's own key ``"console"`` so it replaces the unmasked default for every
job that names no loggers of its own.

What it does not cover: Dagster also stores each message in the run's event log (the run page
of the UI), from the unformatted message, before any logger sees it; messages that may carry a
request's text should be masked where they are logged (``context.log.info(mask(...))``).

Not imported by :mod:`eas_pipelines.pii` itself: importing Dagster costs a second or two.
"""

from __future__ import annotations

import logging
import sys

import dagster as dg

from eas_pipelines.pii.log_filter import PiiLogFilter

FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
"""Dagster's console format (its message already names the job, run id and step)."""


@dg.logger(
    config_schema={
        "log_level": dg.Field(str, is_required=False, default_value="INFO", description="the threshold"),
        "name": dg.Field(str, is_required=False, default_value="dagster", description="the logger's name"),
    },
    description="Dagster's console logger, with PII masked in every line (eas_pipelines.pii).",
)
def masked_console_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    config = init_context.logger_config
    logger = logging.Logger(config["name"], level=logging.getLevelName(config["log_level"].upper()))
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(PiiLogFilter())
    logger.addHandler(handler)
    return logger
