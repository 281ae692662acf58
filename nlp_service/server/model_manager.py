"""Which model the server serves: the first load (training the default model if need be),
reloads, and the reason the server is not ready yet.

Which directory: ``model_dir``, or ``gpu_model_dir`` where that is set and a CUDA GPU is
present (a larger model where the hardware pays for it, the int8 ONNX student on CPU); the
choice is made once, at start, and reloads without a path keep it.

Loading happens in a background thread so that the server answers ``/healthz`` and
``/readyz`` at once, even while a model is being trained. A reload builds the new parser
completely before swapping it in with one attribute assignment; the micro-batcher reads
``parser`` once per batch, so every request is served by either the old or the new model
and none fails in between.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from nlp_service.config import NLPSettings
from nlp_service.default_model import has_model
from nlp_service.inference import backends
from nlp_service.inference.parser import NLUParser
from nlp_service.server.metrics import ServerMetrics

logger = logging.getLogger(__name__)

LoadModel = Callable[[Path], NLUParser]
TrainDefault = Callable[[Path], Path]
GPU_PRESENT = "GPU present"


class ReloadInProgressError(RuntimeError):
    """A model is being loaded already; the server answers 409."""


class ModelManager:
    """Holds the served parser and loads new ones in a background thread.

    ``parser`` is ``None`` until the first load succeeds; ``reason`` then says why.
    """

    def __init__(
        self,
        settings: NLPSettings,
        metrics: ServerMetrics,
        *,
        load_model: LoadModel,
        train_default: TrainDefault | None,
        parser: NLUParser | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.model_dir = Path(settings.model_dir)
        self._load_model = load_model
        self._train_default = train_default
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.parser: NLUParser | None = None
        self.reason = "the model loader has not started"
        # Why model_dir is the directory it is, when gpu_model_dir is set; shown in the reason.
        self.choice = ""
        self.serving_gpu_model_dir = False
        self.last_reload_error: str | None = None
        if parser is not None:
            self._swap(parser, self.model_dir)

    @property
    def loading(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def start(self) -> None:
        """Begin the first load in the background, unless a parser was given.

        The reason is set before the thread starts, so ``/readyz`` never reports a stale one.
        """
        if self.parser is not None:
            return
        model_dir = self.model_dir = self._choose_model_dir()
        if has_model(model_dir):
            self.reason = self._loading_reason(model_dir)
        elif self.serving_gpu_model_dir:
            # The default model is the CPU student; training it into the GPU directory would
            # serve the wrong model there, silently, from then on.
            self.reason = (
                f"{GPU_PRESENT}, but EAS_NLP_GPU_MODEL_DIR {model_dir} holds no model (no manifest.json): "
                f"train or copy one there (eas-nlp train --encoder mpnet --out {model_dir}), "
                "or unset EAS_NLP_GPU_MODEL_DIR / --gpu-model to serve EAS_NLP_MODEL_DIR "
                f"{self.settings.model_dir}"
            )
            logger.error(self.reason)
            return
        elif self._train_default is not None and self.settings.train_default_if_missing:
            self.reason = f"training the default model into {model_dir} (first start; takes a few minutes)"
        else:
            self.reason = (
                f"no model at {model_dir} (train one with eas-nlp train --out {model_dir}, "
                "or point EAS_NLP_MODEL_DIR / --model at one)"
            )
            logger.error(self.reason)
            return
        self._spawn(self._initial_load, "nlp-model-loader")

    def _choose_model_dir(self) -> Path:
        """``gpu_model_dir`` when it is set and a CUDA GPU is present, else ``model_dir``.

        CUDA is only asked about when ``gpu_model_dir`` is set: the question imports torch.
        """
        settings = self.settings
        if settings.gpu_model_dir is None:
            return Path(settings.model_dir)
        self.serving_gpu_model_dir = backends.cuda_available()
        if self.serving_gpu_model_dir:
            self.choice = f"{GPU_PRESENT}: serving EAS_NLP_GPU_MODEL_DIR instead of EAS_NLP_MODEL_DIR"
            chosen = Path(settings.gpu_model_dir)
        else:
            self.choice = "no CUDA GPU: serving EAS_NLP_MODEL_DIR, not EAS_NLP_GPU_MODEL_DIR"
            chosen = Path(settings.model_dir)
        logger.info("%s: %s", self.choice, chosen)
        return chosen

    def _loading_reason(self, model_dir: Path) -> str:
        """``loading model from DIR``, and why DIR when it is the directory chosen at start."""
        suffix = f" ({self.choice})" if self.choice and model_dir == self.model_dir else ""
        return f"loading model from {model_dir}{suffix}"

    def reload(self, model_dir: Path | None = None) -> Path:
        """Load ``model_dir`` (default: the current one) in the background; swap it in when ready."""
        target = Path(model_dir) if model_dir is not None else self.model_dir
        self._spawn(lambda: self._reload(target), "nlp-model-reload")
        return target

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the load in progress, if any; ``True`` when none is running any more."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.loading

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        with self._lock:
            if self.loading:
                raise ReloadInProgressError(
                    "a model is being loaded already; try again when /readyz shows it"
                )
            self._thread = threading.Thread(target=target, name=name, daemon=True)
            self._thread.start()

    @staticmethod
    def _warm(parser: NLUParser) -> NLUParser:
        """One parse before serving: a runtime's first call is slow (allocation, kernel choice),
        and it should not be a user's request that pays for it."""
        parser.parse_batch(["warm up the model with invoice INV-1000 for $10 next Friday"], [None])
        return parser

    def _swap(self, parser: NLUParser, model_dir: Path) -> None:
        # The directory first: whoever sees the new parser also sees where it came from.
        self.model_dir = model_dir
        self.parser = parser
        self.reason = ""
        self.metrics.set_model(parser.model_version, parser.backend, parser.device)
        logger.info(
            "serving model %s from %s (%s %s on %s)",
            parser.model_version,
            model_dir,
            parser.backend,
            parser.precision,
            parser.device,
        )

    def _initial_load(self) -> None:
        model_dir = self.model_dir
        try:
            if not has_model(model_dir):
                assert self._train_default is not None  # start() checked
                logger.warning(self.reason)
                self._train_default(model_dir)
            self.reason = self._loading_reason(model_dir)
            self._swap(self._warm(self._load_model(model_dir)), model_dir)
        except Exception as exc:
            self.reason = f"failed to load the model from {model_dir}: {exc}"
            logger.exception("failed to load the model from %s", model_dir)

    def _reload(self, model_dir: Path) -> None:
        if self.parser is None:
            self.reason = self._loading_reason(model_dir)
        try:
            parser = self._warm(self._load_model(model_dir))
        except Exception as exc:
            self.last_reload_error = f"failed to load {model_dir}: {exc}"
            if self.parser is None:
                self.reason = self.last_reload_error
            self.metrics.reloads.labels(outcome="failure").inc()
            logger.exception("reload from %s failed; still serving the previous model", model_dir)
            return
        self.last_reload_error = None
        self._swap(parser, model_dir)
        self.metrics.reloads.labels(outcome="success").inc()
