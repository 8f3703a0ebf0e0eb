"""One digest run: every file of the input folder becomes a brief or a listed failure.

Pass 1 ingests and detects every file (cheap) and decides its route; pass 2 translates,
summarizes and renders the articles grouped by route, so each model is loaded once. A failure
in one article is recorded on it, logged, listed in the digest and reflected in the exit code;
the run goes on.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pipeline.article import Article
from pipeline.config import Config
from pipeline.detect import LanguageDetector
from pipeline.digest import Failure, build_digest, entry_for, write_digest
from pipeline.errors import ArticleError
from pipeline.ingest import iter_input_files, read_article
from pipeline.languages import UNDETERMINED, name_of
from pipeline.models import ModelStore
from pipeline.render import brief_filename, render_brief, write_atomic
from pipeline.summarize import Summarizer
from pipeline.translate import Translator

log = logging.getLogger("newsbrief.run")

# Exit codes, documented in the README; they are a promise to schedulers.
EXIT_OK = 0
EXIT_CRASH = 1  # an unexpected error stopped the whole run
EXIT_CONFIG = 2  # configuration or usage error: nothing was processed
EXIT_ARTICLES_FAILED = 3  # the run finished, but some files could not be processed
EXIT_ALREADY_RUNNING = 4  # another run holds the output folder's lock


@dataclass
class RunResult:
    digest_path: Path
    processed: int
    failed: list[Failure]
    models_loaded: int

    @property
    def exit_code(self) -> int:
        return EXIT_ARTICLES_FAILED if self.failed else EXIT_OK


class Pipeline:
    """Holds the stages (and their loaded models) for one process: build once, reuse per article."""

    def __init__(self, config: Config):
        self.config = config
        self.store = ModelStore(config.models_dir, config.models, config.runtime, config.base_dir)
        self.detector = LanguageDetector(config.detect)
        self.translator = Translator(config.translate, self.store, config.segment)
        self.summarizer = Summarizer(config.summarize, self.store)

    def prepare(self, path: Path, input_root: Path) -> tuple[Article, str]:
        """Ingest and detect one file; returns the article and the route it will take."""
        article = read_article(path, input_root, self.config.ingest)
        det = self.detector.detect(([article.title] if article.title else []) + article.paragraphs)
        if article.title:  # the title's guess is not a paragraph of the body
            det.paragraphs = det.paragraphs[1:]
        article.detection = det
        if det.best_guess == UNDETERMINED:
            raise ArticleError("no words in any language (only digits, symbols or punctuation?)")
        if det.lang == UNDETERMINED:
            guess = f"{name_of(det.best_guess)} ({det.best_guess})"
            msg = (
                f"language undetermined (confidence {det.confidence:.2f} < "
                f"{self.config.detect.min_confidence}); best guess {guess}"
            )
            if self.config.detect.undetermined == "fail":
                raise ArticleError(msg)
            article.warn(msg + ", translated as that")
        route = self.translator.route_for(det.lang if det.lang != UNDETERMINED else det.best_guess)
        return article, route

    def process(self, article: Article) -> Article:
        """Translate and summarize a prepared article (in place)."""
        article.translation = self.translator.translate_article(article)
        flagged = article.translation.flagged
        if flagged:
            kinds = Counter(f for p in flagged for f in p.flags)
            article.warn(
                f"{len(flagged)} sentence(s) flagged in translation (marked ⚠ in the text): "
                + ", ".join(f"{k} ×{n}" for k, n in kinds.items())
            )
        article.summary = self.summarizer.summarize(
            article.translation.sentences(), article.translation.title
        )
        for w in article.summary.warnings:
            article.warn(w)
        return article


def run_digest(
    config: Config, input_dir: Path | None = None, output_dir: Path | None = None, now: datetime | None = None
) -> RunResult:
    now = now or datetime.now().astimezone()
    input_dir = input_dir or config.input_dir
    output_dir = output_dir or config.output_dir
    run_date = now.strftime("%Y-%m-%d")
    if not input_dir.is_dir():
        from pipeline.errors import ConfigError

        raise ConfigError(f"input folder {input_dir} does not exist (paths.input in config.yaml, or --input)")
    briefs_dir = output_dir / "briefs"
    briefs_dir.mkdir(parents=True, exist_ok=True)
    pipeline = Pipeline(config)
    failures: list[Failure] = []
    started = time.monotonic()

    prepared: list[tuple[str, Article]] = []
    for path in iter_input_files(input_dir):
        rel = path.relative_to(input_dir).as_posix()
        try:
            article, route = pipeline.prepare(path, input_dir)
            prepared.append((route, article))
        except ArticleError as exc:
            _fail(failures, rel, str(exc))
        except Exception as exc:  # a bug must not lose the other articles; it is logged in full
            log.exception("%s: unexpected error while reading", rel)
            _fail(failures, rel, f"internal error while reading: {type(exc).__name__}: {exc}")
    log.info(
        "prepared %d article(s), %d failed, in %.1fs",
        len(prepared),
        len(failures),
        time.monotonic() - started,
    )

    entries = []
    taken: set[str] = set()
    prepared.sort(key=lambda ra: (ra[0], ra[1].source_file))  # one model load per route
    progress = _progress(len(prepared))
    for _, article in prepared:
        t0 = time.monotonic()
        try:
            pipeline.process(article)
            name = brief_filename(article, taken)
            taken.add(name)
            article.brief_path = briefs_dir / name
            write_atomic(article.brief_path, render_brief(article))
            entries.append(entry_for(article, output_dir))
            log.info("%s → briefs/%s (%.1fs)", article.source_file, name, time.monotonic() - t0)
        except ArticleError as exc:
            _fail(failures, article.source_file, str(exc))
        except Exception as exc:
            log.exception("%s: unexpected error", article.source_file)
            _fail(failures, article.source_file, f"internal error: {type(exc).__name__}: {exc}")
        finally:
            progress.update(1)
            article.translation = None  # keep memory flat across a large inbox
    progress.close()

    digest = build_digest(run_date, entries, failures, now)
    path = write_digest(digest, output_dir, config.digest)
    log.info(
        "digest %s: %d brief(s), %d failure(s), %d model load(s), %.1fs",
        path,
        len(entries),
        len(failures),
        pipeline.store.loads,
        time.monotonic() - started,
    )
    return RunResult(path, len(entries), failures, pipeline.store.loads)


def _fail(failures: list[Failure], source_file: str, reason: str) -> None:
    log.error("%s: %s", source_file, reason)
    failures.append(Failure(source_file, reason))


def _progress(total: int):
    from tqdm import tqdm

    # A bar when someone watches; plain log lines when stderr is a file or a pipe (cron, systemd).
    return tqdm(total=total, unit="article", disable=not sys.stderr.isatty(), file=sys.stderr)
