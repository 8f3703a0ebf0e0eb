"""The whole line, end to end, with tiny random-weight models of the real classes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from pipeline.cli import main
from pipeline.config import Config
from pipeline.models import ModelSpec
from pipeline.run import EXIT_ARTICLES_FAILED, EXIT_OK, run_digest
from tests.conftest import ARTICLES, EXPECTED, ROOT, SHARED

FRONT_MATTER_KEYS = {
    "title", "date", "source_language", "language_confidence", "source_file", "sha256",
    "translation_model", "summary_model", "warnings",
}  # fmt: skip


def front_matter(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n", 2)[1])


def test_digest_writes_one_dated_brief_per_article_and_a_digest(tiny_config: Config):
    result = run_digest(tiny_config)
    out = tiny_config.output_dir
    assert result.exit_code == EXIT_OK and result.failed == []
    briefs = sorted((out / "briefs").glob("*.md"))
    assert len(briefs) == 5
    found = {}
    for brief in briefs:
        fm = front_matter(brief)
        assert fm.keys() >= FRONT_MATTER_KEYS
        found[fm["source_file"]] = (fm["source_language"], fm["date"])
        assert brief.name.startswith(f"{fm['date']}-{fm['source_language']}-")
        assert re.fullmatch(r"[a-z0-9-]+\.md", brief.name)
        assert fm["translation_model"].startswith("newsbrief-fixtures/tiny-")
        assert re.search(r"@local-[0-9a-f]{12}$", fm["translation_model"])  # the exact weights used
        assert fm["summary_model"].startswith("newsbrief-fixtures/tiny-bart@")
        body = brief.read_text(encoding="utf-8")
        for section in ("## Key points", "## Summary", "## Full translation", "<details>"):
            assert section in body
    assert found == {name: lang_date for name, lang_date in EXPECTED.items()}
    # Marian for lt and bg, NLLB for the others, as config.tiny.yaml routes them.
    models = {front_matter(b)["source_language"]: front_matter(b)["translation_model"] for b in briefs}
    assert "marian-lt-en" in models["lt"] and "marian-bg-en" in models["bg"] and "nllb" in models["ka"]
    digest = result.digest_path
    assert digest.name == f"digest-{digest.name[7:17]}.md" and digest.exists()
    text = digest.read_text(encoding="utf-8")
    links = re.findall(r"\]\((briefs/[^)]+)\)", text)
    assert sorted(links) == sorted(f"briefs/{b.name}" for b in briefs)
    # newest first: the 2025-05-20 article comes before the 2024-12 one
    assert text.index("az-railway.txt") < text.index("lt-corridor-study.txt")
    assert (out / "index.md").read_text(encoding="utf-8").count(digest.name) == 1
    assert (out / "digest-latest.md").read_text(encoding="utf-8") == text
    payload = json.loads(digest.with_suffix(".json").read_text(encoding="utf-8"))
    assert len(payload["articles"]) == 5 and payload["failed"] == []


def test_bulgarian_brief_holds_nothing_after_the_share_line(tiny_config: Config):
    run_digest(tiny_config)
    (brief,) = (tiny_config.output_dir / "briefs").glob("*-bg-*.md")
    text = brief.read_text(encoding="utf-8")
    assert "по маршрута." in text  # the story's last sentence is in the original-text section
    for teaser in ("Времето утре", "паркиране"):  # the teasers after "Сподели:"
        assert teaser not in text
    article_text = text.split("\n---\n\nSource:")[0]  # the footer names what was removed, on purpose
    assert "Сподели" not in article_text and "снимка: БТА" not in article_text


def test_a_missing_model_fails_only_its_articles(tiny_config: Config, tmp_path: Path):
    models = dict(tiny_config.models)
    models["tiny-marian-bg-en"] = ModelSpec(
        id="newsbrief-fixtures/tiny-marian-bg-en", path=str(tmp_path / "absent"), family="marian"
    )
    config = tiny_config.model_copy(update={"models": models})
    result = run_digest(config)
    assert result.exit_code == EXIT_ARTICLES_FAILED
    assert [f.source_file for f in result.failed] == ["bg-railway.txt"]
    assert (
        "tiny-marian-bg-en" in result.failed[0].reason and str(tmp_path / "absent") in result.failed[0].reason
    )
    assert result.processed == 4
    digest = result.digest_path.read_text(encoding="utf-8")
    assert "## Could not be processed" in digest and "<code>bg-railway.txt</code>" in digest


def test_bad_files_are_listed_and_the_run_goes_on(tiny_config: Config):
    inbox = tiny_config.input_dir
    (inbox / "empty.txt").write_bytes(b"")
    (inbox / "digits.txt").write_text("12 345 — 67,8 % (2024)\n", encoding="utf-8")
    (inbox / "binary.txt").write_bytes(bytes(range(256)) * 20)
    (inbox / "latin.txt").write_text(
        "Gallia est omnis divisa in partes tres, quarum unam incolunt Belgae, aliam Aquitani, tertiam qui "
        "ipsorum lingua Celtae, nostra Galli appellantur. "
        "Hi omnes lingua, institutis, legibus inter se differunt.",
        encoding="utf-8",
    )
    result = run_digest(tiny_config)
    reasons = {f.source_file: f.reason for f in result.failed}
    assert result.processed == 5 and result.exit_code == EXIT_ARTICLES_FAILED
    assert "empty file" in reasons["empty.txt"]
    assert "no words" in reasons["digits.txt"]
    assert "not a text file" in reasons["binary.txt"]
    assert "no route translates Latin" in reasons["latin.txt"]
    digest = result.digest_path.read_text(encoding="utf-8")
    for name in reasons:
        assert f"<code>{name}</code>" in digest


def test_detect_command_prints_json_per_file(capsys, tiny_models):
    files = [str(ARTICLES / name) for name in EXPECTED]
    code = main(["detect", *files, "--json", "--config", str(ROOT / "config.tiny.yaml")])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == EXIT_OK
    assert [(Path(r["path"]).name, r["lang"]) for r in rows] == [
        (n, lang) for n, (lang, _) in EXPECTED.items()
    ]
    assert all(0.5 <= r["confidence"] <= 1.0 for r in rows)


def test_translate_command_gives_sentence_pairs_with_routes(capsys, tiny_models):
    code = main(
        ["translate", str(ARTICLES / "lt-railway.txt"), "--json", "--config", str(ROOT / "config.tiny.yaml")]
    )
    out = json.loads(capsys.readouterr().out)
    assert code in (EXIT_OK, EXIT_ARTICLES_FAILED)  # tiny models may hit max_new_tokens (flagged)
    assert out["lang"] == "lt"
    assert {s["route"] for s in out["sentences"]} == {"tiny-marian-lt-en"}
    assert [s["source"] for s in out["sentences"]][:2] == [
        "Lietuvos geležinkeliai pranešė, kad krovinių pervežimai į Kaspijos regioną "
        "per pirmąjį ketvirtį išaugo.",
        "Bendrovės vadovas E. Butkus teigė, kad 2024 m. gegužės mėnesį pasirašyta sutartis su Azerbaidžano "
        "partneriais jau duoda rezultatų.",
    ]


def test_models_list_shows_presence(capsys, tiny_models):
    assert main(["models", "list", "--config", str(ROOT / "config.tiny.yaml")]) == EXIT_OK
    out = capsys.readouterr().out
    assert "tiny-nllb" in out and "present" in out and "MISSING" not in out
    assert main(["models", "list", "--config", str(ROOT / "config.yaml")]) != EXIT_OK or "present" in out


@pytest.mark.skipif(not (SHARED / "seeds").is_dir(), reason="../shared/seeds is not beside the checkout")
def test_the_five_seeds_become_five_briefs(tiny_config: Config):
    config = tiny_config.model_copy(
        update={"paths": tiny_config.paths.model_copy(update={"input": SHARED / "seeds"})}
    )
    result = run_digest(config)
    assert result.exit_code == EXIT_OK
    briefs = (config.output_dir / "briefs").glob("*.md")
    got = sorted((front_matter(b)["source_language"], front_matter(b)["date"]) for b in briefs)
    expected = [
        ("ka", "2025-09-03"),
        ("lt", "2025-08-13"),
        ("lt", "2024-11"),
        ("az", "2025-08-15"),
        ("bg", "2024-11-24"),
    ]
    assert got == sorted(expected)
    (bg,) = (config.output_dir / "briefs").glob("*-bg-*.md")
    seed = next((SHARED / "seeds").glob("004_*.txt")).read_text(encoding="utf-8")
    after_share = [line.strip() for line in seed.split("Сподели:")[1].splitlines() if line.strip()]
    text = bg.read_text(encoding="utf-8")
    assert len(after_share) == 6
    for line in after_share:
        assert line[:40] not in text


def test_segment_command_prints_one_sentence_per_line(capsys, tiny_models):
    path = ARTICLES / "lt-railway.txt"
    assert main(["segment", str(path), "--config", str(ROOT / "config.tiny.yaml")]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == [
        "Lietuvos geležinkeliai pranešė, kad krovinių pervežimai į Kaspijos regioną "
        "per pirmąjį ketvirtį išaugo.",
        "Bendrovės vadovas E. Butkus teigė, kad 2024 m. gegužės mėnesį pasirašyta sutartis su Azerbaidžano "
        "partneriais jau duoda rezultatų.",
    ]
    assert lines[-1] == "Kovo mėn. pabaigoje bendrovė atidarė naują atstovybę Baku."
    assert len(lines) == 4
