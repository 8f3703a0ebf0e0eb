"""Precision and recall of figure extraction, and of grouping figures into quantities.

The gold set, `bench/data/figures_gold.tsv`, is English written for this benchmark before the
reader was tuned (and not edited since to fit it): 103 sentences in 20 made-up stories of many
kinds (disasters, economy, elections, sport, conflict, health, courts, business…). One row per
figure: story, sentence id, sentence, quantity (the canonical thing counted, as an editor would
name it), value (a number, or `low-high` for a range) and qualifier (about, more than, at least,
up to, nearly, less than, or the vague `dozens` / `hundreds` / `thousands` / `tens of thousands`).
A sentence with no figure has one row with the last three columns empty.

- extraction: a figure the reader finds matches a gold figure of the same sentence with the same
  value (range: both ends); precision over the reader's figures, recall over gold figures;
  "strict" also requires the same qualifier.
- grouping: pairs of figures of one story. Recall: of the gold pairs with the same quantity, the
  share the reader finds both and gives one key (a missed figure loses its pairs); precision: of
  the pairs of found figures with one key, the share with the same gold quantity. This is what puts 1,200,
  3,000 and 3,500 people evacuated on one row of the digest.

A second set, `bench/data/figures_heldout.tsv` (40 sentences, 9 stories), was written after the
first rules and scored once, to see how far the rules carry beyond the sentences that guided them.

Run: python -m bench.figures [--gold FILE ...] [--errors]
"""

from __future__ import annotations

import argparse
import csv
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from pipeline.figures import FigureReader

GOLD = Path(__file__).resolve().parent / "data" / "figures_gold.tsv"
# Written after the first rules and scored once; its one bug report ("Deaths: 41") was then fixed.
MEASURES = (
    ("extraction", "extraction (value)"),
    ("strict", "extraction (value + qualifier)"),
    ("grouping", "grouping (pairs)"),
)
HELD_OUT = Path(__file__).resolve().parent / "data" / "figures_heldout.tsv"


@dataclass
class GoldFigure:
    quantity: str
    low: float
    high: float | None
    qualifier: str


@dataclass
class Sentence:
    story: str
    sid: str
    text: str
    gold: list[GoldFigure] = field(default_factory=list)


def read_gold(path: Path = GOLD) -> list[Sentence]:
    sentences: dict[str, Sentence] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            s = sentences.setdefault(row["sid"], Sentence(row["story"], row["sid"], row["sentence"]))
            if row["quantity"]:
                low, _, high = row["value"].partition("-")
                s.gold.append(GoldFigure(row["quantity"], float(low), float(high) if high else None,
                                         row["qualifier"] or ""))  # fmt: skip
    return list(sentences.values())


def _same(a: float, b: float | None) -> bool:
    return b is not None and abs(a - b) <= 1e-9 * max(1.0, abs(a))


def _ratio(a: int, b: int) -> float:
    return a / b if b else 1.0


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def score(sentences: list[Sentence], reader: FigureReader, errors: bool = False) -> dict[str, float]:
    found = gold_n = matched = strict = 0
    by_story: dict[str, list[tuple[str, str, str]]] = defaultdict(list)  # (gold quantity, key, text)
    gold_by_story: dict[str, list[str]] = defaultdict(list)
    for s in sentences:
        figures = reader.read(s.text)
        found += len(figures)
        gold_n += len(s.gold)
        gold_by_story[s.story].extend(g.quantity for g in s.gold)
        free = list(s.gold)
        for f in figures:
            upper = getattr(f, "upper", None)  # a range's upper end (readers before ranges: none)
            hit = next(
                (g for g in free if _same(f.value, g.low) and (g.high is None) == (upper is None)
                 and (g.high is None or _same(g.high, upper))),
                None,
            )  # fmt: skip
            if hit is None:
                if errors:
                    print(f"  extra    [{s.sid}] {f.display} {f.quantity!r}: {s.text}")
                continue
            free.remove(hit)
            matched += 1
            strict += f.qualifier == hit.qualifier
            if errors and f.qualifier != hit.qualifier:
                print(f"  qualifier [{s.sid}] {f.qualifier!r} ≠ {hit.qualifier!r}: {s.text}")
            by_story[s.story].append((hit.quantity, f.key, f"[{s.sid}] {f.display} {f.quantity}"))
        for g in free if errors else []:
            print(f"  missed   [{s.sid}] {g.low:g} {g.quantity!r}: {s.text}")
    tp = fp = fn = 0
    for story, quantities in gold_by_story.items():  # same-quantity pairs a missed figure cannot join
        counts = defaultdict(int)
        for q in quantities:
            counts[q] += 1
        for q, n in counts.items():
            hits = sum(1 for qa, _, _ in by_story.get(story, []) if qa == q)
            fn += n * (n - 1) // 2 - hits * (hits - 1) // 2
    for story, items in by_story.items():
        for (qa, ka, ta), (qb, kb, tb) in combinations(items, 2):
            same_gold, same_key = qa == qb, ka == kb
            tp += same_gold and same_key
            fp += same_key and not same_gold
            fn += same_gold and not same_key
            if errors and same_gold != same_key:
                what = "split  " if same_gold else "merged "
                print(f"  {what}  {story}: {ta!r} / {tb!r}")
    p, r = _ratio(matched, found), _ratio(matched, gold_n)
    sp, sr = _ratio(strict, found), _ratio(strict, gold_n)
    gp, gr = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    return {
        "sentences": len(sentences),
        "gold figures": gold_n,
        "found": found,
        "extraction P": p,
        "extraction R": r,
        "extraction F1": _f1(p, r),
        "strict P": sp,
        "strict R": sr,
        "strict F1": _f1(sp, sr),
        "grouping pairs": tp + fn,
        "grouping P": gp,
        "grouping R": gr,
        "grouping F1": _f1(gp, gr),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gold", type=Path, nargs="+", default=[GOLD, HELD_OUT])
    ap.add_argument("--errors", action="store_true", help="list every miss, extra, split and merge")
    args = ap.parse_args(argv)
    reader = FigureReader()
    results = {path.stem: score(read_gold(path), reader, args.errors) for path in args.gold}
    for name, r in results.items():
        print(f"figures, {name}: {r['sentences']} sentences, {r['gold figures']} gold figures, "
              f"{r['found']} found, {r['grouping pairs']} same-quantity pairs")  # fmt: skip
    print("| set | measure | precision | recall | F1 |")
    print("|---|---|---:|---:|---:|")
    for set_name, result in results.items():
        for name, label in MEASURES:
            p, r, f1 = (result[f"{name} {m}"] for m in ("P", "R", "F1"))
            print(f"| {set_name} | {label} | {p:.3f} | {r:.3f} | {f1:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
