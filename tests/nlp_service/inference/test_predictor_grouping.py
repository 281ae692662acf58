"""The predictor runs a mixed-length batch as several narrower calls with the same answers."""

from nlp_service.inference.predictor import WordPredictor
from tests.support.numerics import assert_scores_close

SHORT = ["pay", "invoice", "INV-4242"]
LONG = [
    "please",
    "process",
    "invoice",
    "INV-4242",
    "from",
    "acme",
    "corp",
    "for",
    "1200",
    "dollars",
    "due",
    "next",
    "friday",
    "afternoon",
]


def test_grouped_calls_are_narrower_and_agree_with_one_padded_call(tiny_model_dir):
    predictor = WordPredictor.load(tiny_model_dir, "onnx", threads=1, precision="fp32")
    widths = []
    run = predictor.run

    def recording_run(input_ids, attention_mask):
        widths.append((input_ids.shape[0], input_ids.shape[1], int(attention_mask.sum(axis=1).min())))
        return run(input_ids, attention_mask)

    batch = [SHORT, LONG, SHORT[:1], LONG, SHORT]
    predictor.run = recording_run
    predictor.call_cost_tokens = 0.0  # every distinct length its own call
    grouped = predictor.predict(batch)
    assert len(widths) >= 2
    assert all(width == min_len for _, width, min_len in widths)  # no call pads its rows
    assert sum(rows for rows, _, _ in widths) == len(batch)

    widths.clear()
    predictor.call_cost_tokens = 1e9  # one call, padded to the longest
    padded = predictor.predict(batch)
    assert len(widths) == 1
    for a, b in zip(grouped, padded, strict=True):
        assert a.tags == b.tags
        assert_scores_close(a.intent_probs, b.intent_probs)
