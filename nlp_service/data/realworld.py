"""Human-written requests scored the way EAS routes them: CLINC150's and SNIPS's sentences on EAS intents.

The enterprise set is generated from templates, so a model can score well on it and still misroute
what real people write. CLINC150 holds sentences written by crowd workers: its ``work`` domain asks
for leave, leave balance, payday / W-2 / direct-deposit help and meetings, which EAS handles; its
other nine domains (banking, travel, smart home, small talk, ...) and its out-of-scope split are
everyday requests EAS must *not* act on, and so are SNIPS's seven intents (music, weather,
restaurants, ...).

Three groups, then:

- **work**: CLINC150 intents mapped onto the EAS intents that serve them (:data:`CLINC_TO_EAS`);
  a mapped intent may accept several EAS intents (booking a meeting room is scheduling either way);
- **unrelated**: every other CLINC150 intent, the ``oos`` split and all of SNIPS;
- **left out**: CLINC150 work intents EAS has no intent for, or that a reasonable person could route
  to an agent ("was my vacation approved", "text dave I'm late"): scoring them either way would
  measure the mapping, not the model (:data:`CLINC_LEFT_OUT`).

Only the split asked for is read, so a benchmark scores ``test`` while training may use ``train``.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from nlp_service.data.errors import DataFormatError
from nlp_service.data.schema import OUTSIDE_TAG, UNLABELLED_TAG, Dataset, Utterance
from nlp_service.data.seqio import load_split
from nlp_service.text.words import words_of

CLINC_TO_EAS: dict[str, tuple[str, ...]] = {
    "pto_request": ("hr.leave_request",),
    "pto_balance": ("hr.leave_balance",),
    "pto_used": ("hr.leave_balance",),
    "payday": ("hr.payroll_question",),
    "w2": ("hr.payroll_question",),
    "direct_deposit": ("hr.payroll_question",),
    "schedule_meeting": ("scheduling.meeting_schedule", "scheduling.resource_booking"),
}
"""CLINC150 work intents and the EAS intents that correctly serve them (first one: the usual one)."""

CLINC_LEFT_OUT: frozenset[str] = frozenset(
    {
        "pto_request_status",  # no EAS intent asks for a leave request's status
        "meeting_schedule",  # "what meetings do I have": no calendar-query intent
        "next_holiday",
        "insurance",
        "insurance_change",
        "taxes",
        "income",
        "rollover_401k",  # benefits questions: arguably hr.payroll_question, arguably not
        "calendar",
        "calendar_update",  # a personal calendar, or a work one: either reading is fair
        "text",  # "tell susan the meeting is cancelled" could be communication.send_message
    }
)
"""CLINC150 intents scored neither as work nor as unrelated (see the module docstring)."""

UNRELATED = "unrelated"
"""The expected label of an everyday request: no agent may be launched for it."""

_CLINC_SPLITS = {"train": ("train", "oos_train"), "dev": ("val", "oos_val"), "test": ("test", "oos_test")}


@dataclass(frozen=True)
class RoutingCase:
    """One human-written request: its text, where it came from, and what EAS should do with it.

    ``accepted`` is empty for an unrelated request (no agent may run), else the EAS intents that
    serve it.
    """

    text: str
    source: str  # "clinc150:pto_request", "snips:GetWeather", "clinc150:oos"
    accepted: tuple[str, ...]

    @property
    def is_work(self) -> bool:
        return bool(self.accepted)

    @property
    def expected(self) -> str:
        return self.accepted[0] if self.accepted else UNRELATED


def clinc_cases(path: Path, split: str) -> list[RoutingCase]:
    """Work and unrelated cases of CLINC150 (``data_full.json``) for ``split`` (train, dev, test)."""
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataFormatError(path, f"cannot read CLINC150 JSON: {exc}") from exc
    in_scope, oos = _CLINC_SPLITS[split]
    if in_scope not in payload:
        raise DataFormatError(path, f"no {in_scope!r} list (CLINC150 format)")
    cases = []
    for text, intent in payload[in_scope]:
        if intent in CLINC_LEFT_OUT:
            continue
        cases.append(RoutingCase(text, f"clinc150:{intent}", CLINC_TO_EAS.get(intent, ())))
    cases.extend(RoutingCase(text, "clinc150:oos", ()) for text, _ in payload.get(oos, ()))
    return cases


def snips_cases(folder: Path, split: str) -> list[RoutingCase]:
    """SNIPS's sentences of ``split``: all everyday requests (music, weather, restaurants, ...)."""
    return [RoutingCase(u.text, f"snips:{u.intent}", ()) for u in load_split(folder / split)]


def realworld_cases(datasets_dir: Path, split: str = "test") -> list[RoutingCase]:
    """CLINC150 and SNIPS cases from ``datasets_dir`` (the shared ``datasets`` folder)."""
    if split not in _CLINC_SPLITS:
        raise ValueError(f"split must be one of {sorted(_CLINC_SPLITS)}, got {split!r}")
    cases = clinc_cases(datasets_dir / "clinc150" / "data_full.json", split)
    return cases + snips_cases(datasets_dir / "snips", split)


ROOM_WORDS = frozenset({"room", "rooms"})
"""Words that make a meeting request a room to book (see :func:`training_intent`)."""


def training_intent(case: RoutingCase, words: tuple[str, ...]) -> str:
    """The EAS intent a public work sentence is trained as: its usual one, except that a sentence
    about a meeting *room* ("is there a meeting room free at 8") is a resource to book, as the
    enterprise templates label it. Trained as both, such sentences split the model's confidence
    between the two scheduling intents and went to review under the gateway's minimum confidence
    (BENCHMARKS.md); either intent is right for them when scored."""
    booking = "scheduling.resource_booking"
    if booking in case.accepted and ROOM_WORDS.intersection(word.lower() for word in words):
        return booking
    return case.expected


def with_public_sentences(
    dataset: Dataset, datasets_dir: Path, oos_label: str = "oos", *, per_source_intent: int | None = None
) -> Dataset:
    """``dataset`` plus CLINC150's and SNIPS's train (and dev) sentences, mapped as above.

    ``per_source_intent`` keeps at most that many sentences of each everyday source intent and
    split (the first in file order: deterministic), so that a model trained in minutes still sees
    every public intent; None keeps them all. Work intents keep all their sentences: they are the
    few people-written phrasings of what EAS does (seven intents, 100 train sentences each), and
    capped, they were outnumbered by everyday money talk (CLINC150's banking domain, out of scope)
    until "when is my next check coming" read as personal banking.

    Work requests join ``train`` under their EAS intent (:func:`training_intent`) with
    :data:`UNLABELLED_TAG` tags (nobody marked their entities; the slot loss skips them, and dev's
    slot scores could not). Everyday
    requests join ``train`` and ``dev`` as ``oos_label`` with ``O`` tags: an out-of-scope sentence
    has no entity to extract, and on dev they make the fitted out-of-scope threshold see what people
    outside the templates write. Test splits are never read.
    """
    splits = {name: list(examples) for name, examples in dataset.splits.items()}
    for split in ("train", "dev"):
        kept: Counter[str] = Counter()
        for case in realworld_cases(datasets_dir, split):
            if per_source_intent is not None and not case.is_work:
                if kept[case.source] >= per_source_intent:
                    continue
                kept[case.source] += 1
            words = tuple(words_of(case.text))
            if not words:
                continue
            if case.is_work:
                if split == "train":
                    tags = (UNLABELLED_TAG,) * len(words)
                    splits[split].append(Utterance(words, tags, training_intent(case, words)))
            else:
                splits.setdefault(split, []).append(Utterance(words, (OUTSIDE_TAG,) * len(words), oos_label))
    return Dataset(
        name=f"{dataset.name}+public", splits=splits, has_slots=dataset.has_slots, oos_label=oos_label
    )
