"""Decoding: bytes that are valid UTF-8 are UTF-8; a few broken bytes are replaced and reported.

The lines are written for these tests. Each short line below is one that charset-normalizer alone
reads as another encoding (cp932, cp949, UTF-16-BE, gb18030): the test would fail on a decoder
that asks it first.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.ingest import IngestOptions, decode, read_article

SHORT_UTF8_LINES = [
    "Дзецi гулялi ў двары.",  # Belarusian typed with a Latin i, as many keyboards do
    "Вiктар прыйшоў.",
    "Sää lämpenee yöllä.",  # Finnish
    "Nüüd ma tean, et see töötab.",  # Estonian
    "Töö on tehtud, võib minna.",
]


def read(path: Path):
    return read_article(path, path.parent, IngestOptions())


@pytest.mark.parametrize("line", SHORT_UTF8_LINES)
def test_a_valid_utf8_file_is_utf8(tmp_path: Path, line: str) -> None:
    from charset_normalizer import from_bytes

    assert from_bytes(line.encode()).best().encoding != "utf_8"  # the trap this test is about
    path = tmp_path / "one.txt"
    path.write_bytes(line.encode() + b"\n")
    article = read(path)
    assert article.encoding == "utf-8"
    assert article.paragraphs == [line]
    assert article.warnings == []


def test_a_few_broken_bytes_are_replaced_and_reported(tmp_path: Path) -> None:
    text = "Helsingissä sataa tänään lunta, ja tiet ovat liukkaita koko päivän ajan."
    # One stray Latin-1 "ä" (0xE4) in an otherwise UTF-8 file.
    data = text.encode().replace("tänään".encode(), b"t\xe4n" + "ään".encode())
    path = tmp_path / "broken.txt"
    path.write_bytes(data)
    article = read(path)
    assert article.encoding == "utf-8"
    assert article.paragraphs == [text.replace("tänään", "t\ufffdnään")]
    assert article.warnings == ["1 invalid UTF-8 byte sequence(s) in the file, each replaced with U+FFFD"]


def test_a_replacement_character_written_as_utf8_is_text_not_damage() -> None:
    text, encoding, replaced = decode("Vigane märk: \ufffd.".encode())
    assert (encoding, replaced) == ("utf-8", 0) and "\ufffd" in text


def test_other_encodings_still_go_to_charset_normalizer() -> None:
    text = "Правительство утвердило новый бюджет на следующий год, сообщили в министерстве."
    assert decode(text.encode("cp1251")) == (text, "cp1251", 0)
    # Latin-1 is no "UTF-8 with broken bytes": none of its accented letters is valid UTF-8.
    _, encoding, replaced = decode("Hallitus päätti tänään, että vaaleja ei siirretä.".encode("latin-1"))
    assert encoding != "utf-8" and replaced == 0
