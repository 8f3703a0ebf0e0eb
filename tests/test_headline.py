"""Headlines for articles without a title line: short, complete, saying what happened (sentences
written for these tests)."""

from __future__ import annotations

import pytest

from pipeline.headline import FUNCTION_WORDS, HeadlineOptions, make_headline
from pipeline.summarize import SummarizeOptions, Summarizer


def headline(lead: str, summary: str = "", **options: int) -> str:
    return make_headline(
        None, [lead, "The rest of the article follows here."], summary, HeadlineOptions(**options)
    )


@pytest.mark.parametrize(
    ("lead", "expected"),
    [
        # who said it goes, at the end or at the start
        (
            "Floodwaters forced 3,000 people from their homes in Vidin, "
            "the interior ministry said on Tuesday.",
            "Floodwaters forced 3,000 people from their homes in Vidin",
        ),
        (
            "Two climbers died on Mount Kazbek, according to the Georgian rescue service.",
            "Two climbers died on Mount Kazbek",
        ),
        (
            "Police said on Monday that two men were arrested after the robbery in Plovdiv.",
            "Two men arrested after robbery in Plovdiv",
        ),
        # a relative clause, an aside, a date, an opening clause
        (
            "The mayor of Gori, who took office in March, resigned over the bridge collapse.",
            "Mayor of Gori resigned over bridge collapse",
        ),
        (
            "The port of Klaipeda (Lithuania's only port) reopened after the storm.",
            "Port of Klaipeda reopened after storm",
        ),
        (
            "On Sunday, a magnitude 5.2 earthquake shook the island of Qeshm.",
            "Magnitude 5.2 earthquake shook island of Qeshm",
        ),
        (
            "After a week of heavy rain, the Danube burst its banks near Vidin.",
            "Danube burst its banks near Vidin",
        ),
        (
            "VIDIN, Bulgaria (Reuters) - The Danube burst its banks near Vidin on 3 May 2025.",
            "Danube burst its banks near Vidin",
        ),
    ],
)  # fmt: skip
def test_the_lead_is_compressed_to_what_happened(lead, expected):
    assert headline(lead) == expected


def test_a_long_lead_is_cut_where_a_phrase_ends_never_with_an_ellipsis():
    lead = (
        "Rescue teams in the mountains of northern Georgia evacuated about 400 tourists from three "
        "villages cut off by landslides and brought them to Tbilisi by helicopter"
    )
    made = headline(lead, max_words=12)
    assert made == "Rescue teams in mountains of northern Georgia evacuated about 400 tourists"
    assert "…" not in made and len(made.split()) <= 12
    assert made.split()[-1].lower() not in FUNCTION_WORDS


def test_a_lead_without_a_cut_point_is_kept_whole_rather_than_cut_mid_phrase():
    lead = (
        "Lithuanian lawmakers overwhelmingly approved sweeping pension reform legislation yesterday evening"
    )
    made = headline(lead, max_words=6)
    assert made == "Lithuanian lawmakers overwhelmingly approved sweeping pension reform legislation"


def test_a_question_or_a_quotation_gives_way_to_the_summary():
    summary = "The Georgian parliament voted to raise the minimum wage by 20 percent, officials said."
    made = make_headline(None, ["Who will pay for the new minimum wage?"], summary, HeadlineOptions())
    assert made == "Georgian parliament voted to raise minimum wage by 20 percent"
    quoted = make_headline(None, ["“We are ready,” the minister told reporters in Baku."], summary)
    assert quoted == "Georgian parliament voted to raise minimum wage by 20 percent"


def test_the_title_wins_and_an_empty_article_is_untitled():
    assert (
        make_headline("New Neris bridge", ["Vilnius opened a bridge over the Neris."], "")
        == "New Neris bridge"
    )
    assert make_headline(None, [], "") == "Untitled article"


def test_the_summarizer_uses_it_for_untitled_articles():
    sentences = [
        "Vilnius opened a new bridge over the Neris river on Monday, the city's transport department said.",
        "The bridge cost 12 million euros and carries a tram line.",
        "Traffic on the old bridge fell by a third in the first hours.",
    ]
    summary = Summarizer(SummarizeOptions(method="extractive", model=None), None).summarize(sentences, None)
    assert summary.headline == "Vilnius opened new bridge over Neris river"
