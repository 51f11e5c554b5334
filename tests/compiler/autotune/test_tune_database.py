"""The SQLite tuning database: storage, best(), JSON lines, corrupt files, concurrent writers."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
from pathlib import Path

import pytest

from tessera.compiler.autotune import Database, Record, TuningDatabaseError

HW = {"kind": "cpu", "cpu": "test", "threads": 1}


def rec(i: int, cost: float | None, workload: str = "w1", kind: str | None = None) -> Record:
    return Record(workload, "llvm", HW, {"i": i}, i, cost, (cost,) if cost else (), kind,
                  "boom" if kind else "", (float(i), 1.0), 1000.0 + i)


def test_add_records_best(tmp_path: Path) -> None:
    with Database(tmp_path / "t.db") as db:
        db.add_many([rec(0, 3.0), rec(1, 1.5), rec(2, None, kind="crash"), rec(3, 0.5, "w2")])
        assert len(db) == 4
        best = db.best("w1", "llvm", rec(0, 1.0).hw_key)
        assert best is not None and best.config == {"i": 1} and best.cost == 1.5
        assert db.best("w1", "vta") is None
        assert [r.config_index for r in db.records("w1")] == [0, 1, 2]
        failed = db.records("w1")[2]
        assert failed.error_kind == "crash" and failed.cost is None and not failed.ok
    with Database(tmp_path / "t.db") as again:  # committed: visible after reopening
        assert len(again) == 4


def test_jsonl_round_trip(tmp_path: Path) -> None:
    with Database(tmp_path / "a.db") as a:
        a.add_many([rec(0, 3.0), rec(1, None, kind="timeout"), rec(2, 2.0, "w2")])
        assert a.export_jsonl(tmp_path / "dump.jsonl") == 3
        with Database(tmp_path / "b.db") as b:
            assert b.import_jsonl(tmp_path / "dump.jsonl") == 3
            assert b.records() == a.records()


def test_bad_jsonl_line_is_named(tmp_path: Path) -> None:
    p = tmp_path / "bad.jsonl"
    p.write_text('{"workload": "w"}\n')
    with Database(tmp_path / "x.db") as db, \
            pytest.raises(TuningDatabaseError, match=r"bad\.jsonl:1: each line must be a JSON "
                                                     r"tuning record"):
        db.import_jsonl(p)


def test_random_bytes_file_is_a_clear_error(tmp_path: Path) -> None:
    p = tmp_path / "junk.db"
    p.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(TuningDatabaseError) as err:
        Database(p)
    assert str(err.value) == (f"{p}: the tuning database must be a SQLite file, not a file "
                              f"starting with b'\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07'")


def test_truncated_database_is_a_clear_error(tmp_path: Path) -> None:
    p = tmp_path / "t.db"
    with Database(p) as db:
        db.add_many([rec(i, float(i + 1)) for i in range(300)])
    con = sqlite3.connect(p)  # fold the WAL into the main file, then cut the file
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(TuningDatabaseError, match=rf"^{p}: the tuning database is (corrupt|"
                                                  r"unreadable)"):
        Database(p).records()


def test_other_schema_version_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "v.db"
    Database(p).close()
    con = sqlite3.connect(p)
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with pytest.raises(TuningDatabaseError, match=rf"^{p}: schema version must be 1, not 99$"):
        Database(p)


def _writer(path: str, base: int, n: int) -> None:
    with Database(path) as db:
        for i in range(n):
            db.add(rec(base + i, float(i + 1)))


def test_two_processes_write_concurrently(tmp_path: Path) -> None:
    p = str(tmp_path / "c.db")
    Database(p).close()
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(p, k * 1000, 60)) for k in range(2)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
        assert proc.exitcode == 0
    with Database(p) as db:
        idx = sorted(r.config_index for r in db.records())
    assert idx == list(range(60)) + list(range(1000, 1060))
