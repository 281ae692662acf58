"""One entry point that recognises a data set's format from its path."""

from __future__ import annotations

from pathlib import Path

from nlp_service.data.clinc import load_clinc_json
from nlp_service.data.errors import DataFormatError
from nlp_service.data.schema import Dataset
from nlp_service.data.seqio import is_seq_folder, load_seq_folder


def load_dataset(path: str | Path) -> Dataset:
    """Load a ``seq.in``-format folder or a CLINC150-style JSON file."""
    path = Path(path)
    if not path.exists():
        raise DataFormatError(path, "no such file or folder")
    if path.is_file() and path.suffix == ".json":
        return load_clinc_json(path)
    if is_seq_folder(path):
        return load_seq_folder(path)
    raise DataFormatError(
        path,
        "not a data set: expected a folder with train/dev/test sub-folders holding seq.in, "
        "seq.out and label, or a CLINC150-style .json file",
    )
