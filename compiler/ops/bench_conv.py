"""conv2d benchmark case: Tessera's default NCHW schedule against onnxruntime's Conv."""

from __future__ import annotations

from typing import Any

import numpy as np

from tessera.compiler.ops.bench import SPIN_PAUSE_S, cpu_fields, paired_medians


def ort_conv_session(weight: np.ndarray, shape: tuple[int, int, int, int], pad: int,
                     threads: int) -> Any:
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    node = helper.make_node("Conv", ["x", "w"], ["y"], pads=[pad] * 4)
    kh, kw = weight.shape[2:]
    out_shape = [shape[0], weight.shape[0], shape[2] + 2 * pad - kh + 1,
                 shape[3] + 2 * pad - kw + 1]
    graph = helper.make_graph(
        [node], "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
        [numpy_helper.from_array(weight, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), so,
                                providers=["CPUExecutionProvider"])


def bench_conv2d(shape: tuple[int, int, int, int], cout: int, ksize: int, pad: int,
                 threads_list: list[int], repeat: int) -> list[dict[str, Any]]:
    from tessera.compiler import tensor as te
    from tessera.compiler.codegen import build
    from tessera.compiler.ops.conv2d import conv2d_nchw, schedule_conv2d_nchw

    n, c, h, w = shape
    D = te.placeholder(shape, "float32", "data")
    W = te.placeholder((cout, c, ksize, ksize), "float32", "weight")
    out = conv2d_nchw(D, W, 1, pad)
    kernel = build(schedule_conv2d_nchw(out), [D, W, out])
    rng = np.random.default_rng(0)
    d = rng.standard_normal(shape, dtype=np.float32)
    wt = rng.standard_normal((cout, c, ksize, ksize), dtype=np.float32)
    o = np.zeros(out.shape, np.float32)
    flops = 2 * n * cout * c * ksize * ksize * out.shape[2] * out.shape[3]
    ptrs = kernel.check([d, wt, o])
    records = []
    for th in threads_list:
        sess = ort_conv_session(wt, shape, pad, th)
        ref = sess.run(None, {"x": d})[0]
        kernel.num_threads = th
        kernel(d, wt, o)
        err = float(np.abs(o - ref).max() / max(1.0, float(np.abs(ref).max())))
        t, tr = paired_medians(lambda: kernel.call_unchecked(*ptrs),
                               lambda sess=sess: sess.run(None, {"x": d}), repeat,
                               pause_s=SPIN_PAUSE_S if th > 1 else 0.0)
        records.append({
            "op": "conv2d", "shape": [n, c, h, w, cout, ksize, ksize], "dtype": "float32",
            "threads": th, "tessera_gflops": round(flops / t / 1e9, 2),
            "reference": "onnxruntime", "reference_gflops": round(flops / tr / 1e9, 2),
            "ratio": round(tr / t, 3), "max_rel_error": err, "layout": "NCHW",
            "padding": pad, **cpu_fields(flops)})
    return records
