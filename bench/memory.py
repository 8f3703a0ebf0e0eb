"""Peak memory of a digest run against the number of articles (tiny models, synthetic inbox).

`python -m bench.memory [N …]` generates an inbox of N short articles (mostly English, every
tenth Lithuanian, from the test corpus), runs `newsbrief digest` with config.tiny.yaml's models on
it in a fresh process, and prints wall time and peak RSS. The models run on CTranslate2, as
config.yaml runs the real ones (`--backend transformers` for the checkpoints as saved). Memory
must not grow with N: the run keeps one group of articles in memory at a time (the digest keeps
one short entry per article).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "fixtures" / "corpus"


def make_inbox(folder: Path, n: int, seed: int = 1) -> None:
    """n short dated articles: 4 sentences each, every tenth in Lithuanian."""
    rnd = random.Random(seed)
    english = [s for s in (CORPUS / "en.txt").read_text(encoding="utf-8").splitlines() if len(s) > 40]
    lithuanian = [s for s in (CORPUS / "lt.txt").read_text(encoding="utf-8").splitlines() if len(s) > 40]
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        lines = rnd.sample(lithuanian if i % 10 == 0 else english, 4)
        day = f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}"
        (folder / f"article-{i:05d}.txt").write_text(
            f"date {day}\n" + "\n".join(lines) + "\n", encoding="utf-8"
        )


def tiny_config(workdir: Path, backend: str = "ctranslate2") -> Path:
    """config.tiny.yaml for this inbox, with every model on `backend` (converted if need be)."""
    data = yaml.safe_load((ROOT / "config.tiny.yaml").read_text(encoding="utf-8"))
    data["paths"] = {
        "input": str(workdir / "inbox"),
        "output": str(workdir / "out"),
        "models": str(ROOT / "models"),
    }
    for spec in data["models"].values():
        spec["path"] = str(ROOT / spec["path"])
        spec["backend"] = backend
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    if backend == "ctranslate2":  # once: later runs find the copies up to date in models/
        convert = [sys.executable, "-m", "pipeline", "models", "convert", "--config", str(path)]
        subprocess.run(convert, cwd=ROOT, capture_output=True, check=True)
    return path


RUNNER = """
import json, resource, sys
from pipeline import run
from pipeline.cli import main

def rss_mb():  # resident memory now (ru_maxrss only gives the peak)
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20

samples = {}
done = [0]
summarize = run.Pipeline.summarize_group  # runs once per group of articles, after their translation
def sampled(self, articles):
    out = summarize(self, articles)
    done[0] += len(articles)
    samples[done[0]] = rss_mb()  # keyed by articles done so far
    return out
run.Pipeline.summarize_group = sampled
rc = main(["digest", "--quiet", "--config", sys.argv[1]])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"rc": rc, "peak_rss_mb": peak, "samples": samples, "torch": "torch" in sys.modules}))
"""


def measure(n: int, sample_at: int = 100, backend: str = "ctranslate2") -> dict:
    """One digest over n synthetic articles in a fresh process: time, peak RSS, and the resident
    memory after article `sample_at` and after the last one (flat means no growth)."""
    with tempfile.TemporaryDirectory(prefix="newsbrief-memory-") as tmp:
        workdir = Path(tmp)
        make_inbox(workdir / "inbox", n)
        config = tiny_config(workdir, backend)
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-c", RUNNER, str(config)], cwd=ROOT, capture_output=True, text=True, check=False
        )
        seconds = time.monotonic() - started
        if proc.returncode != 0:
            raise RuntimeError(f"digest of {n} articles failed:\n{proc.stderr[-2000:]}")
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        briefs = len(list((workdir / "out" / "briefs").glob("*.md")))
    samples = {int(k): v for k, v in result["samples"].items()}
    # Sampled after each group of articles: the first sample at or past `sample_at`.
    at = min((k for k in samples if k >= min(sample_at, n)), default=n)
    return {
        "articles": n,
        "briefs": briefs,
        "rc": result["rc"],
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(result["peak_rss_mb"], 1),
        "sampled_at": at,
        "rss_at_sample_mb": round(samples.get(at, 0.0), 1),
        "rss_at_end_mb": round(samples.get(n, 0.0), 1),
        "torch_imported": result["torch"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sizes", nargs="*", type=int, default=[1000])
    parser.add_argument("--backend", choices=["ctranslate2", "transformers"], default="ctranslate2")
    args = parser.parse_args(argv)
    from tests.fixtures.tiny_models import build_all

    build_all(ROOT / "models" / "tiny")
    heads = ("articles", "briefs", "seconds", "s/article", "RSS@~100 MB", "RSS@end MB", "peak MB", "torch")
    print(" ".join(f"{h:>{w}}" for h, w in zip(heads, (8, 7, 8, 10, 11, 11, 8, 6), strict=True)))
    for n in args.sizes:
        r = measure(n, backend=args.backend)
        print(
            f"{n:>8} {r['briefs']:>7} {r['seconds']:>8} {r['seconds'] / n:>10.3f} "
            f"{r['rss_at_sample_mb']:>11} {r['rss_at_end_mb']:>11} {r['peak_rss_mb']:>8} "
            f"{'yes' if r['torch_imported'] else 'no':>6}"
        )
    print(f"tiny models on {args.backend}; resident memory sampled after each group of articles")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
