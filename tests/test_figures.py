"""Key figures: one quantity for one thing counted, whatever the phrasing, and the change a reader
opens the digest for (written for these tests; no benchmark text)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.digest import DigestOptions, build_digest, payload, write_digest
from pipeline.figures import FigureReader
from pipeline.stories import build_stories
from tests.test_digest import entry

READER = FigureReader()


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        # the counted noun or its head; the event noun or verb
        ("Floodwater forced the evacuation of about 1,200 residents.", ("about", 1200, "people evacuated")),
        ("More than 800 evacuees slept in the school gym.", ("more than", 800, "people evacuated")),
        ("About 3,500 people had been evacuated by Sunday.", ("about", 3500, "people evacuated")),
        ("Some 900 villagers were evacuated by boat.", ("about", 900, "people evacuated")),
        ("The storm killed 14 people in the valley.", ("", 14, "people killed")),
        ("Five people lost their lives on the pass.", ("", 5, "people killed")),
        ("At least 9 people were injured in the crash.", ("at least", 9, "people wounded")),
        ("Doctors treated 60 injured people overnight.", ("", 60, "people wounded")),
        ("Roughly 70 houses were destroyed.", ("about", 70, "homes destroyed")),
        ("The ministry sent 2,000 tents to the region.", ("", 2000, "tents")),
        # the number after its quantity
        ("The number of people evacuated has risen to roughly 3,000.", ("about", 3000, "people evacuated")),
        ("The death toll has risen to 23.", ("", 23, "people killed")),
        ("Officials put the death toll at 31.", ("", 31, "people killed")),
        ("The number of arrests rose to 80 overnight.", ("", 80, "people arrested")),
        ("Volunteers: 250, according to the mayor.", ("", 250, "volunteers")),
        ("A crowd of 45,000 gathered in the square.", ("", 45000, "people")),
        # numbers in words, vague amounts
        ("Two people have died.", ("", 2, "people killed")),
        ("Three people died in the storm.", ("", 3, "people killed")),
        ("The death toll rose to four on Monday.", ("", 4, "people killed")),
        ("Twenty-five miners are trapped underground.", ("", 25, "miners trapped")),
        ("A dozen fishermen were rescued.", ("", 12, "fishermen rescued")),
        ("The army dropped two million leaflets.", ("", 2e6, "leaflets")),
        ("Hundreds of people fled the town.", ("hundreds", 100, "people fled")),
        ("Dozens of houses were damaged.", ("dozens", 12, "homes damaged")),
        ("Tens of thousands of people marched on Sunday.", ("tens of thousands", 10_000, "people")),
        # qualifiers
        ("Up to 40 soldiers were killed.", ("up to", 40, "troops killed")),
        ("Nearly 2,000 buildings were damaged.", ("nearly", 2000, "buildings damaged")),
        ("Unemployment edged up to 6.1% in May.", ("", 6.1, "percent (unemployment)")),  # a movement
        ("The court sentenced him to seven years in prison.", ("", 7, "years in prison")),
    ],
)
def test_every_phrasing_gives_the_number_its_qualifier_and_what_it_counts(sentence, expected):
    (figure,) = READER.read(sentence)
    assert (figure.qualifier, figure.value, figure.quantity) == expected


def test_vague_amounts_and_ranges_display_as_written():
    (hundreds,) = READER.read("Hundreds of people fled the town.")
    assert hundreds.vague and hundreds.display == "hundreds"
    (refugees,) = READER.read("Between 40,000 and 50,000 refugees crossed the border.")
    assert (refugees.value, refugees.upper, refugees.display) == (40_000, 50_000, "40,000–50,000")
    (millions,) = READER.read("Between 1.2 and 1.5 million euros in aid were pledged.")
    assert millions.display == "1.2–1.5 million"


def test_a_change_from_one_number_to_another_is_two_figures_of_one_quantity():
    figures = READER.read("The number of evacuees rose from 1,200 to 3,000 on Monday.")
    assert [(f.value, f.quantity) for f in figures] == [
        (1200, "people evacuated"),
        (3000, "people evacuated"),
    ]
    figures = READER.read("Turnout was 63 percent, up from 58 percent four years ago.")
    assert [f.quantity for f in figures] == ["percent (turnout)", "percent (turnout)"]


def test_bare_numbers_take_their_neighbours_noun_with_their_own_event():
    figures = READER.read("Rescuers freed 17 miners, and six remain trapped.")
    assert [(f.value, f.quantity) for f in figures] == [(17, "miners rescued"), (6, "miners trapped")]
    figures = READER.read("At least 14 people were killed and 120 injured.")
    assert [(f.value, f.quantity) for f in figures] == [(14, "people killed"), (120, "people wounded")]
    figures = READER.read("Air defences shot down 38 of the 45 drones launched overnight.")
    assert [(f.value, f.quantity) for f in figures] == [
        (38, "drones shot down"),
        (45, "total drones"),
    ]


@pytest.mark.parametrize(
    "sentence",
    [
        "One of the protesters said she had marched for two days.",
        "A 28-year-old man was stopped near exit 12.",
        "It was the first time in three decades that the river flooded twice.",
    ],
)
def test_ages_durations_and_one_of_are_not_figures(sentence):
    assert READER.read(sentence) == []


def test_phrasings_of_one_quantity_share_one_key():
    deaths = [
        "Two people have died.",
        "Three people died in the floods.",
        "The death toll rose to four.",
        "The floods have killed five people.",
        "Six people lost their lives.",
        "The bodies of seven people were recovered.",
    ]
    assert len({READER.read(s)[0].key for s in deaths}) == 1
    evacuated = [
        "It forced the evacuation of about 1,200 residents.",
        "The number of people evacuated has risen to roughly 3,000.",
        "About 3,500 people had been evacuated at the peak.",
        "Shelters housed more than 800 evacuees.",
    ]
    keys = {READER.read(s)[0].key for s in evacuated}
    assert len(keys) == 1
    assert keys.isdisjoint({READER.read(s)[0].key for s in deaths})


FLOOD = [
    entry("vidin-1", (2025, 5, 2), "Danube floods Vidin", [
        "Rising water on the Danube forced the evacuation of about 1,200 residents of Vidin on Friday.",
        "Two people have died, the regional governor of Vidin said.",
    ]),
    entry("vidin-2", (2025, 5, 3), "More evacuations on the Danube", [
        "The number of people evacuated from Vidin and the villages along the Danube has risen to "
        "roughly 3,000, the governor of Vidin said.",
        "Three people died in the Vidin floods.",
    ]),
    entry("vidin-3", (2025, 5, 5), "The Danube recedes at Vidin", [
        "About 3,500 people had been evacuated from Vidin at the peak of the Danube flood.",
        "The water in Vidin is falling, officials said.",
    ]),
]  # fmt: skip
NOW = datetime(2025, 5, 6, 6, 0, tzinfo=UTC)


def test_one_flood_reported_three_times_is_one_quantity_with_its_change(tmp_path):
    (story,) = build_stories(FLOOD, DigestOptions())
    groups = {g.quantity: g for g in story.figures}
    assert set(groups) == {"people evacuated", "people killed"}
    evacuated = groups["people evacuated"]
    assert [(f.figure.display, f.source.date) for f in evacuated.figures] == [
        ("about 1,200", "2025-05-02"),
        ("about 3,000", "2025-05-03"),
        ("about 3,500", "2025-05-05"),
    ]
    assert [evacuated.change_of(f) for f in evacuated.figures] == [
        "earliest report",
        "+1,800 since 2025-05-02",
        "+2,300 since 2025-05-02",
    ]
    assert evacuated.change == "+2,300 since 2025-05-02"
    assert groups["people killed"].change == "+1 since 2025-05-02"
    # The digest's table and its JSON twin say the same.
    digest = build_digest("2025-05-06", FLOOD, [], NOW)
    md = write_digest(digest, tmp_path, DigestOptions()).read_text(encoding="utf-8")
    assert "| Quantity | Figure | As of | Source | Change |" in md
    assert "| people evacuated, figures differ | about 1,200 | 2025-05-02 | English | earliest report |" in md
    assert "|  | about 3,500 | 2025-05-05 | English | +2,300 since 2025-05-02 |" in md
    (group,) = [g for g in payload(digest)["stories"][0]["figures"] if g["quantity"] == "people evacuated"]
    assert group["change"] == "+2,300 since 2025-05-02"
    assert [v["change"] for v in group["values"]][1:] == [
        "+1,800 since 2025-05-02",
        "+2,300 since 2025-05-02",
    ]


def test_an_unchanged_figure_and_a_vague_one_say_so():
    story = [
        entry("m-1", (2025, 3, 1), "Mine blast", ["Dozens of miners were trapped at the Bor mine."]),
        entry("m-2", (2025, 3, 2), "Bor mine rescue", ["Some 40 miners were trapped at the Bor mine."]),
        entry("m-3", (2025, 3, 3), "Bor rescue", ["About 40 miners were trapped in the Bor mine."]),
    ]  # fmt: skip
    (built,) = build_stories(story, DigestOptions())
    (trapped,) = [g for g in built.figures if g.quantity == "miners trapped"]
    assert [trapped.change_of(f) for f in trapped.figures] == [
        "earliest report",
        "changed since 2025-03-01",  # from "dozens" to 40: changed, by an amount nobody gave
        "changed since 2025-03-01",
    ]
    single = [entry("q-1", (2025, 3, 1), "Quake", ["At least 14 people were killed in Van."])]
    (one,) = build_stories(single, DigestOptions())
    assert one.figures[0].change == ""
