"""Story grouping: look-alike events kept apart, one event told from two angles kept together,
names that translation spells differently still matched, and earlier nights' stories kept whole.

Every article here was written for these tests (invented events and people).
"""

from __future__ import annotations

from pipeline.digest import DigestEntry, DigestOptions
from pipeline.figures import FigureReader
from pipeline.stories import build_stories, features, fold, group
from tests.conftest import digest_entry as entry


def stories_of(entries: list[DigestEntry], options: DigestOptions | None = None) -> list[list[str]]:
    return sorted(
        sorted(e.source_file for e in s.articles) for s in build_stories(entries, options or DigestOptions())
    )


# Two arrests of two different players of one team, in one city, on one charge, 19 months apart.
def arrest(n: int, player: str, first: str, date: tuple[int, int, int], extra: str) -> DigestEntry:
    return entry(f"{first.lower()}-{n}", date, f"Gulls player {first} {player} arrested for drink-driving", [
        f"Harbor City Gulls forward {first} {player} was arrested on Sunday on suspicion of drunk driving.",
        f"Police in Harbor City said {player} was stopped after his car drifted across two lanes.",
        f"The Gulls said they were aware of the arrest of {player} and would not comment further.",
        f"{player} was released on bail and is due in court next month. {extra}",
    ])  # fmt: skip


VERHOEVEN = [
    arrest(1, "Verhoeven", "Tomas", (2024, 3, 10), "He joined the Gulls two seasons ago."),
    arrest(2, "Verhoeven", "Tomas", (2024, 3, 10), "Verhoeven scored nine goals last season."),
    arrest(3, "Verhoeven", "Tomas", (2024, 3, 11), "The league said it was reviewing the case."),
    arrest(4, "Verhoeven", "Tomas", (2024, 3, 12), "Verhoeven apologised to the fans in a statement."),
    arrest(5, "Verhoeven", "Tomas", (2024, 3, 14), "His lawyer said Verhoeven would plead not guilty."),
]
MBEKI = [
    arrest(1, "Mbeki", "Dario", (2025, 10, 5), "He signed with the Gulls in the summer."),
    arrest(2, "Mbeki", "Dario", (2025, 10, 5), "Mbeki had not played this season because of injury."),
    arrest(3, "Mbeki", "Dario", (2025, 10, 6), "The league said it was reviewing the case."),
    arrest(4, "Mbeki", "Dario", (2025, 10, 7), "Mbeki apologised to the fans in a statement."),
    arrest(5, "Mbeki", "Dario", (2025, 10, 9), "Mbeki will miss the derby against the Ravens."),
]


def test_look_alike_events_with_different_names_stay_apart():
    twins = VERHOEVEN + MBEKI
    # Same team, city and charge: by words alone the two arrests are one story…
    assert len(stories_of(twins, DigestOptions(name_share=0))) == 1
    # …but each group is about a player the other never mentions.
    assert stories_of(twins) == [
        sorted(e.source_file for e in MBEKI),
        sorted(e.source_file for e in VERHOEVEN),
    ]


def test_an_article_recalling_the_earlier_event_does_not_merge_the_two():
    recall = entry("dario-6", (2025, 10, 8), "Gulls suspend Mbeki after arrest", [
        "The Harbor City Gulls suspended forward Dario Mbeki for three games after his drunk driving arrest.",
        "It is the second such arrest at the club after Tomas Verhoeven was stopped by police last year.",
    ])  # fmt: skip
    stories = stories_of([*VERHOEVEN, *MBEKI, recall])
    assert sorted(e.source_file for e in VERHOEVEN) in stories
    assert sorted([*(e.source_file for e in MBEKI), "dario-6"]) in stories


def test_one_event_told_from_two_angles_is_one_story():
    collapse = [
        entry("bridge-1", (2025, 4, 2), "Footbridge collapses over the Selva river in Marenz", [
            "A pedestrian footbridge over the Selva river in Marenz collapsed on Tuesday evening.",
            "Four people were injured and taken to the Marenz city hospital, the fire brigade said.",
            "Divers searched the river overnight for anyone swept away by the current.",
        ]),
        entry("bridge-2", (2025, 4, 3), "Marenz footbridge collapse: divers end their search", [
            "Divers ended their search of the Selva river on Wednesday after the footbridge fell in Marenz.",
            "No one is missing, police said, and the four injured are in stable condition.",
        ]),
        # The same collapse from another angle: the bridge's history and its inspections.
        entry("bridge-3", (2025, 4, 4), "Marenz bridge had failed an inspection in 2019", [
            "The Selva footbridge that fell in Marenz this week failed a safety inspection six years ago.",
            "Engineers warned the city council in 2019 that its steel cables were corroding.",
            "The council postponed the repairs twice for lack of money, minutes of its meetings show.",
        ]),
        entry("bridge-4", (2025, 4, 5), "Who is to blame for the Marenz footbridge?", [
            "Opposition councillors in Marenz demanded the mayor's resignation over the fallen footbridge.",
            "They accused the city of ignoring the engineers who inspected the Selva bridge.",
        ]),
        entry("bakery", (2025, 4, 4), "Marenz bakery wins a national bread prize", [
            "A family bakery in the old town of Marenz won the national prize for rye bread on Friday.",
            "The jury praised its sourdough, baked in a wood-fired oven since 1921.",
            "Ana Ferrante, who runs the bakery with her two sons, said the recipe came from her grandmother.",
            "Queues formed outside the shop on Saturday morning as customers came to taste the winning loaf.",
            "The prize comes with a certificate and a week of baking classes for apprentices.",
        ]),
    ]  # fmt: skip
    night = [*collapse, *VERHOEVEN, *TRANSLATED]  # a night of several stories, as IDF expects
    stories = stories_of(night)
    assert ["bridge-1", "bridge-2", "bridge-3", "bridge-4"] in stories
    assert ["bakery"] in stories


def test_transliterated_names_fold_to_one_spelling():
    assert fold("Zelenskyy") == fold("Zelenskij") == fold("Selenskyj") == fold("Zelenskiy")
    assert fold("Kim Čen") == fold("Kim Chen")
    assert fold("Tschaikowski") == fold("Tchaikovsky")
    assert fold("Verhoeven") != fold("Mbeki")


# Two articles translated from two languages: the only name they share is spelled two ways.
TRANSLATED = [
    entry("de-1", (2025, 6, 1), "Selenskyj meets farmers in Poltava", [
        "President Wolodymyr Selenskyj met grain farmers in Poltava on Sunday.",
        "Selenskyj promised help with export routes for the harvest.",
    ]),
    entry("lt-1", (2025, 6, 1), "Zelenskij visits grain farmers", [
        "Volodymyr Zelenskij visited farmers on Sunday and discussed grain exports.",
        "Zelenskij said the harvest routes would stay open.",
    ]),
]  # fmt: skip


def test_names_spelled_differently_by_two_translations_still_match():
    a, b = TRANSLATED
    reader = FigureReader({})
    fa, fb = features(a, reader), features(b, reader)
    assert fa.key_names & fb.key_names  # the president's name, folded
    assert stories_of([a, b]) == [["de-1", "lt-1"]]


def test_seeds_stay_together_and_the_result_is_deterministic():
    twins = VERHOEVEN + MBEKI
    options = DigestOptions()
    apart = group(twins, options)
    assert sorted(map(sorted, apart)) == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    # An earlier night's story is kept whole, whatever the evidence against it.
    seeded = group(twins, options, seeds=[[0, 5]])
    assert any({0, 5} <= set(c) for c in seeded)
    assert group(twins, options, seeds=[[0, 5]]) == seeded
    assert sorted(i for c in seeded for i in c) == list(range(10))
