"""The English output vocabulary and the self-test that switches it on (`output_vocabulary: auto`).

On the tiny models of the real classes (random weights): the map is built from the model's own
tokenizer at conversion; `models verify` compares the two decodings beam for beam and records its
decision in models.lock.json; a brief says which vocabulary decoded it, and with the map off a
brief is what it was before, but for that one key.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from pipeline.cli import main
from pipeline.config import load_config
from pipeline.ct2 import LATIN_DIR, VMAP_FILE, is_latin_output, read_vmap
from pipeline.models import LOCK_FILE, ModelStore
from pipeline.translate import provenance
from pipeline.verify import MAX_NON_ENGLISH_SHARE, compare_beams, decide
from tests.conftest import ARTICLES, EXPECTED, ROOT


def _config(tmp_path: Path, name: str, vocabulary: str | None = None) -> Path:
    """config.tiny.yaml with every model on CTranslate2 (int8), models converted under `tmp_path`."""
    config = yaml.safe_load((ROOT / "config.tiny.yaml").read_text(encoding="utf-8"))
    for spec in config["models"].values():
        spec["backend"] = "ctranslate2"
        spec["path"] = str(ROOT / spec["path"])
        if vocabulary and spec["family"] != "bart":
            spec["output_vocabulary"] = vocabulary
    inbox = tmp_path / "inbox"
    if not inbox.is_dir():
        inbox.mkdir()
        for article in EXPECTED:
            shutil.copy(ARTICLES / article, inbox / article)
    models = str(tmp_path / "models")
    config["paths"] = {"input": str(inbox), "output": str(tmp_path / name), "models": models}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _store(path: Path) -> ModelStore:
    config = load_config(path)
    return ModelStore(config.models_dir, config.models, config.runtime, config.base_dir)


@pytest.fixture(scope="module")
def converted(tiny_models: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny models converted once by `newsbrief models convert`: the folder of the configs."""
    root = tmp_path_factory.mktemp("fast")
    assert main(["models", "convert", "--config", str(_config(root, "auto"))]) == 0
    return root


# ---- the map ---------------------------------------------------------------------------------


def test_the_english_map_holds_the_pieces_english_needs_and_no_other_script(converted):
    store = _store(_config(converted, "auto"))
    for name in ("tiny-nllb", "tiny-marian-bg-en"):
        folder = store.ct2_path(name)
        english, latin = read_vmap(folder), read_vmap(folder / LATIN_DIR)
        vocabulary = json.loads((folder / "shared_vocabulary.json").read_text(encoding="utf-8"))
        assert english and set(english) <= set(vocabulary)
        assert all(is_latin_output(t) for t in english)  # no Cyrillic, Georgian... piece
        assert "</s>" in english and {"▁the", ".", ","} <= english
        assert english < set(vocabulary) and len(english) <= len(latin)
    nllb = store.ct2_path("tiny-nllb")
    assert "eng_Latn" in read_vmap(nllb) and len(read_vmap(nllb)) < len(read_vmap(nllb / LATIN_DIR))
    # The summarizer writes English from English: it gets no map.
    assert not (store.ct2_path("tiny-bart") / VMAP_FILE).exists()


def test_a_translation_with_the_english_map_never_leaves_it(converted):
    store = _store(_config(converted, "forced-english", "english"))
    loaded = store.load("tiny-nllb")
    assert loaded.vocabulary == "english" and loaded.vocabulary_label == "english (set in config.yaml)"
    assert provenance(loaded)["backend"] == "ctranslate2 int8, english output vocabulary"
    from pipeline.ct2 import translate_ids
    from pipeline.translate import TARGET_FLORES, DecodingOptions

    allowed = read_vmap(store.ct2_path("tiny-nllb"))
    loaded.tokenizer.src_lang = "kat_Geor"
    ids = [loaded.tokenizer(t)["input_ids"] for t in ["საპროტესტო აქციაზე 10 000 ადამიანი შეიკრიბა."]]
    for result in translate_ids(loaded, ids, 24, DecodingOptions(num_beams=3), TARGET_FLORES, hypotheses=3):
        assert all(set(h) <= allowed for h in result.hypotheses)


# ---- the decision ----------------------------------------------------------------------------

ENGLISH = {"eng_Latn", "▁The", "▁rain", "▁fell", ".", "</s>", "▁It"}
RAIN, FELL = ["▁The", "▁rain", "."], ["▁It", "▁fell", "."]


@pytest.mark.parametrize(
    ("full", "mapped", "kind"),
    [
        ([RAIN, FELL], [RAIN, FELL], "same"),
        # The whole vocabulary's best beam holds a Cyrillic piece the map cannot give.
        ([["▁The", "▁дождь", "."], FELL], [FELL, ["▁The", "."]], "non-English"),
        # English pieces only, yet another best beam: the map rescored it.
        ([RAIN, FELL], [FELL, RAIN], "different"),
        # A beam of English pieces lost under the map.
        ([RAIN, FELL], [RAIN, ["▁It", "."]], "different"),
        # A non-English best beam, but an English-only beam lost as well.
        ([["▁The", "▁дождь"], FELL], [["▁The", "."], ["▁It", "."]], "different"),
    ],
)
def test_beams_are_compared_beam_for_beam(full, mapped, kind):
    assert compare_beams(full, mapped, ENGLISH)[0] == kind


def _evidence(texts: int, same: int, non_english: int = 0, different: int = 0) -> dict:
    return {
        "languages": ["ka"],
        "beams": 4,
        "map_tokens": 7,
        "texts": texts,
        "same": same,
        "non_english": [f"ka {i}: the whole vocabulary chose ▁дождь" for i in range(non_english)],
        "different": [f"ka {i}: a beam made of English pieces only was lost" for i in range(different)],
    }


def test_the_decision_switches_the_map_on_only_on_clean_evidence():
    assert decide(_evidence(20, 20), True)["vocabulary"] == "english"
    on = decide(_evidence(20, 18, non_english=2), True)
    assert on["vocabulary"] == "english" and "2 differing only where" in on["reason"]
    assert on["evidence"]["non_english"] == 2 and len(on["evidence"]["shown"]) == 2
    off = decide(_evidence(20, 19, different=1), True)
    assert off["vocabulary"] == "all" and off["reason"] == "1 of 20 texts translate differently with the map"
    many = int(20 * MAX_NON_ENGLISH_SHARE) + 1
    assert decide(_evidence(20, 20 - many, non_english=many), True)["vocabulary"] == "all"
    assert "fail the output checks" in decide(_evidence(20, 20), False)["reason"]
    assert decide(_evidence(0, 0), True)["vocabulary"] == "all"


def test_models_verify_keeps_the_map_off_for_random_weights_and_says_why(converted, capsys):
    """Random weights: their outputs fail the checks and differ with the map, so it stays off."""
    path = _config(converted, "verify")
    store = _store(path)
    assert store.output_vocabulary("tiny-nllb") == (
        "all",
        "auto: not verified yet, `newsbrief models verify` decides",
    )
    assert main(["models", "verify", "tiny-nllb", "--config", str(path)]) != 0
    out = capsys.readouterr().out
    assert "tiny-nllb: output vocabulary: whole vocabulary (English map off): " in out
    lock = json.loads((converted / "models" / LOCK_FILE).read_text(encoding="utf-8"))
    decision = lock["newsbrief-fixtures/tiny-nllb"]["output_vocabulary"][store.ct2_path("tiny-nllb").name]
    assert decision["vocabulary"] == "all" and decision["evidence"]["texts"] == 16  # 8 languages × 2
    evidence = decision["evidence"]
    assert evidence["languages"] == ["ka", "az", "de", "fr", "es", "ru", "uk", "pl"]
    assert evidence["different"] or evidence["non_english"] > 16 * MAX_NON_ENGLISH_SHARE
    vocabulary, why = store.output_vocabulary("tiny-nllb")
    assert vocabulary == "all" and why.startswith("auto: verified ") and "kept off" in why
    assert store.load("tiny-nllb").vocabulary == "all"


def test_a_map_that_changes_nothing_is_switched_on_for_that_map_only(converted):
    """A map of the whole vocabulary decodes exactly as the whole vocabulary: the evidence is
    clean and the decision is `english`; a changed map needs a new verification."""
    from pipeline.translate import Translator
    from pipeline.verify import compare_vocabularies, vocabulary_languages

    path = _config(converted, "whole-map")
    config, store = load_config(path), _store(path)
    folder = store.ct2_path("tiny-marian-bg-en")
    saved = (folder / VMAP_FILE).read_text(encoding="utf-8")
    try:
        vocabulary = json.loads((folder / "shared_vocabulary.json").read_text(encoding="utf-8"))
        (folder / VMAP_FILE).write_text("\t" + " ".join(vocabulary) + "\n", encoding="utf-8")
        loaded = store.load("tiny-marian-bg-en")
        assert vocabulary_languages(config, "tiny-marian-bg-en") == ["bg"]
        evidence = compare_vocabularies(loaded, Translator(config.translate, store), ["bg", "ru"], folder)
        assert evidence["texts"] == 4 and evidence["same"] == 4, evidence
        decision = decide(evidence, checks_passed=True)  # random weights fail the checks: granted here
        assert decision["vocabulary"] == "english"
        store.record_vocabulary_decision("tiny-marian-bg-en", decision)
        assert store.output_vocabulary("tiny-marian-bg-en")[0] == "english"
        assert store.load("tiny-marian-bg-en").vocabulary == "english"  # reloaded under the decision
        (folder / VMAP_FILE).write_text(saved, encoding="utf-8")  # another map: not verified
        assert store.output_vocabulary("tiny-marian-bg-en")[1].startswith("auto: not verified yet")
    finally:
        (folder / VMAP_FILE).write_text(saved, encoding="utf-8")


# ---- the briefs and the digest ---------------------------------------------------------------

_VOCABULARY_KEY = re.compile(r"^output_vocabulary:\n(?:  .*\n)*", re.MULTILINE)


def _briefs(out: Path) -> dict[str, str]:
    """Each brief by source file, `ingested:` (the run's clock) blanked."""
    briefs = {}
    for brief in sorted((out / "briefs").glob("*.md")):
        text = re.sub(r"^ingested: .*$", "ingested: -", brief.read_text(encoding="utf-8"), flags=re.M)
        briefs[re.search(r"^source_file: (.*)$", text, re.M).group(1)] = text
    return briefs


def test_with_the_map_off_a_brief_is_what_it_was_but_for_the_new_key(converted):
    """`auto` before verification decodes with the whole vocabulary, as `all` always did: same
    English, same provenance, same pipeline fingerprint; only `output_vocabulary` says why."""
    (converted / "models" / LOCK_FILE).unlink(missing_ok=True)  # no decision from another test
    assert main(["digest", "--config", str(_config(converted, "all", "all"))]) == 0
    assert main(["digest", "--config", str(_config(converted, "unverified"))]) == 0
    before, after = _briefs(converted / "all"), _briefs(converted / "unverified")
    assert set(before) == set(after) == set(EXPECTED)
    for source in EXPECTED:
        assert _VOCABULARY_KEY.sub("", before[source]) == _VOCABULARY_KEY.sub("", after[source])
        assert before[source] != after[source]
        assert "not verified yet" in after[source] and "output vocabulary" not in after[source]
    digest = json.loads(next((converted / "unverified").glob("digest-2*.json")).read_text(encoding="utf-8"))
    assert digest["counts"]["vocabulary_map"] == 0
    text = next((converted / "unverified").glob("digest-2*.md")).read_text(encoding="utf-8")
    assert "output vocabulary map" not in text


def test_a_brief_decoded_with_the_map_says_so_and_the_digest_counts_it(converted):
    path = _config(converted, "forced", "english")
    assert main(["digest", "--config", str(path)]) == 0
    briefs = _briefs(converted / "forced")
    for source, text in briefs.items():
        assert "english (set in config.yaml)" in text, source
        assert "english output vocabulary" in text
    digest = json.loads(next((converted / "forced").glob("digest-2*.json")).read_text(encoding="utf-8"))
    assert digest["counts"]["vocabulary_map"] == len(EXPECTED)
    text = next((converted / "forced").glob("digest-2*.md")).read_text(encoding="utf-8")
    assert f"{len(EXPECTED)} articles decoded with an output vocabulary map" in text
