"""Ingest: decoding, page furniture, dates with their precision, and bad input as clear errors."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from pipeline.dates import ArticleDate, parse_date_line, split_header
from pipeline.errors import IngestError
from pipeline.ingest import IngestOptions, iter_input_files, read_article
from tests.conftest import ARTICLES

OPTIONS = IngestOptions()
BG = "Министерството на транспорта съобщи, че България ще участва в проучването. Очаква се още."
KA = "საქართველოს რკინიგზის ინფორმაციით, ხაზით ტვირთი გადავიდა."


def read(path: Path):
    return read_article(path, path.parent, OPTIONS)


def test_header_date_on_the_first_line_is_metadata_not_body():
    article = read(ARTICLES / "ka-railway.txt")
    assert str(article.date) == "2025-03-14" and article.date_source == "header"
    assert not article.paragraphs[0].lstrip().startswith("date")
    assert article.paragraphs[0].startswith("ბაქო-თბილისი")


def test_month_precision_is_kept():
    article = read(ARTICLES / "lt-corridor-study.txt")
    assert str(article.date) == "2024-12"
    assert article.date.precision == "month"


def test_bulgarian_page_furniture_is_removed():
    article = read(ARTICLES / "bg-railway.txt")
    assert str(article.date) == "2025-03-05" and article.date_source == "text"
    assert article.title == "България проучва товарни маршрути през Кавказ"
    body = "\n".join(article.paragraphs)
    assert "проучва товарни маршрути" not in body  # the repeated title is gone
    assert "снимка" not in body  # the caption
    assert "Сподели" not in body and "паркиране" not in body and "Времето" not in body  # share line + teasers
    assert body.endswith("по маршрута.")
    assert any("share line" in r for r in article.removed)


def test_a_caption_marker_must_open_a_word_and_a_lone_line_is_the_text(tmp_path):
    path = tmp_path / "de.txt"
    path.write_text(
        "Autobild: Das Auto des Jahres kommt nicht nach Deutschland\n\n"
        "Die Jury hat am Montag entschieden. Der Hersteller schweigt.\n\nBild: Reuters\n",
        encoding="utf-8",
    )
    article = read(path)
    # "Bild:" inside "Autobild:" is a magazine's name, not a photo credit; the credit line goes.
    assert "Autobild: Das Auto des Jahres kommt nicht nach Deutschland" in [
        article.title,
        *article.paragraphs,
    ]
    assert "Bild: Reuters" not in article.paragraphs
    # A file of one caption-like line is that line, not an empty article.
    lone = tmp_path / "lone.txt"
    lone.write_text("Foto: Die Sieger des Abends\n", encoding="utf-8")
    assert read(lone).paragraphs == ["Foto: Die Sieger des Abends"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24 Ноември, 2024", "2024-11-24"),
        ("3 სექტემბერი 2025", "2025-09-03"),
        ("15 avqust 2025", "2025-08-15"),
        ("November 2024", "2024-11"),
        ("Kim said the talks in 2024 went well and will go on.", None),
    ],
)
def test_localised_date_lines(text, expected):
    found = parse_date_line(text)
    assert (str(found) if found else None) == expected


def test_header_parsing_keeps_the_rest_of_the_line():
    found, rest = split_header(" date 2024-11 Rusijos karinė delegacija")
    assert found == ArticleDate(2024, 11) and rest == "Rusijos karinė delegacija"
    assert split_header("date 2024-13-01 x")[0] is None  # impossible dates are ignored


@pytest.mark.parametrize(
    ("encoding", "text"),
    [("cp1251", BG), ("utf-16", KA), ("utf-8-sig", BG), ("utf-8", KA)],
)
def test_encodings_decode_to_the_right_text(tmp_path, encoding, text):
    path = tmp_path / "a.txt"
    path.write_bytes(text.encode(encoding))
    article = read(path)
    assert article.paragraphs == [text]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"   \n\t\n  ", "only white space"),
        (gzip.compress(b"hello world " * 50), r"compressed \(gzip\)"),
        (bytes(range(256)) * 40, "not a text file"),
    ],
    ids=["empty", "whitespace", "gzip", "binary"],
)
def test_bad_input_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(IngestError, match=message):
        read(path)


def test_oversized_and_unsupported_files_are_refused(tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"word " * 500_000)
    with pytest.raises(IngestError, match="over the"):
        read(big)
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    with pytest.raises(IngestError, match="unsupported file type"):
        read(pdf)


def test_html_article_text_is_extracted(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><title>Headline here</title>"
        '<meta property="article:published_time" content="2025-02-09"></head><body>'
        "<nav>Home · World · Sport</nav><article><h1>Headline here</h1>"
        + "".join(
            f"<p>Paragraph {i} of the story tells what happened in the city today.</p>" for i in range(4)
        )
        + "</article><footer>Privacy · Cookies</footer></body></html>",
        encoding="utf-8",
    )
    article = read(page)
    assert article.title == "Headline here"
    assert str(article.date) == "2025-02-09"
    assert any("Paragraph 2" in p for p in article.paragraphs)
    assert not any("Cookies" in p for p in article.paragraphs)


def test_walk_skips_hidden_files_and_survives_a_symlink_loop(tmp_path):
    (tmp_path / ".hidden.txt").write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("Some text here.")
    (tmp_path / "sub" / "loop").symlink_to(tmp_path / "sub")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_input_files(tmp_path)]
    assert found == ["sub/a.txt"]
