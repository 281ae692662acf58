"""The slot CRF: its likelihood matches brute force, and word scores are packed as decoding reads them."""

import itertools

import numpy as np
import torch

from nlp_service.model.bio import viterbi
from nlp_service.model.crf import SlotCRF, word_scores
from nlp_service.model.features import IGNORE_INDEX


def _random_crf(num_tags: int, seed: int) -> SlotCRF:
    torch.manual_seed(seed)
    crf = SlotCRF(num_tags)
    with torch.no_grad():
        for parameter in crf.parameters():
            parameter.normal_()
    return crf


def _sequence_score(crf: SlotCRF, emissions: torch.Tensor, tags: tuple[int, ...]) -> torch.Tensor:
    score = crf.start[tags[0]] + emissions[0, tags[0]]
    for t in range(1, len(tags)):
        score = score + crf.transitions[tags[t - 1], tags[t]] + emissions[t, tags[t]]
    return score + crf.end[tags[-1]]


def test_nll_matches_brute_force_over_every_tag_sequence():
    num_tags, crf = 3, _random_crf(3, seed=1)
    emissions = torch.randn(2, 4, num_tags)
    tags = torch.tensor([[0, 2, 1, 1], [1, 0, 0, 0]])
    mask = torch.tensor([[True, True, True, True], [True, True, False, False]])  # second row: 2 words
    expected = []
    for row, length in enumerate((4, 2)):
        scores = [
            _sequence_score(crf, emissions[row, :length], seq)
            for seq in itertools.product(range(num_tags), repeat=length)
        ]
        gold = _sequence_score(crf, emissions[row, :length], tuple(tags[row, :length].tolist()))
        expected.append(torch.logsumexp(torch.stack(scores), 0) - gold)
    assert torch.allclose(crf.nll(emissions, tags, mask), torch.stack(expected).mean(), atol=1e-5)


def test_viterbi_with_crf_scores_finds_the_brute_force_best_sequence():
    num_tags, crf = 4, _random_crf(4, seed=2)
    emissions = torch.randn(5, num_tags)
    best = max(
        itertools.product(range(num_tags), repeat=5),
        key=lambda seq: float(_sequence_score(crf, emissions, seq)),
    )
    scores = crf.export()
    path = viterbi(
        emissions.numpy(),
        np.asarray(scores["start"], dtype=np.float32),
        np.asarray(scores["transitions"], dtype=np.float32),
        np.asarray(scores["end"], dtype=np.float32),
    )
    assert tuple(path) == best


def test_word_scores_pack_first_sub_words_to_the_left_and_drop_unlabelled_rows():
    logits = torch.arange(3 * 5 * 2, dtype=torch.float32).reshape(3, 5, 2)
    ignore = IGNORE_INDEX
    targets = torch.tensor(
        [
            [ignore, 1, ignore, 0, ignore],  # words start at sub-words 1 and 3
            [ignore, ignore, ignore, ignore, ignore],  # nothing labelled (e.g. all cut off)
            [ignore, 0, 1, 1, ignore],
        ]
    )
    emissions, tags, mask, rows = word_scores(logits, targets)
    assert rows.tolist() == [0, 2]
    assert mask.tolist() == [[True, True, False], [True, True, True]]
    assert tags[0, :2].tolist() == [1, 0] and tags[1].tolist() == [0, 1, 1]
    assert torch.equal(emissions[0, :2], logits[0, [1, 3]])
    assert torch.equal(emissions[1], logits[2, [1, 2, 3]])
