"""Frontends: import models from other frameworks into the graph IR.

    from tessera.compiler.frontend import import_onnx
    graph = import_onnx("model.onnx", input_shapes={"x": (1, 3, 224, 224)})
"""

from tessera.compiler.frontend.onnx import STATIC_INPUTS, import_onnx

__all__ = ["STATIC_INPUTS", "import_onnx"]
