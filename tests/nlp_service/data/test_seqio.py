from pathlib import Path

import pytest

from nlp_service.data import DataFormatError, load_dataset
from nlp_service.data.schema import Utterance
from nlp_service.data.seqio import load_split, write_split

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "datasets"


def _write(folder: Path, seq_in: str, seq_out: str, label: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "seq.in").write_text(seq_in, encoding="utf-8")
    (folder / "seq.out").write_text(seq_out, encoding="utf-8")
    (folder / "label").write_text(label, encoding="utf-8")
    return folder


def test_loads_snips_with_its_published_split_sizes():
    dataset = load_dataset(SHARED / "snips")
    assert {name: len(examples) for name, examples in dataset.splits.items()} == {
        "train": 13084,
        "dev": 700,
        "test": 700,
    }
    assert len(dataset.intents()) == 7
    assert dataset.has_slots
    first = dataset.split("train")[0]
    assert first.words[:2] == ("listen", "to") and first.tags[2] == "B-artist" and first.intent == "PlayMusic"


def test_round_trips_through_write_split(tmp_path):
    examples = [
        Utterance(("pay", "INV-1", "now"), ("O", "B-invoice_id", "O"), "finance.invoice_process"),
        Utterance(("hello",), ("O",), "oos"),
    ]
    write_split(tmp_path / "train", examples)
    assert load_split(tmp_path / "train") == examples
    assert load_dataset(tmp_path).oos_label == "oos"


def test_line_counts_that_differ_name_each_file(tmp_path):
    folder = _write(tmp_path / "train", "a b\nc\n", "O O\nO\n", "x\n")
    with pytest.raises(
        DataFormatError, match=r"line counts differ: seq.in has 2, seq.out has 2, label has 1"
    ):
        load_split(folder)


def test_tag_count_that_differs_from_word_count_names_file_and_line(tmp_path):
    folder = _write(tmp_path / "train", "a b\nc d e\n", "O O\nO O\n", "x\ny\n")
    with pytest.raises(DataFormatError) as error:
        load_split(folder)
    assert str(error.value).startswith(f"{folder / 'seq.out'}:2: 2 tags for 3 words")
    assert error.value.line == 2


def test_malformed_tag_and_empty_line_are_reported(tmp_path):
    with pytest.raises(DataFormatError, match=r"seq.out:1: 'X-artist' is not a BIO tag"):
        load_split(_write(tmp_path / "a", "a\n", "X-artist\n", "x\n"))
    with pytest.raises(DataFormatError, match=r"seq.in:2: empty utterance"):
        load_split(_write(tmp_path / "b", "a\n \n", "O\n\n", "x\ny\n"))


def test_missing_file_and_non_utf8_are_reported(tmp_path):
    folder = _write(tmp_path / "train", "a\n", "O\n", "x\n")
    (folder / "label").unlink()
    with pytest.raises(DataFormatError, match=r"label: file is missing"):
        load_split(folder)
    (folder / "label").write_bytes(b"\xff\xfe\n")
    with pytest.raises(DataFormatError, match=r"not UTF-8"):
        load_split(folder)


def test_unknown_path_and_format(tmp_path):
    with pytest.raises(DataFormatError, match="no such file or folder"):
        load_dataset(tmp_path / "missing")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(DataFormatError, match="not a data set"):
        load_dataset(tmp_path / "notes.txt")
