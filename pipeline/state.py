"""The state database (SQLite, in the output folder): what was done to which file, with which models.

A nightly re-run only does new work: a file is skipped when its bytes (sha256) and the
fingerprint of the models and settings that would process it are unchanged. Each article's row
is committed as soon as its brief is in place, so a run killed at any moment loses nothing that
was finished, and the next run completes the rest without duplicates: before a brief is written
its planned name is recorded, so a half-finished article's file can be found and replaced.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

log = logging.getLogger("newsbrief.state")

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    source_file TEXT PRIMARY KEY,   -- path relative to the input folder
    sha256      TEXT NOT NULL,      -- of the file's bytes
    status      TEXT NOT NULL,      -- 'done', 'failed', or 'writing' (a brief was being written)
    retry       INTEGER NOT NULL DEFAULT 0,  -- 1: the failure may pass (missing model): try again next run
    fingerprint TEXT NOT NULL,      -- models + settings that processed it
    language    TEXT,
    brief       TEXT,               -- brief path relative to the output folder
    entry       TEXT,               -- the digest entry as JSON, so a digest can be rebuilt
    reason      TEXT,               -- why it failed
    run_date    TEXT NOT NULL,      -- the digest it belongs to
    updated_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_date    TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    processed   INTEGER,
    skipped     INTEGER,
    failed      INTEGER
);
"""


COLUMNS = (
    "source_file",
    "sha256",
    "status",
    "retry",
    "fingerprint",
    "language",
    "brief",
    "entry",
    "reason",
    "run_date",
)


@dataclass(frozen=True)
class Record:
    """One input file's row. status: 'done', 'failed', or 'writing' (its brief was being written)."""

    source_file: str
    sha256: str
    status: str
    fingerprint: str
    run_date: str
    retry: bool = False
    language: str | None = None
    brief: str | None = None
    entry: dict | None = None
    reason: str | None = None


class State:
    """One connection per run; every write is its own committed transaction."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None)  # autocommit; transactions are explicit
        self.db.execute("PRAGMA journal_mode=WAL")  # a reader never blocks, a crash never corrupts
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def _select(self, where: str = "", args: tuple = ()) -> list[Record]:
        rows = self.db.execute(
            f"SELECT {', '.join(COLUMNS)} FROM articles {where} ORDER BY source_file", args
        )
        return [_record(dict(zip(COLUMNS, row, strict=True))) for row in rows]

    def get(self, source_file: str) -> Record | None:
        found = self._select("WHERE source_file = ?", (source_file,))
        return found[0] if found else None

    def all(self) -> list[Record]:
        return self._select()

    def for_run_date(self, run_date: str) -> list[Record]:
        return self._select("WHERE run_date = ?", (run_date,))

    def put(self, record: Record) -> None:
        """Inserts or replaces a file's row in its own transaction (committed when this returns)."""
        row = asdict(record)
        row["retry"] = int(record.retry)
        row["entry"] = json.dumps(record.entry, ensure_ascii=False) if record.entry is not None else None
        row["updated_at"] = _now()
        names = list(row)
        updates = ", ".join(f"{n} = excluded.{n}" for n in names if n != "source_file")
        with self._tx() as db:
            db.execute(
                f"INSERT INTO articles ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
                f"ON CONFLICT(source_file) DO UPDATE SET {updates}",
                tuple(row.values()),
            )

    def start_run(self, run_date: str) -> int:
        with self._tx() as db:
            cur = db.execute("INSERT INTO runs (run_date, started_at) VALUES (?, ?)", (run_date, _now()))
            return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, processed: int, skipped: int, failed: int) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE runs SET finished_at = ?, processed = ?, skipped = ?, failed = ? WHERE id = ?",
                (_now(), processed, skipped, failed, run_id),
            )


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _record(row: dict) -> Record:
    row["retry"] = bool(row["retry"])
    row["entry"] = json.loads(row["entry"]) if row["entry"] else None
    return Record(**row)
