"""One digest run: every file of the input folder becomes a brief or a listed failure.

Pass 1 ingests and detects every file (cheap) and decides its route; pass 2 translates,
summarizes and renders the articles grouped by route, so each model is loaded once. A failure
in one article is recorded on it, logged, listed in the digest and reflected in the exit code;
the run goes on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import stat
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path

from pipeline import __version__
from pipeline.article import Article
from pipeline.config import Config
from pipeline.digest import Failure, entry_for, entry_from_json
from pipeline.errors import (
    ArticleError,
    ConfigError,
    IngestError,
    ModelMissingError,
    OutputError,
    WorkerLostError,
)
from pipeline.executor import Executor, Finished, LocalExecutor
from pipeline.ingest import iter_input_files, read_article, resolve_input, source_name
from pipeline.langid import Detection, LanguageDetector
from pipeline.languages import UNDETERMINED, name_of
from pipeline.lock import run_lock
from pipeline.models import ModelStore
from pipeline.redact import PathScrubber, public_url
from pipeline.render import brief_filename, mark_superseded, render_brief, write_atomic
from pipeline.state import STATE_FILE, Record, State
from pipeline.storystore import publish_night
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
    skipped: int = 0

    @property
    def exit_code(self) -> int:
        return EXIT_ARTICLES_FAILED if self.failed else EXIT_OK


class Pipeline:
    """Holds the stages (and their loaded models) for one process: build once, reuse per article."""

    def __init__(self, config: Config):
        self.config = config
        self.store = ModelStore(config.models_dir, config.models, config.runtime, config.base_dir)
        self.detector = LanguageDetector(config.detect)
        # The output checks ask our own detector whether a translation is English, so English
        # must be among its candidates even where a deployment restricts them.
        expected = config.detect.languages
        english = (
            config.detect.model_copy(update={"languages": sorted({*expected, "en"})})
            if expected
            else config.detect
        )
        self.translator = Translator(config.translate, self.store, config.segment, LanguageDetector(english))
        self.summarizer = Summarizer(config.summarize, self.store)
        self._fingerprints: dict[str | None, str] = {}

    def fingerprint(self, lang: str | None) -> str:
        """A hash of everything that shapes a brief in `lang`: the settings, and the exact
        revisions of its translation route and the summarizer. `None`: settings only.

        A changed model or route for one language re-processes only that language's articles.
        """
        if lang not in self._fingerprints:
            c = self.config
            parts: dict[str, object] = {
                "version": __version__,
                "settings": c.model_dump(mode="json", include={"ingest", "detect", "segment", "summarize"}),
                "decoding": c.translate.decoding.model_dump(mode="json"),
            }
            if lang is not None:
                for role, name in (
                    ("translation", self._route_or_none(lang)),
                    ("summary", c.summarize.model),
                ):
                    if name and name in c.models:
                        # Identity is the id and the resolved revision, not where the files lie.
                        spec = c.models[name].model_dump(mode="json", exclude={"path"})
                        # The vocabulary it decodes with, not the setting: `auto` before it is
                        # verified is `all`, and its briefs stay what they were.
                        spec["output_vocabulary"] = self._vocabulary(name)
                        parts[role] = [spec, self._revision(name)]
            blob = json.dumps(parts, sort_keys=True, default=str).encode()
            self._fingerprints[lang] = hashlib.sha256(blob).hexdigest()[:16]
        return self._fingerprints[lang]

    def _route_or_none(self, lang: str) -> str | None:
        try:
            return self.translator.route_for(lang)
        except ArticleError:
            return None

    def _vocabulary(self, name: str) -> str:
        try:
            return self.store.output_vocabulary(name)[0]
        except ArticleError:
            return "all"

    def _revision(self, name: str) -> str:
        try:
            return self.store.local_path(name)[1]
        except ArticleError:
            return "missing"

    def prepare(
        self, path: Path, input_root: Path, detection: Detection | None = None
    ) -> tuple[Article, str]:
        """Ingest and detect one file (unless its detection is known); returns it and its route."""
        article = read_article(path, input_root, self.config.ingest)
        det = detection
        if det is None:
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

    def translate_group(self, articles: list[Article]) -> list[Exception | None]:
        """Translates articles together (their sentences share batches); returns per article the
        error that stopped it, or None. A failing group is retried one article at a time, so one
        article's problem never fails its neighbours."""
        try:
            for article, translation in zip(
                articles, self.translator.translate_articles(articles), strict=True
            ):
                article.translation = translation
            return [None] * len(articles)
        except Exception:
            if len(articles) == 1:
                raise
        errors: list[Exception | None] = []
        for article in articles:
            try:
                article.translation = self.translator.translate_article(article)
                errors.append(None)
            except Exception as exc:  # recorded on this article by the caller
                errors.append(exc)
        return errors

    def summarize_group(self, articles: list[Article]) -> list[Exception | None]:
        """Warnings from translation, then the headline, key points and summary of translated
        articles, together (their chunks share batches); returns per article the error that
        stopped it, or None. Like translate_group, a failing group is retried one article at a
        time."""
        if not articles:
            return []
        for article in articles:
            assert article.translation is not None  # noqa: S101
            self._translation_warnings(article)
        items = [(a.translation.sentences(), a.translation.title) for a in articles]  # type: ignore[union-attr]
        try:
            summaries = self.summarizer.summarize_many(items)
        except Exception:
            if len(articles) == 1:
                raise
            summaries = None
        errors: list[Exception | None] = []
        for k, article in enumerate(articles):
            try:
                summary = summaries[k] if summaries else self.summarizer.summarize_many([items[k]])[0]
            except Exception as exc:  # recorded on this article by the caller
                errors.append(exc)
                continue
            article.summary = summary
            for w in summary.warnings:
                article.warn(w)
            errors.append(None)
        return errors

    @staticmethod
    def _translation_warnings(article: Article) -> None:
        assert article.translation is not None  # noqa: S101
        if article.translation.fallback_count:
            n, fallback = article.translation.fallback_count, article.translation.models["fallback"]["model"]
            article.warn(f"{n} sentence(s) failed output checks and were retried on {fallback}")
        flagged = article.translation.flagged
        if flagged:
            kinds = Counter(f for p in flagged for f in p.flags)
            article.warn(
                f"{len(flagged)} sentence(s) flagged in translation (marked ⚠ in the text): "
                + ", ".join(f"{k} ×{n}" for k, n in kinds.items())
            )


def make_executor(config: Config, pipeline: Pipeline) -> Executor:
    """The executor `runtime.executor` names. `pipeline` serves the local one; a Ray worker builds
    its own `Pipeline(config)`. The Ray executor is imported only when named: a local run never
    imports Ray."""
    if config.runtime.executor == "ray":
        from pipeline.ray_executor import RayExecutor

        return RayExecutor(config, Pipeline)
    return LocalExecutor(pipeline)


def run_digest(
    config: Config,
    input_dir: Path | None = None,
    output_dir: Path | None = None,
    now: datetime | None = None,
    force: bool = False,
    run_date: str | None = None,
) -> RunResult:
    """Processes every new or changed file of the input folder; one run at a time per output folder.

    `run_date` (YYYY-MM-DD, default: today): the night this run counts as. Back-fills and tests
    run as an earlier night: its digest is digest-<run_date>.md and its stories age from it.
    """
    now = now or datetime.now().astimezone()
    run_date = run_date or now.strftime("%Y-%m-%d")
    input_dir = input_dir or config.input_dir
    output_dir = output_dir or config.output_dir
    check_folders(input_dir, output_dir)
    with run_lock(output_dir):
        state = State(output_dir / STATE_FILE)
        if state.recovered:
            log.error("state database: %s", state.recovered)
        try:
            return _run(config, input_dir, output_dir, now, run_date, force, state)
        finally:
            state.close()


def check_folders(input_dir: Path, output_dir: Path) -> None:
    """Refuses, before anything is written, an input that is not a folder and an output folder
    inside the input folder (or the same): the run would read its own briefs back as articles
    (11 → 25 → 39 briefs) and write into a folder that others fill."""
    where = "(paths.input in config.yaml, or --input)"
    if input_dir.is_file():
        raise ConfigError(f"input {input_dir} is a file, not a folder {where}")
    if not input_dir.is_dir():
        raise ConfigError(f"input folder {input_dir} does not exist {where}")
    inp, out = input_dir.resolve(), output_dir.resolve()
    if out == inp or out.is_relative_to(inp):
        raise ConfigError(
            f"the output folder {output_dir} is {'the same folder as' if out == inp else 'inside'} "
            f"the input folder {input_dir}: the run would read its own briefs back as articles; "
            "choose an output folder outside it (paths.output, or --output)"
        )
    if inp.is_relative_to(out):
        raise ConfigError(
            f"the input folder {input_dir} is inside the output folder {output_dir}: keep them apart "
            "(paths.input and paths.output, or --input and --output)"
        )


def _run(
    config: Config,
    input_dir: Path,
    output_dir: Path,
    now: datetime,
    run_date: str,
    force: bool,
    state: State,
) -> RunResult:
    """A night in three phases: plan what is new, execute it (committing each brief as it is
    finished), then publish the night's digest."""
    run_id = state.start_run(run_date)
    _remove_partial_writes(output_dir)
    night = _Night(config, input_dir, output_dir, run_date, state, Pipeline(config))
    started = time.monotonic()
    todo = _plan(night, force)
    log.info(
        "%d new or changed article(s), %d unchanged, %d failed to read, in %.1fs",
        len(todo), night.skipped, len(night.failures), time.monotonic() - started,
    )  # fmt: skip
    executed_by, loads = _execute(night, todo)
    path = _publish(night, now, executed_by)
    state.finish_run(run_id, night.processed, night.skipped, len(night.failures))
    log.info(
        "digest %s: %d processed, %d unchanged, %d failed, %d model load(s), %.1fs",
        path, night.processed, night.skipped, len(night.failures), loads, time.monotonic() - started,
    )  # fmt: skip
    return RunResult(path, night.processed, night.failures, loads, night.skipped)


@dataclass
class _Night:
    """What the phases of one run share: where it reads and writes, its stages, and its counts."""

    config: Config
    input_dir: Path
    output_dir: Path
    run_date: str
    state: State
    pipeline: Pipeline
    failures: list[Failure] = field(default_factory=list)
    skipped: int = 0
    processed: int = 0

    def fail(self, rel: str, sha: str, exc: Exception) -> None:
        _record_failure(
            self.state, self.failures, rel, sha, self.pipeline.fingerprint(None), self.run_date, exc
        )


# A planned article: (route, source_file, path, sha256, detection).
_Planned = tuple[str, str, Path, str, Detection]


def _plan(night: _Night, force: bool) -> list[_Planned]:
    """Pass 1: what is new or changed, and which route it takes, sorted by route so that each
    model is loaded once (the articles themselves are not kept, so memory does not grow with the
    size of the inbox)."""
    config, input_dir, pipeline = night.config, night.input_dir, night.pipeline
    todo: list[_Planned] = []
    for path in iter_input_files(input_dir, config.ingest.symlinks):
        rel = source_name(path, input_dir)  # printable: a name's non-UTF-8 bytes become \xff
        try:
            sha = file_sha256(resolve_input(path, input_dir, config.ingest))
        except ArticleError as exc:
            night.fail(rel, "-", exc)
            continue
        record = night.state.get(rel)
        if not force and record and record.sha256 == sha and _unchanged(record, pipeline):
            night.skipped += 1
            continue
        try:
            article, route = pipeline.prepare(path, input_dir)
            assert article.detection is not None  # noqa: S101
            todo.append((route, rel, path, sha, article.detection))
        except OutputError:
            raise  # the output folder, not this file: stop the run
        except Exception as exc:  # recorded on this file; a bug must not lose the other articles
            night.fail(rel, sha, exc)
    todo.sort(key=lambda t: t[:2])
    return todo


def _execute(night: _Night, todo: list[_Planned]) -> tuple[str, int]:
    """Pass 2 (execute, then commit): a route's articles are translated in groups whose sentences
    share batches, then summarized. The executor (this process, or a Ray cluster) hands back each
    article as it is finished, and the driver writes its brief and commits its row right then.
    Returns the executor's description and how many times a model was loaded."""
    progress = _progress(len(todo))
    taken = night.state.brief_names()
    in_flight: dict[str, tuple[str, str, float]] = {}  # article.source_file → (rel, sha256, started)
    with make_executor(night.config, night.pipeline) as executor:
        for done in executor.run(_groups(night, todo, in_flight, progress)):
            rel, sha, t0 = in_flight.pop(done.source_file)
            _commit(night, done, rel, sha, t0, taken, progress)
        executed_by, loads = executor.description, night.pipeline.store.loads + executor.remote_loads
    progress.close()
    return executed_by, loads


def _groups(
    night: _Night, todo: list[_Planned], in_flight: dict[str, tuple[str, str, float]], progress
) -> Iterator[list[Article]]:
    """The groups, each read again from disk only when the executor asks for it."""
    size = night.config.translate.group_articles
    for k in range(0, len(todo), size):
        group = []
        for _route, rel, path, sha, detection in todo[k : k + size]:
            try:
                article, _ = night.pipeline.prepare(path, night.input_dir, detection)
                group.append(article)
                in_flight[article.source_file] = (rel, sha, time.monotonic())
            except OutputError:
                raise
            except Exception as exc:
                night.fail(rel, sha, exc)
                progress.update(1)
        yield group


def _commit(
    night: _Night, done: Finished, rel: str, sha: str, t0: float, taken: dict[str, str], progress
) -> None:
    """Writes the brief of one finished article and records its row, or records why it failed."""
    try:
        if done.error is not None:
            raise done.error
        assert done.article is not None  # noqa: S101
        brief = _write_brief(
            done.article, rel, sha, night.run_date, night.output_dir, night.pipeline, night.state, taken
        )
        night.processed += 1
        log.info("%s → %s (%.1fs)", rel, brief, time.monotonic() - t0)
    except OutputError:
        raise  # finished briefs are committed; the next run completes the rest
    except Exception as exc:
        night.fail(rel, sha, exc)
    finally:
        if done.article is not None:
            done.article.translation = None  # keep memory flat across the group
        progress.update(1)


def _publish(night: _Night, now: datetime, executed_by: str) -> Path:
    """The night's digest. It covers every article processed on that date, across runs, so a
    second run on the same day adds to the digest instead of replacing it."""
    state, run_date = night.state, night.run_date
    records = state.for_run_date(run_date)
    entries = [entry_from_json(r.entry) for r in records if r.status == "done" and r.entry]
    listed = [Failure(r.source_file, r.reason or "unknown") for r in records if r.status == "failed"]
    listed += _fetch_failures(state, run_date, night.failures)
    listed = _publishable(listed, night.config, night.input_dir, night.output_dir)
    path = publish_night(
        state, run_date, entries, listed, now, night.output_dir, night.config.digest, executor=executed_by
    )
    state.mark_fetch_failures_reported(run_date)  # once they are in a written digest
    if night.config.site.enabled:
        _build_site(night.config, night.output_dir, state, run_date, night.failures)
    return path


def _build_site(
    config: Config, output_dir: Path, state: State, run_date: str, failures: list[Failure]
) -> None:
    """The night's pages of OUTPUT/site/. The digest is written already: a bug in the site is
    logged and counted as a failure of this run (exit 3), never lost, and the run ends normally;
    a folder that cannot be written stops it like any other output (OutputError)."""
    from pipeline.site import build_site

    try:
        build_site(output_dir, state, config.digest, config.site, run_date=run_date)
    except OutputError:
        raise
    except Exception as exc:
        log.error("site not updated: %s: %s", type(exc).__name__, exc, exc_info=exc)
        failures.append(Failure("site", f"internal error: {type(exc).__name__}: {exc}"))


def _fetch_failures(state: State, run_date: str, failures: list[Failure]) -> list[Failure]:
    """Feeds and pages `newsbrief fetch` could not get, not yet listed by an earlier day's digest:
    listed in this one (and in later runs of the same day); counted in this run's failures (and
    its exit code) the first time they are listed."""
    found = state.fetch_failures(run_date)
    for url, reason, new in found:
        if new:
            failures.append(Failure(url, f"fetch: {reason}"))
    return [Failure(url, f"fetch: {reason}") for url, reason, _ in found]


def _publishable(failures: list[Failure], config: Config, input_dir: Path, output_dir: Path) -> list[Failure]:
    """The failures as the digest may show them: no absolute path of this machine (a file by its
    path in the input folder, a model by `models/…`; the log keeps the full paths) and no URL's
    password or token."""
    scrub = PathScrubber(
        {
            input_dir: "",
            config.models_dir: "models",
            output_dir: "output",
            config.base_dir: "",
            Path.home(): "~",
        }
    )
    return [Failure(public_url(scrub(f.source_file)), scrub(f.reason)) for f in failures]


def _remove_partial_writes(output_dir: Path) -> None:
    """Deletes the temporary files of a run that was killed while writing (render.write_atomic
    writes `.<name>.<random>.tmp` and renames it into place). The run lock is held, so no other
    run is writing them now."""
    site = output_dir / "site"  # the default folder (site.folder); its pages are in subfolders
    folders = [output_dir, output_dir / "briefs", output_dir / "stories", site]
    folders += [p for p in site.iterdir() if p.is_dir()] if site.is_dir() else []
    for folder in folders:
        for tmp in folder.glob(".*.tmp") if folder.is_dir() else []:
            tmp.unlink(missing_ok=True)
            log.warning("removed %s, left half-written by an interrupted run", tmp)


def _write_brief(
    article: Article,
    rel: str,
    sha: str,
    run_date: str,
    output_dir: Path,
    pipeline: Pipeline,
    state: State,
    taken: dict[str, str],
) -> str:
    """Renders the brief, writes it atomically and commits its row; returns its relative path.

    A published brief is never deleted or overwritten by another article: digests and readers
    link to it. The same bytes made again (new models or settings, or a run that died writing
    it) replace their own brief in place; a changed source gets a new brief (a new name where
    the old one is taken), and the old brief gains a line pointing to it.
    """
    assert article.translation is not None  # noqa: S101
    previous = state.get(rel)
    old = previous.brief if previous and previous.brief and (output_dir / previous.brief).exists() else None
    if old and previous is not None and previous.sha256 == sha:
        brief = old
    else:
        briefs = output_dir / "briefs"
        name = brief_filename(article, lambda n: taken.get(n, rel) != rel or (briefs / n).exists())
        brief = f"briefs/{name}"
    taken[Path(brief).name] = rel
    fingerprint = pipeline.fingerprint(article.language)
    row = Record(rel, sha, "writing", fingerprint, run_date, language=article.language, brief=brief)
    state.put(row)  # committed before the file exists: a crash now leaves a findable brief
    article.brief_path = output_dir / brief
    write_atomic(article.brief_path, render_brief(article, fingerprint))
    if old and old != brief:
        why = f"the source file {rel} changed; it was read again on {run_date}"
        mark_superseded(output_dir / old, brief, why)
    entry = entry_for(article, output_dir, fallback_sentences=article.translation.fallback_count)
    state.put(replace(row, status="done", entry=asdict(entry)))
    return brief


def _record_failure(
    state: State, failures: list[Failure], rel: str, sha: str, fingerprint: str, run_date: str, exc: Exception
) -> None:
    """Records one file's failure in the log, in this run's list and in the state database.

    Expected failures (ArticleError) are recorded by their message, bugs with a full trace. A file
    whose failure may pass (a missing model, a bug) is retried next run; one that failed for a
    reason in its content is not retried until its bytes or the settings change.
    """
    if isinstance(exc, ArticleError):
        reason, retry = str(exc), isinstance(exc, ModelMissingError | WorkerLostError)
        log.error("%s: %s", rel, reason)
    else:
        reason, retry = f"internal error: {type(exc).__name__}: {exc}", True
        log.error("%s: unexpected error", rel, exc_info=exc)
    failures.append(Failure(rel, reason))
    previous = state.get(rel)  # a brief published earlier stays this file's, to supersede later
    brief = previous.brief if previous else None
    state.put(Record(rel, sha, "failed", fingerprint, run_date, retry=retry, brief=brief, reason=reason))


def _unchanged(record: Record, pipeline: Pipeline) -> bool:
    """Same bytes were already handled with the same models and settings (or failed for good)."""
    if record.status == "done":
        return record.fingerprint == pipeline.fingerprint(record.language)
    if record.status == "failed":
        return not record.retry and record.fingerprint == pipeline.fingerprint(None)
    return False  # 'writing': the last run died while writing this brief


def file_sha256(path: Path) -> str:
    """The file's identity for the state database (read in blocks: the file may be large)."""
    h = hashlib.sha256()
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # opening a FIFO would block the whole run
            raise IngestError("not a regular file (a FIFO, socket or device is never read)")
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError as exc:
        raise IngestError(f"cannot read the file: {exc.strerror or exc}") from exc
    return h.hexdigest()


def _progress(total: int):
    from tqdm import tqdm

    # A bar when someone watches; plain log lines when stderr is a file or a pipe (cron, systemd).
    return tqdm(total=total, unit="article", disable=not sys.stderr.isatty(), file=sys.stderr)
