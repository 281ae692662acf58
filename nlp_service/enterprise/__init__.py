"""The EAS enterprise NLU data set: a deterministic generator and its committed output.

``generate(seed)`` returns labelled utterances for the intents the EAS agents handle
(``agent.action``) plus out-of-scope requests, with BIO-tagged entities; the files under
``data/`` are its output for the default seed. See ``README.md`` in this folder.
"""

from __future__ import annotations

from typing import Any

from nlp_service.enterprise.labels import ENTITY_TYPES, INTENTS, OOS_LABEL

__all__ = ["DATA_DIR", "ENTITY_TYPES", "INTENTS", "OOS_LABEL", "generate"]


def __getattr__(name: str) -> Any:
    # Imported lazily: an eager import would load ``generator`` before
    # ``python -m nlp_service.enterprise.generator`` runs it, which runpy warns about.
    if name in ("generate", "DATA_DIR"):
        from nlp_service.enterprise import generator

        return getattr(generator, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
