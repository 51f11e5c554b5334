"""The tuning database: every measurement ever taken, in one SQLite file.

One row per measurement (workload key, target, hardware descriptor, schedule, result or
error, loop-nest features, time), committed as it is added, in WAL mode with a busy timeout:
several processes may write at once, and a killed run loses nothing already committed.
A file that is not a Tessera tuning database (random bytes, a truncated file, another
schema version) raises ``TuningDatabaseError`` naming the file.

    db = Database("tuning.db")
    db.add(Record(...))
    rec = db.best(task.key, "llvm", hw_key(desc))
    db.export_jsonl("dump.jsonl"); db.import_jsonl("dump.jsonl")
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tessera.compiler.autotune.errors import TuningDatabaseError

SCHEMA_VERSION = 1
SQLITE_MAGIC = b"SQLite format 3\x00"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workload TEXT NOT NULL, target TEXT NOT NULL, hw_key TEXT NOT NULL, hw TEXT NOT NULL,
    config TEXT NOT NULL, config_index INTEGER NOT NULL,
    cost REAL, costs TEXT NOT NULL, error_kind TEXT, error_msg TEXT NOT NULL,
    features TEXT, timestamp REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS records_task ON records (workload, target, hw_key);
"""


@dataclass(frozen=True)
class Record:
    """One measurement: ``cost`` is the median run time in seconds (CPU) or cycles (VTA),
    None when the candidate failed with ``error_kind`` (invalid, build, runtime, wrong,
    crash, timeout)."""

    workload: str
    target: str
    hw: dict[str, Any] = field(hash=False)
    config: dict[str, Any] = field(hash=False)
    config_index: int
    cost: float | None
    costs: tuple[float, ...] = ()
    error_kind: str | None = None
    error_msg: str = ""
    features: tuple[float, ...] | None = None
    timestamp: float = 0.0

    @property
    def ok(self) -> bool:
        return self.cost is not None and self.error_kind is None

    @property
    def hw_key(self) -> str:
        from tessera.compiler.autotune.hardware import hw_key

        return hw_key(self.hw)

    def to_json(self) -> str:
        d = asdict(self)
        d["costs"] = list(self.costs)
        d["features"] = list(self.features) if self.features is not None else None
        return json.dumps(d, sort_keys=True)

    @staticmethod
    def from_dict(d: dict[str, Any]) -> Record:
        feats = d.get("features")
        return Record(d["workload"], d["target"], dict(d["hw"]), dict(d["config"]),
                      int(d["config_index"]), None if d["cost"] is None else float(d["cost"]),
                      tuple(float(c) for c in d.get("costs", ())), d.get("error_kind"),
                      str(d.get("error_msg", "")),
                      None if feats is None else tuple(float(f) for f in feats),
                      float(d.get("timestamp", 0.0)))


class Database:
    """A SQLite tuning database at ``path`` (created when missing)."""

    def __init__(self, path: str | Path, timeout_s: float = 60.0) -> None:
        self.path = Path(path)
        if self.path.exists() and self.path.stat().st_size > 0:
            with open(self.path, "rb") as f:
                head = f.read(len(SQLITE_MAGIC))
            if head != SQLITE_MAGIC:
                raise TuningDatabaseError(
                    f"{self.path}: the tuning database must be a SQLite file, not a file "
                    f"starting with {head[:8]!r}")
        try:
            self._conn = sqlite3.connect(str(self.path), timeout=timeout_s,
                                         isolation_level=None)
            self._conn.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            check = self._conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise TuningDatabaseError(f"{self.path}: the tuning database is corrupt "
                                          f"(SQLite quick_check: {check})")
            self._conn.executescript("BEGIN IMMEDIATE;" + _SCHEMA + "COMMIT;")
            self._conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                               (str(SCHEMA_VERSION),))
            version = self._conn.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        except sqlite3.DatabaseError as err:
            raise TuningDatabaseError(f"{self.path}: the tuning database is unreadable or "
                                      f"corrupt ({err})") from err
        if int(version) != SCHEMA_VERSION:
            raise TuningDatabaseError(f"{self.path}: schema version must be {SCHEMA_VERSION}, "
                                      f"not {version}")

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        try:
            return self._conn.execute(sql, tuple(params))
        except sqlite3.DatabaseError as err:
            raise TuningDatabaseError(f"{self.path}: database error ({err})") from err

    def add(self, rec: Record) -> None:
        """Store ``rec`` and commit it at once."""
        self.add_many([rec])

    def add_many(self, recs: Iterable[Record]) -> None:
        """Store ``recs`` in one transaction."""
        rows = [(r.workload, r.target, r.hw_key, json.dumps(r.hw, sort_keys=True),
                 json.dumps(r.config, sort_keys=True), r.config_index,
                 r.cost if r.cost is None or math.isfinite(r.cost) else None,
                 json.dumps(list(r.costs)), r.error_kind, r.error_msg,
                 None if r.features is None else json.dumps(list(r.features)),
                 r.timestamp or time.time()) for r in recs]
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.executemany(
                "INSERT INTO records (workload, target, hw_key, hw, config, config_index, cost,"
                " costs, error_kind, error_msg, features, timestamp)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            self._conn.execute("COMMIT")
        except sqlite3.DatabaseError as err:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise TuningDatabaseError(f"{self.path}: could not store records ({err})") from err

    def records(self, workload: str | None = None, target: str | None = None,
                hw_key: str | None = None) -> list[Record]:
        """Records in insertion order, filtered by any of workload, target and hardware."""
        where, params = [], []
        for col, val in (("workload", workload), ("target", target), ("hw_key", hw_key)):
            if val is not None:
                where.append(f"{col} = ?")
                params.append(val)
        sql = ("SELECT workload, target, hw, config, config_index, cost, costs, error_kind,"
               " error_msg, features, timestamp FROM records")
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [_row(r) for r in self._run(sql + " ORDER BY id", params)]

    def __len__(self) -> int:
        return int(self._run("SELECT COUNT(*) FROM records").fetchone()[0])

    def workloads(self) -> list[tuple[str, str, str]]:
        """Distinct (workload, target, hw_key) triples."""
        rows = self._run("SELECT DISTINCT workload, target, hw_key FROM records ORDER BY id")
        return [(str(a), str(b), str(c)) for a, b, c in rows]

    def best(self, workload: str, target: str, hw_key: str | None = None) -> Record | None:
        """The fastest successful record of a workload on a target (and hardware), or None."""
        sql = ("SELECT workload, target, hw, config, config_index, cost, costs, error_kind,"
               " error_msg, features, timestamp FROM records WHERE workload = ? AND target = ?"
               " AND cost IS NOT NULL AND error_kind IS NULL")
        params: list[Any] = [workload, target]
        if hw_key is not None:
            sql += " AND hw_key = ?"
            params.append(hw_key)
        row = self._run(sql + " ORDER BY cost, id LIMIT 1", params).fetchone()
        return _row(row) if row else None

    def export_jsonl(self, path: str | Path) -> int:
        """Write every record as one JSON object per line; returns the count."""
        n = 0
        with open(path, "w", encoding="utf-8") as f:
            for rec in self.records():
                f.write(rec.to_json() + "\n")
                n += 1
        return n

    def import_jsonl(self, path: str | Path) -> int:
        """Add the records of a JSON-lines file; returns the count."""
        recs = list(_read_jsonl(Path(path)))
        self.add_many(recs)
        return len(recs)


def _read_jsonl(path: Path) -> Iterator[Record]:
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield Record.from_dict(json.loads(line))
            except (ValueError, KeyError, TypeError) as err:
                raise TuningDatabaseError(f"{path}:{lineno}: each line must be a JSON tuning "
                                          f"record, not {line[:60]!r} ({err})") from err


def _row(r: tuple[Any, ...]) -> Record:
    workload, target, hw, config, index, cost, costs, ekind, emsg, feats, ts = r
    return Record(workload, target, json.loads(hw), json.loads(config), int(index),
                  None if cost is None else float(cost), tuple(json.loads(costs)), ekind, emsg,
                  None if feats is None else tuple(json.loads(feats)), float(ts))
