"""Raw text in, ``ParseResult`` out: the server's and the CLI's one entry point to the model."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np

from nlp_service.inference.predictor import WordPredictor
from nlp_service.inference.result import IntentScore, ParseResult
from nlp_service.text.spans import decode_entities
from nlp_service.text.words import split_words

ALTERNATIVES = 3


class NLUParser:
    """Splits text into words, runs the predictor on a whole batch, decodes entities.

    One call handles many texts so that the server's micro-batcher pays for one encoder
    pass per batch instead of one per request.
    """

    def __init__(self, predictor: WordPredictor) -> None:
        self.predictor = predictor

    @classmethod
    def load(
        cls,
        model_dir: Path | str,
        backend: str = "auto",
        threads: int | None = None,
        precision: str = "auto",
    ) -> NLUParser:
        return cls(WordPredictor.load(model_dir, backend, threads, precision))

    @property
    def model_version(self) -> str:
        return self.predictor.version

    @property
    def backend(self) -> str:
        return getattr(self.predictor, "backend_name", "torch")

    @property
    def precision(self) -> str:
        return getattr(self.predictor, "precision", "fp32")

    @property
    def device(self) -> str:
        return getattr(self.predictor, "device", "cpu")

    def parse(self, text: str, reference_date: date | None = None) -> ParseResult:
        return self.parse_batch([text], [reference_date])[0]

    def parse_batch(
        self, texts: Sequence[str], reference_dates: Sequence[date | None] | None = None
    ) -> list[ParseResult]:
        reference_dates = reference_dates or [None] * len(texts)
        today = date.today()
        words = [split_words(text) for text in texts]
        # An input with no word at all (only spaces) still gets a prediction: one empty word.
        predictions = self.predictor.predict([[w.text for w in ws] or [""] for ws in words])
        results = []
        for text, text_words, reference, prediction in zip(
            texts, words, reference_dates, predictions, strict=True
        ):
            intent, confidence, out_of_scope = self.predictor.decide_intent(
                prediction.intent_probs, prediction.in_scope_score
            )
            order = np.argsort(-prediction.intent_probs)[:ALTERNATIVES]
            alternatives = [
                IntentScore(self.predictor.labels.intents[i], round(float(prediction.intent_probs[i]), 4))
                for i in order
            ]
            entities = decode_entities(
                text, text_words, prediction.tags[: len(text_words)], reference or today
            )
            results.append(
                ParseResult(
                    intent=intent,
                    confidence=round(confidence, 4),
                    alternatives=alternatives,
                    out_of_scope=out_of_scope,
                    entities=entities,
                    model_version=self.model_version,
                )
            )
        return results
