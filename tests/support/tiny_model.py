"""A tiny encoder and a small labelled data set, so model tests train in seconds.

The encoder has the shape of BERT at a fraction of the size (2 layers, 32 hidden) and the
real all-MiniLM-L6-v2 tokenizer, so every code path (tokenisation, first-sub-word
labels, ONNX export, serving) is the production one; only accuracy is lower.
"""

from __future__ import annotations

import random
from pathlib import Path

import torch
from transformers import AutoTokenizer, BertConfig, BertModel

from nlp_service.data.schema import Dataset, Utterance
from nlp_service.model.encoder import resolve_encoder
from nlp_service.text.words import split_words

# An encoder seed whose tiny model reads the end-to-end tests' invoice text (checked by
# tests/eas_pipelines/cli/test_up.py before it starts `eas up`). With the slot CRF (the
# default), seeds 5 and 6 of 1-7 did; 2 no longer did.
TINY_ENCODER_SEED = 5

NAMES = ["Bob", "Dana", "Maria Lopez", "Zoë Müller", "Ahmed", "Li Wei"]
VENDORS = ["Acme Corp", "Globex", "Initech Ltd", "Umbrella"]
AMOUNTS = ["$12,400", "$99", "€1,250.50", "3,000 USD", "$7.25"]
RANGES = ["March 3 to 7", "next week", "June 10-14", "Dec 22 - Jan 2"]

TEMPLATES = {
    "finance.invoice_process": [
        "process invoice {invoice_id} from {vendor} for {amount}",
        "please pay {vendor} invoice {invoice_id} of {amount}",
        "{vendor} sent invoice {invoice_id} for {amount}, process it",
    ],
    "hr.leave_request": [
        "I need PTO {date_range}",
        "{employee} wants leave {date_range}",
        "book vacation for {employee} {date_range}",
    ],
    "oos": ["tell me a joke", "what is the weather in Paris", "how tall is mount everest", "play some jazz"],
}


def _fill(template: str, rng: random.Random) -> Utterance:
    values = {
        "invoice_id": f"INV-{rng.randint(1000, 9999)}",
        "vendor": rng.choice(VENDORS),
        "amount": rng.choice(AMOUNTS),
        "employee": rng.choice(NAMES),
        "date_range": rng.choice(RANGES),
    }
    text, spans = "", []
    for piece in template.replace("}", "{").split("{"):
        if piece in values:
            spans.append((len(text), len(text) + len(values[piece]), piece))
            text += values[piece]
        else:
            text += piece
    words = split_words(text)
    tags = []
    for word in words:
        tag = "O"
        for start, end, kind in spans:
            if start <= word.start < end:
                tag = ("B-" if word.start == start else "I-") + kind
        tags.append(tag)
    intent = next(name for name, templates in TEMPLATES.items() if template in templates)
    return Utterance(tuple(w.text for w in words), tuple(tags), intent)


def tiny_dataset(per_template: int = 25, seed: int = 7) -> Dataset:
    """A few hundred examples over three intents (one of them out-of-scope) and five entity types."""
    rng = random.Random(seed)
    splits: dict[str, list[Utterance]] = {"train": [], "dev": [], "test": []}
    for templates in TEMPLATES.values():
        for template in templates:
            for _ in range(per_template):
                splits["train"].append(_fill(template, rng))
            for split in ("dev", "test"):
                splits[split].extend(_fill(template, rng) for _ in range(3))
    return Dataset(name="tiny", splits=splits, has_slots=True, oos_label="oos")


def make_tiny_encoder(folder: Path, seed: int = TINY_ENCODER_SEED) -> Path:
    """Save a randomly initialised small BERT plus the real tokenizer to ``folder``.

    Seeded (training is seeded too), so that every test session trains the same tiny model: from
    an unseeded encoder about half of the models missed ``INV-4242`` in the end-to-end tests'
    invoice text, and those tests failed by chance.
    """
    tokenizer = AutoTokenizer.from_pretrained(str(resolve_encoder("all-MiniLM-L6-v2")))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    with torch.random.fork_rng():  # leave the global generator as other tests expect it
        torch.manual_seed(seed)
        encoder = BertModel(config)
    encoder.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return folder
