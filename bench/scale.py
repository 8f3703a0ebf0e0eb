"""The same nightly digest on the local executor and on Ray, and what a bigger night needs.

`python -m bench.scale [N]` (`make bench-scale`) builds the synthetic inbox of `make bench-memory`
(N short articles, default 1,000), runs `newsbrief digest` on it with the tiny models on
CTranslate2 once with `--executor local` and once with `--executor ray` (a local Ray cluster
sized to this machine, started by the run), each in a fresh process, and prints wall time,
articles/s and the driver's peak memory, Ray's overhead per article and where its time goes
(joining the cluster, until the first brief, the rest), and checks that both wrote the same briefs.

Then, on paper: how many nodes a night of `--night` articles (5,000) needs to finish within
`--hours` (2) on CPU and on GPU, from the per-article cost of the real-size models (docs/performance.md:
Performance: `make bench`) and the Ray overhead measured here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.memory import ROOT, make_inbox, tiny_config

RUNNER = """
import json, resource, sys, time
from pipeline import ray_executor, run
from pipeline.cli import main

marks, t0 = {}, time.monotonic()
connect = ray_executor.connect
def timed_connect(*args, **kwargs):
    started = time.monotonic()
    try:
        return connect(*args, **kwargs)
    finally:
        marks["connect_s"] = time.monotonic() - started
ray_executor.connect = timed_connect
write = run._write_brief
def timed_write(*args, **kwargs):
    marks.setdefault("first_brief_s", time.monotonic() - t0)
    out = write(*args, **kwargs)
    marks["last_brief_s"] = time.monotonic() - t0
    return out
run._write_brief = timed_write
rc = main(["digest", "--quiet", "--config", sys.argv[1], "--executor", sys.argv[2]])
marks["wall_s"] = time.monotonic() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"rc": rc, "peak_rss_mb": peak, **marks}))
"""

# Real-size models on one 2-core node, from docs/performance.md (`make bench`, CTranslate2 int8,
# the default settings): output tokens per second.
NLLB_TOKENS_PER_S = 63.4
SUMMARY_TOKENS_PER_S = 119.8
# The issue's own reading of those figures: ~250 articles of the seeds' length an hour at 60-70
# tokens/s, i.e. about 900 English output tokens per article; the summary writes at most 142.
TOKENS_PER_ARTICLE = 900
SUMMARY_TOKENS = 142


def measure(workdir: Path, config: Path, executor: str) -> dict:
    out = workdir / "out"
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")  # no usage report (no network here)
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, str(config), executor],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode not in (0, 3):
        raise RuntimeError(f"{executor} digest failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    briefs = sorted((out / "briefs").glob("*.md"))
    digest = next(out.glob("digest-2*.md")).read_text(encoding="utf-8")
    result["executor"] = re.search(r"^executor: (.*)$", digest, re.M).group(1)
    result["briefs"] = len(briefs)
    # The same articles must give the same bytes on either executor, apart from when they were read.
    h = hashlib.sha256()
    for brief in briefs:
        h.update(brief.name.encode() + re.sub(rb"(?m)^ingested: .*$", b"", brief.read_bytes()))
    result["hash"] = h.hexdigest()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("articles", nargs="?", type=int, default=1000)
    parser.add_argument("--night", type=int, default=5000, help="articles in the night to size for")
    parser.add_argument("--hours", type=float, default=2.0, help="the night's deadline")
    parser.add_argument(
        "--tokens-per-article",
        type=int,
        default=TOKENS_PER_ARTICLE,
        help="English output tokens of an average article (default: the issue's 250 articles an hour)",
    )
    parser.add_argument(
        "--gpu-speedup",
        type=float,
        default=10.0,
        help="assumed throughput of one GPU actor over one 2-core CPU actor (not measured here)",
    )
    args = parser.parse_args(argv)
    from tests.fixtures.tiny_models import build_all

    build_all(ROOT / "models" / "tiny")
    rows = {}
    with tempfile.TemporaryDirectory(prefix="newsbrief-scale-") as tmp:
        workdir = Path(tmp)
        make_inbox(workdir / "inbox", args.articles)
        config = tiny_config(workdir)
        for executor in ("local", "ray"):
            for stale in (workdir / "out").glob("**/*"):  # each executor starts from an empty output
                if stale.is_file():
                    stale.unlink()
            started = time.monotonic()
            rows[executor] = measure(workdir, config, executor)
            rows[executor]["process_s"] = time.monotonic() - started
    n = args.articles
    print(f"{n} synthetic articles, tiny models on CTranslate2, this machine ({_cpus()} CPUs)\n")
    print(f"{'executor':<34} {'briefs':>6} {'wall s':>7} {'articles/s':>10} {'driver peak MB':>14}")
    for r in rows.values():
        print(
            f"{r['executor']:<34} {r['briefs']:>6} {r['wall_s']:>7.1f} {n / r['wall_s']:>10.1f} "
            f"{r['peak_rss_mb']:>14.0f}"
        )
    local, ray = rows["local"], rows["ray"]
    same = "identical" if local["hash"] == ray["hash"] else "DIFFERENT"
    overhead = (ray["wall_s"] - local["wall_s"]) / n
    print(f"\nbriefs: {same} on both executors")
    print(f"Ray overhead: {overhead * 1000:+.0f} ms per article ({ray['wall_s'] - local['wall_s']:+.1f} s)")
    phases = [
        ("of which joining/starting the cluster", lambda r: r.get("connect_s", 0.0)),
        ("start to first brief (plan, start, load)", lambda r: r.get("first_brief_s", 0.0)),
        ("first to last brief (the rest, streamed)", lambda r: r["last_brief_s"] - r["first_brief_s"]),
        ("after the last brief (digest, shutdown)", lambda r: r["wall_s"] - r["last_brief_s"]),
    ]
    print(f"where the time goes (s)                   {'local':>7} {'ray':>7}")
    for name, phase in [phases[1], phases[0], *phases[2:]]:
        print(f"  {name:<40} {phase(local):>7.1f} {phase(ray):>7.1f}")
    # What Ray adds per article beyond its fixed start: the rest of the wall-time difference.
    _on_paper(args, (ray["wall_s"] - local["wall_s"] - ray.get("connect_s", 0.0)) / n)
    return 0


def _on_paper(args: argparse.Namespace, ray_per_article_s: float) -> None:
    """Nodes for a night, from the real-size models' cost on a 2-core node (docs/performance.md)."""
    translate_s = args.tokens_per_article / NLLB_TOKENS_PER_S
    summary_s = SUMMARY_TOKENS / SUMMARY_TOKENS_PER_S
    per_article = translate_s + summary_s  # seconds of one 2-core actor (2 CTranslate2 threads)
    budget = args.hours * 3600
    # Model loads, cluster start and the driver's ingest/commit: a few minutes; keep 15 % back.
    usable = budget * 0.85
    actor_seconds = args.night * (per_article + max(ray_per_article_s, 0.0))
    actors = math.ceil(actor_seconds / usable)
    print(
        f"\non paper: {args.night:,} real-size articles within {args.hours:g} h "
        f"({per_article:.1f} s per article on one 2-core actor: NLLB-600M {translate_s:.1f} s for "
        f"~{args.tokens_per_article} tokens at {NLLB_TOKENS_PER_S} tokens/s + distilbart {summary_s:.1f} s; "
        f"Ray {ray_per_article_s * 1000:+.0f} ms per article beyond its start, as measured above; "
        "15 % of the night kept back for loads and the driver)"
    )
    print(f"  CPU: {actors} actors of 2 cores = {2 * actors} cores, e.g.")
    for cores in (8, 16, 32):
        nodes = math.ceil(actors / (cores // 2))
        print(
            f"       {nodes} node(s) of {cores} cores (~{_memory_gb(cores // 2):.0f} GB memory each, at most)"
        )
    gpu_actors = math.ceil(actor_seconds / args.gpu_speedup / usable)
    print(
        f"  GPU: {gpu_actors} GPU actor(s), i.e. {gpu_actors} GPU(s) (int8_float16), assuming one GPU actor "
        f"does {args.gpu_speedup:g}x a 2-core CPU actor (--gpu-speedup; not measured: no GPU here)"
    )


def _memory_gb(actors: int) -> float:
    """At most: a translating actor may hold NLLB (1.2 GB peak) and both OPUS-MT routes (0.5 GB
    each) under max_loaded_models 3; plus 2 GB for the node's Ray processes."""
    return actors * 2.2 + 2


def _cpus() -> int:
    return os.cpu_count() or 1


if __name__ == "__main__":
    raise SystemExit(main())
