"""The state database (SQLite, in the output folder): what was done to which file, with which models.

A nightly re-run only does new work: a file is skipped when its bytes (sha256) and the
fingerprint of the models and settings that would process it are unchanged. Each article's row
is committed as soon as its brief is in place, so a run killed at any moment loses nothing that
was finished, and the next run completes the rest without duplicates: before a brief is written
its planned name is recorded, so a half-finished article's file can be found and replaced.

`newsbrief fetch` keeps its memory here too: per feed the validators of its last response (for
conditional GETs) and its folder, per item its URL and GUID (so each is fetched once) and why
it failed (so the next digest lists it). The schema grows by numbered migrations
(`PRAGMA user_version`), so a database written by an older version keeps working.

The database is a cache of what the briefs on disk already say (each brief's front matter holds
its source file, the sha256 of its bytes and the fingerprint of what made it). So a database
that a disk error or a sync tool truncated or overwrote is not fatal: it is moved aside to
`state.db.corrupt-<timestamp>` and rebuilt from the briefs, and the run goes on without
duplicating a brief or translating anything again.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path

from pipeline.errors import OutputError, StateCorruptError

log = logging.getLogger("newsbrief.state")

STATE_FILE = "state.db"  # in the output folder

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


# Migration k (1-based) brings a database from user_version k-1 to k; each runs once, in order.
MIGRATIONS = [
    # 1: feeds and their items (newsbrief fetch).
    """
    CREATE TABLE IF NOT EXISTS feeds (
        url           TEXT PRIMARY KEY,
        title         TEXT,
        folder        TEXT,            -- the feed's folder inside the input folder (named by us)
        etag          TEXT,            -- validators of the last 200 response, for conditional GETs
        last_modified TEXT,
        status        TEXT NOT NULL,   -- 'ok' or 'failed'
        reason        TEXT,            -- why the last check failed
        reported      TEXT,            -- run date of the digest that listed the failure
        checked_at    TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS feed_items (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        feed_url    TEXT NOT NULL,
        guid        TEXT NOT NULL,     -- the entry's id (its link when it has none)
        url         TEXT NOT NULL,     -- the link, as the feed gives it (made absolute)
        title       TEXT,
        published   TEXT,              -- ISO 8601, from the feed
        file        TEXT NOT NULL,     -- the page's path relative to the input folder
        status      TEXT NOT NULL,     -- 'pending', 'saved' or 'failed'
        retry       INTEGER NOT NULL DEFAULT 0,  -- 1: a failure that may pass (5xx, timeout)
        attempts    INTEGER NOT NULL DEFAULT 0,
        reason      TEXT,
        reported    TEXT,              -- run date of the digest that listed the failure
        updated_at  TEXT NOT NULL,
        UNIQUE (feed_url, guid)
    );
    CREATE INDEX IF NOT EXISTS feed_items_url ON feed_items (url);
    """,
    # 2: stories across nights (storystore.py), and the index a night's digest reads articles by.
    """
    CREATE INDEX IF NOT EXISTS articles_run_date ON articles(run_date);
    CREATE TABLE IF NOT EXISTS stories (
        id          TEXT PRIMARY KEY,   -- stable: derived from the article that started it
        slug        TEXT NOT NULL,      -- fixed when the story starts, so its page keeps its name
        title       TEXT NOT NULL,      -- the latest title (the story's most central headline)
        first_seen  TEXT NOT NULL,      -- run date of the night it started
        last_update TEXT NOT NULL,      -- run date of the last night it gained an article
        status      TEXT NOT NULL,      -- 'open', 'closed' (outside the window), 'merged'
        merged_into TEXT                -- for 'merged': the older story that took its articles
    );
    CREATE INDEX IF NOT EXISTS stories_status ON stories(status, last_update);
    CREATE TABLE IF NOT EXISTS story_articles (
        source_file TEXT PRIMARY KEY,   -- an article belongs to one story
        story_id    TEXT NOT NULL,
        joined      TEXT NOT NULL,      -- run date of the night it joined
        marks       TEXT NOT NULL       -- JSON: the names, places and figures grouping compares
    );
    CREATE INDEX IF NOT EXISTS story_articles_story ON story_articles(story_id, joined);
    CREATE TABLE IF NOT EXISTS story_marks (  -- inverted index: open stories by name, place, figure
        mark        TEXT NOT NULL,
        story_id    TEXT NOT NULL,
        last_update TEXT NOT NULL,      -- the story's, so a lookup reads the most recent stories first
        PRIMARY KEY (mark, story_id)
    );
    CREATE INDEX IF NOT EXISTS story_marks_recent ON story_marks(mark, last_update);
    """,
]


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


@dataclass(frozen=True)
class FeedRow:
    """What fetch remembers of one feed."""

    url: str
    title: str | None
    folder: str | None
    etag: str | None
    last_modified: str | None
    status: str
    reason: str | None = None
    reported: str | None = None


@dataclass(frozen=True)
class ItemRow:
    """One feed item: where its page goes in the input folder and how fetching it went."""

    feed_url: str
    guid: str
    url: str
    title: str | None
    published: str | None
    file: str
    status: str = "pending"
    retry: bool = False
    attempts: int = 0
    reason: str | None = None
    id: int = 0


FEED_COLUMNS = ("url", "title", "folder", "etag", "last_modified", "status", "reason", "reported")
ITEM_COLUMNS = (
    "feed_url", "guid", "url", "title", "published", "file", "status", "retry", "attempts", "reason", "id",
)  # fmt: skip


class State:
    """One connection per run; every write is its own committed transaction.

    Opening checks the file (`PRAGMA quick_check`): a corrupt database is moved aside and the
    state rebuilt from the briefs in `<folder>/briefs` (see `rebuild_from_briefs`), and so is an
    empty one while briefs exist (a database truncated to nothing, or deleted).
    `recovered` says what was done, for the run's log and digest.
    """

    def __init__(self, path: Path, briefs_dir: Path | None = None):
        self.path = path
        self.recovered: str | None = None
        briefs_dir = briefs_dir or path.parent / "briefs"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self.db = _open(path)
            except StateCorruptError as exc:
                moved = move_aside(path)
                log.error("%s; moved it to %s and rebuilding the state from %s", exc, moved.name, briefs_dir)
                self.db = _open(path)
                self.recovered = f"{exc}; moved to {moved.name} and rebuilt from the briefs"
            self._migrate()
            if not self.recovered and self._is_empty() and any(briefs_dir.glob("*.md")):
                log.warning("%s is empty but %s holds briefs: rebuilding the state", path, briefs_dir)
                self.recovered = "the state database was empty; rebuilt from the briefs"
        except (OSError, sqlite3.OperationalError) as exc:
            cause = _folder_problem(path.parent) or _cause(exc)
            raise OutputError(f"cannot open the state database {path}: {cause}") from exc
        if self.recovered:
            n = self.rebuild_from_briefs(briefs_dir)
            self.recovered += f" ({n} brief(s))"

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
                self.db.execute("COMMIT")
            except BaseException:
                if self.db.in_transaction:  # a failed COMMIT may already have rolled back
                    self.db.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:  # read-only folder, disk full, I/O error
            cause = _folder_problem(self.path.parent) or _cause(exc)
            raise OutputError(f"cannot write the state database {self.path}: {cause}") from exc

    def _is_empty(self) -> bool:
        return self.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 0

    def rebuild_from_briefs(
        self, briefs_dir: Path, read_brief: Callable[[Path], dict | None] | None = None
    ) -> int:
        """Re-creates one 'done' row per source file from the briefs on disk; returns how many.

        `read_brief` (default: render.read_brief) turns a brief into its row's fields, or None
        for a file that is not one of our briefs. A source with several briefs (its text changed
        and older briefs were superseded) gets its current one: the brief not marked
        `superseded_by`, else the newest. Later features that keep more state (stories) extend
        this with what their own files record.
        """
        if read_brief is None:
            from pipeline.render import read_brief
        current: dict[str, dict] = {}
        for path in sorted(briefs_dir.glob("*.md")) if briefs_dir.is_dir() else []:
            try:
                row = read_brief(path)
            except (OSError, ValueError) as exc:  # yaml errors are ValueErrors too
                log.warning("%s: not read back into the state: %s", path, exc)
                continue
            if not row:
                continue
            rank = (not row.pop("superseded"), row.pop("ingested", ""))
            best = current.get(row["source_file"])
            if best is None or rank > best["rank"]:
                current[row["source_file"]] = {**row, "rank": rank}
        for row in current.values():
            row.pop("rank")
            self.put(Record(status="done", **row))
        return len(current)

    def transaction(self):
        """One committed transaction for several writes (used by storystore)."""
        return self._tx()

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
        self._upsert("articles", "source_file", row)

    def _upsert(self, table: str, key: str, row: dict) -> None:
        """Inserts `row` into `table`, or updates the row with the same `key`, in one transaction."""
        names = list(row)
        updates = ", ".join(f"{n} = excluded.{n}" for n in names if n != key)
        with self._tx() as db:
            db.execute(
                f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
                f"ON CONFLICT({key}) DO UPDATE SET {updates}",
                tuple(row.values()),
            )

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        for k, script in enumerate(MIGRATIONS[version:], version + 1):
            with self._tx() as db:
                for statement in filter(str.strip, script.split(";")):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {k}")
            log.info("state database %s migrated to schema version %d", self.path, k)

    # ---- feeds (newsbrief fetch) ----------------------------------------------------------
    def feed(self, url: str) -> FeedRow | None:
        row = self.db.execute(f"SELECT {', '.join(FEED_COLUMNS)} FROM feeds WHERE url = ?", (url,)).fetchone()
        return FeedRow(*row) if row else None

    def put_feed(self, feed: FeedRow) -> None:
        row = asdict(feed)
        if feed.status == "failed":
            row["reported"] = None  # a new failure: the next digest lists it
        row["checked_at"] = _now()
        self._upsert("feeds", "url", row)

    def known_item(self, feed_url: str, guid: str, url: str) -> ItemRow | None:
        """The item seen before under this GUID in this feed, or at this URL in any feed."""
        row = self.db.execute(
            f"SELECT {', '.join(ITEM_COLUMNS)} FROM feed_items "
            "WHERE (feed_url = ? AND guid = ?) OR url = ? ORDER BY id LIMIT 1",
            (feed_url, guid, url),
        ).fetchone()
        return _item(row) if row else None

    def add_item(self, item: ItemRow) -> ItemRow:
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO feed_items (feed_url, guid, url, title, published, file, status, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
                (item.feed_url, item.guid, item.url, item.title, item.published, item.file, _now()),
            )
        return replace(item, id=int(cur.lastrowid or 0), status="pending")

    def items_to_fetch(self, max_attempts: int) -> list[ItemRow]:
        """Pending items, and failed ones whose failure may pass and that have tries left."""
        rows = self.db.execute(
            f"SELECT {', '.join(ITEM_COLUMNS)} FROM feed_items WHERE status = 'pending' "
            "OR (status = 'failed' AND retry = 1 AND attempts < ?) ORDER BY id",
            (max_attempts,),
        )
        return [_item(r) for r in rows]

    def set_item(self, item_id: int, status: str, reason: str | None = None, retry: bool = False) -> None:
        """Records an item's outcome; a failure counts as an attempt and is listed by the next digest."""
        with self._tx() as db:
            db.execute(
                "UPDATE feed_items SET status = ?, reason = ?, retry = ?, reported = NULL, updated_at = ?, "
                "attempts = attempts + (CASE WHEN ? = 'pending' THEN 0 ELSE 1 END) WHERE id = ?",
                (status, reason, int(retry), _now(), status, item_id),
            )

    def fetch_failures(self, run_date: str) -> list[tuple[str, str, bool]]:
        """(URL, reason, first listed now) of every feed and item whose last try failed and that no
        digest of an earlier day has listed: the digest of `run_date` lists them."""
        rows = self.db.execute(
            "SELECT url, reason, reported FROM feeds WHERE status = 'failed' AND "
            "(reported IS NULL OR reported = ?) UNION ALL "
            "SELECT url, reason, reported FROM feed_items WHERE status = 'failed' AND "
            "(reported IS NULL OR reported = ?) ORDER BY url",
            (run_date, run_date),
        )
        return [(url, reason or "unknown", reported is None) for url, reason, reported in rows]

    def mark_fetch_failures_reported(self, run_date: str) -> None:
        with self._tx() as db:
            for table in ("feeds", "feed_items"):
                db.execute(
                    f"UPDATE {table} SET reported = ? WHERE status = 'failed' AND reported IS NULL",
                    (run_date,),
                )

    # ---- what the digest and the stories read ---------------------------------------------
    def brief_names(self) -> dict[str, str]:
        """Brief file name → the source file that owns it (without parsing every stored entry)."""
        rows = self.db.execute("SELECT brief, source_file FROM articles WHERE brief IS NOT NULL")
        return {Path(brief).name: source for brief, source in rows}

    def entries(self, source_files: list[str]) -> dict[str, dict]:
        """The stored digest entries of these files (those that have one)."""
        out: dict[str, dict] = {}
        for k in range(0, len(source_files), 500):  # SQLite caps the number of parameters
            chunk = source_files[k : k + 500]
            rows = self.db.execute(
                f"SELECT source_file, entry FROM articles WHERE status = 'done' AND entry IS NOT NULL "
                f"AND source_file IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            out.update((source, json.loads(entry)) for source, entry in rows)
        return out

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


def _open(path: Path) -> sqlite3.Connection:
    """Connects and checks the file; StateCorruptError when it is not a sound SQLite database."""
    db = sqlite3.connect(path, isolation_level=None)  # autocommit; transactions are explicit
    try:
        db.execute("PRAGMA journal_mode=WAL")  # a reader never blocks, a crash never corrupts
        db.execute("PRAGMA synchronous=NORMAL")
        problems = [row[0] for row in db.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise StateCorruptError(f"the state database {path} is damaged ({'; '.join(problems[:3])})")
        db.executescript(SCHEMA)
        return db
    except sqlite3.DatabaseError as exc:
        db.close()
        if _is_corruption(exc):
            raise StateCorruptError(f"the state database {path} is not readable ({exc})") from exc
        raise
    except BaseException:
        db.close()
        raise


def _is_corruption(exc: sqlite3.DatabaseError) -> bool:
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name:
        return name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT"))
    return not isinstance(exc, sqlite3.OperationalError)


def check_database(path: Path) -> str | None:
    """Why the state database at `path` is unusable, or None (also when it does not exist yet).
    For `doctor`: looks, changes nothing."""
    if not path.exists():
        return None
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return f"cannot open the state database {path}: {exc}"
    try:
        problems = [row[0] for row in db.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            return f"the state database {path} is damaged ({'; '.join(problems[:3])})"
    except sqlite3.DatabaseError as exc:
        if _is_corruption(exc):
            return f"the state database {path} is not readable ({exc})"
        return f"cannot check the state database {path}: {exc}"
    finally:
        db.close()
    return None


def move_aside(path: Path) -> Path:
    """Renames a damaged database (and its WAL files, which belong to it) to
    `<name>.corrupt-<timestamp>`, kept for whoever wants to look; returns the new path."""
    stamp = datetime.now().astimezone().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.replace(target.with_name(target.name + suffix))
    path.replace(target)
    return target


def _folder_problem(folder: Path) -> str | None:
    """SQLite says only "unable to open database file": creating a file there tells why."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return None
    except OSError as exc:
        return f"{exc.strerror or exc} (in {folder})"


def _cause(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _item(row: tuple) -> ItemRow:
    data = dict(zip(ITEM_COLUMNS, row, strict=True))
    data["retry"] = bool(data["retry"])
    return ItemRow(**data)


def _record(row: dict) -> Record:
    row["retry"] = bool(row["retry"])
    row["entry"] = json.loads(row["entry"]) if row["entry"] else None
    return Record(**row)
