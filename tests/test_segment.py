"""Pins the sentence-splitting rules and `split_long`, one case per rule, on made-up sentences.

The benchmark (`python -m bench.segment`) measures the rules on gold data; these tests keep each
rule from silently breaking and run without ../shared.
"""

from __future__ import annotations

import re
import time
from itertools import pairwise

import pytest

from pipeline.segment import SegmentOptions, split_long, split_sentences


def count_words(text: str) -> int:
    return len(text.split())


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# --- boundaries that must be kept ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        (
            "Sankcijos nukreiptos prieš Ukrainą. Šiaurės Korėja tai neigia.",
            "lt",
            ["Sankcijos nukreiptos prieš Ukrainą.", "Šiaurės Korėja tai neigia."],
        ),
        (
            "Срещата беше кратка, каза той. Ким също говори.",
            "bg",
            ["Срещата беше кратка, каза той.", "Ким също говори."],
        ),
        (
            "შეხვედრა დედაქალაქში გაიმართა. შემდეგ ლიდერები სადილობდნენ.",
            "ka",
            ["შეხვედრა დედაქალაქში გაიმართა.", "შემდეგ ლიდერები სადილობდნენ."],
        ),
        ("Ar jis atvyks? Niekas nežino! Laukiame…", "lt", ["Ar jis atvyks?", "Niekas nežino!", "Laukiame…"]),
        ("Toplantı bitdi. Nazir getdi.", "az", ["Toplantı bitdi.", "Nazir getdi."]),
    ],
)
def test_splits_at_real_sentence_ends(text: str, lang: str, expected: list[str]) -> None:
    assert split_sentences(text, lang) == expected


def test_a_newline_always_ends_a_sentence() -> None:
    assert split_sentences("Antraštė be taško\nPirmas sakinys, be pabaigos\n\nKitas", "lt") == [
        "Antraštė be taško",
        "Pirmas sakinys, be pabaigos",
        "Kitas",
    ]


def test_a_sentence_may_end_in_a_number() -> None:
    assert split_sentences("Jis gimė 1961. Vėliau persikėlė.", "lt") == [
        "Jis gimė 1961.",
        "Vėliau persikėlė.",
    ]


# --- never inside --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Vakar V. Putinas kalbėjosi su D. Trumpo patarėjais apie karą.", "lt"),
        ("Dünən V.Putinin nümayəndəsi paytaxta gəldi.", "az"),
        ("Derybos vyko 2024 m. rugpjūčio mėnesį sostinėje.", "lt"),
        ("Sutartį jie pasirašė kovo mėn. pabaigoje, kaip buvo tarta.", "lt"),
        ("Това, т.е. новият закон, влиза в сила от днес.", "bg"),
        ("ანალიტიკოსები ამას ე.წ. ახალ ღერძს უწოდებენ.", "ka"),
        ("Ministras susitiko su kolega No Kwang Cholu (No Kvang Čolu) sostinėje.", "lt"),
        ("Į sritį atvyko daugiau nei 10 000 karių, o augimas siekė 3.5 procento.", "lt"),
        ("Pranešimą perskaitė prof. Jonaitis ir doc. Petraitė.", "lt"),
        ("Интервюто излезе във в. „Труд“ вчера.", "bg"),
        ("Реката е р. Искър, а не друга.", "bg"),
        ("Biudžetas siekia 5 mln. 300 tūkst. eurų.", "lt"),
        ("Paskaitą skaitė akademikas ა. შანიძე თბილისში.", "ka"),
        ("ნაგებობა ძვ. წ. V საუკუნეს განეკუთვნება.", "ka"),
        ("Apie tai rašė J.R.R. Tolkienas.", "lt"),
        ("Mums reikia Dž. Bušo parašo.", "lt"),
    ],
)
def test_never_splits_inside(text: str, lang: str) -> None:
    assert split_sentences(text, lang) == [text]


def test_a_numbered_list_item_is_not_a_sentence_of_its_own() -> None:
    assert split_sentences("1. Pirmasis punktas.\n2. Antrasis punktas.", "lt") == [
        "1. Pirmasis punktas.",
        "2. Antrasis punktas.",
    ]
    assert split_sentences("II. ĮVADAS IR TIKSLAI", "lt") == ["II. ĮVADAS IR TIKSLAI"]


def test_a_lower_case_word_continues_the_sentence() -> None:
    # Dialogue attribution after ! or ?, and a parenthetical question.
    assert split_sentences("– Eime namo! – sušuko jis.", "lt") == ["– Eime namo! – sušuko jis."]
    assert split_sentences("Kažkas (gal vėjas?) nuplėšė stogą.", "lt") == [
        "Kažkas (gal vėjas?) nuplėšė stogą."
    ]


def test_a_closing_quote_after_a_space_stays_with_its_sentence() -> None:
    assert split_sentences("„Grįšiu rytoj. “ Jis išėjo.", "lt") == ["„Grįšiu rytoj. “", "Jis išėjo."]
    assert split_sentences("Jis tarė: „Viskas gerai. “", "lt") == ["Jis tarė: „Viskas gerai. “"]


def test_a_leading_ellipsis_is_not_a_sentence() -> None:
    assert split_sentences("Tyla. ... Vėliau pasigirdo balsai.", "lt") == [
        "Tyla.",
        "... Vėliau pasigirdo balsai.",
    ]


# --- abbreviations that may end a sentence -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        (
            "Nedarbas išaugo iki 7,2 proc. Vyriausybė tyli.",
            "lt",
            ["Nedarbas išaugo iki 7,2 proc.", "Vyriausybė tyli."],
        ),
        ("Įmonė įkurta 1995 m. Dabar joje dirba šimtas žmonių.", "lt", None),
        ("Pirkome obuolius, kriaušes ir t. t. Kitą dieną viską suvalgėme.", "lt", None),
        ("Законът е приет през 1999 г. Той е в сила и днес.", "bg", None),
        ("Църквата е от XIV в. Тя е паметник на културата.", "bg", None),
        ("Сделката е за 2 млрд. лв. Купувачът е чужд.", "bg", None),
        ("Новината съобщи АП. Други агенции мълчат.", "bg", None),
        ("Lentelė pateikta priede (žr. 12 psl.) Joje yra visi duomenys.", "lt", None),
    ],
)
def test_a_number_unit_or_etc_ends_a_sentence_before_a_capital(
    text: str, lang: str, expected: list[str] | None
) -> None:
    sentences = split_sentences(text, lang)
    assert len(sentences) == 2
    if expected:
        assert sentences == expected


def test_extra_abbreviations_from_options() -> None:
    text = "Kalbėjo vyr. Jonaitis."
    assert len(split_sentences(text, "lt")) == 2
    options = SegmentOptions(extra_abbreviations={"lt": ["vyr."]})
    assert split_sentences(text, "lt", options) == [text]


def test_georgian_lists_apply_without_a_language() -> None:
    text = "ანალიტიკოსები ამას ე.წ. ახალ ღერძს უწოდებენ. შემდეგ ისინი წავიდნენ."
    assert split_sentences(text) == ["ანალიტიკოსები ამას ე.წ. ახალ ღერძს უწოდებენ.", "შემდეგ ისინი წავიდნენ."]


def test_nothing_is_lost() -> None:
    text = "Vakar V. Putinas kalbėjo. „Taip. “ – Ne! – atsakė. 1. Punktas.\nKitas 5 proc. Tekstas…"
    assert squash(" ".join(split_sentences(text, "lt"))) == squash(text)


# --- split_long ------------------------------------------------------------------------------------


def test_split_long_keeps_a_short_sentence_whole() -> None:
    assert split_long("Trumpas sakinys.", 10, count_words) == ["Trumpas sakinys."]


def test_split_long_prefers_clause_boundaries() -> None:
    sentence = (
        "Delegacija atvyko vakar vakare, susitiko su ministrais ir ambasadoriais; "
        "derybos truko visą naktį – rezultatai bus paskelbti vėliau."
    )
    pieces = split_long(sentence, 8, count_words)
    assert len(pieces) > 1
    assert all(count_words(p) <= 8 for p in pieces)
    assert squash(" ".join(pieces)) == squash(sentence)
    # Every cut falls at a comma, a semicolon or before the dash, not between two words of a clause.
    for left, right in pairwise(pieces):
        assert left.endswith((",", ";")) or right.startswith("–")


def test_split_long_cuts_between_words_when_a_clause_is_too_long() -> None:
    sentence = " ".join(f"žodis{i}" for i in range(25)) + "."
    pieces = split_long(sentence, 6, count_words)
    assert all(1 <= count_words(p) <= 6 for p in pieces)
    assert squash(" ".join(pieces)) == squash(sentence)


def test_split_long_cuts_a_word_longer_than_the_limit() -> None:
    def count_chars(text: str) -> int:
        return len(text)

    pieces = split_long("nebeprisikiškiakopūsteliaudamiesi", 5, count_chars)
    assert all(len(p) <= 5 for p in pieces)
    assert "".join(pieces) == "nebeprisikiškiakopūsteliaudamiesi"


def test_split_long_rejects_a_zero_limit() -> None:
    with pytest.raises(ValueError):
        split_long("Du žodžiai.", 0, count_words)


def test_split_long_handles_a_2000_word_sentence_quickly() -> None:
    words = [f"w{i}" + ("," if i % 37 == 36 else "") for i in range(2000)]
    sentence = " ".join(words)
    started = time.perf_counter()
    pieces = split_long(sentence, 50, count_words)
    assert time.perf_counter() - started < 1.0
    assert all(count_words(p) <= 50 for p in pieces)
    assert squash(" ".join(pieces)) == squash(sentence)
    # Without commas too (every cut between words).
    plain = " ".join(f"w{i}" for i in range(2000))
    pieces = split_long(plain, 50, count_words)
    assert len(pieces) == 40
    assert squash(" ".join(pieces)) == plain


# --- patterns from news text the rules were measured on out of domain (issue #12) ----------------


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        # A German ordinal date: a number with a dot after a lower-case word is no sentence end.
        (
            "Die Messe beginnt am 5. September in Leipzig. Der Eintritt ist frei.",
            "de",
            ["Die Messe beginnt am 5. September in Leipzig.", "Der Eintritt ist frei."],
        ),
        ("Am 17. Oktober wählt die Stadt. Platz 3. Das reicht nicht.", "de", None),
        # A Lithuanian date with a document number, and millions before an acronym.
        (
            "Įsakymas priimtas 2011 m. kovo 3 d. Nr. 1V-218 ir įsigalioja rytoj. Kitas sakinys.",
            "lt",
            ["Įsakymas priimtas 2011 m. kovo 3 d. Nr. 1V-218 ir įsigalioja rytoj.", "Kitas sakinys."],
        ),
        (
            "Projektas kainuos 12 mln. JAV dolerių. Darbai prasidės vasarą.",
            "lt",
            ["Projektas kainuos 12 mln. JAV dolerių.", "Darbai prasidės vasarą."],
        ),
        # A Bulgarian year opening a sentence before a capitalised name.
        (
            "През 2021 г. Северна Македония подписа договора. Той влезе в сила.",
            "bg",
            ["През 2021 г. Северна Македония подписа договора.", "Той влезе в сила."],
        ),
        # Turkish: a question inside quoted speech that the sentence goes on after.
        (
            '"Neden bu kadar geç kaldın? Seni bekledik!" diye sordu annesi. Sonra kapıyı kapattı.',
            "tr",
            ['"Neden bu kadar geç kaldın? Seni bekledik!" diye sordu annesi.', "Sonra kapıyı kapattı."],
        ),
        # Georgian: "დაახლ." (approximately) and an abbreviation inside brackets.
        (
            "ქალაქში დაახლ. ათასი ადამიანი ცხოვრობს. ფილმი (ესპ. ენაზე) ხვალ გავა.",
            "ka",
            ["ქალაქში დაახლ. ათასი ადამიანი ცხოვრობს.", "ფილმი (ესპ. ენაზე) ხვალ გავა."],
        ),
        # Brackets opened in the sentence close before it ends.
        (
            "Він народився у Львові (бл. 1950 р. Він сам не пам'ятав) і жив там довго. Потім переїхав.",
            "uk",
            ["Він народився у Львові (бл. 1950 р. Він сам не пам'ятав) і жив там довго.", "Потім переїхав."],
        ),
    ],
)
def test_news_patterns(text: str, lang: str, expected: list[str] | None) -> None:
    if expected is None:  # an ordinal at a sentence start, and a rank that does end its sentence
        assert split_sentences(text, lang) == [
            "Am 17. Oktober wählt die Stadt.",
            "Platz 3.",
            "Das reicht nicht.",
        ]
    else:
        assert split_sentences(text, lang) == expected


def test_quoted_questions_that_end_their_sentence_still_split() -> None:
    text = "«Хто винен? Що робити?» Ці питання лишилися. Відповіді немає."
    assert split_sentences(text, "uk") == [
        "«Хто винен?",
        "Що робити?»",
        "Ці питання лишилися.",
        "Відповіді немає.",
    ]


def test_closing_punctuation_set_off_by_spaces_stays_with_its_sentence() -> None:
    # Wiki text writes quotes as two backticks; web text spaces out its closing marks.
    assert split_sentences("Альбом назывался ``Где теперь любовь? ``. В 1932 году всё изменилось.", "ru") == [
        "Альбом назывался ``Где теперь любовь? ``.",
        "В 1932 году всё изменилось.",
    ]
    assert split_sentences("Це вже не тільки студій стосується ! ) . «Слід» у романі.", "uk") == [
        "Це вже не тільки студій стосується ! ) .",
        "«Слід» у романі.",
    ]


def test_ukrainian_decree_points_stand_alone_and_other_list_numbers_open_their_item() -> None:
    decree = "1. Затвердити Порядок, що додається. 2. Контроль покласти на заступника міністра."
    assert split_sentences(decree, "uk") == [
        "1.",
        "Затвердити Порядок, що додається.",
        "2.",
        "Контроль покласти на заступника міністра.",
    ]
    assert split_sentences("1. Pirminiai duomenys surinkti. 2. Jie patikrinti.", "lt") == [
        "1. Pirminiai duomenys surinkti.",
        "2. Jie patikrinti.",
    ]
