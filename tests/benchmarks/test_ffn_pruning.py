"""Feed-forward pruning keeps the neurons that pass something on, and the encoder still computes the same."""

import torch
from transformers import BertConfig, BertModel

from tests.support.benchmark_scripts import load_benchmark


class CharTokenizer:
    """Just enough of a tokenizer for ``neuron_scores``: one id per character, padded."""

    def __call__(self, texts, padding, truncation, max_length, return_tensors):
        width = max(len(t) for t in texts)
        ids = torch.tensor([[ord(c) % 90 + 5 for c in t] + [0] * (width - len(t)) for t in texts])
        mask = torch.tensor([[1] * len(t) + [0] * (width - len(t)) for t in texts])
        return {"input_ids": ids, "attention_mask": mask}


def tiny_encoder() -> BertModel:
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=100, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=12
    )
    return BertModel(config).eval()


def test_neurons_with_no_output_weights_are_dropped_first_and_change_nothing():
    script = load_benchmark("ffn_pruning")
    encoder = tiny_encoder()
    silent = [1, 4, 5, 9]
    for layer in encoder.encoder.layer:
        layer.output.dense.weight.data[:, silent] = 0.0
    tokenizer = CharTokenizer()
    sentences = ["approve the invoice", "book a room", "reset my password please"]
    batch = tokenizer(sentences, padding=True, truncation=True, max_length=64, return_tensors="pt")
    with torch.inference_mode():
        before = encoder(**batch).last_hidden_state

    scores = script.neuron_scores(encoder, tokenizer, sentences, batch_size=2)
    assert all(float(score[silent].max()) == 0.0 for score in scores)
    script.prune_feed_forward(encoder, scores, 8)

    assert encoder.config.intermediate_size == 8
    for layer in encoder.encoder.layer:
        assert layer.intermediate.dense.weight.shape == (8, 16)
        assert layer.output.dense.weight.shape == (16, 8)
    with torch.inference_mode():
        after = encoder(**batch).last_hidden_state
    assert torch.allclose(before, after, atol=1e-5)
