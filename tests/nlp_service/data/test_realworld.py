"""The realistic routing cases: CLINC150's work intents mapped onto EAS, everything else unrelated."""

import json
from pathlib import Path

import pytest

from nlp_service.data import DataFormatError
from nlp_service.data.realworld import (
    CLINC_LEFT_OUT,
    CLINC_TO_EAS,
    UNRELATED,
    RoutingCase,
    clinc_cases,
    realworld_cases,
    training_intent,
    with_public_sentences,
)
from nlp_service.data.schema import UNLABELLED_TAG, Dataset, Utterance
from nlp_service.enterprise.labels import ALL_LABELS

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "datasets"


def test_test_split_has_work_and_unrelated_requests_from_both_data_sets():
    cases = realworld_cases(SHARED, "test")
    work = [c for c in cases if c.is_work]
    unrelated = [c for c in cases if not c.is_work]
    assert len(work) == 30 * len(CLINC_TO_EAS)  # CLINC150 has 30 test sentences per intent
    # 150 intents less the work ones and those left out, 30 each; 1,000 out of scope; SNIPS's 700.
    assert len(unrelated) == 30 * (150 - len(CLINC_TO_EAS) - len(CLINC_LEFT_OUT)) + 1000 + 700
    assert {c.source for c in unrelated if c.source.startswith("snips:")} >= {"snips:GetWeather"}
    assert all(c.expected == UNRELATED and c.accepted == () for c in unrelated)
    assert not {c.source.removeprefix("clinc150:") for c in cases} & CLINC_LEFT_OUT


def test_every_mapped_intent_is_an_eas_intent():
    assert all(intent in ALL_LABELS for accepted in CLINC_TO_EAS.values() for intent in accepted)


def test_splits_do_not_mix(tmp_path):
    path = tmp_path / "clinc.json"
    path.write_text(
        json.dumps(
            {
                "train": [["how many vacation days do i have", "pto_balance"]],
                "test": [["what's the weather", "weather"], ["was my pto approved", "pto_request_status"]],
                "oos_test": [["how do i juggle", "oos"]],
            }
        )
    )
    train = clinc_cases(path, "train")
    assert [(c.text, c.accepted) for c in train] == [
        ("how many vacation days do i have", ("hr.leave_balance",))
    ]
    test = clinc_cases(path, "test")
    assert [(c.source, c.is_work) for c in test] == [("clinc150:weather", False), ("clinc150:oos", False)]
    with pytest.raises(DataFormatError, match="no 'val' list"):
        clinc_cases(path, "dev")


def test_public_sentences_join_train_and_dev_never_test():
    base = Dataset(
        name="ent",
        splits={
            "train": [Utterance(("pay", "INV-1"), ("O", "B-invoice_id"), "finance.invoice_process")],
            "dev": [],
            "test": [Utterance(("hi",), ("O",), "oos")],
        },
        has_slots=True,
        oos_label="oos",
    )
    grown = with_public_sentences(base, SHARED)
    assert grown.splits["test"] == base.splits["test"]
    work = [u for u in grown.split("train") if u.intent == "hr.leave_balance"]
    assert len(work) == 200  # CLINC150's 100 train sentences each of pto_balance and pto_used
    assert all(set(u.tags) == {UNLABELLED_TAG} for u in work)  # nobody annotated their entities
    assert not any(u.intent == "hr.leave_balance" for u in grown.split("dev"))
    everyday_dev = [u for u in grown.split("dev") if u.intent == "oos"]
    assert len(everyday_dev) == 20 * (150 - len(CLINC_TO_EAS) - len(CLINC_LEFT_OUT)) + 100 + 700
    assert all(set(u.tags) == {"O"} for u in everyday_dev)


def test_capped_public_sentences_keep_every_work_sentence_and_book_rooms():
    base = Dataset(name="ent", splits={"train": [], "dev": []}, has_slots=True, oos_label="oos")
    grown = with_public_sentences(base, SHARED, per_source_intent=5)
    train = grown.split("train")
    payroll = [u for u in train if u.intent == "hr.payroll_question"]
    assert len(payroll) == 300  # payday, w2, direct_deposit: all 100 each, not 5
    assert sum(u.intent == "oos" for u in train) < 5 * 150 + 100 + 2000  # everyday sources stay capped
    rooms = [u for u in train if u.intent == "scheduling.resource_booking"]
    meetings = [u for u in train if u.intent == "scheduling.meeting_schedule"]
    assert len(rooms) + len(meetings) == 100
    assert rooms and all({"room", "rooms"} & set(u.words) for u in rooms)
    assert not any({"room", "rooms"} & set(u.words) for u in meetings)


def test_a_meeting_room_trains_as_a_booking_and_other_work_as_its_usual_intent():
    meeting = RoutingCase("x", "clinc150:schedule_meeting", CLINC_TO_EAS["schedule_meeting"])
    assert training_intent(meeting, ("is", "a", "meeting", "Room", "free")) == "scheduling.resource_booking"
    with_kim = ("schedule", "a", "meeting", "with", "kim")
    assert training_intent(meeting, with_kim) == "scheduling.meeting_schedule"
    payday = RoutingCase("x", "clinc150:payday", CLINC_TO_EAS["payday"])
    assert training_intent(payday, ("which", "room", "pays")) == "hr.payroll_question"
