"""Language-identification benchmark: how often `pipeline.langid` names the right language.

Why: the detector routes every article to a translation model, so a wrong label is a wrong
translation. This scores the detector as the pipeline builds it (default options: every language)
and as a deployment would build it (`DetectOptions(languages=...)` with the 29 benchmark
languages, the "candidate set"), on three sets:

- `langid/sentences/<iso>.txt`: one sentence per line (the file name is the gold label);
- `langid/pairs/<iso>.txt`: two words per line, the hard case for short titles and captions;
- `segmentation/<iso>.txt`: Universal Dependencies gold sentences (ka az lt bg), an independent
  check, since lingua was trained and tuned on text like the first two sets.

Out of domain, through the command line as a user runs it (`ud-dev/langid/<iso>.txt`: Universal
Dependencies sentences of 19 languages, news, wiki, legal, fiction and web text nothing here was
tuned on): each sentence is written to a file and `newsbrief detect --json` reads them all, so
decoding, ingest and detection are scored together. Then the cost of `newsbrief detect` on one file:
wall-clock start-up and peak memory of the process.

Run `python -m bench.langid` (or `make bench-langid`). The data lives in ../shared/eval next to
the repository; `--data DIR` points elsewhere. Without data it says so and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "eval"

# The 29 languages of the langid set (see langid/SOURCES.md), the deployment candidate set.
BENCH_LANGUAGES = (
    "ka az lt bg ru uk mk sr be kk tr lv et fi pl cs sk hy en de fr es it pt ar fa zh ja ko".split()
)

# Reference accuracies (%) from langid/SOURCES.md: sentences, pairs, UD sentences.
REFERENCE: dict[str, tuple[float, float, float]] = {
    "langdetect 1.0.9": (78.0, 63.9, 54.8),
    "lingua 2.1.1, all 75 languages": (99.1, 93.7, 96.0),
    "lingua 2.1.1, the 29 languages": (99.2, 95.2, 96.7),
}
# Targets (%) from the issue.
TARGETS = {"sentences": 99.5, "pairs": 96.0, "ud": 98.0}
TARGET_UD_AZ = 95.0
TARGET_PER_LANGUAGE_SENTENCES = 97.0

SET_NAMES = ("sentences", "pairs", "ud")

# Targets (%) for the out-of-domain UD sentences through the CLI, and the cost of one `detect`.
TARGET_UD_DEV = 99.0
TARGET_UD_DEV_PER_LANGUAGE = 97.0
TARGET_UD_DEV_SR = 90.0
TARGET_START_SECONDS = 3.0
TARGET_PEAK_MB = 400.0


@dataclass
class Sample:
    gold: str
    text: str


@dataclass
class SetResult:
    name: str
    correct: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)
    seconds: float = 0.0
    scored: list[tuple[float, bool]] = field(default_factory=list)  # (confidence, correct) per text

    def accuracy(self, lang: str | None = None) -> float:
        if lang is None:
            n = sum(self.total.values())
            return 100.0 * sum(self.correct.values()) / n if n else float("nan")
        return 100.0 * self.correct[lang] / self.total[lang] if self.total[lang] else float("nan")

    @property
    def size(self) -> int:
        return sum(self.total.values())

    def calibration_error(self, bins: int = 10) -> float:
        """Expected calibration error (%): how far confidence is from accuracy, weighted by bin size."""
        buckets: dict[int, list[tuple[float, bool]]] = {}
        for conf, ok in self.scored:
            buckets.setdefault(min(bins - 1, int(conf * bins)), []).append((conf, ok))
        gap = sum(abs(sum(c for c, _ in b) - sum(ok for _, ok in b)) for b in buckets.values())
        return 100.0 * gap / max(1, len(self.scored))

    def sure(self, threshold: float) -> tuple[float, float]:
        """Share of texts guessed at or above `threshold`, and accuracy on them (%)."""
        kept = [ok for conf, ok in self.scored if conf >= threshold]
        share = 100.0 * len(kept) / max(1, len(self.scored))
        return share, 100.0 * sum(kept) / max(1, len(kept))


def resolve_data(data: Path) -> tuple[Path | None, Path | None]:
    """The langid and segmentation folders under `data`, or None where absent.

    `data` may be the eval folder (holding langid/ and segmentation/) or either folder itself.
    """
    langid = seg = None
    if (data / "sentences").is_dir():
        langid = data
    elif (data / "langid" / "sentences").is_dir():
        langid = data / "langid"
    if (data / "segmentation").is_dir():
        seg = data / "segmentation"
    elif data.name == "segmentation" and data.is_dir():
        seg = data
    return langid, seg


def _read_lines(path: Path) -> list[str]:
    # Blank lines separate blocks in the UD files; they are not samples.
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_sets(langid: Path | None, seg: Path | None) -> dict[str, list[Sample]]:
    sets: dict[str, list[Sample]] = {}
    if langid is not None:
        for name in ("sentences", "pairs"):
            folder = langid / name
            if folder.is_dir():
                sets[name] = [
                    Sample(path.stem, line)
                    for path in sorted(folder.glob("*.txt"))
                    for line in _read_lines(path)
                ]
    if seg is not None:
        ud = [
            Sample(path.stem, line)
            for path in sorted(seg.glob("*.txt"))
            if path.stem != "SOURCES"
            for line in _read_lines(path)
        ]
        if ud:
            sets["ud"] = ud
    return sets


def score(detector, name: str, samples: Sequence[Sample]) -> SetResult:
    result = SetResult(name)
    start = time.perf_counter()
    guesses = detector.guess_many([s.text for s in samples])
    result.seconds = time.perf_counter() - start
    for sample, guess in zip(samples, guesses, strict=True):
        result.total[sample.gold] += 1
        result.scored.append((guess.confidence, guess.lang == sample.gold))
        if guess.lang == sample.gold:
            result.correct[sample.gold] += 1
        else:
            result.confusions[(sample.gold, guess.lang)] += 1
    return result


def print_config(title: str, results: dict[str, SetResult], load_seconds: float) -> None:
    print(f"\n## {title}\n")
    names = [n for n in SET_NAMES if n in results]
    langs = sorted({lang for r in results.values() for lang in r.total})
    print("| lang | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for lang in langs:
        cells = [f"{results[n].accuracy(lang):5.1f}" if results[n].total[lang] else "" for n in names]
        print(f"| {lang} | " + " | ".join(cells) + " |")
    print("| **overall** | " + " | ".join(f"**{results[n].accuracy():.2f}**" for n in names) + " |")
    if "sentences" in results:
        r = results["sentences"]
        worst = min(r.total, key=r.accuracy)
        print(f"\nlowest language on sentences: {worst} {r.accuracy(worst):.1f} %")
    for n in names:
        top = results[n].confusions.most_common(8)
        if top:
            shown = ", ".join(f"{g}→{p} {c}" for (g, p), c in top)
            print(f"top confusions ({n}, gold→guess count): {shown}")
    for n in names:
        share, accuracy = results[n].sure(0.5)
        print(
            f"confidence ({n}): calibration error {results[n].calibration_error():.1f} %; "
            f"{share:.1f} % of texts at confidence >= 0.5, {accuracy:.2f} % of those right"
        )
    seconds = sum(r.seconds for r in results.values())
    texts = sum(r.size for r in results.values())
    print(
        f"time: {seconds:.1f} s for {texts} texts ({1000 * seconds / max(texts, 1):.2f} ms/text), "
        f"plus {load_seconds:.1f} s for the first call (model loading)"
    )


def check_targets(title: str, results: dict[str, SetResult]) -> list[str]:
    """Targets from the issue that this configuration misses."""
    misses = []
    for name, target in TARGETS.items():
        if name in results and results[name].accuracy() < target:
            misses.append(f"{title}: {name} {results[name].accuracy():.2f} < {target}")
    if "ud" in results and results["ud"].total["az"] and results["ud"].accuracy("az") < TARGET_UD_AZ:
        misses.append(f"{title}: UD az {results['ud'].accuracy('az'):.1f} < {TARGET_UD_AZ}")
    if "sentences" in results:
        r = results["sentences"]
        for lang in sorted(r.total):
            if r.accuracy(lang) < TARGET_PER_LANGUAGE_SENTENCES:
                misses.append(
                    f"{title}: sentences {lang} {r.accuracy(lang):.1f} < {TARGET_PER_LANGUAGE_SENTENCES}"
                )
    return misses


def run_config(title: str, options, sets: dict[str, list[Sample]]) -> dict[str, SetResult]:
    from pipeline.langid import LanguageDetector

    detector = LanguageDetector(options)
    start = time.perf_counter()
    detector.guess("Warm-up: the first call loads the language models.")
    load_seconds = time.perf_counter() - start
    results = {name: score(detector, name, samples) for name, samples in sets.items()}
    print_config(title, results, load_seconds)
    return results


def load_ud_dev(folder: Path) -> list[Sample]:
    """`ud-dev/langid/<iso>.txt`: one sentence per line, the file name is the gold label."""
    return [
        Sample(path.stem, line)
        for path in sorted(folder.glob("*.txt"))
        if not path.name.endswith(".ids.txt")
        for line in _read_lines(path)
    ]


def _cli(args: list[str], cwd: Path) -> str:
    """Runs `python -m pipeline ARGS` in `cwd`; its stdout."""
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", *args], cwd=cwd, capture_output=True, check=False
    )
    if proc.returncode not in (0, 3):  # 3: some files failed, which their rows say
        raise RuntimeError(f"newsbrief {args[0]} failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
    return proc.stdout.decode()


# Runs the command in a child of a small wrapper process and prints the child's peak RSS (KB) and
# CPU seconds: ru_maxrss is kept across fork and exec, so a child forked straight from this (large)
# benchmark process would report the benchmark's own memory.
_MEASURE = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
    "stderr=subprocess.DEVNULL); u = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "print(u.ru_maxrss, u.ru_utime + u.ru_stime)"
)


def _cli_cost(files: list[Path], cwd: Path, config: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak resident memory (MB) of one `newsbrief detect FILE...`."""
    command = [sys.executable, "-m", "pipeline", "detect", "--config", str(config), *map(str, files)]
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.split()
    return time.perf_counter() - start, float(out[1]), int(out[0]) / 1024


def score_cli(samples: Sequence[Sample], cwd: Path, config: Path) -> SetResult:
    """Every sample as a file on disk, all read by one `newsbrief detect --json` process."""
    result = SetResult("ud-dev (CLI)")
    with tempfile.TemporaryDirectory(prefix="bench-langid-") as tmp:
        paths = []
        for i, sample in enumerate(samples):
            path = Path(tmp) / f"{sample.gold}-{i:05d}.txt"
            path.write_text(sample.text + "\n", encoding="utf-8")
            paths.append(path)
        start = time.perf_counter()
        out = _cli(["detect", "--json", "--config", str(config), *map(str, paths)], cwd)
        result.seconds = time.perf_counter() - start
    rows = {row["path"]: row for row in map(json.loads, out.splitlines())}
    for sample, path in zip(samples, paths, strict=True):
        row = rows.get(str(path), {})
        lang = row.get("lang") or "error"
        result.total[sample.gold] += 1
        result.scored.append((row.get("confidence") or 0.0, lang == sample.gold))
        if lang == sample.gold:
            result.correct[sample.gold] += 1
        else:
            result.confusions[(sample.gold, lang)] += 1
    return result


def run_cli(data: Path, cwd: Path, config: Path) -> list[str]:
    """The UD development sentences through the CLI, and the cost of one `newsbrief detect`."""
    misses: list[str] = []
    folder = data / "ud-dev" / "langid" if (data / "ud-dev").is_dir() else data / "langid"
    samples = load_ud_dev(folder) if folder.is_dir() and any(folder.glob("*.ids.txt")) else []
    if samples:
        r = score_cli(samples, cwd, config)
        print(f"\n## Out of domain: UD sentences through `newsbrief detect --json` ({r.size} files)\n")
        print("| lang | n | accuracy % | top confusions |")
        print("|---|---:|---:|---|")
        for lang in sorted(r.total):
            confusions = ", ".join(f"{p} {c}" for (g, p), c in r.confusions.most_common() if g == lang)
            print(f"| {lang} | {r.total[lang]} | {r.accuracy(lang):.1f} | {confusions} |")
        print(f"| **overall** | {r.size} | **{r.accuracy():.2f}** | |")
        rest = [lang for lang in r.total if lang != "sr"]
        without_sr = 100.0 * sum(r.correct[x] for x in rest) / max(1, sum(r.total[x] for x in rest))
        print(f"\nwithout sr: {without_sr:.2f} %; {r.seconds:.1f} s for {r.size} files in one process")
        # A line that is only web or e-mail addresses has no language to find: `und` is the answer
        # newsbrief gives on purpose. Shown apart, not dropped from the scores above.
        from pipeline.langid.text import read_text

        bare = Counter(s.gold for s in samples if not read_text(s.text).words)
        if bare:
            shown = ", ".join(f"{lang} {n}" for lang, n in sorted(bare.items()))
            print(f"lines with no word outside web or e-mail addresses (undetermined by design): {shown}")
        if r.accuracy() < TARGET_UD_DEV:
            misses.append(f"ud-dev overall {r.accuracy():.2f} < {TARGET_UD_DEV}")
        for lang in sorted(r.total):
            target = TARGET_UD_DEV_SR if lang == "sr" else TARGET_UD_DEV_PER_LANGUAGE
            if r.accuracy(lang) < target:
                misses.append(f"ud-dev {lang} {r.accuracy(lang):.1f} < {target}")
    # The cost a user pays for one file: start-up (imports, model loading) and peak memory.
    print("\n## Cost of `newsbrief detect` on one file (a fresh process each)\n")
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} CPUs: wall time grows with it, CPU time much less\n")
    print("| file | script | wall s | CPU s | peak RSS MB |")
    print("|---|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="bench-langid-cost-") as tmp:
        for name, script, text in COST_TEXTS:
            path = Path(tmp) / f"{name}.txt"
            path.write_text(text + "\n", encoding="utf-8")
            seconds, cpu, peak = _cli_cost([path], cwd, config)
            print(f"| {name} | {script} | {seconds:.2f} | {cpu:.2f} | {peak:.0f} |")
            if seconds > TARGET_START_SECONDS:
                misses.append(f"detect start-up on {name} {seconds:.2f} s > {TARGET_START_SECONDS}")
            if peak > TARGET_PEAK_MB:
                misses.append(f"detect peak memory on {name} {peak:.0f} MB > {TARGET_PEAK_MB}")
    return misses


# One short news paragraph per script family, written for the benchmark: the cost of `detect`
# depends on which language models the text's script calls for.
COST_TEXTS = (
    (
        "lt-latin",
        "Latin",
        "Vyriausybė antradienį pritarė naujam geležinkelio linijos tarp Kauno ir Vilniaus planui, "
        "o darbai turėtų prasidėti kitų metų pavasarį.",
    ),
    (
        "bg-cyrillic",
        "Cyrillic",
        "Правителството одобри във вторник новия план за железопътната линия, а работата "
        "трябва да започне през пролетта на следващата година.",
    ),
    ("ka-georgian", "Georgian", "მთავრობამ სამშაბათს რკინიგზის ახალი ხაზის გეგმა დაამტკიცა."),
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.langid", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help="the eval folder holding langid/ and segmentation/ (default: ../shared/eval)",
    )
    parser.add_argument(
        "--config",
        choices=("all", "candidates", "both"),
        default="both",
        help="default options (all languages), the 29-language candidate set, or both",
    )
    parser.add_argument(
        "--cli-root",
        type=Path,
        default=REPO_ROOT,
        help="run `newsbrief` from this checkout for the out-of-domain set (to compare two versions)",
    )
    parser.add_argument("--cli-only", action="store_true", help="only the CLI set and the cost of detect")
    parser.add_argument("--cost-only", action="store_true", help="only the cost of `newsbrief detect`")
    args = parser.parse_args(argv)
    cli_config = args.cli_root / "config.yaml"

    if args.cli_only or args.cost_only:
        misses = run_cli(args.data if args.cli_only else Path("/nonexistent"), args.cli_root, cli_config)
        print("targets missed:\n  " + "\n  ".join(misses) if misses else "all targets met")
        return 0

    langid, seg = resolve_data(args.data)
    sets = load_sets(langid, seg)
    if not sets:
        print(
            f"bench.langid: no benchmark data under {args.data} "
            "(expected langid/sentences/<iso>.txt or segmentation/<iso>.txt); nothing to score."
        )
        return 0

    from pipeline.langid import DetectOptions

    sizes = ", ".join(f"{n} {len(s)}" for n, s in sets.items())
    print(f"# Language identification benchmark ({sizes} texts; data: {args.data})")
    configs = []
    if args.config in ("all", "both"):
        configs.append(("default options (all languages)", DetectOptions()))
    if args.config in ("candidates", "both"):
        configs.append(
            ("deployment candidate set (the 29 languages)", DetectOptions(languages=list(BENCH_LANGUAGES)))
        )

    wall = time.perf_counter()
    summary: list[tuple[str, dict[str, SetResult]]] = []
    for title, options in configs:
        summary.append((title, run_config(title, options, sets)))
    wall = time.perf_counter() - wall

    names = [n for n in SET_NAMES if n in sets]
    print("\n## Summary (accuracy %)\n")
    print("| detector | " + " | ".join(names) + " | UD az | min lang (sentences) |")
    print("|---|" + "---:|" * (len(names) + 2))
    for title, results in summary:
        cells = [f"{results[n].accuracy():.2f}" for n in names]
        ud_az = f"{results['ud'].accuracy('az'):.1f}" if "ud" in results and results["ud"].total["az"] else ""
        if "sentences" in results:
            r = results["sentences"]
            worst = min(r.total, key=r.accuracy)
            min_lang = f"{worst} {r.accuracy(worst):.1f}"
        else:
            min_lang = ""
        print(f"| newsbrief, {title} | " + " | ".join(cells) + f" | {ud_az} | {min_lang} |")
    for title, figures in REFERENCE.items():
        cells = [f"{figures[SET_NAMES.index(n)]:.1f}" for n in names]
        ud_az = "82.9" if title.startswith("lingua 2.1.1, all") else ""
        print(f"| reference: {title} | " + " | ".join(cells) + f" | {ud_az} | |")
    print("| target | " + " | ".join(f"{TARGETS[n]:.1f}" for n in names) + f" | {TARGET_UD_AZ:.1f} | 97.0 |")

    misses = [m for title, results in summary for m in check_targets(title, results)]
    misses += run_cli(args.data, args.cli_root, cli_config)
    print(f"\ntotal time: {wall:.1f} s")
    if misses:
        print("targets missed:\n  " + "\n  ".join(misses))
    else:
        print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
