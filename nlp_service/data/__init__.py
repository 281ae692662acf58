"""Data sets for the joint intent + slot model, in the formats the public benchmarks use."""

from nlp_service.data.errors import DataFormatError
from nlp_service.data.loader import load_dataset
from nlp_service.data.schema import Dataset, Utterance

__all__ = ["DataFormatError", "Dataset", "Utterance", "load_dataset"]
