"""Headlines made without a title line, scored against the real titles of ECB+ articles.

Every article of `../shared/eval/stories/slices/*` whose first line after the date is a title
(the ingest rule decides, as in a real run) is read with that title removed, segmented and
summarized extractively (no weights needed), and its headline made as the pipeline makes it
for an untitled article. ROUGE-1 F against the real title, next to the old rule (the first 14
words of the summary's first sentence, cut with "…"), per kind of slice (`single`, `twin`; a
`single` slice reuses `twin` articles, so the kinds overlap) and over the distinct articles.

ROUGE-1 is computed as rouge-score does it without stemming (lower case, anything but letters
and digits is a space, clipped unigram overlap, F1 of precision and recall): a few lines, not a
dependency. Also reported: mean words, and how many headlines end cut ("…") or mid-phrase (on a
function word).

Run: python -m bench.headlines [--data DIR] [--show N]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

from pipeline.headline import HeadlineOptions, make_headline
from pipeline.ingest import IngestOptions, read_article
from pipeline.segment import split_sentences
from pipeline.summarize import STOPWORDS, SummarizeOptions, rank_sentences

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "stories"


def rouge1_f(candidate: str, reference: str) -> float:
    def tokens(text: str) -> Counter[str]:
        return Counter(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())

    c, r = tokens(candidate), tokens(reference)
    overlap = sum((c & r).values())
    if not overlap:
        return 0.0
    p, rec = overlap / sum(c.values()), overlap / sum(r.values())
    return 2 * p * rec / (p + rec)


def first_14_words(sentences: list[str], summary: str) -> str:
    """The rule this replaces: the summary's first sentence, cut after 14 words with "…"."""
    first = re.split(r"(?<=[.!?])\s+", summary.strip(), maxsplit=1)[0] if summary.strip() else ""
    words = first.rstrip(".!?").split()
    if len(words) > 14:
        return " ".join(words[:14]).rstrip(",;:") + "…"
    return " ".join(words) or "Untitled article"


def ours(sentences: list[str], summary: str) -> str:
    return make_headline(None, sentences, summary, HeadlineOptions())


METHODS: dict[str, Callable[[list[str], str], str]] = {"first 14 words": first_14_words, "newsbrief": ours}


def articles(data: Path) -> list[tuple[str, str, str, list[str], str]]:
    """(kind, slice, title, sentences, extractive summary) of every titled article."""
    out = []
    options, n = IngestOptions(), SummarizeOptions().summary_sentences
    for folder in sorted((data / "slices").iterdir()):
        kind = re.sub(r"\d+$", "", folder.name)
        for path in sorted(folder.glob("*.txt")):
            article = read_article(path, folder, options)
            if not article.title:
                continue
            sentences = [s for p in article.paragraphs for s in split_sentences(p, "en")]
            out.append((kind, folder.name, article.title, sentences, " ".join(rank_sentences(sentences, n))))
    return out


def cut_mid_phrase(headline: str) -> bool:
    last = re.findall(r"[\w’']+", headline.lower())[-1:] or [""]
    return headline.endswith("…") or last[0] in STOPWORDS


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--show", type=int, default=0, help="print N examples (title / old / new)")
    args = ap.parse_args(argv)
    if not (args.data / "slices").is_dir():
        print(f"headlines: no data at {args.data} (the ECB+ slices); nothing to score", file=sys.stderr)
        return 0
    items = articles(args.data)
    scores: dict[tuple[str, str], list[float]] = defaultdict(list)
    lengths: dict[str, list[int]] = defaultdict(list)
    cut: Counter[str] = Counter()
    seen: set[str] = set()
    for k, (kind, _, title, sentences, summary) in enumerate(items):
        distinct = title + summary not in seen
        seen.add(title + summary)
        made = {name: fn(sentences, summary) for name, fn in METHODS.items()}
        for name, headline in made.items():
            f = rouge1_f(headline, title)
            scores[(name, kind)].append(f)
            if distinct:
                scores[(name, "all")].append(f)
                lengths[name].append(len(headline.split()))
                cut[name] += cut_mid_phrase(headline)
        if k < args.show:
            print(f"  title: {title}\n  old:   {made['first 14 words']}\n  new:   {made['newsbrief']}\n")
    kinds = sorted({kind for kind, *_ in items})
    n = {kind: len(scores[("newsbrief", kind)]) for kind in [*kinds, "all"]}
    slices = len({name for _, name, *_ in items})
    per_kind = ", ".join(f"{k}: {n[k]}" for k in kinds)
    print(f"headlines: {len(items)} titled articles in {slices} slices ({per_kind}), {n['all']} distinct")
    print(
        "| method | "
        + " | ".join(f"{k} ROUGE-1 F" for k in kinds)
        + " | all ROUGE-1 F | mean words | cut or ends mid-phrase |"
    )
    print("|---|" + "---:|" * (len(kinds) + 3))
    for name in METHODS:
        cells = [sum(scores[(name, k)]) / len(scores[(name, k)]) for k in [*kinds, "all"]]
        words = sum(lengths[name]) / len(lengths[name])
        print(f"| {name} | " + " | ".join(f"{c:.3f}" for c in cells) + f" | {words:.1f} | {cut[name]} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
