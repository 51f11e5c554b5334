"""Runs a ``Job`` on a cocotb simulator build, in a child process with a wall-clock limit.

cocotb runs inside the simulator process, and cocotb's runner waits for it without a limit,
so the host starts ``python -m tessera.sim.rtl_runner`` (which calls the runner) in its own
process group and kills the group if it outlives the timeout: nothing hangs.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

from tessera.sim.rtl_job import Job, JobResult
from tessera.sim.verilator import CocotbBuild, SimBuildError, setup_environment

log = logging.getLogger(__name__)

TEST_MODULE = "tessera.sim.cocotb_tests.top.test_top"


class SimRunError(SimBuildError):
    """The simulator process failed, crashed or ran past its wall-clock limit."""


def run_job(build: CocotbBuild, job: Job, pages: dict[int, bytes], job_dir: Path,
            timeout_s: float, pythonpath: tuple[str, ...] = ()) -> JobResult:
    """Run ``job`` on ``build`` in ``job_dir``; the waveform (if the build has waves) lands
    in ``job_dir/dump.vcd`` (or ``.fst``)."""
    job.save(job_dir, pages)
    spec = {
        "build_dir": str(build.build_dir), "top": build.top, "job_dir": str(job_dir),
        "waves": build.waves is not None, "pythonpath": list(pythonpath),
    }
    (job_dir / "runner.json").write_text(json.dumps(spec))
    log_path = job_dir / "sim.log"
    with open(log_path, "w") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tessera.sim.rtl_runner", str(job_dir / "runner.json")],
            stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            rc = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise SimRunError(
                f"the RTL simulation must finish within {timeout_s:.0f} s of wall-clock time, "
                f"but did not (log: {log_path})"
            ) from None
    if not (job_dir / "result.json").exists():
        tail = log_path.read_text()[-3000:]
        raise SimRunError(
            f"the RTL simulation ended (exit code {rc}) without a result; log tail:\n{tail}"
        )
    result = JobResult.load(job_dir)
    if rc != 0:
        tail = log_path.read_text()[-3000:]
        raise SimRunError(f"the cocotb testbench failed (exit code {rc}); log tail:\n{tail}")
    return result


def _main(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    for entry in reversed(spec["pythonpath"]):
        sys.path.insert(0, entry)
    setup_environment()
    from cocotb_tools.runner import get_runner

    runner = get_runner("verilator")
    job_dir = Path(spec["job_dir"])
    try:
        runner.test(
            test_module=TEST_MODULE, hdl_toplevel=spec["top"], hdl_toplevel_lang="verilog",
            build_dir=spec["build_dir"],
            test_dir=str(job_dir), waves=spec["waves"],
            extra_env={"TESSERA_RTL_JOB": str(job_dir)},
            results_xml=str(job_dir / "results.xml"),
        )
    except SystemExit as err:
        return int(err.code or 1)
    except RuntimeError as err:
        logging.getLogger(__name__).error("simulation failed: %s", err)
        return 1
    from cocotb_tools.runner import get_results

    _, failed = get_results(job_dir / "results.xml")
    return 1 if failed else 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    sys.exit(_main(sys.argv[1]))
