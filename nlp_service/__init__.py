"""EAS NLP service: joint intent + entity model, its training, evaluation and serving."""

__version__ = "0.1.0"
