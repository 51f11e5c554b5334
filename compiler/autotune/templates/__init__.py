"""Schedule templates by name: ``get_template(name)``; ``TEMPLATES`` lists them."""

from __future__ import annotations

from tessera.compiler.autotune.errors import UnsupportedTaskError
from tessera.compiler.autotune.templates.base import Template

_MODULES = {
    "matmul": ("tessera.compiler.autotune.templates.matmul", "MatmulTemplate"),
    "conv2d_nchw": ("tessera.compiler.autotune.templates.conv2d", "Conv2dTemplate"),
    "conv2d_nchwc": ("tessera.compiler.autotune.templates.conv2d_nchwc", "Conv2dNCHWcTemplate"),
    "faulty_add": ("tessera.compiler.autotune.templates.faulty", "FaultyTemplate"),
    "vta_conv2d": ("tessera.compiler.autotune.templates.vta_conv2d", "VtaConv2dTemplate"),
    "vta_dense": ("tessera.compiler.autotune.templates.vta_dense", "VtaDenseTemplate"),
}
TEMPLATES = tuple(_MODULES)
_LOADED: dict[str, Template] = {}


def get_template(name: str) -> Template:
    if name not in _LOADED:
        if name not in _MODULES:
            raise UnsupportedTaskError(f"tune: template must be one of {list(TEMPLATES)}, not "
                                       f"{name!r}")
        import importlib

        mod, cls = _MODULES[name]
        _LOADED[name] = getattr(importlib.import_module(mod), cls)()
    return _LOADED[name]


__all__ = ["TEMPLATES", "Template", "get_template"]
