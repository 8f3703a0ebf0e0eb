"""Boundary precision, recall and F1 of `split_sentences` on the gold segmentation data.

A splitter tuned by eye breaks on the next article; this scores it against treebank sentences,
rebuilt as running text exactly as ../shared/eval/segmentation/SOURCES.md describes, next to a
naive reference splitter scored by the same code so that a drift in the rebuild shows at once.

Run: python -m bench.segment [--data DIR] [--lang xx ...] [--errors N]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pipeline.segment import split_sentences

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "segmentation"
LANGS = ("lt", "bg", "ka", "az")

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


def rebuild(sentences: list[str]) -> tuple[str, set[int]]:
    """Running text for one block and its gold boundaries (start offsets of sentences 2..n)."""
    text = ""
    gold: set[int] = set()
    for i, sentence in enumerate(sentences):
        if i:
            text += " " if TERMINAL_RE.search(sentences[i - 1]) else "\n"
            gold.add(len(text))
        text += sentence
    return text, gold


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


def score(blocks: list[list[str]], lang: str, splitter: Splitter, errors: list[str] | None = None) -> Score:
    result = Score()
    for sentences in blocks:
        text, gold = rebuild(sentences)
        predicted = boundaries(text, splitter(text, lang))
        result.tp += len(gold & predicted)
        result.fp += len(predicted - gold)
        result.fn += len(gold - predicted)
        if errors is not None:
            for at in sorted(predicted ^ gold):
                kind = "FP" if at in predicted else "FN"
                context = (text[max(0, at - 50) : at] + " ‖ " + text[at : at + 30]).replace("\n", "⏎")
                errors.append(f"{kind} {lang}: {context}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with xx.txt gold files")
    parser.add_argument("--lang", nargs="*", default=list(LANGS), help="languages to score")
    parser.add_argument("--errors", type=int, default=0, help="print up to N mistakes per language")
    args = parser.parse_args(argv)

    files = {lang: args.data / f"{lang}.txt" for lang in args.lang}
    missing = [str(p) for p in files.values() if not p.is_file()]
    if len(missing) == len(files):
        print(f"segmentation benchmark skipped: no gold data in {args.data} (pass --data DIR)")
        return 0
    print(f"{'lang':<5} {'blocks':>6} {'bounds':>6}  {'ours P/R/F1':<21}  {'reference P/R/F1':<21}")
    for lang, path in files.items():
        if not path.is_file():
            print(f"{lang:<5} missing {path}")
            continue
        blocks = read_blocks(path)
        errors: list[str] | None = [] if args.errors else None
        ours = score(blocks, lang, ours_split, errors)
        ref = score(blocks, lang, reference_split)
        n = ours.tp + ours.fn
        print(
            f"{lang:<5} {len(blocks):>6} {n:>6}  "
            f"{ours.precision:.3f} {ours.recall:.3f} {ours.f1:.3f}    "
            f"{ref.precision:.3f} {ref.recall:.3f} {ref.f1:.3f}"
        )
        for line in (errors or [])[: args.errors]:
            print("   ", line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
