from nlp_service.model.encoder import resolve_encoder
from nlp_service.model.features import IGNORE_INDEX, encode_words, slot_targets


def _tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(resolve_encoder("all-MiniLM-L6-v2")))


def test_labels_sit_on_the_first_sub_word_of_each_word():
    tokenizer = _tokenizer()
    words = [["process", "INV-1042", "from", "Zoë"], ["hi"]]
    encoded = encode_words(tokenizer, words, max_length=32)
    starts = encoded.word_starts[0]
    assert starts[0] == 1  # after [CLS]
    # INV-1042 splits into several sub-words; "from" starts right after the last of them.
    assert starts[2] - starts[1] > 1
    tokens = tokenizer.convert_ids_to_tokens(encoded.input_ids[0].tolist())
    assert tokens[starts[2]] == "from" and tokens[starts[3]] == "zoe"
    targets = slot_targets(encoded, [[0, 1, 0, 2], [0]])
    assert targets[0, starts[1]] == 1 and targets[0, starts[1] + 1] == IGNORE_INDEX
    assert (targets[1] != IGNORE_INDEX).sum() == 1


def test_words_cut_off_by_max_length_have_no_position():
    encoded = encode_words(_tokenizer(), [["word"] * 20], max_length=8)
    assert encoded.word_starts[0][:6] == [1, 2, 3, 4, 5, 6]
    assert set(encoded.word_starts[0][6:]) == {-1}


def test_the_direct_tokenizer_encodes_as_the_transformers_wrapper_does():
    """``encode_words`` calls the Rust tokenizer itself; on the shipped training data (accents,
    codes, typos, long texts cut at the model's length) it must give exactly what the wrapper gives."""
    import numpy as np

    from nlp_service.data.loader import load_dataset
    from nlp_service.default_model import ENTERPRISE_DATA
    from nlp_service.model.features import _encode_with_wrapper, _word_tokenizer

    tokenizer = _tokenizer()
    assert _word_tokenizer(tokenizer, 16) is not None  # the direct path is taken
    examples = load_dataset(ENTERPRISE_DATA).split("train")
    words = [list(e.words) for e in examples][:2000]
    for start in range(0, len(words), 25):
        batch = words[start : start + 25]
        direct, wrapped = encode_words(tokenizer, batch, 16), _encode_with_wrapper(tokenizer, batch, 16)
        assert np.array_equal(direct.input_ids, wrapped.input_ids)
        assert np.array_equal(direct.attention_mask, wrapped.attention_mask)
        assert direct.word_starts == wrapped.word_starts
