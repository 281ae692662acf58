"""Words in, intent distribution and BIO tags out: the part shared by evaluation and serving."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nlp_service.data.schema import OUTSIDE_TAG
from nlp_service.inference.backends import RunFn, open_backend
from nlp_service.inference.length_groups import DEFAULT_CALL_COST_TOKENS, plan_length_groups
from nlp_service.model.bio import log_softmax, transition_mask, viterbi
from nlp_service.model.bundle import Manifest, ModelDirError, load_tokenizer
from nlp_service.model.distance_gate import DistanceGate
from nlp_service.model.features import encode_words
from nlp_service.model.labels import LabelMaps


@dataclass
class WordPrediction:
    """Calibrated intent probabilities (in ``labels.intents`` order), one tag per word, and the
    distance gate's score of the sentence (None for a model without a gate)."""

    intent_probs: np.ndarray
    tags: list[str]
    in_scope_score: float | None = None


class WordPredictor:
    """Runs the network on pre-split words and decodes valid BIO tag sequences."""

    def __init__(
        self,
        run: RunFn,
        tokenizer,
        labels: LabelMaps,
        max_length: int,
        version: str = "",
        gate: DistanceGate | None = None,
    ) -> None:
        self.run = run
        self.gate = gate
        self.tokenizer = tokenizer
        self.labels = labels
        self.max_length = max_length
        self.version = version
        self.call_cost_tokens = DEFAULT_CALL_COST_TOKENS
        self._start, self._transitions, self._end = self._decoding_scores(labels)

    @classmethod
    def load(
        cls,
        model_dir: Path | str,
        backend: str = "auto",
        threads: int | None = None,
        precision: str = "auto",
    ) -> WordPredictor:
        model_dir = Path(model_dir)
        manifest = Manifest.load(model_dir)
        runtime = open_backend(model_dir, backend, threads, precision)
        predictor = cls(
            runtime,
            load_tokenizer(model_dir),
            LabelMaps.load(model_dir / "labels.json"),
            manifest.max_length,
            manifest.version,
            DistanceGate.load(model_dir),
        )
        predictor.backend_name = runtime.name
        predictor.precision = runtime.precision
        predictor.device = runtime.device
        return predictor

    @staticmethod
    def _decoding_scores(labels: LabelMaps) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(start, transitions, end) for Viterbi: the BIO constraints, plus a CRF's learnt scores.

        With a CRF the decoder reads raw slot logits and adds its scores (``end`` is set);
        without, it reads log-probabilities under the constraints alone (``end`` is None).
        """
        start, transitions = transition_mask(labels.tags)
        crf = labels.slot_transitions
        if not crf:
            return start, transitions, None
        return (
            start + np.asarray(crf["start"], dtype=np.float32),
            transitions + np.asarray(crf["transitions"], dtype=np.float32),
            np.asarray(crf["end"], dtype=np.float32),
        )

    @property
    def decodes_with_crf(self) -> bool:
        return self._end is not None

    def predict(self, batch: Sequence[Sequence[str]]) -> list[WordPrediction]:
        if not batch:
            return []
        encoded = encode_words(self.tokenizer, batch, self.max_length)
        intent_logits, slot_logits, sentences = self._run_grouped(encoded.input_ids, encoded.attention_mask)
        scores = self._gate_scores(sentences)
        scaled = intent_logits / self.labels.temperature
        probs = np.exp(log_softmax(scaled))
        slot_scores = slot_logits if self._end is not None else log_softmax(slot_logits)
        outside = self.labels.tags.index(OUTSIDE_TAG)
        predictions = []
        for row, starts in enumerate(encoded.word_starts):
            kept = [i for i, position in enumerate(starts) if position >= 0]
            path = viterbi(
                slot_scores[row, [starts[i] for i in kept]], self._start, self._transitions, self._end
            )
            tags = [self.labels.tags[outside]] * len(starts)
            for word, tag in zip(kept, path, strict=True):
                tags[word] = self.labels.tags[tag]
            score = None if scores is None else float(scores[row])
            predictions.append(WordPrediction(probs[row], tags, score))
        return predictions

    def _gate_scores(self, sentences: np.ndarray | None) -> np.ndarray | None:
        if self.gate is None:
            return None
        if sentences is None:
            raise ModelDirError(
                "the model has a distance gate but its runtime returns no sentence embedding "
                "(an ONNX file exported before the gate): run eas-nlp export again"
            )
        return self.gate.scores(sentences)

    def _run_grouped(
        self, input_ids: np.ndarray, attention_mask: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The network over the batch, one call per group of similar-length rows, each group
        cut to its own longest row (``length_groups``); outputs come back in row order, slot
        scores past a row's group length are zero (they are padding, and never read). The
        sentence embeddings are None where the runtime returns none."""
        lengths = attention_mask.sum(axis=1)
        groups = plan_length_groups(lengths, self.call_cost_tokens)
        if len(groups) == 1:
            width = int(lengths.max())
            intents, slots, *rest = self.run(input_ids[:, :width], attention_mask[:, :width])
            return intents, slots, rest[0] if rest else None
        intent_logits = slot_logits = sentences = None
        for rows in groups:
            width = int(lengths[rows].max())
            intents, slots, *rest = self.run(input_ids[rows, :width], attention_mask[rows, :width])
            if intent_logits is None:
                intent_logits = np.empty((len(lengths), intents.shape[1]), dtype=intents.dtype)
                slot_logits = np.zeros((*input_ids.shape, slots.shape[2]), dtype=slots.dtype)
                if rest:
                    sentences = np.empty((len(lengths), rest[0].shape[1]), dtype=rest[0].dtype)
            intent_logits[rows] = intents
            slot_logits[rows, :width] = slots
            if sentences is not None:
                sentences[rows] = rest[0]
        return intent_logits, slot_logits, sentences

    def decide_intent(
        self, probs: np.ndarray, in_scope_score: float | None = None
    ) -> tuple[str, float, bool]:
        """(intent, confidence, out_of_scope): out of scope when the out-of-scope class wins, the
        confidence is under the threshold, or the distance gate does not admit the sentence."""
        best = int(probs.argmax())
        intent, confidence = self.labels.intents[best], float(probs[best])
        out_of_scope = intent == self.labels.oos_label or confidence < self.labels.oos_threshold
        if self.gate is not None and in_scope_score is not None:
            out_of_scope = out_of_scope or not self.gate.admits(in_scope_score)
        if out_of_scope and self.labels.oos_label:
            intent = self.labels.oos_label
        return intent, confidence, out_of_scope
