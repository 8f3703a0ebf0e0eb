"""Boundary precision and recall of `split_sentences` on gold segmentation data, next to the
maintained splitters `sentencex` and `pysbd` and a naive reference, all scored by the same code.

A splitter tuned by eye breaks on the next article; this scores it against treebank sentences:

- `segmentation/<iso>.txt` (lt bg ka az): rebuilt as running text exactly as its SOURCES.md says
  (a sentence with end punctuation is followed by a space, any other by a newline);
- `ud-dev/segmentation/<iso>.gold.txt` (ru uk tr de, out of domain): each paragraph's sentences
  joined with one space, as `<iso>.running.txt` holds them, so a heading without end punctuation
  runs into the next sentence. Recall is therefore counted on the breaks that follow end
  punctuation (R.) and, for information, on all breaks (R all).

P: boundary precision; R.: recall on breaks after end punctuation; F1 from P and R all.
Run: python -m bench.segment [--data DIR] [--lang xx ...] [--errors N] [--splitters ...]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pipeline.segment import split_sentences

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "eval"
LANGS = ("lt", "bg", "ka", "az")
UD_DEV_LANGS = ("ru", "uk", "tr", "de")
# Targets from the issue for the out-of-domain running text, every language.
TARGET_PRECISION = 0.99
TARGET_RECALL_PUNCTUATED = 0.98

# SOURCES.md: terminal punctuation, optionally followed by closing quotes or brackets.
TERMINAL_RE = re.compile(r"[.!?…][\"'»”“’›)\]}]*$")
# The reference: a break at every newline and after every . ! ? … followed by white space.
REFERENCE_RE = re.compile(r"(?<=[.!?…])\s+|\n")

Splitter = Callable[[str, str], list[str]]


@dataclass
class Score:
    """Boundary counts over all blocks of one language."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tp_punct: int = 0  # gold breaks after end punctuation that were found...
    n_punct: int = 0  # ...of this many

    @property
    def recall_punctuated(self) -> float:
        return self.tp_punct / self.n_punct if self.n_punct else 1.0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def read_blocks(path: Path) -> list[list[str]]:
    """One gold sentence per line, a blank line between blocks."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line:
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def rebuild(sentences: list[str], joiner: str | None = None) -> tuple[str, set[int], set[int]]:
    """Running text for one block, its gold boundaries (start offsets of sentences 2..n) and
    those of them that follow end punctuation.

    `joiner` None: a space after end punctuation, else a newline (segmentation/SOURCES.md);
    a string: always that (ud-dev's running text joins with one space).
    """
    text = ""
    gold: set[int] = set()
    punctuated: set[int] = set()
    for i, sentence in enumerate(sentences):
        if i:
            terminal = TERMINAL_RE.search(sentences[i - 1]) is not None
            text += joiner if joiner is not None else (" " if terminal else "\n")
            gold.add(len(text))
            if terminal:
                punctuated.add(len(text))
        text += sentence
    return text, gold, punctuated


def boundaries(text: str, pieces: Iterable[str]) -> set[int]:
    """Start offsets (after the first) of the pieces, found in order in `text`."""
    found: set[int] = set()
    pos = 0
    for i, piece in enumerate(p for p in pieces if p.strip()):
        piece = piece.strip()
        at = text.find(piece, pos)
        if at < 0:
            raise ValueError(f"splitter changed the text: {piece[:60]!r}")
        if i:
            found.add(at)
        pos = at + len(piece)
    return found


def reference_split(text: str, lang: str) -> list[str]:
    return [p for p in REFERENCE_RE.split(text) if p.strip()]


def ours_split(text: str, lang: str) -> list[str]:
    return split_sentences(text, lang)


def sentencex_split(text: str, lang: str) -> list[str]:
    from sentencex import segment

    return [p for line in text.split("\n") for p in segment(lang, line)]


# pysbd's languages; others are split with its English rules (marked * in the table).
PYSBD_LANGS = frozenset("en hi mr zh es am ar hy bg ur ru pl fa nl da fr my el it ja de kk sk".split())


def pysbd_split(text: str, lang: str) -> list[str]:
    return [
        p for line in text.split("\n") for p in _pysbd(lang if lang in PYSBD_LANGS else "en").segment(line)
    ]


@cache
def _pysbd(lang: str):
    import pysbd

    return pysbd.Segmenter(language=lang, clean=False)


SPLITTERS: dict[str, Splitter] = {
    "newsbrief": ours_split,
    "sentencex": sentencex_split,
    "pysbd": pysbd_split,
    "reference": reference_split,
}


def score(
    blocks: list[list[str]],
    lang: str,
    splitter: Splitter,
    errors: list[str] | None = None,
    joiner: str | None = None,
) -> Score:
    result = Score()
    for sentences in blocks:
        text, gold, punctuated = rebuild(sentences, joiner)
        predicted = boundaries(text, splitter(text, lang))
        result.tp += len(gold & predicted)
        result.fp += len(predicted - gold)
        result.fn += len(gold - predicted)
        result.tp_punct += len(punctuated & predicted)
        result.n_punct += len(punctuated)
        if errors is not None:
            for at in sorted(predicted ^ gold):
                if at in gold and at not in punctuated:
                    continue  # a break without end punctuation: no splitter is asked to find it
                kind = "FP" if at in predicted else "FN"
                context = (text[max(0, at - 50) : at] + " ‖ " + text[at : at + 30]).replace("\n", "⏎")
                errors.append(f"{kind} {lang}: {context}")
    return result


def gold_files(data: Path, langs: Iterable[str]) -> dict[str, tuple[str, Path, str | None]]:
    """lang -> (set name, gold file, joiner) for the languages asked for that have data."""
    found: dict[str, tuple[str, Path, str | None]] = {}
    seg = data / "segmentation" if (data / "segmentation").is_dir() else data
    ud = data / "ud-dev" / "segmentation"
    for lang in langs:
        if (seg / f"{lang}.txt").is_file():
            found[lang] = ("test", seg / f"{lang}.txt", None)
        elif (ud / f"{lang}.gold.txt").is_file():
            found[lang] = ("ud-dev", ud / f"{lang}.gold.txt", " ")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="the eval folder (default: ../shared/eval)"
    )
    parser.add_argument("--lang", nargs="*", default=[*LANGS, *UD_DEV_LANGS], help="languages to score")
    parser.add_argument("--errors", type=int, default=0, help="print up to N mistakes per language (ours)")
    parser.add_argument("--splitters", nargs="*", default=list(SPLITTERS), choices=list(SPLITTERS))
    args = parser.parse_args(argv)

    files = gold_files(args.data, args.lang)
    if not files:
        print(f"segmentation benchmark skipped: no gold data in {args.data} (pass --data DIR)")
        return 0
    names = args.splitters
    print("| lang | set | bounds | " + " | ".join(f"{n} P / R. / F1" for n in names) + " |")
    print("|---|---|---:|" + "---|" * len(names))
    misses = []
    for lang, (set_name, path, joiner) in files.items():
        blocks = read_blocks(path)
        errors: list[str] | None = [] if args.errors else None
        cells = []
        n = 0
        for name in names:
            result = score(blocks, lang, SPLITTERS[name], errors if name == "newsbrief" else None, joiner)
            n = result.tp + result.fn
            star = "*" if name == "pysbd" and lang not in PYSBD_LANGS else ""
            cells.append(f"{result.precision:.3f} / {result.recall_punctuated:.3f} / {result.f1:.3f}{star}")
            if name == "newsbrief" and set_name == "ud-dev":
                if result.precision < TARGET_PRECISION:
                    misses.append(f"{lang} precision {result.precision:.3f} < {TARGET_PRECISION}")
                if result.recall_punctuated < TARGET_RECALL_PUNCTUATED:
                    misses.append(
                        f"{lang} recall. {result.recall_punctuated:.3f} < {TARGET_RECALL_PUNCTUATED}"
                    )
        print(f"| {lang} | {set_name} | {n} | " + " | ".join(cells) + " |")
        for line in (errors or [])[: args.errors]:
            print("   ", line)
    print("\nP: precision; R.: recall on breaks after end punctuation; F1 over all breaks.")
    print("*: pysbd has no rules for this language; its English rules were used.")
    if "newsbrief" in names:
        print("targets missed (ud-dev):\n  " + "\n  ".join(misses) if misses else "ud-dev targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
