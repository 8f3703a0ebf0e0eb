"""Tokenizers for the CTranslate2 models, read from plain files: no transformers, no torch.

A CTranslate2 model takes and gives token strings, so all it needs from a tokenizer is text to
pieces and pieces to text. Loading transformers' tokenizer for that imports torch, about 300 MB
of a nightly process that otherwise never touches it. These tokenizers read the files that
transformers' own tokenizers are made of, with the libraries transformers uses underneath:

- NLLB and BART: `tokenizer.json`, through `tokenizers`. `newsbrief models convert` writes it
  next to the CTranslate2 copy from transformers' tokenizer, so the two cannot disagree.
- Marian: `source.spm`, `target.spm` and `vocab.json`, through `sentencepiece` (copied next to
  the CTranslate2 copy the same way). SentencePiece cuts the text; `vocab.json` numbers the pieces.

Article text is text: a literal `<mask>`, `</s>`, `<unk>`, `eng_Latn` or `>>fra<<` in an article
is tokenized like any other word, never read as the special token it spells (an article that
said `<mask>` crashed distilbart, whose embedding has no row for it). Only `__call__` adds
special tokens, by id. `load_hf_tokenizer` loads transformers' tokenizer the same way.

Both implement the part of transformers' tokenizer API the pipeline calls (`__call__`,
`convert_ids_to_tokens`, `convert_tokens_to_ids`, `decode`, `src_lang`, the special tokens), so
the Translator and the summarizer work the same with either. tests/test_tokenizer.py checks that
they give exactly transformers' ids and text on the tiny models of each class.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger("newsbrief.tokenizer")

# The files each family's tokenizer is made of, as `newsbrief models convert` copies them.
FILES = {
    "nllb": ("tokenizer.json",),
    "bart": ("tokenizer.json",),
    "marian": ("source.spm", "target.spm", "vocab.json"),
}
EOS, BOS, UNK, PAD = "</s>", "<s>", "<unk>", "<pad>"


class TokenizerFilesError(FileNotFoundError):
    """A converted model lacks its tokenizer files (converted by an older newsbrief)."""


class _Tokenizer:
    """What both file-based tokenizers share: ids ↔ tokens and the special-token layout."""

    family: str
    eos_token = EOS
    bos_token = BOS
    pad_token = PAD
    src_lang: str | None = None  # NLLB's source language code, set per batch like transformers'

    def __init__(self, special: set[str]):
        self._special_ids = {i for i in map(self._token_to_id, special) if i is not None}
        self.unk_token_id = self._require(UNK)
        self.eos_token_id = self._require(EOS)
        self.pad_token_id = self._token_to_id(PAD)
        self.bos_token_id = self._token_to_id(BOS)

    def _require(self, token: str) -> int:
        i = self._token_to_id(token)
        if i is None:
            raise ValueError(f"the tokenizer has no {token} token")
        return i

    def __call__(self, text: str, add_special_tokens: bool = True) -> dict[str, list[int]]:
        ids = self._encode(text)
        if add_special_tokens:
            ids = self._prefix() + ids + [self.eos_token_id]
        return {"input_ids": ids}

    def _prefix(self) -> list[int]:
        if self.family == "nllb":
            if self.src_lang is None:
                raise ValueError("set src_lang (an NLLB code such as lit_Latn) before encoding")
            return [self._require(self.src_lang)]
        if self.family == "bart":
            return [self._require(BOS)]
        return []

    def convert_ids_to_tokens(self, ids: list[int]) -> list[str]:
        return [self._id_to_token(i) or UNK for i in ids]

    def convert_tokens_to_ids(self, tokens: str | list[str]) -> Any:
        if isinstance(tokens, str):
            return self._token_id(tokens)
        return [self._token_id(t) for t in tokens]

    def _token_id(self, token: str) -> int:
        i = self._token_to_id(token)
        return self.unk_token_id if i is None else i

    def decode(self, ids: list[int], skip_special_tokens: bool = False) -> str:
        if skip_special_tokens:
            ids = [i for i in ids if i not in self._special_ids]
        return self._decode(ids)

    # What each tokenizer provides. The vocabulary stays in one place (NLLB's has 256k entries):
    # a copy in Python dictionaries would cost more memory than the rest of this module.
    def _token_to_id(self, token: str) -> int | None:
        raise NotImplementedError

    def _id_to_token(self, index: int) -> str | None:
        raise NotImplementedError

    def _encode(self, text: str) -> list[int]:
        raise NotImplementedError

    def _decode(self, ids: list[int]) -> str:
        raise NotImplementedError


class FastTokenizer(_Tokenizer):
    """NLLB and BART: the `tokenizers` library on the `tokenizer.json` transformers saved."""

    def __init__(self, path: Path, family: str):
        from tokenizers import Tokenizer

        self.family = family
        self._tok = Tokenizer.from_file(str(path))
        self._tok.encode_special_tokens = True  # text that spells a special token stays text
        super().__init__({t.content for t in self._tok.get_added_tokens_decoder().values() if t.special})

    def _token_to_id(self, token: str) -> int | None:
        return self._tok.token_to_id(token)

    def _id_to_token(self, index: int) -> str | None:
        return self._tok.id_to_token(index)

    def _encode(self, text: str) -> list[int]:
        return self._tok.encode(text, add_special_tokens=False).ids

    def _decode(self, ids: list[int]) -> str:
        return self._tok.decode(ids, skip_special_tokens=False)


class MarianTokenizer(_Tokenizer):
    """Marian: SentencePiece cuts the text, `vocab.json` numbers the pieces (unknown → <unk>)."""

    family = "marian"

    def __init__(self, folder: Path):
        import sentencepiece

        self._source = sentencepiece.SentencePieceProcessor(model_file=str(folder / "source.spm"))
        # transformers decodes with the source model unless the vocabularies are separate (one
        # vocab.json here, as in every OPUS-MT tc-big model); for pieces the two share, both agree.
        self._target = self._source
        self._ids: dict[str, int] = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
        self._tokens = {i: t for t, i in self._ids.items()}
        super().__init__({EOS, UNK, PAD})

    def _token_to_id(self, token: str) -> int | None:
        return self._ids.get(token)

    def _id_to_token(self, index: int) -> str | None:
        return self._tokens.get(index)

    def _encode(self, text: str) -> list[int]:
        return self.convert_tokens_to_ids(self._source.encode(text, out_type=str))

    def _decode(self, ids: list[int]) -> str:
        # As transformers: special tokens are written as they are, never through SentencePiece.
        out, pieces = "", []
        for i, token in zip(ids, self.convert_ids_to_tokens(ids), strict=True):
            if i in self._special_ids:
                out += self._target.decode_pieces(pieces) + token + " "
                pieces = []
            else:
                pieces.append(token)
        out += self._target.decode_pieces(pieces)
        return out.replace("▁", " ").strip()


def load_tokenizer(folder: Path, family: str) -> _Tokenizer:
    """The tokenizer saved beside a CTranslate2 model (see `save_tokenizer`)."""
    folder = Path(folder)
    missing = [name for name in FILES[family] if not (folder / name).is_file()]
    if missing:
        raise TokenizerFilesError(
            f"{folder} has no {', '.join(missing)}: it was converted by an older newsbrief; "
            "run `make models` (or `newsbrief models convert`), which redoes it"
        )
    if family == "marian":
        return MarianTokenizer(folder)
    return FastTokenizer(folder / "tokenizer.json", family)


def load_hf_tokenizer(src_dir: Path) -> Any:
    """transformers' tokenizer of a checkpoint, reading text that spells a special token as text."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(src_dir, split_special_tokens=True)


def save_tokenizer(src_dir: Path, out_dir: Path, family: str) -> int:
    """Writes the files `load_tokenizer` reads, from the transformers model in `src_dir`, and
    returns how many tokens the tokenizer has (its ids are 0 to that number minus one).

    For NLLB and BART this is transformers' own tokenizer as built from the checkpoint (its
    `tokenizer.json`, written back out), so both backends tokenize identically.
    """
    import shutil

    tokenizer = load_hf_tokenizer(src_dir)
    if family == "marian":
        for name in FILES["marian"]:
            shutil.copyfile(src_dir / name, out_dir / name)
    else:
        tokenizer.backend_tokenizer.save(str(out_dir / "tokenizer.json"))
    return len(tokenizer)
