"""Stories across nights: a story that runs for months keeps one id, its digest shows what is new
tonight against what came before, and its page grows with it.

The runs are real (`newsbrief digest --run-date`, a real state database, real files); English
passes through translation and the summaries are extractive, so no model is loaded and grouping
sees the English the tests wrote.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from pipeline.cli import main
from pipeline.config import Config, Paths, load_config
from pipeline.digest import DigestEntry, DigestOptions
from pipeline.run import EXIT_OK, run_digest
from pipeline.state import MIGRATIONS, Record, State
from pipeline.storystore import StoryStore, publish_night, read_story_pages, recover_from_pages
from tests.conftest import ROOT
from tests.conftest import digest_entry as entry

STORY = ROOT / "tests" / "fixtures" / "story"
ENGLISH = ROOT / "tests" / "fixtures" / "english"
# The five articles of one story, each on the night it came in.
NIGHTS = [
    ("1-defence-minister-visit.md", "2024-11-15"),
    ("2-full-support.txt", "2024-11-24"),
    ("3-phone-call.txt", "2025-08-13"),
    ("4-letter.txt", "2025-08-15"),
    ("5-beijing-talks.txt", "2025-09-03"),
]


def config_for(tmp: Path, **digest) -> Config:
    config = load_config(ROOT / "config.tiny.yaml")
    (tmp / "inbox").mkdir(parents=True, exist_ok=True)
    return config.model_copy(
        update={
            "paths": Paths(input=tmp / "inbox", output=tmp / "out", models=config.paths.models),
            "summarize": config.summarize.model_copy(update={"method": "extractive"}),
            "digest": config.digest.model_copy(update=digest),
        }
    )


def config_file(config: Config, path: Path) -> Path:
    data = yaml.safe_load((ROOT / "config.tiny.yaml").read_text(encoding="utf-8"))
    data["paths"] = {k: str(v) for k, v in config.paths.model_dump().items()}
    data["summarize"]["method"] = "extractive"
    for spec in data["models"].values():
        spec["path"] = str(ROOT / spec["path"])
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def night(config: Config, run_date: str, *files: Path) -> dict:
    for f in files:
        shutil.copy(f, config.input_dir / f.name)
    result = run_digest(config, run_date=run_date)
    assert result.digest_path.name == f"digest-{run_date}.md"
    return json.loads(result.digest_path.with_suffix(".json").read_text(encoding="utf-8"))


def files_of(story: dict) -> list[str]:
    return [a["source_file"] for a in story["articles"]]


@pytest.fixture(scope="module")
def five_nights(tiny_models, tmp_path_factory):
    """The story's five articles, one per night in date order, through the command line."""
    tmp = tmp_path_factory.mktemp("nights")
    config = config_for(tmp)
    cfg = config_file(config, tmp / "config.yaml")
    digests = []
    for name, run_date in NIGHTS:
        shutil.copy(STORY / name, config.input_dir / name)
        assert main(["digest", "--config", str(cfg), "--run-date", run_date, "-q"]) == EXIT_OK
        path = config.output_dir / f"digest-{run_date}.json"
        digests.append(json.loads(path.read_text(encoding="utf-8")))
    return config, digests


def test_one_story_over_ten_months_keeps_its_id(five_nights):
    config, digests = five_nights
    ids = [[s["id"] for s in d["stories"]] for d in digests]
    assert all(len(i) == 1 for i in ids) and len({i[0] for i in ids}) == 1  # one story, one id
    first, *rest = digests
    assert first["stories"][0]["continues"] is False and all(d["stories"][0]["continues"] for d in rest)
    assert all(d["stories"][0]["first_seen"] == "2024-11-15" for d in digests)
    # The last digest lists all five articles, only tonight's marked new.
    last = digests[-1]["stories"][0]
    assert [(a["source_file"], a["new"]) for a in last["articles"]] == [
        (name, name == NIGHTS[-1][0]) for name, _ in NIGHTS
    ]
    assert digests[-1]["counts"]["articles"] == 1  # tonight's articles; the rest are the story's past
    assert (config.output_dir / last["page"]).is_file()


def test_the_last_digest_shows_tonight_then_the_earlier_timeline_and_the_troop_figures(five_nights):
    config, digests = five_nights
    md = (config.output_dir / "digest-2025-09-03.md").read_text(encoding="utf-8")
    story = md.split("## 1. ")[1]
    new, earlier = story.split("### New tonight\n\n")[1].split("### Earlier in this story\n\n")
    assert re.findall(r"^- \*\*new\*\* · \*\*([\d-]+)\*\*", new, flags=re.MULTILINE) == ["2025-09-03"]
    assert "**new**" not in earlier.split("### Key figures")[0]
    # Earlier briefs are linked where they are, with the digest that first reported them.
    assert re.findall(r"^- \*\*([\d-]+)\*\*", earlier, flags=re.MULTILINE) == [
        "2024-11", "2024-11-24", "2025-08-13", "2025-08-15",
    ]  # fmt: skip
    for link in re.findall(r"\]\(((?:briefs/|digest-)[^)]+)\)", story):
        assert (config.output_dir / link).is_file(), link
    assert "continues (since 2024-11-15), 1 new of 5 articles" in md  # "In brief"
    # Key figures across the whole story: the troop numbers with their dates, tonight's marked.
    assert "| troops, figures differ | more than 10,000 | 2024-11 | English |" in md
    assert "|  | about 11,000 | 2024-11-24 | English |" in md
    assert "|  | about 13,000 | 2025-09-03 | English (**new**) |" in md
    troops = {g["quantity"]: g for g in digests[-1]["stories"][0]["figures"]}["troops"]
    values = [(v["display"], v["date"], v["new"]) for v in troops["values"]]
    assert values[0] == ("more than 10,000", "2024-11", False)
    assert ("about 13,000", "2025-09-03", True) in values
    assert [v for v in values if v[2]] == [v for v in values if v[1] == "2025-09-03"]  # tonight's only


def test_the_story_page_has_the_whole_story_and_the_index_lists_it(five_nights):
    config, digests = five_nights
    page = config.output_dir / digests[-1]["stories"][0]["page"]
    text = page.read_text(encoding="utf-8")
    front = yaml.safe_load(text.split("---\n", 2)[1])
    assert front["id"] == digests[0]["stories"][0]["id"] and front["status"] == "open"
    assert [a["source_file"] for a in front["articles"]] == [n for n, _ in NIGHTS]
    assert [a["joined"] for a in front["articles"]] == [d for _, d in NIGHTS]
    for link in re.findall(r"\]\(\.\./([^)]+)\)", text):  # briefs and digests, from stories/
        assert (config.output_dir / link).is_file(), link
    assert "| troops, figures differ | more than 10,000 | 2024-11 | English |" in text
    assert list((config.output_dir / "stories").iterdir()) == [page]  # rewritten, never duplicated
    index = (config.output_dir / "index.md").read_text(encoding="utf-8")
    assert f"]({digests[-1]['stories'][0]['page']}) | 5 | 2024-11-15 |" in index
    # Every digest links to the story's page.
    for _, run_date in NIGHTS:
        assert page.name in (config.output_dir / f"digest-{run_date}.md").read_text(encoding="utf-8")


def test_reprocessing_updates_the_story_without_duplicating_it(five_nights, tmp_path):
    config, digests = five_nights
    sid = digests[-1]["stories"][0]["id"]
    # --force re-processes every article on a later night: all stay in the one story.
    again = json.loads(json.dumps(night(config, "2025-09-04")))
    state = State(config.output_dir / "state.db")
    try:
        assert state.db.execute("SELECT COUNT(*) FROM stories").fetchone()[0] == 1
    finally:
        state.close()
    assert again["stories"] == []  # nothing new that night: no story repeated
    forced = run_digest(config, run_date="2025-09-05", force=True)
    data = json.loads(forced.digest_path.with_suffix(".json").read_text(encoding="utf-8"))
    assert [s["id"] for s in data["stories"]] == [sid]
    assert len(data["stories"][0]["articles"]) == 5
    assert len(list((config.output_dir / "stories").iterdir())) == 1


def test_a_rebuilt_state_takes_the_story_ids_from_the_pages(tiny_models, tmp_path):
    config = config_for(tmp_path)
    night(config, NIGHTS[0][1], STORY / NIGHTS[0][0])
    data = night(config, NIGHTS[1][1], STORY / NIGHTS[1][0])
    sid = data["stories"][0]["id"]
    # The state database is lost, and the article that started the story is gone from the inbox:
    # tonight's article alone would start a story of its own; the page on disk gives the id back.
    (config.input_dir / NIGHTS[0][0]).unlink()
    for p in config.output_dir.glob("state.db*"):
        p.unlink()
    rebuilt = night(config, "2025-08-13", STORY / NIGHTS[2][0])
    # The state is rebuilt from the briefs (all of them: a published brief stays), the story's
    # id and articles from its page; tonight's article joins it.
    assert [s["id"] for s in rebuilt["stories"]] == [sid]
    assert files_of(rebuilt["stories"][0]) == [n for n, _ in NIGHTS[:3]]
    assert [a["new"] for a in rebuilt["stories"][0]["articles"]] == [False, False, True]
    (page,) = read_story_pages(config.output_dir)
    assert page.id == sid and list(page.articles) == [n for n, _ in NIGHTS[:3]]


# ---- several stories ------------------------------------------------------------------------


def test_two_unrelated_stories_stay_apart_over_three_nights(tiny_models, tmp_path):
    config = config_for(tmp_path)
    fire = ["wildfire-patras-1.md", "wildfire-patras-2.txt", "wildfire-patras-3.txt"]
    rail = ["rail-baltica-1.md", "rail-baltica-2.txt"]
    one = night(config, "2025-07-02", ENGLISH / fire[0], ENGLISH / rail[0])
    two = night(config, "2025-07-04", ENGLISH / fire[1], ENGLISH / rail[1])
    three = night(config, "2025-07-09", ENGLISH / fire[2])
    by_first = {files_of(s)[0]: s["id"] for s in one["stories"]}
    assert set(by_first) == {fire[0], rail[0]} and len(set(by_first.values())) == 2
    assert {s["id"]: files_of(s) for s in two["stories"]} == {
        by_first[fire[0]]: fire[:2],
        by_first[rail[0]]: rail,
    }
    # Night three has only fire news: the rail story is not repeated.
    assert [(s["id"], files_of(s)) for s in three["stories"]] == [(by_first[fire[0]], fire)]
    md = (config.output_dir / "digest-2025-07-09.md").read_text(encoding="utf-8")
    assert "Rail Baltica" not in md.split("## Articles")[0]
    index = (config.output_dir / "index.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| ([\d-]+) \| \[.*?\]\(stories/(\w+)-", index, flags=re.MULTILINE)
    assert rows == [("2025-07-09", by_first[fire[0]]), ("2025-07-04", by_first[rail[0]])]


def test_a_story_closes_after_the_window(tiny_models, tmp_path):
    config = config_for(tmp_path, story_window_days=30)
    first = night(config, "2025-07-02", ENGLISH / "wildfire-patras-1.md")
    old = first["stories"][0]
    # 60 nights later the same fire is news again: the old story is closed, a new one starts.
    later = night(config, "2025-08-31", ENGLISH / "wildfire-patras-2.txt")
    (story,) = later["stories"]
    assert story["id"] != old["id"] and story["continues"] is False
    assert files_of(story) == ["wildfire-patras-2.txt"]
    index = (config.output_dir / "index.md").read_text(encoding="utf-8")
    assert story["page"] in index and old["page"] not in index
    assert (config.output_dir / old["page"]).is_file()  # a closed story keeps its page
    state = State(config.output_dir / "state.db")
    try:
        assert StoryStore(state, config.digest).get(old["id"]).status == "closed"  # type: ignore[union-attr]
    finally:
        state.close()


# ---- merging, on stored entries ---------------------------------------------------------------


PORT = [
    entry("varna-1", "2025-01-05", "Flooding closes the port of Varna", [
        "Heavy rain flooded the port of Varna on Sunday and stopped all shipping.",
        "About 200 people were evacuated from the old town of Varna, the Bulgarian navy said.",
    ]),
    entry("varna-2", "2025-01-07", "Varna port reopens after the floods", [
        "The port of Varna reopened on Tuesday after the flooding, the Bulgarian navy said.",
        "More than 300 people had been evacuated from the old town of Varna.",
    ]),
    entry("varna-3", "2025-01-09", "Varna counts the cost of the floods", [
        "The floods in Varna caused damage of about 20 million euros, the mayor of Varna said.",
        "The port of Varna and the old town are cleaning up, the Bulgarian navy said.",
    ]),
]  # fmt: skip


def publish(state: State, out: Path, run_date: str, e: DigestEntry, options: DigestOptions) -> dict:
    record = Record(e.source_file, "0" * 64, "done", "fp", run_date, language="en", brief=e.brief)
    state.put(replace(record, entry=asdict(e)))
    now = datetime(2025, 1, 10, tzinfo=UTC)
    path = publish_night(state, run_date, [e], [], now, out, options)
    return json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))


def test_stories_that_merge_keep_the_older_id(tmp_path):
    state = State(tmp_path / "state.db")
    try:
        apart = DigestOptions(min_similarity=1.0)  # the first two nights keep everything apart
        a = publish(state, tmp_path, "2025-01-05", PORT[0], apart)["stories"][0]
        b = publish(state, tmp_path, "2025-01-07", PORT[1], apart)["stories"][0]
        assert a["id"] != b["id"]
        c = publish(state, tmp_path, "2025-01-09", PORT[2], DigestOptions())["stories"]
        assert [s["id"] for s in c] == [a["id"]]  # the older story takes the other one's articles
        assert files_of(c[0]) == ["varna-1", "varna-2", "varna-3"]
        stub = (tmp_path / b["page"]).read_text(encoding="utf-8")
        assert yaml.safe_load(stub.split("---\n", 2)[1])["merged_into"] == a["id"]
        assert Path(a["page"]).name in stub  # earlier digests' links to it still lead on
        assert StoryStore(state, DigestOptions()).get(b["id"]).status == "merged"  # type: ignore[union-attr]
        # Recovering from pages on this (intact) database changes nothing.
        assert recover_from_pages(state, tmp_path) == 0
    finally:
        state.close()


def test_the_same_nights_give_the_same_ids(tmp_path):
    ids = []
    for k in range(2):
        state = State(tmp_path / f"{k}" / "state.db")
        try:
            got = [publish(state, tmp_path / f"{k}", d.date, d, DigestOptions()) for d in PORT]
            ids.append([[s["id"] for s in g["stories"]] for g in got])
        finally:
            state.close()
    assert ids[0] == ids[1] and len({i for night in ids[0] for i in night}) == 1


def test_an_older_database_gains_the_story_tables(tmp_path):
    import sqlite3

    db = sqlite3.connect(tmp_path / "state.db")
    db.executescript(
        "CREATE TABLE articles (source_file TEXT PRIMARY KEY, sha256 TEXT NOT NULL, status TEXT NOT NULL,"
        " retry INTEGER NOT NULL DEFAULT 0, fingerprint TEXT NOT NULL, language TEXT, brief TEXT,"
        " entry TEXT, reason TEXT, run_date TEXT NOT NULL, updated_at TEXT NOT NULL);"
        "INSERT INTO articles VALUES ('x.txt', 'ab', 'done', 0, 'fp', 'en', 'briefs/x.md', NULL, NULL,"
        " '2025-01-01', '2025-01-01');"
    )
    db.close()
    state = State(tmp_path / "state.db")
    try:
        assert state.get("x.txt") is not None
        assert state.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert StoryStore(state, DigestOptions()).open_stories() == []
    finally:
        state.close()
