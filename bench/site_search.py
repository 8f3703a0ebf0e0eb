"""The site's search: the vendored JSON index against Pagefind, on the same pages, in Chromium.

Indexes a built site (`python -m bench.nights --keep DIR` leaves a year of it in DIR/site) with
Pagefind as well, then opens a search for each query in the headless Chromium the tests use,
from `file://` and from a local static server, and prints for each: what came back, how long
the first search took (as the page measured it) and what the browser logged.

    python -m bench.nights --keep /tmp/year
    npm install --prefix /tmp/pf pagefind@1.4.0
    python -m bench.site_search /tmp/year/site --pagefind /tmp/pf/node_modules/.bin/pagefind \\
        --query Gorvensel --query Estonia

The Pagefind index and the test page are removed afterwards; the site is left as it was.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

PAGE = """<!doctype html><html><head><meta charset="utf-8">
<script type="module" src="pf-bench.js"></script></head><body><p id="out">waiting</p></body></html>
"""
SCRIPT = """const t0 = performance.now();
try {
  const pagefind = await import("./pagefind/pagefind.js");
  const found = await pagefind.search(new URLSearchParams(location.search).get("q"));
  await Promise.all(found.results.slice(0, 10).map(r => r.data()));
  document.getElementById("out").textContent =
    found.results.length + " results (" + Math.round(performance.now() - t0) + " ms)";
} catch (e) { document.getElementById("out").textContent = "error: " + e; }
"""


def _size(paths: list[Path]) -> float:
    return sum(p.stat().st_size for p in paths if p.is_file()) / 1e6


def _search(browser, url: str, selector: str) -> tuple[str, list[str]]:
    page = browser.page()
    page.goto(url)
    text = ""
    for _ in range(100):
        text = page.eval(f"document.querySelector('{selector}').textContent")
        if "result" in text or "error" in text:
            break
        time.sleep(0.05)
    problems = page.problems()
    page.close()
    return text, problems


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # one line per request would bury the results
        pass


def main(argv: list[str] | None = None) -> int:
    from tests.browser import Browser, find_chromium

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--pagefind", required=True, help="the pagefind binary (npm package `pagefind`)")
    parser.add_argument("--query", action="append", required=True)
    args = parser.parse_args(argv)
    site: Path = args.site.resolve()
    own = sorted((site / "search").glob("*.js"))
    print(f"JSON index: {len(own)} files, {_size(own):.2f} MB")
    t0 = time.perf_counter()
    subprocess.run([args.pagefind, "--site", str(site)], check=True, capture_output=True)
    pf = [p for p in (site / "pagefind").rglob("*") if p.is_file()]
    print(f"Pagefind: built in {time.perf_counter() - t0:.1f}s, {len(pf)} files, {_size(pf):.2f} MB")
    (site / "pf-bench.html").write_text(PAGE, encoding="utf-8")
    (site / "pf-bench.js").write_text(SCRIPT, encoding="utf-8")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    http_root = f"http://127.0.0.1:{server.server_port}"
    with tempfile.TemporaryDirectory(prefix="newsbrief-chromium-") as profile:
        browser = Browser(find_chromium() or "chromium", Path(profile))
        try:
            for q in args.query:
                for label, root in (("file://", site.as_uri()), ("http://", http_root)):
                    text, problems = _search(browser, f"{root}/search.html?q={q}", "#status")
                    print(
                        f"JSON index  {label:<8} {q!r}: {text}"
                        + (f" PROBLEMS {problems}" if problems else "")
                    )
                    text, problems = _search(browser, f"{root}/pf-bench.html?q={q}", "#out")
                    shown = text if text != "waiting" else "nothing (the page never ran)"
                    print(
                        f"Pagefind    {label:<8} {q!r}: {shown}"
                        + (f"; {problems[0][:160]}" if problems else "")
                    )
        finally:
            browser.close()
            server.shutdown()
            for name in ("pf-bench.html", "pf-bench.js"):
                (site / name).unlink(missing_ok=True)
            shutil.rmtree(site / "pagefind", ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
