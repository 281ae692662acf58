"""The int8 copy of the ONNX export: written by training, close to fp32, and picked by precision."""

import shutil
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from nlp_service.inference.backends import SLOW_CPU_FUSIONS, open_backend
from nlp_service.inference.predictor import WordPredictor
from nlp_service.model.bundle import INT8_ONNX_FILE, ONNX_FILE, ModelDirError
from nlp_service.model.onnx_int8 import quantize_onnx
from nlp_service.training.evaluate import evaluate_predictor
from tests.support.tiny_model import tiny_dataset

IDS = np.array([[101, 2832, 4906, 102, 0], [101, 7592, 2000, 3105, 102]], dtype=np.int64)
MASK = (IDS != 0).astype(np.int64)


def _run(path):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input_ids": IDS, "attention_mask": MASK})


def test_training_writes_an_int8_copy_with_int8_weights(tiny_model_dir):
    int8 = tiny_model_dir / INT8_ONNX_FILE
    assert int8.is_file()
    assert int8.stat().st_size < (tiny_model_dir / ONNX_FILE).stat().st_size
    ops = {node.op_type for node in __import__("onnx").load(str(int8)).graph.node}
    assert ops & {"MatMulInteger", "DynamicQuantizeMatMul", "QAttention"}, ops


def test_int8_copy_keeps_residual_layer_norms_unfused(tiny_model_dir):
    """The fused SkipLayerNormalization/EmbedLayerNormalization CPU kernels are the slow ones."""
    ops = {node.op_type for node in onnx.load(str(tiny_model_dir / INT8_ONNX_FILE)).graph.node}
    assert "QAttention" in ops or "Attention" in ops, ops
    assert "LayerNormalization" in ops, ops
    assert not ops & {"SkipLayerNormalization", "EmbedLayerNormalization", "QEmbedLayerNormalization"}, ops


def _optimized_ops(model: Path, out: Path, disabled: list[str]) -> set[str]:
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(out)
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    ort.InferenceSession(
        str(model), options, providers=["CPUExecutionProvider"], disabled_optimizers=disabled
    )
    return {node.op_type for node in onnx.load(str(out)).graph.node}


def test_load_time_fusion_is_what_brings_the_slow_kernel_back(tiny_model_dir, tmp_path):
    """ONNX Runtime re-fuses Add + LayerNormalization at load unless that optimizer is disabled."""
    model = tiny_model_dir / INT8_ONNX_FILE
    assert "SkipLayerNormalization" in _optimized_ops(model, tmp_path / "default.onnx", [])
    assert "SkipLayerNormalization" not in _optimized_ops(model, tmp_path / "served.onnx", SLOW_CPU_FUSIONS)


def test_backend_opens_its_session_without_the_slow_fusion(tiny_model_dir, monkeypatch):
    seen = {}
    real_session = ort.InferenceSession

    def recording_session(*args, **kwargs):
        seen.update(kwargs)
        return real_session(*args, **kwargs)

    monkeypatch.setattr(ort, "InferenceSession", recording_session)
    backend = open_backend(tiny_model_dir, "onnx", 1, "int8")
    assert seen["disabled_optimizers"] == SLOW_CPU_FUSIONS
    intent, *_ = backend(IDS, MASK)
    assert intent.shape[0] == 2


def test_int8_outputs_track_fp32(tiny_model_dir):
    fp32 = _run(tiny_model_dir / ONNX_FILE)
    int8 = _run(tiny_model_dir / INT8_ONNX_FILE)
    assert len(fp32) == len(int8) == 3  # intents, slots, the distance gate's sentence embedding
    for fp32_output, int8_output in zip(fp32, int8, strict=True):
        assert int8_output.shape == fp32_output.shape
        assert np.corrcoef(fp32_output.ravel(), int8_output.ravel())[0, 1] > 0.99


def test_int8_model_still_does_the_tiny_task(tiny_model_dir):
    predictor = WordPredictor.load(tiny_model_dir, "onnx", precision="int8")
    assert predictor.precision == "int8"
    scores = evaluate_predictor(predictor, tiny_dataset().split("test"), "oos", True)
    assert scores["intent_accuracy"] >= 90.0


def test_precision_picks_the_file(tiny_model_dir, tmp_path):
    assert open_backend(tiny_model_dir, "onnx", 1, "auto").precision == "int8"
    assert open_backend(tiny_model_dir, "onnx", 1, "fp32").precision == "fp32"
    assert open_backend(tiny_model_dir, "torch", 1, "auto").precision == "fp32"
    with pytest.raises(ValueError, match="int8 runs on the ONNX backend only"):
        open_backend(tiny_model_dir, "torch", 1, "int8")
    with pytest.raises(ValueError, match="precision must be one of"):
        open_backend(tiny_model_dir, "onnx", 1, "fp16")

    fp32_only = tmp_path / "fp32-only"
    shutil.copytree(tiny_model_dir, fp32_only)
    (fp32_only / INT8_ONNX_FILE).unlink()
    assert open_backend(fp32_only, "onnx", 1, "auto").precision == "fp32"
    with pytest.raises(ModelDirError, match=r"no model\.int8\.onnx; run eas-nlp export --int8"):
        open_backend(fp32_only, "onnx", 1, "int8")


def test_quantize_needs_the_fp32_export(tmp_path):
    with pytest.raises(ModelDirError, match=r"no model\.onnx to quantise"):
        quantize_onnx(tmp_path)
