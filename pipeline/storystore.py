"""Stories across nights: each night's new articles join the stories earlier nights started.

A story that runs for months reaches the inbox one article at a time. The state database keeps
every story (a stable id, its articles, and the names, places and figures grouping compares),
so tonight's articles are matched with the stories already told instead of only with each other.

Why this shape: re-clustering the whole history every night would cost more each night. Instead
a night (1) closes the stories with no new article within `story_window_days`, (2) looks up,
for each new article, the open stories that share its names, places or figures, through an
inverted index in SQLite that reads the most recently updated stories first, (3) groups the
new articles together with the newest articles of those candidate stories, each story's
articles given as a seed that stays together (stories.group), and (4) stores the outcome: a
group with a stored story continues it, one with several merges them into the oldest (which
keeps its id), one with none starts a new story. The work per night depends on the night's
articles and their candidates, not on how many stories are kept.

A story's id is derived from the file of the article that started it, so the same nights in
the same order give the same ids, and a rebuilt state gives the same ids again. Each story's
page lists its id and its articles' source files, so a lost or rebuilt state database gets its
story ids back from the pages on disk (`recover_from_pages`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import yaml

from pipeline.digest import (
    DigestEntry,
    DigestOptions,
    Failure,
    TrackedStory,
    build_digest,
    entry_from_json,
    tracked_story,
    write_digest,
    write_merged_page,
    write_story_page,
)
from pipeline.figures import FigureReader
from pipeline.render import slugify
from pipeline.state import State
from pipeline.stories import _chronological, group, proper_words, signature

log = logging.getLogger("newsbrief.storystore")

CANDIDATES_PER_ARTICLE = 4  # open stories a new article is compared with (best shared marks first)
REPRESENTATIVES = 4  # a stored story is represented by its newest articles
POSTINGS_PER_MARK = 64  # stories read per name/place/figure, most recently updated first
STORIES_DIR = "stories"


@dataclass
class StoredStory:
    """One story as the state database keeps it."""

    id: str
    slug: str
    title: str
    first_seen: str
    last_update: str
    status: str = "open"  # 'open', 'closed', 'merged'
    merged_into: str | None = None
    articles: dict[str, str] = field(default_factory=dict)  # source file → run date it joined
    merged_from: list[str] = field(default_factory=list)  # ids merged into it tonight

    @property
    def page(self) -> str:
        """Its page, relative to the output folder."""
        return f"{STORIES_DIR}/{self.id}-{self.slug}.md"


@dataclass
class Night:
    """What one night did to the stories."""

    touched: list[StoredStory]  # stories with an article new (or re-processed) tonight
    merged: list[StoredStory]  # stories merged into an older one tonight
    closed: int  # stories closed tonight (no new article within the window)


def memberships(db: sqlite3.Connection, source_files: list[str]) -> dict[str, tuple[str, str]]:
    """Source file → (its story's id, the night it joined), for the files that are in a story."""
    out: dict[str, tuple[str, str]] = {}
    for k in range(0, len(source_files), 500):  # SQLite's limit on bound parameters
        chunk = source_files[k : k + 500]
        rows = db.execute(
            "SELECT source_file, story_id, joined FROM story_articles "
            f"WHERE source_file IN ({', '.join('?' * len(chunk))})",
            chunk,
        )
        out.update((src, (sid, joined)) for src, sid, joined in rows)
    return out


class StoryStore:
    """The stories in the state database; one per run, on the run's State connection."""

    def __init__(self, state: State, options: DigestOptions):
        self.state = state
        self.db: sqlite3.Connection = state.db
        self.options = options
        self.reader = FigureReader(options.figure_synonyms)

    # ---- one night ---------------------------------------------------------------------

    def update(self, run_date: str, entries: Sequence[DigestEntry]) -> Night:
        """Assigns tonight's entries to stories (continuing, merging or starting them)."""
        closed = self._close_stale(run_date)
        tonight = sorted(entries, key=_chronological)
        assigned = self._assigned([e.source_file for e in tonight])
        proper = proper_words(tonight)
        touched: dict[str, StoredStory] = {}
        with self.state.transaction():
            # Re-processed (or re-run) articles stay in their story; their marks are refreshed.
            for e in tonight:
                if e.source_file in assigned:
                    sid = assigned[e.source_file]
                    self._set_marks(e.source_file, signature(e, self.reader, proper))
                    touched.setdefault(sid, self.get(sid))  # type: ignore[arg-type]
            new = [e for e in tonight if e.source_file not in assigned]
            merged = self._place(run_date, new, proper, touched) if new else []
        stories = sorted(touched.values(), key=lambda s: s.id)
        for s in stories:
            s.articles = self.articles_of(s.id)
        log.info(
            "stories: %d touched (%d new), %d merged, %d closed",
            len(stories), sum(1 for s in stories if s.first_seen == run_date), len(merged), closed,
        )  # fmt: skip
        return Night(stories, merged, closed)

    def _place(
        self, run_date: str, new: list[DigestEntry], proper: set[str], touched: dict[str, StoredStory]
    ) -> list[StoredStory]:
        marks = [signature(e, self.reader, proper) for e in new]
        candidates = self._candidates(marks)
        pool: list[DigestEntry] = list(new)
        seeds: list[list[int]] = []
        owner: dict[int, str] = {}
        for sid in candidates:
            reps = self._representatives(sid)
            if not reps:
                continue
            seeds.append(list(range(len(pool), len(pool) + len(reps))))
            for k in range(len(pool), len(pool) + len(reps)):
                owner[k] = sid
            pool.extend(reps)
        merged: list[StoredStory] = []
        for members in group(pool, self.options, seeds):
            fresh = [i for i in members if i < len(new)]
            if not fresh:
                continue  # stored stories only: nothing new tonight joins them
            olds = sorted({owner[i] for i in members if i in owner})
            if olds:
                stories = sorted((self.get(sid) for sid in olds), key=lambda s: (s.first_seen, s.id))  # type: ignore[union-attr]
                target = stories[0]
                for other in stories[1:]:
                    self._merge(other, target)
                    target.merged_from.append(other.id)
                    merged.append(other)
                    touched.pop(other.id, None)
            else:
                target = self._create(new[fresh[0]], run_date)
            for i in fresh:
                self._join(target.id, new[i].source_file, run_date, marks[i])
            target.last_update = max(target.last_update, run_date)
            self.db.execute(
                "UPDATE stories SET last_update = ?, status = 'open' WHERE id = ?",
                (target.last_update, target.id),
            )
            self.db.execute(
                "UPDATE story_marks SET last_update = ? WHERE story_id = ?", (target.last_update, target.id)
            )
            if target.id in touched:
                touched[target.id].merged_from.extend(target.merged_from)
            else:
                touched[target.id] = target
        return merged

    def _candidates(self, marks: list[set[str]]) -> list[str]:
        """Open stories sharing names, places or figures with the new articles: for each
        article its best few, by shared marks (rarer ones weigh more), then the most recent."""
        chosen: dict[str, None] = {}
        for article_marks in marks:
            score: dict[str, float] = {}
            recent: dict[str, str] = {}
            for mark in sorted(article_marks):
                rows = self.db.execute(
                    "SELECT story_id, last_update FROM story_marks WHERE mark = ? "
                    "ORDER BY last_update DESC, story_id LIMIT ?",
                    (mark, POSTINGS_PER_MARK),
                ).fetchall()
                for sid, last in rows:
                    score[sid] = score.get(sid, 0.0) + 1.0 / len(rows)
                    recent[sid] = last
            shared = {sid for sid in score if self._shared(sid, article_marks)}
            ranked = sorted(shared, key=lambda sid: (-round(score[sid], 9), _neg(recent[sid]), sid))
            chosen.update(dict.fromkeys(ranked[:CANDIDATES_PER_ARTICLE]))
        return sorted(chosen)

    def _shared(self, sid: str, article_marks: set[str]) -> bool:
        """At least `min_shared_names` marks in common (the rule similarity applies pairwise)."""
        need = self.options.min_shared_names
        if need <= 1:
            return True
        hits = sum(
            1
            for m in article_marks
            if self.db.execute(
                "SELECT 1 FROM story_marks WHERE mark = ? AND story_id = ?", (m, sid)
            ).fetchone()
        )
        return hits >= need

    def _representatives(self, sid: str) -> list[DigestEntry]:
        rows = self.db.execute(
            "SELECT source_file FROM story_articles WHERE story_id = ? "
            "ORDER BY joined DESC, source_file DESC LIMIT ?",
            (sid, REPRESENTATIVES),
        ).fetchall()
        found = self.state.entries([r[0] for r in rows])
        return [entry_from_json(found[r[0]]) for r in rows if r[0] in found]

    def _create(self, founder: DigestEntry, run_date: str) -> StoredStory:
        sid = story_id(founder.source_file, lambda x: self.get(x) is not None)
        story = StoredStory(
            id=sid,
            slug=slugify(founder.headline, 50) or "story",
            title=founder.headline,
            first_seen=run_date,
            last_update=run_date,
        )
        self.db.execute(
            "INSERT INTO stories (id, slug, title, first_seen, last_update, status) "
            "VALUES (?, ?, ?, ?, ?, 'open')",
            (story.id, story.slug, story.title, story.first_seen, story.last_update),
        )
        return story

    def _join(self, sid: str, source_file: str, run_date: str, marks: set[str]) -> None:
        self.db.execute(
            "INSERT INTO story_articles (source_file, story_id, joined, marks) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(source_file) DO UPDATE SET story_id = excluded.story_id, joined = excluded.joined, "
            "marks = excluded.marks",
            (source_file, sid, run_date, json.dumps(sorted(marks), ensure_ascii=False)),
        )
        last = self.db.execute("SELECT last_update FROM stories WHERE id = ?", (sid,)).fetchone()[0]
        self.db.executemany(
            "INSERT OR IGNORE INTO story_marks (mark, story_id, last_update) VALUES (?, ?, ?)",
            [(m, sid, last) for m in sorted(marks)],
        )

    def _set_marks(self, source_file: str, marks: set[str]) -> None:
        row = self.db.execute(
            "SELECT s.id, s.status, s.last_update FROM story_articles a JOIN stories s ON s.id = a.story_id "
            "WHERE a.source_file = ?",
            (source_file,),
        ).fetchone()
        self.db.execute(
            "UPDATE story_articles SET marks = ? WHERE source_file = ?",
            (json.dumps(sorted(marks), ensure_ascii=False), source_file),
        )
        if row and row[1] == "open":
            self.db.executemany(
                "INSERT OR IGNORE INTO story_marks (mark, story_id, last_update) VALUES (?, ?, ?)",
                [(m, row[0], row[2]) for m in sorted(marks)],
            )

    def _merge(self, other: StoredStory, target: StoredStory) -> None:
        """`other`'s articles and marks move to `target` (the older story, which keeps its id)."""
        log.info("story %s merges into the older story %s", other.id, target.id)
        self.db.execute("UPDATE story_articles SET story_id = ? WHERE story_id = ?", (target.id, other.id))
        self.db.execute(
            "INSERT OR IGNORE INTO story_marks (mark, story_id, last_update) "
            "SELECT mark, ?, last_update FROM story_marks WHERE story_id = ?",
            (target.id, other.id),
        )
        self.db.execute("DELETE FROM story_marks WHERE story_id = ?", (other.id,))
        self.db.execute(
            "UPDATE stories SET status = 'merged', merged_into = ? WHERE id = ? OR merged_into = ?",
            (target.id, other.id, other.id),
        )
        other.status, other.merged_into = "merged", target.id

    def _close_stale(self, run_date: str) -> int:
        """Closes the open stories whose last new article is older than the window."""
        cutoff = (date.fromisoformat(run_date) - timedelta(days=self.options.story_window_days)).isoformat()
        stale = [
            r[0]
            for r in self.db.execute(
                "SELECT id FROM stories WHERE status = 'open' AND last_update < ?", (cutoff,)
            ).fetchall()
        ]
        if stale:
            with self.state.transaction() as db:
                for sid in stale:
                    db.execute("UPDATE stories SET status = 'closed' WHERE id = ?", (sid,))
                    db.execute("DELETE FROM story_marks WHERE story_id = ?", (sid,))
            log.info("closed %d stor%s with no new article since %s", len(stale), _y(len(stale)), cutoff)
        return len(stale)

    # ---- reading -----------------------------------------------------------------------

    def _assigned(self, source_files: list[str]) -> dict[str, str]:
        return {src: sid for src, (sid, _) in memberships(self.db, source_files).items()}

    def get(self, sid: str) -> StoredStory | None:
        row = self.db.execute(
            "SELECT id, slug, title, first_seen, last_update, status, merged_into FROM stories WHERE id = ?",
            (sid,),
        ).fetchone()
        return StoredStory(*row) if row else None

    def articles_of(self, sid: str) -> dict[str, str]:
        rows = self.db.execute(
            "SELECT source_file, joined FROM story_articles WHERE story_id = ? ORDER BY joined, source_file",
            (sid,),
        )
        return dict(rows)

    def entries_of(self, story: StoredStory) -> list[DigestEntry]:
        """The story's articles that have a brief (a re-processed one that failed has none now)."""
        found = self.state.entries(list(story.articles))
        return [entry_from_json(found[s]) for s in story.articles if s in found]

    def set_title(self, sid: str, title: str) -> None:
        with self.state.transaction() as db:
            db.execute("UPDATE stories SET title = ? WHERE id = ?", (title, sid))

    def open_stories(self) -> list[dict]:
        """Open stories, last updated first: what index.md lists."""
        rows = self.db.execute(
            "SELECT s.id, s.slug, s.title, s.first_seen, s.last_update, COUNT(a.source_file) "
            "FROM stories s LEFT JOIN story_articles a ON a.story_id = s.id WHERE s.status = 'open' "
            "GROUP BY s.id ORDER BY s.last_update DESC, s.id"
        )
        return [
            {
                "id": sid,
                "title": title,
                "first_seen": first,
                "last_update": last,
                "articles": n,
                "page": StoredStory(sid, slug, title, first, last).page,
            }
            for sid, slug, title, first, last, n in rows
        ]

    def is_empty(self) -> bool:
        return self.db.execute("SELECT 1 FROM stories LIMIT 1").fetchone() is None


def story_id(founder: str, taken) -> str:
    """Ten hex digits of the founding article's file name; the next variant if already used
    (a re-processed founder that starts a story again)."""
    for n in range(1000):
        seed = founder if n == 0 else f"{founder}#{n}"
        sid = hashlib.sha256(seed.encode("utf-8")).hexdigest()[:10]
        if not taken(sid):
            return sid
    raise RuntimeError(f"no free story id for {founder}")  # 1000 ids taken: the table is damaged


def _y(n: int) -> str:
    return "y" if n == 1 else "ies"


def _neg(run_date: str) -> tuple[int, ...]:
    return tuple(-int(x) for x in run_date.split("-"))


# ---- the night's output ---------------------------------------------------------------


def publish_night(
    state: State,
    run_date: str,
    entries: list[DigestEntry],
    failed: list[Failure],
    now: datetime,
    output_dir: Path,
    options: DigestOptions,
    executor: str = "local",
) -> Path:
    """Tonight's entries join their stories; the touched stories' pages, the digest and the
    index are written. Returns the digest's path."""
    store = StoryStore(state, options)
    if store.is_empty():  # a new or rebuilt database: take the ids the pages on disk give
        recover_from_pages(state, output_dir, options)
    night = store.update(run_date, entries)
    tonight = {e.source_file for e in entries}
    tracked: list[TrackedStory] = []
    for stored in night.touched:
        all_entries = store.entries_of(stored)
        if not all_entries:
            continue
        t = tracked_story(
            all_entries,
            tonight,
            options,
            id=stored.id,
            first_seen=stored.first_seen,
            last_update=stored.last_update,
            continues=stored.first_seen < run_date,
            page=stored.page,
            joined=stored.articles,
            merged_from=sorted(stored.merged_from),
        )
        write_story_page(t, output_dir, stored.status)
        if t.title != stored.title:
            store.set_title(stored.id, t.title)
        tracked.append(t)
    by_id = {t.id: t for t in tracked}
    for m in night.merged:
        if m.merged_into in by_id:
            write_merged_page(m.page, m.id, m.title, by_id[m.merged_into], output_dir)
    digest = build_digest(run_date, entries, failed, now, options=options, stories=tracked, executor=executor)
    return write_digest(digest, output_dir, options, open_stories=store.open_stories())


# ---- recovery from story pages ----------------------------------------------------------


@dataclass
class PageStory:
    """What a story page on disk says about its story."""

    id: str
    slug: str
    title: str
    first_seen: str
    last_update: str
    status: str
    articles: dict[str, str]  # source file → run date it joined


def read_story_pages(output_dir: Path) -> list[PageStory]:
    """Every readable story page's front matter (merged stubs and unreadable pages are skipped)."""
    out = []
    for path in sorted((output_dir / STORIES_DIR).glob("*.md")):
        try:
            text = path.read_text(encoding="utf-8")
            front = yaml.safe_load(text.split("---\n", 2)[1]) if text.startswith("---\n") else None
        except (OSError, UnicodeDecodeError, yaml.YAMLError, IndexError) as exc:
            log.warning("%s: not a readable story page (%s); its story gets a new id", path, exc)
            continue
        if not isinstance(front, dict) or front.get("status") not in ("open", "closed") or "id" not in front:
            continue
        sid = str(front["id"])
        named = path.stem.startswith(f"{sid}-")
        slug = path.stem[len(sid) + 1 :] if named else slugify(str(front.get("title", "")))
        articles = {
            str(a["source_file"]): str(a.get("joined") or front.get("first_seen"))
            for a in front.get("articles") or []
            if isinstance(a, dict) and a.get("source_file")
        }
        out.append(
            PageStory(
                sid,
                slug or "story",
                str(front.get("title", "")),
                str(front.get("first_seen")),
                str(front.get("last_update")),
                str(front["status"]),
                articles,
            )
        )
    return out


def recover_from_pages(state: State, output_dir: Path, options: DigestOptions | None = None) -> int:
    """Gives the stories on disk their ids back in a rebuilt (or emptied) state database.

    Each page lists its story's id and articles; every listed article that the database knows
    (it has a brief) and that belongs to no story yet joins that id again. Returns the number of
    stories restored. Safe to call on any database: stories it already has are left alone.
    """
    store = StoryStore(state, options or DigestOptions())
    restored = 0
    for page in read_story_pages(output_dir):
        if store.get(page.id) is not None:
            continue
        known = state.entries(list(page.articles))
        free = [s for s in page.articles if s in known and s not in store._assigned([s])]
        if not free:
            continue
        entries = [entry_from_json(known[s]) for s in free]
        proper = proper_words(entries)
        with state.transaction() as db:
            db.execute(
                "INSERT INTO stories (id, slug, title, first_seen, last_update, status) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (page.id, page.slug, page.title, page.first_seen, page.last_update, page.status),
            )
            for e in entries:
                marks = signature(e, store.reader, proper) if page.status == "open" else set()
                store._join(page.id, e.source_file, page.articles[e.source_file], marks)
        restored += 1
    if restored:
        log.info("restored %d stor%s from the pages in %s", restored, _y(restored), output_dir / STORIES_DIR)
    return restored
