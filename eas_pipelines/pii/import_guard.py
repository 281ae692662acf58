"""Building Presidio's analyzer without loading PyTorch and Transformers, which EAS's analyzer never uses.

Why: ``import presidio_analyzer`` imports every NLP engine and recognizer module Presidio ships, and
four of them probe for optional deep-learning packages as they are imported:
``presidio_analyzer.nlp_engine.device_detector`` (``torch``, when ``nlp_engine/__init__`` reads
``device_detector``), ``nlp_engine.huggingface_token_pipe`` (``transformers``),
``predefined_recognizers.ner.huggingface_ner_recognizer`` (both) and spaCy's ``thinc.compat``
(``torch``). Each wraps the import in ``try``/``except ImportError`` and falls back to "not
installed". EAS installs both packages (``nlp_service`` trains and serves with them), so in a fresh
process those probes load them: about two thirds of the seconds the engine took to build, paid in the
first step of every Dagster run that masks. EAS's analyzer runs on :class:`NoOpNlpEngine` with
pattern recognizers only (:mod:`eas_pipelines.pii.engine`); nothing of either package is used.

:func:`without_deep_learning` makes those probes see the packages as absent, narrowly:

* only on the thread that builds the engine (another thread importing ``torch`` meanwhile is unaffected);
* only for packages not yet imported: where ``torch`` is already loaded, Presidio and thinc get it
  exactly as they would without the guard;
* only while the guard is active: a refused import leaves nothing in ``sys.modules``, so a later
  ``import torch`` or ``import transformers`` anywhere in the process (the learning agent,
  ``nlp_service``) loads the real packages.

What outlives the guard: the modules imported under it keep their answer. Presidio's Hugging Face
token pipe and NER recognizer and thinc (so spaCy's thinc layer) believe ``torch`` and
``transformers`` absent for the life of the process. EAS uses neither Presidio's transformer engines
nor spaCy models; ``nlp_service`` imports ``torch`` and ``transformers`` directly, not through thinc.
A process that ever needs one of those in the same process as masking must import it before the
engine is built, or build its engine without this guard.
"""

from __future__ import annotations

import importlib.abc
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.machinery import ModuleSpec
from types import ModuleType

HIDDEN: tuple[str, ...] = ("torch", "transformers")
"""The top-level packages Presidio's import probes for and EAS's pattern-only analyzer never uses."""


class _HidingFinder(importlib.abc.MetaPathFinder):
    """Answers "no such module" for the hidden packages, on one thread, while they are not loaded."""

    def __init__(self, hidden: Sequence[str], thread: int) -> None:
        self._hidden = frozenset(hidden)
        self._thread = thread

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        root = fullname.partition(".")[0]
        if root in self._hidden and root not in sys.modules and threading.get_ident() == self._thread:
            # Raised, not returned as None: None would let the next finder on sys.meta_path find it.
            raise ModuleNotFoundError(
                f"No module named {fullname!r} (hidden while the PII analyzer is built; see {__name__})",
                name=fullname,
            )
        return None


@contextmanager
def without_deep_learning(hidden: Sequence[str] = HIDDEN) -> Iterator[None]:
    """Within the block, on this thread, importing a not-yet-loaded package in ``hidden`` fails as absent."""
    finder = _HidingFinder(hidden, threading.get_ident())
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
