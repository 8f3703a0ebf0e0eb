"""Story grouping scored against gold events: B-cubed and pairwise, per slice and per kind.

The slices in ../shared/eval/stories (ECB+ English news, see its SOURCES.md) are each read as
one night's input folder by the real pipeline (English passes through, summaries extractive, so
no weights are needed); the stories of the digest it writes are scored against the gold event
labels. Two baselines are scored in the same run on the same English text, so a drift in the
data or the scorer shows at once: every article its own story, and plain TF-IDF cosine with
average-link agglomerative clustering at one threshold, tuned on one slice (twin00, as in
SOURCES.md) and applied to all. The stories the pipeline got wrong are listed after the tables.

Run: python -m bench.stories [--data DIR] [--slices NAME ...] [--errors N] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipeline.config import Config, load_config
from pipeline.digest import DigestEntry
from pipeline.run import run_digest
from pipeline.state import State
from pipeline.stories import average_linkage
from pipeline.summarize import tfidf, words

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "eval" / "stories"
NOW = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)  # the digest's run date; grouping does not depend on it
TUNE_ON = "twin00"  # the one slice the baseline's threshold is tuned on (SOURCES.md)
GRID = [k / 100 for k in range(1, 61)]  # baseline similarity thresholds tried

Clusters = list[list[str]]  # source file names


@dataclass
class Score:
    precision: float
    recall: float
    f1: float
    pair_f1: float


def bcubed(predicted: Clusters, gold: dict[str, str]) -> Score:
    """B-cubed precision/recall over articles (averaged, then F1), and pairwise F1."""
    story_of = {f: k for k, members in enumerate(predicted) for f in members}
    files = sorted(gold)
    missing = [f for f in files if f not in story_of]
    for k, f in enumerate(missing):  # an article the pipeline lost counts as its own story
        story_of[f] = -1 - k
    pred_size = Counter(story_of[f] for f in files)
    gold_size = Counter(gold[f] for f in files)
    both = Counter((story_of[f], gold[f]) for f in files)
    p = sum(both[story_of[f], gold[f]] / pred_size[story_of[f]] for f in files) / len(files)
    r = sum(both[story_of[f], gold[f]] / gold_size[gold[f]] for f in files) / len(files)
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    pairs = lambda counts: sum(n * (n - 1) // 2 for n in counts.values())  # noqa: E731
    together, gold_pairs, pred_pairs = pairs(both), pairs(gold_size), pairs(pred_size)
    pair_f1 = 2 * together / (gold_pairs + pred_pairs) if gold_pairs + pred_pairs else 1.0
    return Score(p, r, f1, pair_f1)


def mean(scores: Sequence[Score]) -> Score:
    n = len(scores)
    return Score(*(sum(getattr(s, k) for s in scores) / n for k in ("precision", "recall", "f1", "pair_f1")))


# ---- baselines ------------------------------------------------------------------------


def singletons(entries: Sequence[DigestEntry]) -> Clusters:
    return [[e.source_file] for e in entries]


def text_of(e: DigestEntry) -> str:
    return " ".join([e.headline, *e.sentences])


def tfidf_similarity(entries: Sequence[DigestEntry]):
    """Plain TF-IDF cosine of the articles' words (stopwords dropped): nothing else."""
    m = tfidf([words(text_of(e)) for e in entries])
    return m @ m.T


def tfidf_clusters(entries: Sequence[DigestEntry], threshold: float, sim=None) -> Clusters:
    sim = tfidf_similarity(entries) if sim is None else sim
    return [[entries[i].source_file for i in c] for c in average_linkage(sim, threshold)]


def tune_threshold(entries: Sequence[DigestEntry], gold: dict[str, str]) -> float:
    """The baseline threshold with the best B-cubed F1 on one slice (ties: the lowest)."""
    sim = tfidf_similarity(entries)
    return max(GRID, key=lambda t: (round(bcubed(tfidf_clusters(entries, t, sim), gold).f1, 9), -t))


# ---- the pipeline ---------------------------------------------------------------------


def run_slice(config: Config, folder: Path, work: Path) -> tuple[list[DigestEntry], Clusters]:
    """The real pipeline over one slice: its entries (the English text) and its digest's stories."""
    from pipeline.digest import entry_from_json

    config = config.model_copy(
        update={
            "paths": config.paths.model_copy(
                update={"input": folder, "output": work, "models": config.models_dir}
            ),
            "summarize": config.summarize.model_copy(update={"method": "extractive"}),
        }
    )
    result = run_digest(config, now=NOW)
    if result.failed:
        print(f"  {folder.name}: {len(result.failed)} file(s) failed: {result.failed[0].reason}")
    data = json.loads(result.digest_path.with_suffix(".json").read_text(encoding="utf-8"))
    stories = [[a["source_file"] for a in s["articles"]] for s in data["stories"]]
    state = State(work / "state.db")
    try:
        run_date = NOW.strftime("%Y-%m-%d")
        records = state.for_run_date(run_date)
        entries = [entry_from_json(r.entry) for r in records if r.status == "done" and r.entry]
    finally:
        state.close()
    return sorted(entries, key=lambda e: e.source_file), stories


# ---- report ---------------------------------------------------------------------------


def mistakes(predicted: Clusters, gold: dict[str, str], headline: Callable[[str], str]) -> list[str]:
    """One line per gold event split over several stories, and per story mixing several events."""
    events: dict[str, list[int]] = defaultdict(list)
    story_of = {f: k for k, members in enumerate(predicted) for f in members}
    for f in sorted(gold):
        events[gold[f]].append(story_of.get(f, -1))
    lines = []
    for event, stories in sorted(events.items()):
        parts = Counter(stories)
        if len(parts) > 1:
            sizes = " + ".join(str(n) for _, n in parts.most_common())
            lone = [f for f in sorted(gold) if gold[f] == event and parts[story_of.get(f, -1)] == 1]
            extra = f"; alone: {headline(lone[0])!r}" if lone else ""
            lines.append(f"split  {event}: {sizes} articles in {len(parts)} stories{extra}")
    for members in predicted:
        kinds = Counter(gold[f] for f in members if f in gold)
        if len(kinds) > 1:
            mix = ", ".join(f"{ev} ×{n}" for ev, n in sorted(kinds.items()))
            lines.append(f"merged {mix}: {headline(members[0])!r}")
    return lines


def fmt(s: Score) -> str:
    return f"{s.precision:.3f} {s.recall:.3f} {s.f1:.3f} {s.pair_f1:.3f}"


def print_table(rows: Iterable[tuple[str, int, int, Score, Score, Score]]) -> None:
    head = "P     R     F1    pairF1"
    print(
        f"{'slice':<9} {'arts':>4} {'evts':>4}  {'newsbrief ' + head:<33}  "
        f"{'TF-IDF baseline ' + head:<33}  singletons F1"
    )
    for name, n, k, ours, base, single in rows:
        print(f"{name:<9} {n:>4} {k:>4}  {fmt(ours):<33}  {fmt(base):<33}  {single.f1:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with slices/ and gold/")
    parser.add_argument("--slices", nargs="*", help="slice names (default: all)")
    parser.add_argument("--config", type=Path, default=ROOT / "config.yaml")
    parser.add_argument("--errors", type=int, default=8, help="list up to N wrong stories per slice")
    parser.add_argument(
        "--work",
        type=Path,
        help="keep the pipeline's output here (a re-run then only regroups); default: a temp folder",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    slices_dir = args.data / "slices"
    if not slices_dir.is_dir():
        print(f"stories benchmark skipped: no slices in {args.data} (pass --data DIR)")
        return 0
    names = args.slices or sorted(p.name for p in slices_dir.iterdir() if p.is_dir())
    config = load_config(args.config)
    gold = {n: json.loads((args.data / "gold" / f"{n}.json").read_text(encoding="utf-8")) for n in names}

    with tempfile.TemporaryDirectory(prefix="bench-stories-") as tmp:
        work = args.work or Path(tmp)
        runs = {}
        for n in names:
            print(f"running the pipeline over {n} …", file=sys.stderr)
            runs[n] = run_slice(config, slices_dir / n, work / n)

    tune = TUNE_ON if TUNE_ON in runs else names[0]
    threshold = tune_threshold(runs[tune][0], gold[tune])
    rows, by_kind, wrong = [], defaultdict(list), {}
    for n in names:
        entries, stories = runs[n]
        ours = bcubed(stories, gold[n])
        base = bcubed(tfidf_clusters(entries, threshold), gold[n])
        single = bcubed(singletons(entries), gold[n])
        rows.append((n, len(gold[n]), len(set(gold[n].values())), ours, base, single))
        kind = n.rstrip("0123456789")
        by_kind[kind].append((ours, base, single))
        heads = {e.source_file: e.headline for e in entries}
        wrong[n] = mistakes(stories, gold[n], lambda f, heads=heads: heads.get(f, f)[:70])

    print(
        f"B-cubed precision / recall / F1 and pairwise F1; "
        f"baseline threshold {threshold:.2f} tuned on {tune}\n"
    )
    print_table(rows)
    print()
    print_table(
        (
            kind,
            sum(r[1] for r in rows if r[0].startswith(kind)),
            sum(r[2] for r in rows if r[0].startswith(kind)),
            *(mean([t[i] for t in triples]) for i in range(3)),
        )
        for kind, triples in sorted(by_kind.items())
    )
    if args.errors:
        print("\nstories got wrong (gold event: sizes of the stories it was split into / events merged):")
        for n in names:
            for line in wrong[n][: args.errors]:
                print(f"  {n:<9} {line}")
            if len(wrong[n]) > args.errors:
                print(f"  {n:<9} … {len(wrong[n]) - args.errors} more")
    return 0


if __name__ == "__main__":
    sys.exit(main())
