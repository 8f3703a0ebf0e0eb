"""The tiny fixture models: built from the corpus, loadable exactly as the product loads real
models, generating without warnings, and tokenizing unseen text in each source language with
(almost) no unknown tokens."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.fixtures.tiny_models import (
    ALPHABETS,
    BUILDERS,
    LANGUAGES,
    STAMP_FILE,
    build_all,
    corpus_lines,
    missing_letters,
    unknown_ratio,
)

# New paragraphs in each source language, written for this test and absent from the corpus.
UNSEEN: dict[str, str] = {
    "ka": (
        "ქუთაისის ცენტრალურ ბიბლიოთეკაში რეკონსტრუქცია დასრულდა. შენობას ახალი სახურავი, ლიფტი და "
        "საბავშვო დარბაზი აქვს. დირექტორის თქმით, ფონდში 120 000-ზე მეტი წიგნია, მათ შორის იშვიათი "
        "ხელნაწერები. „ვფიქრობთ, მკითხველების რაოდენობა გაორმაგდება“, – აღნიშნა მან. ბიბლიოთეკა "
        "ყოველდღე 10 საათიდან 19 საათამდე იმუშავებს, ჯგუფური ექსკურსიები კი წინასწარი ჩაწერით ჩატარდება."
    ),
    "lt": (
        "Kaune vykusiame maratone dalyvavo daugiau nei 3 000 bėgikų iš 25 šalių. Nugalėtoja tapo jauna "
        "studentė, trasą įveikusi per 2 val. 41 min. „Paskutiniai kilometrai buvo sunkūs, bet žiūrovų "
        "palaikymas padėjo“, – sakė ji. Organizatoriai džiaugiasi, kad renginys užaugo, o kitąmet žada "
        "pratęsti trasą pro Ąžuolyną ir Žaliakalnį."
    ),
    "az": (
        "Şəkidə keçirilən ipək festivalına 40 mindən çox qonaq gəlib. Yerli ustalar əl işlərini, "
        "xalçaları və şirniyyatları nümayiş etdiriblər. “Bu il turistlərin sayı ötən illə müqayisədə iki "
        "dəfə artıb”, – deyə təşkilatçılardan biri bildirib. Festivalın son günü gənc musiqiçilərin "
        "konserti və atçılıq yarışı keçiriləcək, Ağdamdan gələn qonaqlar üçün isə pulsuz avtobus ayrılıb."
    ),
    "bg": (
        "В Пловдив започна реставрацията на античния театър, която ще продължи около 18 месеца. "
        "Общината е осигурила 4,6 милиона лева, а част от средствата идват от европейски програми. "
        "„Искаме паметникът да бъде отворен за посетители и по време на работата“, обясни архитектът "
        "на проекта. Летните концерти обаче ще бъдат преместени в градския парк, съобщиха от културния отдел."
    ),
}
# Which tiny model reads which language as its source.
SOURCE_MODELS = [
    ("nllb", "ka"),
    ("nllb", "lt"),
    ("nllb", "az"),
    ("nllb", "bg"),
    ("marian-bg-en", "bg"),
    ("marian-lt-en", "lt"),
]
BATCHES: dict[str, list[str]] = {
    "nllb": [UNSEEN["ka"], "Vilniaus taryba patvirtino biudžetą."],
    "marian-bg-en": [UNSEEN["bg"], "Общината одобри бюджета."],
    "marian-lt-en": [UNSEEN["lt"], "Vilniaus taryba patvirtino biudžetą."],
    "bart": ["The council approved the budget after a long debate. " * 8, "Rain flooded the villages."],
}


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_all(tmp_path_factory.mktemp("tiny-models"))


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Tiny models gain nothing from threads, and OpenMP threads spin-waiting for a core on a
    busy machine make generation 50x slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@contextmanager
def transformers_warnings() -> Iterator[list[str]]:
    """Collects what transformers logs at WARNING and above (its logger does not propagate) and
    the Python warnings raised meanwhile."""
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    handler = Collect(logging.WARNING)
    logger = logging.getLogger("transformers")
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield records
        records.extend(str(w.message) for w in caught)
    finally:
        logger.removeHandler(handler)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_corpus_covers_alphabet(lang: str) -> None:
    assert missing_letters(lang) == "", f"{lang}.txt never uses these letters"


@pytest.mark.parametrize("lang", sorted(UNSEEN))
def test_unseen_paragraphs_are_not_in_the_corpus(lang: str) -> None:
    corpus = "\n".join(corpus_lines(lang))
    for sentence in UNSEEN[lang].split(". "):
        assert sentence.rstrip(".") not in corpus


@pytest.mark.parametrize(("name", "lang"), SOURCE_MODELS)
def test_unknown_ratio_on_unseen_text(built: dict[str, Path], name: str, lang: str) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(built[name])
    assert set(UNSEEN[lang]) - {" "} <= set("".join(corpus_lines(*LANGUAGES)))
    assert unknown_ratio(tok, UNSEEN[lang]) < 0.05
    assert unknown_ratio(tok, "\u2603 \u2605") > 0.3  # characters no corpus has: the measure works


@pytest.mark.parametrize("name", list(BUILDERS))
def test_loads_and_generates_like_a_real_model(built: dict[str, Path], name: str) -> None:
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    expected = {
        "nllb": ("NllbTokenizer", "M2M100ForConditionalGeneration"),
        "marian-bg-en": ("MarianTokenizer", "MarianMTModel"),
        "marian-lt-en": ("MarianTokenizer", "MarianMTModel"),
        "bart": ("RobertaTokenizer", "BartForConditionalGeneration"),  # BartTokenizer is an alias
    }
    assert (built[name] / "model.safetensors").stat().st_size < 5 * 1024 * 1024
    with transformers_warnings() as logged:
        tok = AutoTokenizer.from_pretrained(built[name])
        model = AutoModelForSeq2SeqLM.from_pretrained(built[name]).eval()
        assert (type(tok).__name__, type(model).__name__) == expected[name]
        assert len(tok) <= model.config.vocab_size
        kwargs = {}
        if name == "nllb":
            tok.src_lang = "kat_Geor"
            kwargs["forced_bos_token_id"] = tok.convert_tokens_to_ids("eng_Latn")
        inputs = tok(BATCHES[name], return_tensors="pt", padding=True)
        with torch.no_grad():
            out = model.generate(**inputs, max_new_tokens=20, num_beams=2, **kwargs)
    assert out.shape[0] == 2 and out.shape[1] <= 21
    assert out[0, 0].item() == model.config.decoder_start_token_id
    if name == "nllb":
        assert out[0, 1].item() == kwargs["forced_bos_token_id"]
    assert all(isinstance(text, str) for text in tok.batch_decode(out, skip_special_tokens=True))
    assert not [m for m in logged if "length" in m], logged


def test_nllb_language_codes_and_special_ids(built: dict[str, Path]) -> None:
    from transformers import AutoConfig, AutoTokenizer
    from transformers.models.nllb.tokenization_nllb import FAIRSEQ_LANGUAGE_CODES

    tok = AutoTokenizer.from_pretrained(built["nllb"])
    config = AutoConfig.from_pretrained(built["nllb"])
    ids = tok.convert_tokens_to_ids(list(FAIRSEQ_LANGUAGE_CODES))
    assert len(FAIRSEQ_LANGUAGE_CODES) == 202
    assert tok.unk_token_id not in ids and len(set(ids)) == 202
    assert ids == list(range(ids[0], ids[0] + 202))  # contiguous, in FLORES order, as in the real vocab
    assert tok.mask_token_id == len(tok) - 1
    # As facebook/nllb-200-distilled-600M: <s>=0, <pad>=1, </s>=2, <unk>=3, decoding starts at </s>.
    assert (tok.bos_token_id, tok.pad_token_id, tok.eos_token_id, tok.unk_token_id) == (0, 1, 2, 3)
    assert (config.bos_token_id, config.pad_token_id, config.eos_token_id) == (0, 1, 2)
    assert config.decoder_start_token_id == 2
    assert config.vocab_size == len(tok)
    for code in ("kat_Geor", "lit_Latn", "azj_Latn", "bul_Cyrl"):
        tok.src_lang = code
        encoded = tok("Žinios – ახალი ამბები").input_ids
        # transformers 5 defaults to legacy_behaviour=False: [lang_code] tokens </s>
        assert encoded[0] == tok.convert_tokens_to_ids(code)
        assert encoded[-1] == tok.eos_token_id


@pytest.mark.parametrize("name", ["marian-bg-en", "marian-lt-en"])
def test_marian_special_ids_follow_opus_mt_tc_big(built: dict[str, Path], name: str) -> None:
    from transformers import AutoConfig, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(built[name])
    config = AutoConfig.from_pretrained(built[name])
    assert config.pad_token_id == config.decoder_start_token_id == config.vocab_size - 1 == tok.pad_token_id
    assert config.eos_token_id == config.forced_eos_token_id == tok.eos_token_id
    assert config.share_encoder_decoder_embeddings
    assert tok("Тест").input_ids[-1] == tok.eos_token_id


def test_build_is_skipped_when_the_stamp_matches(built: dict[str, Path]) -> None:
    out_dir = built["nllb"].parent
    weights = built["nllb"] / "model.safetensors"
    before = weights.stat().st_mtime_ns
    assert (out_dir / STAMP_FILE).is_file()
    assert build_all(out_dir) == built
    assert weights.stat().st_mtime_ns == before


def test_alphabets_table_is_consistent() -> None:
    for lang, (lower, upper) in ALPHABETS.items():
        assert len(set(lower)) == len(lower), lang
        assert not upper or len(upper) == len(lower.replace("ß", "")), lang
