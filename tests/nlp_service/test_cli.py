"""``eas-nlp train`` and ``evaluate`` as a user runs them: exit codes, messages, the metrics file."""

import json

from typer.testing import CliRunner

from nlp_service.cli import app
from nlp_service.data.schema import Utterance
from nlp_service.data.seqio import write_split
from nlp_service.model.distance_gate import GATE_FILE, DistanceGate
from tests.support.tiny_model import tiny_dataset

runner = CliRunner()


def test_evaluate_writes_metrics_json_and_counts_unseen_labels_as_errors(tiny_model_dir, tmp_path):
    test = list(tiny_dataset().split("test"))
    # An intent and an entity type the model never saw: errors in the scores, not a crash.
    test.append(Utterance(("reboot", "server", "db-7"), ("O", "O", "B-hostname"), "it.reboot"))
    write_split(tmp_path / "data" / "test", test)
    output = tmp_path / "metrics.json"

    result = runner.invoke(
        app,
        [
            "evaluate",
            "--model",
            str(tiny_model_dir),
            "--data",
            str(tmp_path / "data"),
            "--output",
            str(output),
        ],
    )

    assert result.exit_code == 0, result.output
    metrics = json.loads(output.read_text())
    for key in (
        "intent_accuracy",
        "intent_macro_f1",
        "slot_f1",
        "sentence_accuracy",
        "in_scope_accuracy",
        "oos_recall",
        "oos_precision",
        "per_intent",
    ):
        assert key in metrics
    assert metrics["examples"] == len(test)
    assert metrics["per_intent"]["it.reboot"]["recall"] == 0.0
    assert metrics["model_version"].startswith("tiny-")
    assert "intent_accuracy" in result.output  # the printed table


def test_evaluate_scores_the_precision_asked_for(tiny_model_dir, tmp_path):
    scored = {}
    for precision in ("fp32", "int8"):
        output = tmp_path / f"scores-{len(scored)}.json"  # no precision in the path: see below
        result = runner.invoke(
            app,
            [
                "evaluate",
                "--model",
                str(tiny_model_dir),
                "--data",
                str(_tiny_data(tmp_path)),
                "--precision",
                precision,
                "--output",
                str(output),
            ],
        )
        assert result.exit_code == 0, result.output
        scored[precision] = json.loads(output.read_text())
        assert precision in result.output  # only the table's title names it
    assert {m["precision"] for m in scored.values()} == {"fp32", "int8"}
    assert scored["int8"]["intent_accuracy"] >= 90.0

    result = runner.invoke(
        app,
        [
            "evaluate",
            "--model",
            str(tiny_model_dir),
            "--data",
            str(_tiny_data(tmp_path)),
            "--precision",
            "fp8",
        ],
    )
    assert result.exit_code == 2 and "precision must be one of auto, fp32, int8" in result.output


def _tiny_data(root):
    folder = root / "tiny-data"
    if not folder.exists():
        write_split(folder / "test", list(tiny_dataset().split("test")))
    return folder


def test_bad_paths_exit_2_with_a_message_naming_them(tiny_model_dir, tmp_path):
    missing = tmp_path / "nowhere"
    result = runner.invoke(app, ["train", "--data", str(missing), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "no such file or folder" in result.output
    result = runner.invoke(app, ["evaluate", "--model", str(missing), "--data", str(missing)])
    assert result.exit_code == 2 and str(missing) in result.output
    write_split(tmp_path / "data" / "train", list(tiny_dataset().split("train"))[:5])
    result = runner.invoke(
        app, ["evaluate", "--model", str(tiny_model_dir), "--data", str(tmp_path / "data")]
    )
    assert result.exit_code == 2 and "no split 'test'" in result.output


def test_calibrate_refits_threshold_and_temperature_on_a_split(tiny_model_dir, tmp_path):
    import shutil

    model = shutil.copytree(tiny_model_dir, tmp_path / "model")
    labels_path = model / "labels.json"
    labels = json.loads(labels_path.read_text())
    labels["temperature"], labels["oos_threshold"] = 1.0, 0.99
    labels_path.write_text(json.dumps(labels))
    write_split(tmp_path / "data" / "dev", list(tiny_dataset().split("dev")))

    result = runner.invoke(
        app, ["calibrate", "--model", str(model), "--data", str(tmp_path / "data"), "--no-gate"]
    )

    assert result.exit_code == 0, result.output
    refit = json.loads(labels_path.read_text())
    assert refit["oos_threshold"] < 0.99 and refit["temperature"] != 1.0
    assert "out-of-scope threshold" in result.output
    assert not (model / GATE_FILE).exists()


def test_calibrate_fits_the_distance_gate_and_exports_its_embedding_again(tiny_model_dir, tmp_path):
    import shutil

    import onnx

    model = shutil.copytree(tiny_model_dir, tmp_path / "model")
    (model / GATE_FILE).unlink()
    graph = onnx.load(str(model / "model.onnx"))
    graph.graph.output.pop()  # as exported before the gate: intents and slots only
    onnx.save(graph, str(model / "model.onnx"))
    data, dev_only = tmp_path / "data", tmp_path / "dev-only"
    for split in ("train", "dev"):
        write_split(data / split, list(tiny_dataset().split(split)))
    write_split(dev_only / "dev", list(tiny_dataset().split("dev")))

    refused = runner.invoke(app, ["calibrate", "--model", str(model), "--data", str(dev_only)])
    assert refused.exit_code == 2 and "no train split" in refused.output

    result = runner.invoke(app, ["calibrate", "--model", str(model), "--data", str(data)])

    assert result.exit_code == 0, result.output
    assert "distance gate threshold" in result.output and "exporting it again" in result.output
    assert DistanceGate.load(model) is not None
    assert len(onnx.load(str(model / "model.onnx")).graph.output) == 3
    assert json.loads((model / "labels.json").read_text())["oos_threshold"] == 0.0


def test_train_refuses_an_ema_decay_of_1_or_more(tmp_path):
    result = runner.invoke(
        app, ["train", "--data", str(tmp_path), "--out", str(tmp_path / "m"), "--ema-decay", "1.0"]
    )
    assert result.exit_code == 2 and "--ema-decay" in result.output


def test_train_refuses_a_negative_intent_cosine_scale(tmp_path):
    result = runner.invoke(
        app, ["train", "--data", str(tmp_path), "--out", str(tmp_path / "m"), "--intent-cosine-scale", "-1"]
    )
    assert result.exit_code == 2 and "--intent-cosine-scale" in result.output


def test_train_refuses_a_teacher_that_is_not_a_model(tmp_path, tiny_encoder_dir):
    data = tmp_path / "data"
    for split, examples in tiny_dataset().splits.items():
        write_split(data / split, list(examples))
    args = ["train", "--data", str(data), "--out", str(tmp_path / "m"), "--encoder", str(tiny_encoder_dir)]
    result = runner.invoke(app, [*args, "--teacher", str(tmp_path)])
    assert result.exit_code == 2 and "is not a trained model directory" in result.output
    assert not (tmp_path / "m").exists()


def test_train_refuses_a_distillation_weight_above_one(tmp_path):
    result = runner.invoke(
        app, ["train", "--data", str(tmp_path), "--out", str(tmp_path / "m"), "--distill-weight", "1.5"]
    )
    assert result.exit_code == 2 and "--distill-weight" in result.output
