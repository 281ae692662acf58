"""An int8 copy of the ONNX export, for the CPU serving path.

Why: on a small CPU the encoder's matrix products are nearly all of a parse's time. Dynamic
int8 quantisation (weights int8 per output channel, activations quantised on the fly) makes
those products about twice as fast for a small accuracy cost, which ``eas-nlp evaluate
--precision int8`` and ``benchmarks/nlp_quality.py`` measure on every data set (see
BENCHMARKS.md). The fp32 ``model.onnx`` stays in the directory: it is the reference, and the
one to serve where the int8 accuracy is not good enough.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from nlp_service.model.bundle import INT8_ONNX_FILE, ONNX_FILE, ModelDirError


def quantize_onnx(model_dir: Path) -> Path:
    """Write ``model.int8.onnx`` next to ``model.onnx``; returns its path.

    The graph first goes through ONNX Runtime's shape inference and graph clean-up
    (``quant_pre_process``), which the quantiser needs to find every MatMul's weights.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    source = model_dir / ONNX_FILE
    if not source.is_file():
        raise ModelDirError(f"{model_dir}: no {ONNX_FILE} to quantise; run eas-nlp export first")
    target = model_dir / INT8_ONNX_FILE
    with tempfile.TemporaryDirectory(prefix="eas-int8-") as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        quantize_dynamic(str(prepared), str(target), weight_type=QuantType.QInt8, per_channel=True)
    return target
