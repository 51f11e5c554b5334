"""tessera.compiler: ONNX in, optimized graphs and tensor programs out.

Public API:

- ``compile(model, target="llvm", input_shapes=None, freeze=None, kernels="auto",
  layout="auto") -> CompiledModel`` (``tessera.compiler.build``): ``model`` is a path, bytes,
  an ``onnx.ModelProto`` or a ``Graph``; ``kernels`` is ``auto`` (tensor-compiler kernels
  where measured faster than numpy), ``compiled`` or ``numpy``; ``layout`` is ``auto``,
  ``NCHW`` or ``NCHWc``. ``CompiledModel.run({"x": x}) -> [arrays]``, ``.save("m.tsr")``,
  ``.info()`` (ops by kernel strategy, memory plan), ``.graph``.
- ``tessera.compiler.frontend.import_onnx(model, input_shapes=None, freeze=None) -> Graph``
- ``tessera.compiler.graph``: ``Graph``, ``Node``, ``TensorType``, ``FusedGroup``, ``verify``,
  ``print_graph``, the op registry ``OPS``; ``tessera.compiler.graph.passes``: the passes and
  ``optimize``.
- Errors: ``tessera.compiler.errors`` (``CompileError``, ``UnsupportedError``, ...).
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "compile":
        from tessera.compiler.build import compile

        return compile
    raise AttributeError(f"module 'tessera.compiler' has no attribute {name!r}")


__all__ = ["compile"]
