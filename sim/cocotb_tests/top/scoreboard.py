"""The top-level bench's scoreboard: the functional simulator on the same DRAM image.

``fsim_reference(job)`` runs the job's instruction stream on ``tessera.sim.fsim`` from the
job's initial DRAM pages and returns every 4 KiB page that differs from a zero DRAM at the end
(the pages the host wrote, changed or not, and the pages the program wrote), so the bench
compares the RTL's final DRAM with fsim's byte for byte.
"""

from __future__ import annotations

import numpy as np

from tessera.hw.config import HwConfig
from tessera.sim.fsim import FSim
from tessera.sim.rtl_job import PAGE, Job


def fsim_reference(job: Job) -> dict[int, bytes]:
    cfg = HwConfig.from_dict(job.cfg)
    sim = FSim(cfg, dram_bytes=job.dram_bytes)
    pages = [addr for addr, data in job.pages()]
    for addr, data in job.pages():
        sim.write_dram(addr, data)
    sim.run(insn_addr=job.insn_addr, insn_count=job.insn_count)
    dram = sim.state.dram
    used = np.flatnonzero(dram.reshape(-1, PAGE).any(axis=1)) * PAGE
    wanted = sorted(set(pages) | {int(a) for a in used})
    return {addr: dram[addr : addr + PAGE].tobytes() for addr in wanted}
