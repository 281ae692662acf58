"""Benchmark overrides of the training settings: typed, and refused by name when wrong."""

import pytest

from nlp_service.training.config import TrainConfig


def test_overrides_are_parsed_to_each_fields_type():
    config = TrainConfig().with_overrides(
        {
            "encoder_lr": "5e-5",
            "label_smoothing": "0.1",
            "epochs": "3",
            "export_int8": "false",
            "max_steps": "7",
        }
    )
    assert config.encoder_lr == 5e-5 and config.label_smoothing == 0.1 and config.epochs == 3
    assert config.export_int8 is False and config.max_steps == 7
    assert TrainConfig().encoder_lr == 1e-4  # the original is untouched


def test_a_list_of_teachers_is_given_comma_separated():
    config = TrainConfig().with_overrides({"distill_teachers": "models/a,models/b", "rdrop_weight": "1"})
    assert config.distill_teachers == ("models/a", "models/b") and config.rdrop_weight == 1.0
    assert TrainConfig().with_overrides({"distill_teachers": ""}).distill_teachers == ()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"encoder_learning_rate": "1"}, "unknown training setting 'encoder_learning_rate'"),
        ({"epochs": "three"}, "training setting epochs: 'three' is not a int"),
        ({"export_onnx": "maybe"}, "training setting export_onnx: 'maybe' is not a boolean"),
    ],
)
def test_bad_overrides_name_the_setting(overrides, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig().with_overrides(overrides)
