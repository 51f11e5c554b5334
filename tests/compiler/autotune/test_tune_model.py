"""Templates against the operator library, tasks from ONNX models, the best schedule at
compile time, and the `tessera tune` command."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import tessera.compiler as tc
from tessera.compiler import ops
from tessera.compiler import tensor as te
from tessera.compiler.autotune import Database, LocalRunner, MeasureOptions, Record, Task
from tessera.compiler.autotune.dispatch import apply_history_best, best_config, build_best
from tessera.compiler.autotune.extract import extract_tasks
from tessera.compiler.autotune.hardware import cpu_descriptor
from tessera.compiler.autotune.templates import get_template
from tessera.compiler.ops.conv2d import conv2d_nchw, schedule_conv2d_nchw
from tessera.runtime.cpu import host_target

BLOCK = host_target().vector_lanes(32)
DIGITS = os.path.join(os.path.dirname(tc.__file__), "models", "digits_cnn.onnx")


FUSED = (("bias",), ("add",), ("relu",))


@pytest.mark.parametrize("args", [(1, 16, 14, 14, 32, 3, 3, 1, 1, "float32"),
                                  (1, 8, 9, 9, 16, 1, 1, 2, 0, "float32"),
                                  (1, 8, 9, 9, 16, 3, 3, 1, 1, "float32", FUSED),
                                  (1, 8, 9, 9, 16, 1, 1, 2, 0, "float32", (("clip", 0.0, 6.0),))])
def test_conv_default_point_is_the_library_schedule(args: tuple) -> None:
    tpl = get_template("conv2d_nchw")
    sch, tensors = tpl.instantiate(args, tpl.space(args).from_dict(tpl.default(args)))
    D = te.placeholder(args[:4], "float32", "D")
    W = te.placeholder((args[4], args[1], args[5], args[6]), "float32", "W")
    extra = [te.placeholder(t.shape, "float32", t.name) for t in tensors[2:-1]]
    O = conv2d_nchw(D, W, stride=args[7], padding=args[8], epilogue=args[10:][0] if
                    len(args) > 10 else (), operands=extra)
    want = te.lower(schedule_conv2d_nchw(O), [D, W, *extra, O]).script()
    assert te.lower(sch, tensors).script() == want


@pytest.mark.parametrize("variant", ["blocked", "direct"])
def test_fused_conv_task_builds_the_group_at_any_point(variant: str) -> None:
    """A conv task with an epilogue (as JSON gives it back: lists) computes conv + bias +
    residual, then Relu, at the default point and at a non-default one."""
    import json

    from tessera.compiler.codegen import build
    from tessera.compiler.ops.epilogue import reference

    args = (1, 5, 9, 9, 8, 3, 3, 1, 1, "float32", FUSED)
    task = Task.from_key(json.dumps(["conv2d_nchw", json.loads(json.dumps(args))]))
    assert task.args == args and hash(task) == hash(Task("conv2d_nchw", args))
    cfg = task.impl.default(args)
    if variant == "direct":
        cfg.update(variant="direct", ob=4, xb=8, helpers="ahead", yblocks=1, urx=True)
    point = task.space.from_dict(cfg)
    assert task.space.check(point) is None
    kernel = build(*task.impl.instantiate(args, point))
    x, w, b, r, out = task.impl.arrays(args, np.random.default_rng(1))
    kernel(x, w, b, r, out)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))).astype(np.float64)
    win = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))
    conv = np.einsum("ncyxij,ocij->noyx", win, w.astype(np.float64))
    np.testing.assert_allclose(out, reference(conv, FUSED, [b, r]), rtol=1e-4, atol=1e-4)


def test_matmul_default_point_is_the_library_schedule() -> None:
    args = (40, 48, 24, "float32")
    tpl = get_template("matmul")
    sch, tensors = tpl.instantiate(args, tpl.space(args).from_dict(tpl.default(args)))
    A = te.placeholder((40, 24), "float32", "A")
    B = te.placeholder((24, 48), "float32", "B")
    C = ops.matmul(A, B)
    assert te.lower(sch, tensors).script() == te.lower(ops.schedule_matmul(C), [A, B, C]).script()


def test_tasks_from_the_digits_model() -> None:
    """The tasks are the kernels compile() builds: the first conv (1 input channel) stays
    NCHW, the second is blocked (layout='auto'), each with its fused bias and Relu."""
    tasks = extract_tasks(DIGITS)
    assert [(w.task.template, w.task.args, w.weight) for w in tasks] == [
        ("conv2d_nchw", (1, 1, 8, 8, 16, 3, 3, 1, 1, "float32", (("bias",), ("relu",))), 1),
        ("conv2d_nchwc", (1, 16, 4, 4, 32, 3, 3, 1, 1, "float32", BLOCK, (("bias",), ("relu",))),
         1),
        ("matmul", (1, 10, 128, "float32"), 1),
    ]


def test_repeated_workloads_are_one_weighted_task() -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).parents[3] / "scripts"))
    from build_resnet18 import build_resnet18

    tasks = extract_tasks(build_resnet18())
    assert len(tasks) == 16  # a conv task is the conv with its fused epilogue
    assert [w.task.template for w in tasks].count("conv2d_nchwc") == 14  # all but the stem
    weights = {w.task.args[:9] + w.task.args[-1:]: w.weight for w in tasks
               if w.task.template.startswith("conv2d")}
    assert weights[(1, 64, 56, 56, 64, 3, 3, 1, 1, (("bias",), ("relu",)))] == 2
    assert weights[(1, 64, 56, 56, 64, 3, 3, 1, 1, FUSED)] == 2
    assert weights[(1, 64, 56, 56, 128, 1, 1, 2, 0, (("bias",),))] == 1  # the projection
    assert sum(w.weight for w in tasks) == 21  # 20 convolutions and the dense layer


def test_best_schedule_is_applied_at_compile_time(tmp_path: Path) -> None:
    task = Task("matmul", (16, 32, 8, "float32"))
    space = task.space
    hw = cpu_descriptor(2)
    tuned = {"mr": 2, "nv": 1, "lanes": space.knobs[2].values[0], "order": "io,jo", "ku": 2,
             "par": "none", "pack": "ahead"}
    idx = space.from_dict(tuned).index
    with Database(tmp_path / "b.db") as db:
        default = space.from_dict(task.impl.default(task.args))
        assert best_config(task, db, hw) == default  # nothing recorded: the library default
        db.add_many([Record(task.key, "llvm", hw, tuned, idx, 1e-6, (1e-6,)),
                     Record(task.key, "llvm", hw, default.to_dict(), default.index, 2e-6,
                            (2e-6,))])
        assert best_config(task, db, hw).index == idx
    with apply_history_best(tmp_path / "b.db"):
        assert best_config(task, hw=hw).index == idx
        kernel = build_best(task, hw=hw)
    a, b, c = task.impl.arrays(task.args, np.random.default_rng(0))
    kernel(a, b, c)
    np.testing.assert_allclose(c, a @ b, rtol=1e-5, atol=1e-5)


def test_cli_tune_digits(tmp_path: Path) -> None:
    from tessera.compiler.cli import main

    db = tmp_path / "cli.db"
    rc = main(["tune", DIGITS, "--trials", "3", "--db", str(db), "--threads", "1",
               "--strategy", "random", "--batch", "3", "--timeout", "20"])
    assert rc == 0
    assert (tmp_path / "cli.png").stat().st_size > 1000
    with Database(db) as d:
        recs = [r for r in d.records() if r.error_kind != "invalid"]
        assert len(recs) == 9 and all(r.ok for r in recs), [r.error_msg for r in recs]


def test_cli_rejects_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tessera.compiler.cli import main

    assert main(["tune", DIGITS, "--trials", "0", "--db", str(tmp_path / "x.db")]) == 1
    assert "tune: --trials must be at least 1, not 0" in capsys.readouterr().err
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all, just text")
    assert main(["tune", DIGITS, "--trials", "1", "--db", str(junk)]) == 1
    assert f"{junk}: the tuning database must be a SQLite file" in capsys.readouterr().err


def test_runner_describes_its_hardware() -> None:
    r = LocalRunner(MeasureOptions(threads=1))
    assert r.hw["threads"] == 1 and r.hw["kind"] == "cpu" and r.hw["vector_bits"] >= 128
    r.close()


def test_cli_tune_digits_for_the_accelerator(tmp_path: Path) -> None:
    from tessera.compiler.cli import main

    db = tmp_path / "vta.db"
    rc = main(["tune", DIGITS, "--target", "vta", "--hw-config", "small", "--trials", "2",
               "--db", str(db), "--strategy", "random", "--plot", str(tmp_path / "v.png")])
    assert rc == 0 and (tmp_path / "v.png").exists()
    with Database(db) as d:
        recs = [r for r in d.records() if r.error_kind != "invalid"]
    assert len(recs) == 6 and all(r.ok and r.target == "vta" for r in recs)
    assert {r.workload for r in recs} == {  # the stem as compile_vta builds it: im2col, 1x1
        '["vta_conv2d",[1,9,8,8,16,1,1,1,0,"small","fsim"]]',
        '["vta_conv2d",[1,16,4,4,32,3,3,1,1,"small","fsim"]]',
        '["vta_dense",[1,10,128,"small","fsim"]]'}


def test_cli_on_a_dask_cluster_with_export_and_import(tmp_path: Path) -> None:
    """--scheduler measures on the cluster; --export-jsonl / --import-jsonl move records, and
    a run on the imported database measures nothing it already knows."""
    import distributed

    from tessera.compiler.cli import main

    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        rc = main(["tune", DIGITS, "--trials", "2", "--db", str(tmp_path / "a.db"),
                   "--threads", "1", "--strategy", "random", "--scheduler",
                   cluster.scheduler_address, "--export-jsonl", str(tmp_path / "a.jsonl")])
    assert rc == 0
    lines = (tmp_path / "a.jsonl").read_text().splitlines()
    assert sum('"error_kind": null' in ln for ln in lines) == 6  # 3 tasks x 2 trials
    rc = main(["tune", DIGITS, "--trials", "2", "--db", str(tmp_path / "b.db"), "--threads",
               "1", "--strategy", "random", "--import-jsonl", str(tmp_path / "a.jsonl")])
    assert rc == 0
    with Database(tmp_path / "b.db") as b:
        assert len(b) == len(lines)  # everything was known: nothing measured again


NCHWC_ARGS = [(1, 32, 9, 9, 16, 3, 3, 1, 1, "float32", 16),
              (1, 16, 13, 13, 32, 1, 1, 2, 0, "float32", 16, FUSED[:1]),
              (1, 16, 7, 7, 16, 3, 3, 1, 1, "float32", 8, FUSED)]


@pytest.mark.parametrize("args", NCHWC_ARGS)
def test_nchwc_default_point_is_the_library_schedule(args: tuple) -> None:
    tpl = get_template("conv2d_nchwc")
    sch, tensors = tpl.instantiate(args, tpl.space(args).from_dict(tpl.default(args)))
    ph = [te.placeholder(t.shape, "float32", t.name) for t in tensors[:-1]]
    O = ops.conv2d_nchwc(ph[0], ph[1], stride=args[7], padding=args[8],
                         epilogue=args[11] if len(args) > 11 else (), operands=ph[2:])
    want = te.lower(ops.schedule_conv2d_nchwc(O), [*ph, O]).script()
    assert te.lower(sch, tensors).script() == want


@pytest.mark.parametrize("args", NCHWC_ARGS)
def test_nchwc_points_agree_with_the_default(args: tuple) -> None:
    """Every knob value computes the same blocked conv (with its epilogue) as the default."""
    from tessera.compiler.codegen import build

    task = Task("conv2d_nchwc", args)
    space = task.space
    arrays = task.impl.arrays(args, np.random.default_rng(3))
    results = []
    points = [task.impl.default(args),
              {"xb": space.knobs[0].values[0], "rorder": "y,x,c", "urx": True, "par": "n,o"},
              {"xb": 2, "rorder": "c,y,x", "urx": False, "par": "n,o,y", "ob": 2, "yb": 2},
              {"xb": 4, "rorder": "y,x,c", "urx": True, "par": "n,o", "ob": 1, "yb": 2}]
    legal = [space.from_dict(p) for p in points if space.check(space.from_dict(p)) is None]
    assert len(legal) >= 3  # the register tile's knobs are exercised on every workload
    for cfg in legal:
        out = np.full_like(arrays[-1], np.nan)
        build(*task.impl.instantiate(args, cfg))(*arrays[:-1], out)
        results.append(out)
    assert np.isfinite(results[0]).all()
    for r in results[1:]:
        np.testing.assert_allclose(r, results[0], rtol=1e-5, atol=1e-5)


def test_nchwc_register_tile_limits_are_reasons() -> None:
    space = Task("conv2d_nchwc", (1, 16, 7, 7, 16, 3, 3, 1, 1, "float32", 8)).space
    base = {"rorder": "c,y,x", "urx": False, "par": "n,o,y"}
    assert space.check(space.from_dict({**base, "xb": 7, "ob": 4, "yb": 1})) == \
        "ob must divide the 2 output channel blocks, not 4"
    assert space.check(space.from_dict({**base, "xb": 7, "ob": 2, "yb": 2})) is None
    wide = Task("conv2d_nchwc", (1, 64, 56, 56, 64, 3, 3, 1, 1, "float32", 16)).space
    assert wide.check(wide.from_dict({**base, "xb": 16, "ob": 2, "yb": 1})) == \
        "the register tile xb*ob*yb must be at most 28 vectors, not 32"


def test_nchwc_args_are_checked() -> None:
    from tessera.compiler.autotune.errors import TuningError

    with pytest.raises(TuningError) as e:
        _ = Task("conv2d_nchwc", (1, 24, 9, 9, 16, 3, 3, 1, 1, "float32", 16)).space
    assert str(e.value) == "conv2d_nchwc: block must divide the channels 24 and 16, not 16"
