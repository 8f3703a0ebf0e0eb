"""The merged digest: stories across articles, timelines, sourced figures, and the JSON twin.

The end-to-end tests run the real pipeline (tiny models) over English articles written for the
tests: English passes through translation untouched, so clustering and figures see real English.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from pipeline.config import Config, Paths, load_config
from pipeline.digest import DigestEntry, DigestOptions, Failure, build_digest, write_digest
from pipeline.figures import FigureReader, format_number
from pipeline.run import run_digest
from pipeline.stories import average_linkage, build_stories
from tests.conftest import ROOT
from tests.conftest import digest_entry as entry

ENGLISH = ROOT / "tests" / "fixtures" / "english"
NOW = datetime(2025, 7, 10, 6, 30, tzinfo=UTC)
WILDFIRE = ["wildfire-patras-1.md", "wildfire-patras-2.txt", "wildfire-patras-3.txt"]
RAIL = ["rail-baltica-1.md", "rail-baltica-2.txt"]
LIBRARY = ["tbilisi-library.txt"]


def english_config(tmp: Path) -> Config:
    inbox = tmp / "inbox"
    inbox.mkdir(parents=True)
    for p in sorted(ENGLISH.iterdir()):
        if p.name != "README.md":
            shutil.copy(p, inbox / p.name)
    config = load_config(ROOT / "config.tiny.yaml")
    return config.model_copy(
        update={"paths": Paths(input=inbox, output=tmp / "out", models=config.paths.models)}
    )


@pytest.fixture(scope="module")
def english_run(tiny_models, tmp_path_factory):
    """One real run over the English fixtures plus an empty file; shared by the tests that only read."""
    config = english_config(tmp_path_factory.mktemp("english"))
    (config.input_dir / "empty.txt").write_bytes(b"")
    result = run_digest(config, now=NOW)
    md = result.digest_path.read_text(encoding="utf-8")
    data = json.loads(result.digest_path.with_suffix(".json").read_text(encoding="utf-8"))
    return config, result, md, data


def story_files(story: dict) -> list[str]:
    return [a["source_file"] for a in story["articles"]]


def without_generated(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if "generated" not in line)


# ---- end to end -------------------------------------------------------------------------


def test_english_articles_become_three_stories_newest_first(english_run):
    config, result, md, data = english_run
    assert result.processed == 6
    assert [story_files(s) for s in data["stories"]] == [WILDFIRE, LIBRARY, RAIL]  # by newest article
    for story in data["stories"]:
        dates = [a["date"] for a in story["articles"]]
        assert dates == sorted(dates)  # timeline: oldest first
        assert story["title"] in {a["headline"] for a in story["articles"]}
    assert [a["date"] for a in data["stories"][2]["articles"]] == ["2025-02", "2025-03-18"]
    assert data["stories"][2]["articles"][0]["date_precision"] == "month"
    # The Markdown says the same, in the same order: "In brief", then one section per story.
    in_brief = md.split("## In brief\n\n")[1].split("\n\n")[0].splitlines()
    assert [re.sub(r"^\d+\. \*\*(.+?)\*\*.*", r"\1", line) for line in in_brief] == [
        s["title"] for s in data["stories"]
    ]
    headings = re.findall(r"^## \d+\. (.+)$", md, flags=re.MULTILINE)
    assert headings == [s["title"] for s in data["stories"]]
    assert "**2025-02** (month only) · English · [Baltic ministers ask Brussels" in md


def test_every_brief_is_linked_once_from_its_timeline(english_run):
    config, _, md, data = english_run
    links = re.findall(r"\]\((briefs/[^)]+)\)", md)
    briefs = sorted(
        p.relative_to(config.output_dir).as_posix() for p in (config.output_dir / "briefs").iterdir()
    )
    assert sorted(links) == briefs
    assert sorted(a["brief"] for s in data["stories"] for a in s["articles"]) == briefs
    for link in links:  # relative to the digest, so they work on GitHub and on a static site
        assert (config.output_dir / link).is_file()


def test_differing_figures_are_listed_with_their_dates(english_run):
    _, _, md, data = english_run
    fire = {g["quantity"]: g for g in data["stories"][0]["figures"]}
    burned = fire["hectares burned"]
    assert burned["differs"] is True
    assert [(v["qualifier"], v["value"], v["date"]) for v in burned["values"]] == [
        ("about", 1200, "2025-07-02"),
        ("up to", 4000, "2025-07-04"),
        ("at least", 5000, "2025-07-09"),
    ]
    assert [(v["display"], v["date"]) for v in fire["homes destroyed"]["values"]] == [
        ("at least 40", "2025-07-04"),
        ("more than 60", "2025-07-09"),
    ]
    assert fire["euros (damage)"]["values"][0]["display"] == "about 120 million"
    rail = {g["quantity"]: g for g in data["stories"][2]["figures"]}
    assert [(v["display"], v["date"]) for v in rail["euros (funding)"]["values"]] == [
        ("about 1.6 billion", "2025-02"),
        ("1.2 billion", "2025-03-18"),
        ("about 1.6 billion", "2025-03-18"),
    ]
    # In the Markdown: a table row per figure, with its date and source language.
    assert "| hectares burned, figures differ | about 1,200 | 2025-07-02 | English |" in md
    assert "|  | up to 4,000 | 2025-07-04 | English |" in md
    assert "|  | at least 5,000 | 2025-07-09 | English |" in md
    assert "| euros (funding), figures differ | about 1.6 billion | 2025-02 | English |" in md


def test_merged_summary_draws_on_every_article_without_repeating(english_run):
    _, _, md, data = english_run
    fire = data["stories"][0]
    sources = [s["brief"] for s in fire["summary_sources"]]
    assert {a["brief"] for a in fire["articles"]} <= set(sources)  # each article contributes
    assert 3 <= len(sources) <= 5
    assert fire["summary"] == " ".join(s["sentence"] for s in fire["summary_sources"])
    for s in fire["summary_sources"]:
        assert s["sentence"] in md
    # Ledes repeat the story ("The wildfire in the Achaia region…"); a repeat is dropped, so every
    # chosen sentence says something another one does not.
    words = [set(re.findall(r"\w+", s["sentence"].lower())) for s in fire["summary_sources"]]
    for i in range(len(words)):
        for j in range(i + 1, len(words)):
            assert len(words[i] & words[j]) / len(words[i] | words[j]) < 0.5
    single = data["stories"][1]
    assert single["summary"] and "*(English" not in md.split("## 2. ")[1].split("###")[0]


def test_json_twin_and_front_matter(english_run):
    _, result, md, data = english_run
    assert data["run_date"] == "2025-07-10"
    assert data["failed"] == [{"source_file": "empty.txt", "reason": "empty file"}]
    story = data["stories"][0]
    assert {"title", "summary", "articles", "figures"} <= story.keys()
    assert {"brief", "date", "language", "source_file", "headline"} <= story["articles"][0].keys()
    assert data["counts"] == {
        "articles": 6,
        "stories": 3,
        "new_stories": 3,
        "continuing_stories": 0,
        "languages": 1,
        "failed": 1,
        "with_warnings": 0,
        "flagged_sentences": 0,
        "fallback_sentences": 0,
        "vocabulary_map": 0,  # articles decoded with an output vocabulary map
    }
    assert "## Could not be processed" in md and "| <code>empty.txt</code> | empty file |" in md
    assert "*6 articles in 1 language · 3 stories (3 new, 0 continuing) · 1 failed · 0 with warnings" in md
    assert "0 translated by a fallback model" in md
    assert "output vocabulary map" not in md  # said only when some article was
    front = yaml.safe_load(md.split("---\n", 2)[1])
    assert front["title"] == "News digest: 2025-07-10" and front["date"] == "2025-07-10"
    assert front["stories"] == 3 and front["failed"] == 1
    assert (result.digest_path.parent / "digest-latest.md").read_text(encoding="utf-8") == md


def test_the_same_articles_give_byte_identical_digests(english_run, tmp_path):
    config, result, md, data = english_run
    # Again in a fresh output folder, at another hour of the same day
    config2 = english_config(tmp_path)
    (config2.input_dir / "empty.txt").write_bytes(b"")
    second = run_digest(config2, now=NOW + timedelta(hours=5))
    md2 = second.digest_path.read_text(encoding="utf-8")
    assert md2 != md  # the timestamp differs…
    assert without_generated(md2) == without_generated(md)  # …and nothing else
    data2 = json.loads(second.digest_path.with_suffix(".json").read_text(encoding="utf-8"))
    assert {**data2, "generated": None} == {**data, "generated": None}
    # And in the same folder again: the day's digest is rebuilt from what the first run stored.
    third = run_digest(config2, now=NOW + timedelta(hours=6))
    assert without_generated(third.digest_path.read_text(encoding="utf-8")) == without_generated(md)


# ---- clustering -------------------------------------------------------------------------


ENTRIES = [
    entry("a1", (2025, 1, 5), "Flooding closes the port of Varna", [
        "Heavy rain flooded the port of Varna on Sunday and stopped all shipping.",
        "About 200 people were evacuated from the old town of Varna.",
        "The Bulgarian navy said the port would stay closed for two days.",
    ]),
    entry("a2", (2025, 1, 7), "Varna port reopens after the floods", [
        "The port of Varna reopened on Tuesday after the flooding.",
        "More than 300 people had been evacuated, the mayor of Varna said.",
        "Bulgarian officials put the damage at about 20 million euros.",
    ]),
    entry("b1", (2025, 1, 6), "Vilnius opens a new tram line", [
        "Vilnius opened its first tram line on Monday, linking the airport with the old town.",
        "The line is 9 kilometres long and cost 180 million euros, the Lithuanian transport ministry said.",
    ]),
    entry("b2", (2025, 1, 9), "Vilnius tram carries 40,000 passengers in its first days", [
        "The new Vilnius tram line carried about 40,000 passengers in its first three days.",
        "Lithuanian officials said the airport link was the busiest part of the line.",
    ]),
    entry("c1", (2025, 1, 8), "Tbilisi hosts a chess tournament", [
        "Grandmasters from 30 countries gathered in Tbilisi for the Georgian chess open.",
        "The winner will receive a prize of 50,000 lari.",
    ]),
]  # fmt: skip


def test_clustering_is_deterministic_whatever_the_input_order():
    options = DigestOptions()
    expected = [[e.source_file for e in s.articles] for s in build_stories(ENTRIES, options)]
    assert expected == [["b1", "b2"], ["c1"], ["a1", "a2"]]  # newest story first, each oldest first
    rng = random.Random(7)
    for _ in range(5):
        shuffled = ENTRIES[:]
        rng.shuffle(shuffled)
        stories = build_stories(shuffled, options)
        assert [[e.source_file for e in s.articles] for s in stories] == expected
        assert [s.title for s in stories] == [s.title for s in build_stories(ENTRIES, options)]


def test_figures_from_several_languages_show_who_said_which_number():
    # The case this product exists for: the same quantities, given differently over ten months.
    def said(source_file, lang, name, date, sentences):
        e = entry(source_file, date, f"North Korean troops in Russia ({name})", sentences)
        e.language, e.language_name = lang, name
        return e

    story = [
        said("lt-1", "lt", "Lithuanian", (2024, 11, 8), [
            "Seoul says Pyongyang has sent more than 10 thousand troops to Russia's Kursk region.",
        ]),
        said("az-1", "az", "Azerbaijani", (2025, 8, 15), [
            "Pyongyang sent more than 10,000 soldiers to the Kursk region in 2024, Seoul said.",
            "About 600 North Korean soldiers fighting for Russia were killed, according to Seoul.",
        ]),
        said("ka-1", "ka", "Georgian", (2025, 9, 3), [
            "North Korea plans to send an additional 6 thousand soldiers to Russia, Yonhap reported.",
            "Pyongyang has helped Moscow with approximately 13 thousand soldiers, "
            "of whom up to 2 thousand were killed.",
        ]),
    ]  # fmt: skip
    (built,) = build_stories(story, DigestOptions())
    figures = {g.quantity: [(f.figure.display, f.source.date, f.source.language_name) for f in g.figures]
               for g in built.figures}  # fmt: skip
    assert figures["troops"] == [
        ("more than 10,000", "2024-11-08", "Lithuanian"),
        ("more than 10,000", "2025-08-15", "Azerbaijani"),
        ("about 13,000", "2025-09-03", "Georgian"),
    ]
    assert figures["troops killed"] == [
        ("about 600", "2025-08-15", "Azerbaijani"),
        ("up to 2,000", "2025-09-03", "Georgian"),
    ]
    assert figures["additional troops"] == [("6,000", "2025-09-03", "Georgian")]  # not a total
    assert [g.quantity for g in built.figures][:2] == ["troops", "troops killed"]  # shared and disputed first
    assert all(g.differs for g in built.figures[:2])


def test_thresholds_come_from_the_options():
    apart = build_stories(ENTRIES, DigestOptions(min_similarity=1.0))
    assert len(apart) == len(ENTRIES)
    together = build_stories(ENTRIES, DigestOptions(min_similarity=0.0, min_shared_names=0))
    assert len(together) == 1


def test_average_linkage_does_not_chain_two_events_through_one_article():
    import numpy as np

    # b is close to a and to c, but a and c have nothing in common: single linkage would make one
    # story of all three; average linkage keeps c apart.
    sim = np.array([[1.0, 0.6, 0.0], [0.6, 1.0, 0.35], [0.0, 0.35, 1.0]])
    assert average_linkage(sim, 0.3) == [[0, 1], [2]]
    assert average_linkage(sim, 0.1) == [[0, 1, 2]]
    assert average_linkage(sim, 0.7) == [[0], [1], [2]]


def test_entries_stored_by_an_earlier_version_still_make_a_digest(tmp_path: Path):
    # A state database written before entries carried their English sentences.
    old = {
        "brief": "briefs/x.md", "date": "2025-01-05", "language": "lt", "language_name": "Lithuanian",
        "source_file": "x.txt", "headline": "Port of Klaipeda expands", "summary": "The port grew by 5%.",
        "warnings": [], "flagged_sentences": 0, "sort_key": ((2025, 1, 5), "x.txt"),
    }  # fmt: skip
    digest = build_digest("2025-01-06", [DigestEntry(**old)], [Failure("y.txt", "empty file")], NOW)
    path = write_digest(digest, tmp_path, DigestOptions())
    text = path.read_text(encoding="utf-8")
    assert "## 1. Port of Klaipeda expands" in text and "The port grew by 5%." in text
    assert "| <code>y.txt</code> | empty file |" in text


def test_an_empty_run_still_writes_a_digest(tmp_path: Path):
    path = write_digest(build_digest("2025-01-06", [], [], NOW), tmp_path, DigestOptions())
    text = path.read_text(encoding="utf-8")
    assert "No new articles in this run." in text and "## In brief" not in text
    assert json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))["stories"] == []


# ---- figures ----------------------------------------------------------------------------

READER = FigureReader()


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Pyongyang sent more than 10,000 troops to Russia.", ("more than", 10_000, "troops")),
        ("Pyongyang sent more than 10 000 troops to Russia.", ("more than", 10_000, "troops")),
        ("Pyongyang sent more than 10\u00a0000 soldiers to Russia.", ("more than", 10_000, "troops")),
        ("It helped with approximately 13 thousand military personnel.", ("about", 13_000, "troops")),
        ("The EU approved 1.6 billion euros in funding.", ("", 1.6e9, "euros (funding)")),
        ("The line will cost €1.6bn.", ("", 1.6e9, "euros (cost)")),
        ("Around 600 North Korean soldiers were killed.", ("about", 600, "troops killed")),
        ("Some 450 firefighters were deployed.", ("about", 450, "firefighters")),
        ("As many as 2,000 people were evacuated overnight.", ("up to", 2000, "people evacuated")),
        ("At least 40 homes had been destroyed.", ("at least", 40, "homes destroyed")),
        ("Over 5,000 hectares burned.", ("more than", 5000, "hectares burned")),
        ("Nearly 3 million people voted.", ("nearly", 3e6, "people")),
        ("Turnout was 52.4% in the capital.", ("", 52.4, "percent (turnout)")),
        ("Inflation rose to 3.1 percent in May.", ("", 3.1, "percent (inflation)")),
        ("They promised up to 15,000 euros per household.", ("up to", 15_000, "euros per household")),
        ("About 600 soldiers fighting for Russia were killed.", ("about", 600, "troops killed")),
        ("It will send an additional 6,000 soldiers.", ("", 6000, "additional troops")),
        ("It will send 6,000 more troops.", ("", 6000, "additional troops")),
        ("Italy sent 12 F-16 jets.", ("", 12, "jets")),
        ("Pyongyang sent 10.000 soldiers.", ("", 10_000, "troops")),  # dots kept from the source
        ("The budget grew by 1,6 billion euros.", ("", 1.6e9, "euros (budget)")),  # a decimal comma
        ("The loan is 2.5 million euros.", ("", 2.5e6, "euros (loan)")),
        ("The city spent $5m in aid.", ("", 5e6, "dollars (aid)")),
    ],
)
def test_a_figure_is_a_number_its_qualifier_and_what_it_counts(sentence, expected):
    (figure,) = READER.read(sentence)
    assert (figure.qualifier, figure.value, figure.quantity) == expected


def test_a_bare_number_takes_the_quantity_of_its_neighbour():
    figures = READER.read(
        "Since 2024 it has sent about 13 thousand troops, of whom up to 2 thousand were killed."
    )
    assert [(f.display, f.quantity) for f in figures] == [
        ("about 13,000", "troops"),
        ("up to 2,000", "troops killed"),
    ]
    # A range is one figure from its low end to its high one.
    figures = READER.read("Between 500 and 700 people fled the town.")
    got = [(f.value, f.upper, f.display, f.quantity) for f in figures]
    assert got == [(500, 700, "500–700", "people fled")]


def test_synonyms_make_figures_comparable():
    keys = {READER.read(s)[0].key for s in (
        "More than 10,000 troops.", "About 13 thousand soldiers.", "Some 11,000 military personnel.",
    )}  # fmt: skip
    assert len(keys) == 1
    killed = READER.read("About 600 soldiers were killed.")[0].key
    assert killed not in keys  # soldiers killed are not soldiers sent
    custom = FigureReader({"vessels": ["ship", "boat"]})
    assert custom.read("12 ships sailed.")[0].key == custom.read("Some 14 boats sailed.")[0].key


@pytest.mark.parametrize(
    "sentence",
    [
        "The agreement was signed in 2024 in Riga.",
        "The meeting took place on 3 September and again on September 15.",
        "The parade marked the 80th anniversary of the victory.",
        "The 18-month war has exhausted its stocks; the next 24 hours are critical.",
        "A Boeing 737 landed under Article 5 of the treaty.",
        "One of the soldiers spoke for two hours, one by one.",
        "In the 1990s and the 80s, at 10:30, COVID-19 spread.",
    ],
)
def test_years_dates_ordinals_durations_and_names_are_not_figures(sentence):
    assert READER.read(sentence) == []


def test_numbers_are_shown_normalised():
    assert [format_number(v) for v in (13_000, 1.6e9, 120e6, 600, 52.4, 2.5e12)] == [
        "13,000", "1.6 billion", "120 million", "600", "52.4", "2.5 trillion",
    ]  # fmt: skip
