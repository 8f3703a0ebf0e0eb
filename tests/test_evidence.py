"""Evidence from the original text: one story across languages and scripts is found by what its
articles name, whatever the translation made of them.

The articles below were written for these tests (one summit told in four languages and three
scripts, and unrelated news in the same languages); the English beside them is what a tiny
random-weight model writes, meaningless, so only the originals can group them.
"""

from __future__ import annotations

import pytest

from pipeline import evidence
from pipeline.digest import DigestEntry, DigestOptions
from pipeline.figures import FigureReader
from pipeline.stories import build_stories, features, translation_quality

# One story: the North Korean leader arrives in Vladivostok for talks with Putin (written for
# these tests, in the way the four presses write the names).
SUMMIT = {
    "lt": (
        "Kim Čen Unas atvyko į Vladivostoką",
        [
            "Šiaurės Korėjos lyderis Kim Čen Unas pirmadienį atvyko į Vladivostoką.",
            "Jis susitiks su Rusijos prezidentu Vladimiru Putinu.",
            "Pasak Kremliaus, derybos truks dvi dienas, o delegacijoje yra 120 žmonių.",
        ],
    ),
    "bg": (
        "Ким Чен Ун пристигна във Владивосток",
        [
            "Севернокорейският лидер Ким Чен Ун пристигна във Владивосток в понеделник.",
            "Той ще се срещне с руския президент Владимир Путин.",
            "Според Кремъл преговорите ще продължат два дни, а в делегацията има 120 души.",
        ],
    ),
    "ka": (
        "კიმ ჩენ ინი ვლადივოსტოკში ჩავიდა",
        [
            "ჩრდილოეთ კორეის ლიდერი კიმ ჩენ ინი ორშაბათს ვლადივოსტოკში ჩავიდა.",
            "ის რუსეთის პრეზიდენტ ვლადიმერ პუტინს შეხვდება.",
            "კრემლის ცნობით, მოლაპარაკება ორი დღე გაგრძელდება, დელეგაციაში 120 ადამიანია.",
        ],
    ),
    "az": (
        "Kim Çen In Vladivostoka gəldi",
        [
            "Şimali Koreya lideri Kim Çen In bazar ertəsi Vladivostoka gəlib.",
            "O, Rusiya prezidenti Vladimir Putin ilə görüşəcək.",
            "Kremlin məlumatına görə, danışıqlar iki gün davam edəcək, nümayəndə heyətində 120 nəfər var.",
        ],
    ),
}
# Unrelated news in the same languages: a basketball final in Kaunas, an election in Sofia.
OTHER = {
    "lt": (
        "Žalgiris laimėjo finalą Kaune",
        [
            "Kauno Žalgiris sekmadienį laimėjo Lietuvos krepšinio lygos finalą.",
            "Rungtynes stebėjo 15 000 žiūrovų, o treneris Andrea Trinchieri pagyrė komandą.",
        ],
    ),
    "bg": (
        "Избори в София",
        [
            "Жителите на София гласуваха в неделя за нов кмет на града.",
            "Избирателната активност е 38 процента, съобщи Централната избирателна комисия.",
        ],
    ),
}
GIBBERISH = ["strik strik jau jau applaud applaud found found", "fru fru fru receive receive month"]


def entry(name: str, lang: str, title: str, body: list[str], *, flagged: bool = False) -> DigestEntry:
    english = [GIBBERISH[k % 2] for k in range(len(body))]
    return DigestEntry(
        brief=f"briefs/{name}.md",
        date="2025-06-01",
        language=lang,
        language_name=lang,
        source_file=name,
        headline="strik jau applaud",
        summary=english[0] if english else "",
        warnings=[],
        flagged_sentences=len(body) if flagged else 0,
        sort_key=((2025, 6, 1), name),
        date_precision="day",
        sentences=english,
        flagged=list(range(len(body))) if flagged else [],
        original_title=title,
        source_sentences=body,
    )


def summit(flagged: bool = False) -> list[DigestEntry]:
    return [entry(f"summit-{lang}.txt", lang, t, b, flagged=flagged) for lang, (t, b) in SUMMIT.items()]


def stories_of(entries: list[DigestEntry]) -> list[set[str]]:
    return [{e.source_file for e in s.articles} for s in build_stories(entries, DigestOptions())]


def test_names_and_places_meet_across_scripts_and_inflections():
    ev = {lang: evidence.read(b, lang, t) for lang, (t, b) in SUMMIT.items()}
    names = dict(zip(ev, evidence.resolve_weak(list(ev.values())), strict=True))
    for lang in ev:  # Vladivostok in every script and case is one CLDR place
        assert "tz:Asia/Vladivostok" in ev[lang].places, (lang, ev[lang].places)
        assert "120" in ev[lang].figures
    for lang in ("lt", "ka", "az"):  # Šiaurės Korėjos, ჩრდილოეთ კორეის, Şimali Koreya; Rusijos, …
        assert {"KP", "RU"} <= set(ev[lang].places), (lang, ev[lang].places)
    # Putin, Kim and Vladivostok in Latin, Cyrillic and (caseless) Georgian letters share a stem.
    for lang in ("lt", "bg", "az", "ka"):
        assert {"putin", "kim"} <= set(names[lang]), (lang, sorted(names[lang]))
    # Georgian has no capitals: its words are names only where another article names them.
    alone = evidence.resolve_weak([ev["ka"]])[0]
    assert "putin" not in alone and "orsab" not in names["ka"]


def test_one_story_in_four_languages_is_one_story_when_the_english_is_meaningless():
    assert stories_of(summit()) == [{f"summit-{lang}.txt" for lang in SUMMIT}]


def test_flagged_translations_are_still_grouped_by_what_the_originals_name():
    entries = summit(flagged=True)
    reader = FigureReader({})
    assert all(features(e, reader).quality == 0.0 for e in entries)  # the English is not trusted
    assert stories_of(entries) == [{f"summit-{lang}.txt" for lang in SUMMIT}]


def test_meaningless_english_does_not_tie_unrelated_stories_together():
    # Every article's "English" is the same gibberish; only the originals tell them apart.
    others = [entry(f"other-{lang}.txt", lang, t, b) for lang, (t, b) in OTHER.items()]
    got = stories_of([*summit(), *others])
    assert {f"summit-{lang}.txt" for lang in SUMMIT} in got
    assert {"other-lt.txt"} in got and {"other-bg.txt"} in got


def test_a_translation_that_keeps_nothing_the_original_names_is_not_trusted():
    e = summit()[0]
    source = evidence.read(e.source_sentences, e.language, e.original_title or "")
    assert translation_quality(e, source) == 0.0
    good = DigestEntry(
        **{
            **e.__dict__,
            "sentences": [
                "North Korean leader Kim Jong Un arrived in Vladivostok on Monday.",
                "He will meet Russian President Vladimir Putin.",
                "According to the Kremlin, the talks will last two days; the delegation has 120 people.",
            ],
        }
    )
    assert translation_quality(good, source) == 1.0


def test_two_stories_sharing_one_famous_name_stay_apart():
    trade = entry(
        "tariffs-lt.txt",
        "lt",
        "Trumpas įvedė muitus plienui",
        ["JAV prezidentas Donaldas Trumpas trečiadienį paskelbė 25 procentų muitus plienui iš Kinijos."],
    )
    ukraine = entry(
        "ukraine-bg.txt",
        "bg",
        "Тръмп разговаря със Зеленски",
        ["Американският президент Доналд Тръмп разговаря по телефона с Володимир Зеленски за Украйна."],
    )
    assert stories_of([trade, ukraine]) == [{"tariffs-lt.txt"}, {"ukraine-bg.txt"}] or stories_of(
        [trade, ukraine]
    ) == [{"ukraine-bg.txt"}, {"tariffs-lt.txt"}]


def test_why_an_article_joined_is_said_in_english():
    (story,) = build_stories(summit(), DigestOptions())
    for item in story.timeline:
        assert "Vladivostok" in item.why and "Putin" in item.why and "120" in item.why, item.why
        if item.entry.language != "bg":  # the Bulgarian names the country only as an adjective
            assert "North Korea" in item.why, item.why


@pytest.mark.parametrize(
    "title, body",
    [
        ("без имена", ["нещо се случи вчера и продължава и днес."]),  # no names at all
        ("Kandidatai", ["Jonas Petraitis, Ona Kazlauskienė, Petras Jonaitis, Rūta Šimkutė."]),  # names only
        ("ᱥᱟᱱᱛᱟᱲᱤ", ["ᱥᱟᱱᱛᱟᱲᱤ ᱯᱟᱹᱨᱥᱤ ᱨᱮ ᱚᱞ ᱟᱠᱟᱱ ᱠᱟᱛᱷᱟ ᱾"]),  # Ol Chiki: a script with no rules here
        ("", []),  # nothing at all
    ],
)
def test_articles_with_no_names_only_names_or_an_unknown_script_are_grouped_without_error(title, body):
    odd = entry("odd.txt", "und", title, body)
    got = stories_of([*summit(), odd])
    assert {"odd.txt"} in got and {f"summit-{lang}.txt" for lang in SUMMIT} in got


def test_a_second_night_article_in_another_script_joins_the_story_the_first_night_opened(
    tiny_models, tmp_path
):
    """Real runs with the tiny models (meaningless English): a Lithuanian article opens the
    story tonight, a Georgian one tomorrow joins it through the story store's marks."""
    from tests.test_nights import config_for, night

    config = config_for(tmp_path)
    inbox = tmp_path / "files"
    inbox.mkdir()
    for lang, day in (("lt", "2025-06-01"), ("ka", "2025-06-02")):
        title, body = SUMMIT[lang]
        (inbox / f"summit-{lang}.txt").write_text(
            f"date {day}\n{title}\n\n" + "\n".join(body), encoding="utf-8"
        )
    title, body = OTHER["lt"]
    (inbox / "other-lt.txt").write_text(f"date 2025-06-02\n{title}\n\n" + "\n".join(body), encoding="utf-8")
    one = night(config, "2025-06-01", inbox / "summit-lt.txt")
    two = night(config, "2025-06-02", inbox / "summit-ka.txt", inbox / "other-lt.txt")
    (first,) = one["stories"]
    joined = {s["id"]: [a["source_file"] for a in s["articles"]] for s in two["stories"]}
    assert joined[first["id"]] == ["summit-lt.txt", "summit-ka.txt"]
    assert ["other-lt.txt"] in joined.values()
    story = next(s for s in two["stories"] if s["id"] == first["id"])
    ka = next(a for a in story["articles"] if a["source_file"] == "summit-ka.txt")
    assert "Vladivostok" in ka["shares"] and "North Korea" in ka["shares"]
    # The site's story page shows the same, in its own column.
    (page,) = (config.output_dir / "site" / "stories").glob(f"{first['id']}-*.html")
    html = page.read_text(encoding="utf-8")
    assert "Shares" in html
    assert "Vladivostok" in html and "North Korea" in html
