import json
from pathlib import Path

import pytest

from nlp_service.data import DataFormatError, load_dataset

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "datasets"


def test_loads_clinc150_with_out_of_scope_merged_into_each_split():
    dataset = load_dataset(SHARED / "clinc150" / "data_full.json")
    sizes = {name: len(examples) for name, examples in dataset.splits.items()}
    assert sizes == {"train": 15100, "dev": 3100, "test": 5500}
    assert dataset.oos_label == "oos" and not dataset.has_slots
    assert sum(u.intent == "oos" for u in dataset.split("test")) == 1000
    assert len(dataset.intents()) == 151
    assert all(set(u.tags) == {"O"} for u in dataset.split("dev"))


def test_invalid_json_names_the_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"train": [\n["hi", "greet"],\n]}')
    with pytest.raises(DataFormatError, match=r"bad.json:3: invalid JSON"):
        load_dataset(path)


def test_rows_of_the_wrong_shape_are_named(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"train": [["hi", "greet"], ["no intent"]]}))
    with pytest.raises(DataFormatError, match=r"train\[1\] must be \[text, intent\]"):
        load_dataset(path)
    path.write_text(json.dumps({"val": []}))
    with pytest.raises(DataFormatError, match=r"no 'train' or 'test' list"):
        load_dataset(path)
