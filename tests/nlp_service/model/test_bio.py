import numpy as np

from nlp_service.model.bio import log_softmax, transition_mask, viterbi

TAGS = ["O", "B-date", "I-date", "B-employee", "I-employee"]


def _decode(probabilities):
    start, transitions = transition_mask(TAGS)
    return [TAGS[i] for i in viterbi(np.log(np.clip(probabilities, 1e-9, 1.0)), start, transitions)]


def test_an_inside_tag_never_opens_an_entity():
    # Argmax would say I-date first; the best valid sequence starts with B-date.
    assert _decode([[0.1, 0.3, 0.6, 0.0, 0.0], [0.1, 0.1, 0.8, 0.0, 0.0]]) == ["B-date", "I-date"]


def test_an_inside_tag_cannot_follow_another_type():
    decoded = _decode([[0.0, 0.0, 0.0, 0.9, 0.1], [0.05, 0.05, 0.7, 0.1, 0.1]])
    assert decoded[0] == "B-employee" and decoded[1] != "I-date"


def test_valid_argmax_sequences_are_kept():
    assert _decode([[0.9, 0.05, 0.05, 0, 0], [0.1, 0.8, 0.1, 0, 0], [0.1, 0.1, 0.8, 0, 0]]) == [
        "O",
        "B-date",
        "I-date",
    ]


def test_empty_sequence_and_log_softmax():
    start, transitions = transition_mask(TAGS)
    assert viterbi(np.zeros((0, len(TAGS))), start, transitions) == []
    assert np.allclose(np.exp(log_softmax(np.array([[1.0, 2.0, 3.0]]))).sum(), 1.0)
