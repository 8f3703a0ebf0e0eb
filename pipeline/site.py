"""The site: OUTPUT/site/, the nights, stories and briefs as plain HTML pages, searchable offline.

A view over the same records the Markdown pages come from: the state database (each brief's
digest entry, the stories and which night each article joined) and each night's JSON twin
(`digest-<date>.json`, what that night's digest said). Nothing is parsed back from Markdown,
except for a brief stored before its entry kept the original text (then the brief is read).

Pages (every link relative, so the folder works from `file://` and from any static host):
`index.html` (tonight first, the nights before, open stories by last update),
`nights/<date>.html`, `stories/<id>-<slug>.html`, `briefs/<name>.html` (translation and original
side by side, paragraph by paragraph) and `search.html`. Search runs in the browser over an
index written as JavaScript files (`search/<yyyy-mm>.js`, one per month of briefs, and
`search/stories.js`) that assign to a global: a `<script src>` loads from `file://`, where
`fetch()` (and so Pagefind) cannot. See docs/site.md for the measurement.

Safe by construction: Jinja2 autoescape on every template, links to the outside only for
http(s) addresses (render.web_url), a Content-Security-Policy meta tag on every page (scripts
only from the site itself, and only on the search page), no inline script or style.

A night renders the pages it may have changed (its briefs, its stories and their articles, its
night page and its neighbours, the index, its month's search file) and writes only those whose
bytes differ from what is on disk; `newsbrief site` renders everything.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import unicodedata
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from pydantic import BaseModel, ConfigDict

from pipeline.digest import DIGEST_RE, DigestEntry, DigestOptions, entry_from_json, tracked_story
from pipeline.errors import OutputError
from pipeline.languages import name_of
from pipeline.render import read_brief, visible_controls, web_url, write_atomic
from pipeline.state import State
from pipeline.storystore import StoredStory, StoryStore, memberships

log = logging.getLogger("newsbrief.site")

ASSETS = ("style.css", "search.js", "icon.svg")


class SiteOptions(BaseModel):
    """The static site `newsbrief digest` writes next to the Markdown (`newsbrief site` rebuilds it).

    Attributes:
        enabled: write OUTPUT/site/ after each digest (false: only the Markdown and JSON).
        folder: where, relative to the output folder (or absolute).
        title: the site's name in every page's header; empty: the digest's title.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    folder: Path = Path("site")
    title: str = ""


@dataclass
class SiteReport:
    folder: Path
    written: int = 0
    unchanged: int = 0
    seconds: float = 0.0
    pages: list[str] = field(default_factory=list)  # written, relative to the folder

    def line(self) -> str:
        return (
            f"site {self.folder / 'index.html'}: {self.written} file(s) written, "
            f"{self.unchanged} unchanged, {self.seconds:.1f}s"
        )


@dataclass
class Column:
    """One column of a story's timeline: its heading and how a row's cell is made.

    `cell(row)` returns the cell's text, or a dict with `text` and optional `href` (relative to
    the site root), `lang`, `dir` and `class`. A new kind of information about how an article
    joined its story is one more Column in TIMELINE_COLUMNS."""

    heading: str
    cell: Any  # Callable[[TimelineRow], str | dict]
    css: str = ""


@dataclass
class TimelineRow:
    entry: DigestEntry
    gist: str
    joined: str  # the night it joined the story
    joined_page: str | None  # that night's page, when there is one
    new: bool  # joined on the story's latest night (of a story that started earlier)
    brief: str | None  # its page, relative to the site root
    shares: list[str] = field(default_factory=list)  # what it shares with the story's others


def _article_cell(r: TimelineRow) -> dict:
    return {"text": r.entry.headline, "href": r.brief, "note": r.gist}


def _date_cell(r: TimelineRow) -> str:
    vague = r.entry.date_precision in ("month", "year")
    return r.entry.date + (f" ({r.entry.date_precision} only)" if vague else "")


def _warnings_cell(r: TimelineRow) -> dict | str:
    w = r.entry.warnings
    return {"text": f"⚠ {len(w)}", "class": "warn", "title": "; ".join(w)} if w else ""


TIMELINE_COLUMNS = [
    Column("", lambda r: {"text": "new", "class": "new"} if r.new else "", "mark"),
    Column("Date", _date_cell, "date"),
    Column("Language", lambda r: r.entry.language_name),
    Column("Article", _article_cell, "wide"),
    Column("Joined", lambda r: {"text": r.joined, "href": r.joined_page}, "date"),
    Column("Shares", lambda r: ", ".join(r.shares)),
    Column("Warnings", _warnings_cell),
]


def night_url(run_date: str) -> str:
    return f"nights/{run_date}.html"


def brief_url(brief: str) -> str:
    """`briefs/x.md` (relative to the output folder) → `briefs/x.html` (relative to the site)."""
    return f"briefs/{Path(brief).stem}.html"


def story_url(page: str) -> str:
    return f"stories/{Path(page).stem}.html"


# ---- escaping helpers for the templates ----------------------------------------------------

_RTL = {"R", "AL"}


def direction(text: str | None) -> str:
    """`rtl` when the text's first strongly directional letter is right-to-left (Arabic,
    Hebrew, Syriac, Thaana, N'Ko scripts), else `ltr`."""
    for ch in text or "":
        kind = unicodedata.bidirectional(ch)
        if kind in _RTL:
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


def visible(text: object) -> str:
    """A file name as it is, with control characters and line breaks shown as escapes."""
    return visible_controls(str(text)).replace("\n", "\\n")


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("pipeline", "templates/site"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
    )
    env.filters["web_url"] = web_url  # http(s) only, else None: a feed's javascript: link is text
    env.filters["visible"] = visible  # a NUL or line break in a file name, shown as \x00, \n
    env.filters["dir"] = direction
    env.filters["language"] = name_of
    env.globals["columns"] = TIMELINE_COLUMNS
    return env


# ---- what the pages are made of ---------------------------------------------------------------


@dataclass
class BriefRecord:
    source_file: str
    run_date: str  # the night whose digest listed it
    entry: DigestEntry


class Site:
    """One build: reads the state database and the nights' JSON, writes changed pages."""

    def __init__(self, output_dir: Path, state: State, digest: DigestOptions, options: SiteOptions):
        self.output_dir = output_dir
        self.folder = options.folder if options.folder.is_absolute() else output_dir / options.folder
        self.state = state
        self.db: sqlite3.Connection = state.db
        self.digest = digest
        self.title = options.title or digest.title
        self.store = StoryStore(state, digest)
        self.report = SiteReport(self.folder)
        # Every brief with a page, and each source file's current brief.
        rows = self.db.execute(
            "SELECT source_file, brief FROM articles WHERE status = 'done' AND entry IS NOT NULL"
        ).fetchall()
        self.brief_of = {source: brief for source, brief in rows}
        self.has_page = {brief for _, brief in rows}
        self.nights = sorted(
            (m.group(1) for p in output_dir.iterdir() if (m := DIGEST_RE.match(p.name))), reverse=True
        )

    # ---- reading -------------------------------------------------------------------------------

    def records(self, where: str = "", args: tuple = ()) -> list[BriefRecord]:
        rows = self.db.execute(
            "SELECT source_file, run_date, entry FROM articles WHERE status = 'done' AND entry IS NOT NULL "
            f"{where} ORDER BY source_file",
            args,
        )
        return [BriefRecord(s, d, entry_from_json(json.loads(e))) for s, d, e in rows]

    def records_of(self, sources: list[str]) -> list[BriefRecord]:
        out: list[BriefRecord] = []
        for k in range(0, len(sources), 500):
            chunk = sources[k : k + 500]
            out += self.records(f"AND source_file IN ({', '.join('?' * len(chunk))})", tuple(chunk))
        return out

    def stories(self, where: str = "", args: tuple = ()) -> list[StoredStory]:
        rows = self.db.execute(
            "SELECT id, slug, title, first_seen, last_update, status, merged_into FROM stories "
            f"{where} ORDER BY id",
            args,
        )
        return [StoredStory(*row) for row in rows]

    def story_of(self, sources: list[str]) -> dict[str, tuple[str, str]]:
        """Source file → (story id, night it joined)."""
        return memberships(self.db, sources)

    def link_to_brief(self, brief: str | None, source_file: str) -> str | None:
        """The page of a brief a digest named: itself, else its source's current brief."""
        if brief in self.has_page:
            return brief_url(brief)
        current = self.brief_of.get(source_file)
        return brief_url(current) if current else None

    # ---- writing -------------------------------------------------------------------------------

    def put(self, rel: str, content: str | bytes) -> None:
        """Writes the file unless it already holds exactly these bytes."""
        data = content.encode("utf-8") if isinstance(content, str) else content
        path = self.folder / rel
        try:
            if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
                self.report.unchanged += 1
                return
        except OSError as exc:
            raise OutputError(f"cannot read {path}: {exc.strerror or exc}") from exc
        write_atomic(path, data)
        self.report.written += 1
        self.report.pages.append(rel)

    def page(self, rel: str, template: str, **context: Any) -> None:
        root = "../" * rel.count("/")
        html = environment().get_template(template).render(root=root, site_title=self.title, **context)
        self.put(rel, html)

    # ---- the build ------------------------------------------------------------------------------

    def build(self, run_date: str | None = None) -> SiteReport:
        """Everything (`run_date` None), or what the night of `run_date` may have changed."""
        started = time.monotonic()
        for name in ASSETS:
            self.put(f"assets/{name}", resources.files("pipeline").joinpath(f"data/site/{name}").read_bytes())
        if run_date is None:
            records = self.records()
            stories = self.stories()
            nights = self.nights
            months = sorted({r.run_date[:7] for r in records})
        else:
            tonight = self.records("AND run_date = ?", (run_date,))
            ids = sorted({sid for sid, _ in self.story_of([r.source_file for r in tonight]).values()})
            marks = ", ".join("?" * len(ids))
            stories = self.stories(f"WHERE id IN ({marks}) OR merged_into IN ({marks})", (*ids, *ids))
            members = [s for st in stories if st.status != "merged" for s in self.store.articles_of(st.id)]
            records = self.records_of(sorted({*members, *(r.source_file for r in tonight)}))
            at = self.nights.index(run_date) if run_date in self.nights else -1
            nights = self.nights[max(0, at - 1) : at + 2] if at >= 0 else []
            months = [run_date[:7]]
        by_id = {s.id: s for s in self.stories()} if run_date is None else {s.id: s for s in stories}
        for s in stories:
            self.story_page(s, by_id)
        membership = self.story_of([r.source_file for r in records])
        for r in records:
            sid, joined = membership.get(r.source_file, ("", ""))
            story = by_id.get(sid) or (self.store.get(sid) if sid else None)
            self.brief_page(r, story, joined)
        for night in nights:
            self.night_page(night)
        for month in months:
            self.search_shard(month)
        self.search_stories()
        self.index_page()
        self.report.seconds = time.monotonic() - started
        return self.report

    def story_page(self, s: StoredStory, by_id: dict[str, StoredStory]) -> None:
        if s.status == "merged":
            into = by_id.get(s.merged_into or "") or self.store.get(s.merged_into or "")
            self.page(
                story_url(s.page),
                "merged.html.j2",
                story=s,
                into=into,
                into_url=story_url(into.page) if into else None,
            )
            return
        s.articles = self.store.articles_of(s.id)
        entries = self.store.entries_of(s)
        if not entries:
            return
        continues = s.first_seen < s.last_update
        nights = set(self.nights)
        new = {src for src, night in s.articles.items() if night == s.last_update} if continues else set()
        t = tracked_story(
            entries, new, self.digest, id=s.id, first_seen=s.first_seen, last_update=s.last_update
        )
        rows = [
            TimelineRow(
                x.entry,
                x.gist,
                s.articles.get(x.entry.source_file, ""),
                night_url(s.articles[x.entry.source_file])
                if s.articles.get(x.entry.source_file) in nights
                else None,
                x.entry.source_file in new,
                self.link_to_brief(x.entry.brief, x.entry.source_file),
                x.why,
            )
            for x in t.story.timeline
        ]
        self.page(
            story_url(s.page),
            "story.html.j2",
            s=s,
            story=t.story,
            rows=rows,
            brief_link=self.link_to_brief,
            nights=nights,
        )

    def brief_page(self, r: BriefRecord, story: StoredStory | None, joined: str) -> None:
        e = r.entry
        if (e.sentences and not e.paragraphs) or not e.original:  # stored before the site existed
            e = self._from_brief_file(e)
        by_paragraph: dict[int, list[tuple[str, list[str]]]] = {}
        for i, sentence in enumerate(e.sentences):
            p = e.paragraphs[i] if i < len(e.paragraphs) else i
            by_paragraph.setdefault(p, []).append(
                (sentence, e.flags.get(str(i), ["flagged"] if i in e.flagged else []))
            )
        count = max([len(e.original), *(k + 1 for k in by_paragraph)], default=0)
        pairs = [
            (by_paragraph.get(k, []), e.original[k] if k < len(e.original) else "") for k in range(count)
        ]
        self.page(
            brief_url(e.brief),
            "brief.html.j2",
            e=e,
            pairs=pairs,
            run_date=r.run_date,
            night=r.run_date if r.run_date in self.nights else None,
            story=story if story and story.status != "merged" else None,
            story_link=story_url(story.page) if story else None,
            joined=joined,
            original_dir=direction(e.original_title or " ".join(e.original[:3])),
        )

    def _from_brief_file(self, e: DigestEntry) -> DigestEntry:
        """An entry stored before it kept the original text: the brief on disk supplies it."""
        path = self.output_dir / e.brief
        try:
            row = read_brief(path) if path.is_file() else None
        except (OSError, ValueError) as exc:
            log.warning("%s: cannot read the original text back (%s)", path, exc)
            row = None
        if not row:
            return e
        found = row["entry"]
        return replace(
            e,
            original=found["original"],
            original_title=found["original_title"],
            sentences=found["sentences"],
            paragraphs=found["paragraphs"],
            flagged=found["flagged"],
            flags={},
        )

    def night_page(self, night: str) -> None:
        path = self.output_dir / f"digest-{night}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.warning("%s: no page for the night %s (%s)", path, night, exc)
            return
        at = self.nights.index(night)
        self.page(
            night_url(night),
            "night.html.j2",
            d=data,
            older=self.nights[at + 1] if at + 1 < len(self.nights) else None,
            newer=self.nights[at - 1] if at > 0 else None,
            brief_link=self.link_to_brief,
            story_link=lambda page: story_url(page) if page else None,
        )

    def index_page(self) -> None:
        latest = None
        if self.nights:
            try:
                latest = json.loads((self.output_dir / f"digest-{self.nights[0]}.json").read_text("utf-8"))
            except (OSError, ValueError) as exc:
                log.warning("the latest night's JSON is not readable (%s)", exc)
        months: dict[str, list[str]] = {}
        for night in self.nights[1:]:
            months.setdefault(night[:7], []).append(night)
        self.page(
            "index.html",
            "index.html.j2",
            latest=latest,
            latest_date=self.nights[0] if self.nights else None,
            months=months,
            open_stories=self.store.open_stories(),
            story_link=lambda page: story_url(page) if page else None,
        )
        shards = sorted(p.stem for p in (self.folder / "search").glob("*.js") if p.stem != "stories")
        self.page("search.html", "search.html.j2", shards=shards, scripts=True)

    def search_shard(self, month: str) -> None:
        """One month of briefs for the search: English and original text, by the night listed."""
        docs = []
        for r in self.records("AND run_date LIKE ?", (f"{month}-%",)):
            e = r.entry
            if (e.sentences and not e.paragraphs) or not e.original:
                e = self._from_brief_file(e)
            english = " ".join([*e.key_points, *e.sentences])
            original = " ".join([e.original_title or "", *e.original]).strip()
            docs.append(
                [brief_url(e.brief), e.headline, e.date, e.language, e.language_name,
                 visible(e.source_file), english, original]
            )  # fmt: skip
        self.put(f"search/{month}.js", _shard(docs))

    def search_stories(self) -> None:
        rows = self.db.execute(
            "SELECT s.id, s.slug, s.title, s.first_seen, s.last_update, s.status, COUNT(a.source_file) "
            "FROM stories s LEFT JOIN story_articles a ON a.story_id = s.id WHERE s.status != 'merged' "
            "GROUP BY s.id ORDER BY s.id"
        )
        docs = [
            [story_url(StoredStory(sid, slug, title, first, last).page), title, f"{first} → {last}", "",
             f"story, {n} article{'s' if n != 1 else ''}, {status}", "", title, ""]
            for sid, slug, title, first, last, status, n in rows
        ]  # fmt: skip
        self.put("search/stories.js", _shard(docs))


def _shard(docs: list[list]) -> str:
    """A search file: `<script src>` runs it from file:// too (fetch() would be refused there).
    JSON is a JavaScript expression; `<` is escaped so no `</script>` can appear in the file."""
    data = json.dumps(docs, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    return f"(window.NB_SEARCH = window.NB_SEARCH || []).push({data});\n"


def build_site(
    output_dir: Path,
    state: State,
    digest: DigestOptions,
    options: SiteOptions,
    run_date: str | None = None,
) -> SiteReport:
    """Writes OUTPUT/site/: everything, or (`run_date`) what that night may have changed."""
    report = Site(output_dir, state, digest, options).build(run_date)
    log.info("%s", report.line())
    return report
