"""An int8 copy of the ONNX export, for the CPU serving path.

Why: on a small CPU the encoder's matrix products are nearly all of a parse's time. Two steps
make them cheaper, each measured on the enterprise model (BENCHMARKS.md):

- ONNX Runtime's transformer fusion turns each layer's attention sub-graph into one
  ``Attention`` node (and bias + GELU chains into single nodes). It leaves residual adds and
  LayerNorms apart: ONNX Runtime's fused ``SkipLayerNormalization`` and
  ``EmbedLayerNormalization`` CPU kernels took 6-9x the time of the plain ``Add`` +
  ``LayerNormalization`` they replace (933 vs 142 us a layer at 24 x 20 tokens), a fifth
  of the whole parse (the backend disables the same fusion at session load);
- dynamic int8 quantisation (weights int8 per output channel, activations quantised on the
  fly) then runs the projections, the attention's included (``QAttention``), on int8 kernels.

Accuracy stays with fp32 within noise (``eas-nlp evaluate --precision int8`` and
``benchmarks/nlp_quality.py`` score both). The fp32 ``model.onnx`` stays in the directory: it
is the reference, and the one to serve where int8 accuracy is not good enough.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from nlp_service.model.bundle import INT8_ONNX_FILE, ONNX_FILE, ModelDirError


def quantize_onnx(model_dir: Path) -> Path:
    """Write ``model.int8.onnx`` next to ``model.onnx``; returns its path."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process
    from onnxruntime.transformers import optimizer
    from onnxruntime.transformers.fusion_options import FusionOptions
    from transformers import AutoConfig

    source = model_dir / ONNX_FILE
    if not source.is_file():
        raise ModelDirError(f"{model_dir}: no {ONNX_FILE} to quantise; run eas-nlp export first")
    encoder = AutoConfig.from_pretrained(str(model_dir / "encoder"))
    target = model_dir / INT8_ONNX_FILE
    fusions = FusionOptions("bert")
    fusions.enable_skip_layer_norm = False
    fusions.enable_embed_layer_norm = False
    with tempfile.TemporaryDirectory(prefix="eas-int8-") as tmp:
        fused, prepared = Path(tmp) / "fused.onnx", Path(tmp) / "prepared.onnx"
        optimizer.optimize_model(
            str(source),
            model_type="bert",
            num_heads=encoder.num_attention_heads,
            hidden_size=encoder.hidden_size,
            opt_level=1,
            optimization_options=fusions,
        ).save_model_to_file(str(fused))
        # Shape inference and clean-up, which the quantiser needs to find every MatMul's weights.
        quant_pre_process(str(fused), str(prepared), skip_symbolic_shape=True)
        quantize_dynamic(
            str(prepared),
            str(target),
            weight_type=QuantType.QInt8,
            per_channel=True,
            # Outputs of the fused com.microsoft nodes have no inferred type: they are float.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    return target
