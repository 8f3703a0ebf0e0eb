"""A year of nights: does the time a night's stories take grow with the stories kept?

Simulates `--nights` nights (default 365) on a real state database: each night brings a few
synthetic English articles (invented names, places and figures; `--new` that start stories and
`--continuing` that continue a random story updated within the last month) and runs exactly
what a nightly run does after the briefs are written (storystore.publish_night: match, merge,
story pages, digest, index). Briefs are not written and no model runs: the articles are stored
as the digest entries a run would have made. Every article also names one of a few countries,
so the inverted index has long lists to read, as real news has.

Reports the time of the night's story work (matching, storing, pages, digest, index) at nights
1, 10, 100, 200 and 365 (mean of the ten nights ending there, to smooth a shared machine's noise;
night 1 also pays for first imports), the share of it that index.md takes (it lists every open
story, so it grows with them by design), and the stories kept and open. Then the site
(OUTPUT/site/, pipeline/site.py): the time of each night's pages (what the nightly run writes),
and at the end the time of a full rebuild of the year (`newsbrief site`) and its size on disk.
Each article carries an "original" as long as its English, so the search index is the size a
translated year's would be.

    python -m bench.nights [--nights 365] [--new 2] [--continuing 2] [--seed 1] [--keep DIR]
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from dataclasses import asdict, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pipeline.digest import DigestEntry, DigestOptions, write_index
from pipeline.site import SiteOptions, build_site
from pipeline.state import Record, State
from pipeline.storystore import StoryStore, publish_night

SYLLABLES = "ba ko ri ta ven lo mar sel du ni pra gor hal tis ru ka len dor vi sta".split()
COUNTRIES = "Estonia Latvia Moldova Georgia Armenia Serbia Albania Bulgaria Croatia Slovakia".split()
TOPICS = (
    "bridge harbour railway election strike festival flood drought vaccine reactor pipeline "
    "tunnel airport museum stadium refinery factory hospital school orchestra ferry glacier "
    "wildfire earthquake summit treaty budget tariff pension subsidy"
).split()


def name(rng: random.Random, parts: int = 3) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize()


def new_story(rng: random.Random) -> dict:
    return {
        "person": f"{name(rng, 2)} {name(rng)}",
        "place": name(rng),
        "org": f"{name(rng)} {name(rng, 2)}",
        "topic": rng.sample(TOPICS, 2),
        "words": [name(rng, 2).lower() for _ in range(6)],  # the story's own vocabulary
        "country": rng.choice(COUNTRIES),
        "count": rng.randrange(50, 5000),
        "articles": 0,
        "last": "",
    }


def article(rng: random.Random, s: dict, run_date: str, n: int) -> DigestEntry:
    s["articles"] += 1
    s["count"] += rng.randrange(10, 400)
    t1, t2 = s["topic"]
    w = rng.sample(s["words"], 4)
    sentences = [
        f"{s['person']} said that the {t1} near {s['place']} would need {w[0]} and {w[1]}.",
        f"About {s['count']:,} people were evacuated from {s['place']}, the {s['org']} said.",
        f"The {t2} in {s['place']} has worried {w[2]} officials in {s['country']} for weeks.",
        f"The {s['org']} expects a {w[3]} decision on the {t1} soon.",
    ]
    rng.shuffle(sentences)
    source = f"{run_date}-{n}.txt"
    parts = tuple(int(x) for x in run_date.split("-"))
    return DigestEntry(
        brief=f"briefs/{source}.md",
        date=run_date,
        language="en",
        language_name="English",
        source_file=source,
        headline=f"{s['place']}: {t1} closed as {s['person']} warns ({s['articles']})",
        summary=sentences[0],
        warnings=[],
        flagged_sentences=0,
        sort_key=(parts, source),
        date_precision="day",
        sentences=sentences,
        # An "original" as long as the English, two sentences a paragraph, for the site's pages.
        original=[" ".join(w[::-1] for w in " ".join(sentences[k : k + 2]).split()) for k in (0, 2)],
        paragraphs=[0, 0, 1, 1],
    )


def simulate(nights: int, new: int, continuing: int, seed: int, out: Path) -> list[dict]:
    rng = random.Random(seed)
    options = DigestOptions()
    state = State(out / "state.db")
    stories: list[dict] = []
    rows = []
    start = date(2024, 1, 1)
    try:
        for k in range(nights):
            run_date = (start + timedelta(days=k)).isoformat()
            recent = [s for s in stories if s["last"] >= (start + timedelta(days=k - 30)).isoformat()]
            tonight = [new_story(rng) for _ in range(new)]
            stories.extend(tonight)
            tonight += rng.sample(recent, min(continuing, len(recent)))
            entries = [article(rng, s, run_date, n) for n, s in enumerate(tonight)]
            for s in tonight:
                s["last"] = run_date
            for e in entries:
                row = Record(e.source_file, "0" * 64, "done", "bench", run_date, language="en", brief=e.brief)
                state.put(replace(row, entry=asdict(e)))
            now = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=k)
            t0 = time.perf_counter()
            publish_night(state, run_date, entries, [], now, out, options)
            t1 = time.perf_counter()
            # index.md lists every open story, so its share grows with them by design: timed
            # again on its own (the same, idempotent work) to show it apart.
            write_index(out, StoryStore(state, options).open_stories())
            t2 = time.perf_counter()
            site = build_site(out, state, options, SiteOptions(), run_date=run_date)
            kept = state.db.execute("SELECT COUNT(*) FROM stories").fetchone()[0]
            opened = state.db.execute("SELECT COUNT(*) FROM stories WHERE status = 'open'").fetchone()[0]
            rows.append(
                {
                    "night": k + 1, "seconds": t1 - t0, "index": t2 - t1, "kept": kept, "open": opened,
                    "site": site.seconds, "site_written": site.written,
                }
            )  # fmt: skip
        shutil.rmtree(out / "site")  # the whole year again, from nothing: `newsbrief site`
        full = build_site(out, state, options, SiteOptions())
        rows.append({"full": full.seconds, "files": full.written, **_disk(out / "site")})
    finally:
        state.close()
    return rows


def _disk(folder: Path) -> dict:
    files = [p for p in folder.rglob("*") if p.is_file()]
    search = [p for p in files if p.parent.name == "search"]
    return {
        "bytes": sum(p.stat().st_size for p in files),
        "blocks": sum(p.stat().st_blocks * 512 for p in files),  # what `du` counts
        "search_bytes": sum(p.stat().st_size for p in search),
        "search_files": len(search),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nights", type=int, default=365)
    parser.add_argument("--new", type=int, default=2, help="articles per night that start a story")
    parser.add_argument("--continuing", type=int, default=2, help="articles per night that continue one")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="copy the output folder here (to try a search tool on it)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="newsbrief-nights-") as tmp:
        rows = simulate(args.nights, args.new, args.continuing, args.seed, Path(tmp))
        if args.keep:
            shutil.copytree(tmp, args.keep, dirs_exist_ok=True)
    site = rows.pop()
    marks = [n for n in (1, 10, 100, 200, 365) if n <= args.nights]
    print(f"{args.nights} nights, {args.new} new + {args.continuing} continuing article(s) a night")
    print(
        f"{'night':>6} {'ms/night':>9} {'of which index.md':>18} {'stories kept':>13} {'open':>6} "
        f"{'site ms':>8} {'site files written':>19}"
    )
    for n in marks:
        window = rows[max(0, n - 10) : n]
        ms = 1000 * sum(r["seconds"] for r in window) / len(window)
        index = 1000 * sum(r["index"] for r in window) / len(window)
        site_ms = 1000 * sum(r["site"] for r in window) / len(window)
        written = sum(r["site_written"] for r in window) / len(window)
        print(
            f"{n:>6} {ms:>9.1f} {index:>18.1f} {rows[n - 1]['kept']:>13} {rows[n - 1]['open']:>6} "
            f"{site_ms:>8.1f} {written:>19.1f}"
        )
    print(f"synthetic stories started: {args.new * args.nights} (kept fewer: some merged by shared names)")
    total = sum(r["seconds"] for r in rows)
    print(f"total {total:.1f}s; slowest night {max(r['seconds'] for r in rows) * 1000:.0f} ms")
    nightly = sum(r["site"] for r in rows)
    print(
        f"site: {nightly:.1f}s of nightly pages over the year (slowest night "
        f"{max(r['site'] for r in rows) * 1000:.0f} ms); a full rebuild of the year: {site['full']:.1f}s, "
        f"{site['files']} files, {site['bytes'] / 1e6:.1f} MB ({site['blocks'] / 1e6:.1f} MB on disk), "
        f"of which search index {site['search_bytes'] / 1e6:.1f} MB in {site['search_files']} files"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
