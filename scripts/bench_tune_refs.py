"""onnxruntime running what a conv tuning task computes (``bench_tune``'s references): the
conv and its fused epilogue as an ONNX model, a blocked task's arrays in plain layouts, and
a session at a given thread count.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tessera.compiler.autotune import Task


def ort_session(model: Any, threads: int) -> Any:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model.SerializeToString(), so,
                                providers=["CPUExecutionProvider"])


def conv_model(args: tuple[Any, ...], arrays: list[np.ndarray]) -> tuple[Any, list[str]]:
    """The conv layer as an ONNX model: weight and bias as initializers, the fused epilogue
    of an 11-argument task (bias, residual add, Relu, Clip) as ONNX nodes after it, so
    onnxruntime computes what the tuned kernel does. Also the names of the model's inputs,
    in the kernel's array order (``x`` then each residual)."""
    from onnx import TensorProto, helper, numpy_helper

    from tessera.compiler.autotune.templates.conv2d import out_size

    n, c, h, w, o, kh, kw, stride, pad = args[:9]
    oh, ow = out_size(args)
    epilogue = epilogue_steps(args)
    inits = [numpy_helper.from_array(arrays[1], "w")]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [n, c, h, w])]
    names = ["x"]
    conv_in = ["x", "w"]
    nodes: list[Any] = []
    cur, k = "conv", 2
    for step in epilogue:
        kind = step[0]
        if kind == "bias" and len(conv_in) == 2 and cur == "conv":
            inits.append(numpy_helper.from_array(arrays[k], "b"))
            conv_in.append("b")
            k += 1
            continue
        nxt = f"e{len(nodes)}"
        if kind == "bias":
            inits.append(numpy_helper.from_array(arrays[k].reshape(1, -1, 1, 1), f"b{k}"))
            nodes.append(helper.make_node("Add", [cur, f"b{k}"], [nxt]))
            k += 1
        elif kind == "add":
            name = f"r{k}"
            inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT,
                                                        list(arrays[k].shape)))
            names.append(name)
            nodes.append(helper.make_node("Add", [cur, name], [nxt]))
            k += 1
        elif kind == "relu":
            nodes.append(helper.make_node("Relu", [cur], [nxt]))
        elif kind == "clip":
            lo = -3.4e38 if step[1] is None else float(step[1])
            hi = 3.4e38 if step[2] is None else float(step[2])
            inits += [numpy_helper.from_array(np.array(lo, np.float32), f"lo{len(nodes)}"),
                      numpy_helper.from_array(np.array(hi, np.float32), f"hi{len(nodes)}")]
            nodes.append(helper.make_node("Clip", [cur, f"lo{len(nodes)}", f"hi{len(nodes)}"],
                                          [nxt]))
        cur = nxt
    conv = helper.make_node("Conv", conv_in, ["conv"], pads=[pad] * 4, strides=[stride] * 2)
    nodes = [conv, *nodes]
    out = nodes[-1].output[0]
    graph = helper.make_graph(
        nodes, "conv", inputs, [helper.make_tensor_value_info(out, TensorProto.FLOAT,
                                                              [n, o, oh, ow])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), names


def epilogue_steps(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """A conv task's fused epilogue: its last argument where that is a tuple of steps."""
    return tuple(args[-1]) if len(args) > 10 and isinstance(args[-1], (tuple, list)) else ()


def nchw_arrays(task: Task, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """A ``conv2d_nchwc`` task's blocked arrays in plain NCHW / OIHW / (O,) (``conv2d_nchw``
    arrays are returned as they are), for onnxruntime."""
    if task.template == "conv2d_nchw":
        return arrays

    def act(a: np.ndarray) -> np.ndarray:  # (N, C/b, H, W, b) -> (N, C, H, W)
        n, cb, h, w, b = a.shape
        return np.ascontiguousarray(a.transpose(0, 1, 4, 2, 3).reshape(n, cb * b, h, w))

    wb = arrays[1]  # (O/b, C/b, KH, KW, ci, oc) -> OIHW
    ob, cb, kh, kw, ci, oc = wb.shape
    weight = np.ascontiguousarray(wb.transpose(0, 5, 1, 4, 2, 3).reshape(ob * oc, cb * ci,
                                                                         kh, kw))
    rest = [a.reshape(-1) if a.ndim == 4 else act(a) for a in arrays[2:]]
    return [act(arrays[0]), weight, *rest]
