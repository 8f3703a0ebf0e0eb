"""Command line: `newsbrief` (= `python -m pipeline`). Every command takes --config PATH.

Config is loaded and validated once here and passed down; logging is configured here only
(the library itself just uses named loggers).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
from datetime import date, datetime
from pathlib import Path

from pipeline import __version__
from pipeline.config import Config, load_config
from pipeline.errors import AlreadyRunningError, ArticleError, ConfigError, NewsbriefError, OutputError
from pipeline.run import EXIT_ALREADY_RUNNING, EXIT_ARTICLES_FAILED, EXIT_CONFIG, EXIT_CRASH, EXIT_OK

log = logging.getLogger("newsbrief")
LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose, args.quiet)
    try:
        config = load_config(args.config)
        if config.runtime.offline and not (args.command == "models" and args.action == "download"):
            # Set before huggingface_hub is imported: nothing but `models download` touches the network.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        return args.func(args, config)
    except ConfigError as exc:
        print(f"newsbrief: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except AlreadyRunningError as exc:
        print(f"newsbrief: {exc}", file=sys.stderr)
        return EXIT_ALREADY_RUNNING
    except OutputError as exc:  # read-only folder, disk full: the run stopped; what it finished stays
        print(f"newsbrief: {exc}", file=sys.stderr)
        return EXIT_CRASH
    except NewsbriefError as exc:
        print(f"newsbrief: {exc}", file=sys.stderr)
        return EXIT_ARTICLES_FAILED
    except KeyboardInterrupt:
        print("newsbrief: interrupted", file=sys.stderr)
        return 130
    except Exception:
        log.exception("unexpected error; please report it with this trace")
        return EXIT_CRASH


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default="config.yaml", help="config file (default: config.yaml)")
    common.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    common.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")

    parser = argparse.ArgumentParser(
        prog="newsbrief", description="Foreign-language news in, dated English briefs and a digest out."
    )
    parser.add_argument("--version", action="version", version=f"newsbrief {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("digest", parents=[common], help="process the input folder into briefs and a digest")
    p.add_argument("--input", type=Path, help="input folder (default: paths.input)")
    p.add_argument("--output", type=Path, help="output folder (default: paths.output)")
    p.add_argument("--force", action="store_true", help="re-process every file, changed or not")
    p.add_argument(
        "--run-date",
        type=_run_date,
        help="run as the night of this date, YYYY-MM-DD (back-fills; default: today)",
    )
    p.add_argument(
        "--executor",
        choices=["local", "ray"],
        help="where translation and summarization run (default: runtime.executor, `local`)",
    )
    p.set_defaults(func=cmd_digest)

    p = sub.add_parser(
        "fetch", parents=[common], help="save the new articles of RSS/Atom feeds into the input folder"
    )
    p.add_argument(
        "--feed", action="append", metavar="URL", help="a feed to read (repeatable; default: fetch.feeds)"
    )
    p.add_argument("--input", type=Path, help="input folder to save into (default: paths.input)")
    p.add_argument(
        "--refetch", action="store_true", help="fetch the feeds' known items again (changed pages)"
    )
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser(
        "site", parents=[common], help="rebuild OUTPUT/site/ from the output folder and its state database"
    )
    p.add_argument("--output", type=Path, help="output folder (default: paths.output)")
    p.set_defaults(func=cmd_site)

    p = sub.add_parser("detect", parents=[common], help="print the language of each file")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_detect)

    p = sub.add_parser("segment", parents=[common], help="print one sentence per line")
    p.add_argument("file", type=Path)
    p.add_argument("--lang", help="language code (default: detected)")
    p.set_defaults(func=cmd_segment)

    p = sub.add_parser("translate", parents=[common], help="print the English text of one article")
    p.add_argument("file", type=Path)
    p.add_argument("--lang", help="language code (default: detected)")
    p.add_argument("--json", action="store_true", help="sentence pairs with their routes and flags")
    p.set_defaults(func=cmd_translate)

    p = sub.add_parser("models", parents=[common], help="list, download, convert or verify the routed models")
    p.add_argument("action", choices=["list", "download", "convert", "verify"])
    p.add_argument("names", nargs="*", help="model names under `models:` (default: all)")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("doctor", parents=[common], help="check what a nightly run needs")
    p.set_defaults(func=cmd_doctor)
    return parser


def _configure_logging(verbose: bool, quiet: bool) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT, "%H:%M:%S"))
    root = logging.getLogger("newsbrief")
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("ray").setLevel(logging.WARNING)  # Ray Data's progress lines, not its warnings
    for noisy in ("transformers", "huggingface_hub", "urllib3", "filelock"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


# ---- digest -------------------------------------------------------------------------------
class _LogFileHandler(logging.FileHandler):
    """The run's log file. If it cannot be written (disk full), says so once on stderr instead
    of printing a trace per log line; the run itself reports the cause when it next writes."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's name)
        if not getattr(self, "_failed", False):
            self._failed = True
            exc = sys.exc_info()[1]
            cause = getattr(exc, "strerror", None) or exc
            print(f"newsbrief: cannot write the log file {self.baseFilename}: {cause}", file=sys.stderr)


def _run_date(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in the form YYYY-MM-DD") from None


def cmd_digest(args: argparse.Namespace, config: Config) -> int:
    from pipeline.run import check_folders, run_digest

    if args.executor:
        config = config.model_copy(
            update={"runtime": config.runtime.model_copy(update={"executor": args.executor})}
        )
    now = datetime.now().astimezone()
    input_dir = args.input or config.input_dir
    output_dir = args.output or config.output_dir
    check_folders(input_dir, output_dir)  # before the log folder is made: nothing written yet
    log_path = output_dir / "logs" / f"{args.run_date or format(now, '%Y-%m-%d')}.log"
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = _LogFileHandler(log_path, encoding="utf-8", errors="backslashreplace")
    except OSError as exc:
        raise OutputError(f"cannot write the log file {log_path}: {exc.strerror or exc}") from exc
    file_handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logging.getLogger("newsbrief").addHandler(file_handler)
    try:
        result = run_digest(
            config,
            input_dir=input_dir,
            output_dir=output_dir,
            now=now,
            force=args.force,
            run_date=args.run_date,
        )
    finally:
        logging.getLogger("newsbrief").removeHandler(file_handler)
        file_handler.close()
    print(
        f"{result.processed} new brief(s), {result.skipped} unchanged, {len(result.failed)} failure(s): "
        f"{result.digest_path}"
    )
    for f in result.failed:
        print(f"  failed: {f.source_file}: {f.reason}", file=sys.stderr)
    return result.exit_code


# ---- site ---------------------------------------------------------------------------------
def cmd_site(args: argparse.Namespace, config: Config) -> int:
    from pipeline.lock import run_lock
    from pipeline.site import build_site
    from pipeline.state import STATE_FILE, State

    output_dir = args.output or config.output_dir
    if not (output_dir / STATE_FILE).is_file():
        raise ConfigError(
            f"{output_dir} holds no {STATE_FILE}: run `newsbrief digest` first (or pass --output)"
        )
    with run_lock(output_dir):  # a nightly run must not write the same pages meanwhile
        state = State(output_dir / STATE_FILE)
        try:
            report = build_site(output_dir, state, config.digest, config.site)
        finally:
            state.close()
    print(report.line())
    return EXIT_OK


# ---- fetch --------------------------------------------------------------------------------
def cmd_fetch(args: argparse.Namespace, config: Config) -> int:
    from pipeline.fetch import feed_urls, format_result, run_fetch

    feeds = args.feed or feed_urls(config.fetch, config.base_dir)
    if not feeds:
        print("no feeds configured (fetch.feeds in the config, or --feed URL): nothing to fetch")
        return EXIT_OK
    result = run_fetch(config, feeds=feeds, input_dir=args.input, refetch=args.refetch)
    for line in format_result(result):
        print(line)
    return EXIT_OK if result.ok else EXIT_ARTICLES_FAILED


# ---- one-file commands ----------------------------------------------------------------------
def _read(path: Path, config: Config):
    from pipeline.ingest import read_article

    return read_article(path, path.parent, config.ingest)


def cmd_detect(args: argparse.Namespace, config: Config) -> int:
    from pipeline.langid import LanguageDetector

    detector = LanguageDetector(config.detect)
    status = EXIT_OK
    for path in args.files:
        try:
            article = _read(path, config)
            det = detector.detect(([article.title] if article.title else []) + article.paragraphs)
            row = {
                "path": str(path),
                "lang": det.lang,
                "confidence": det.confidence,
                "best_guess": det.best_guess,
                "languages": det.languages,
                "method": det.method,
            }
        except ArticleError as exc:
            row, status = (
                {"path": str(path), "lang": None, "confidence": 0.0, "error": str(exc)},
                EXIT_ARTICLES_FAILED,
            )
        if args.json:
            print(json.dumps(row, ensure_ascii=False))
        elif "error" in row:
            print(f"{path}\terror: {row['error']}")
        else:
            print(f"{path}\t{row['lang']}\t{row['confidence']:.3f}")
    return status


def cmd_segment(args: argparse.Namespace, config: Config) -> int:
    from pipeline.langid import LanguageDetector
    from pipeline.segment import split_sentences

    article = _read(args.file, config)
    lang = args.lang or LanguageDetector(config.detect).detect(article.paragraphs).best_guess
    for para in ([article.title] if article.title else []) + article.paragraphs:
        for sentence in split_sentences(para, lang, config.segment):
            print(sentence)
    return EXIT_OK


def cmd_translate(args: argparse.Namespace, config: Config) -> int:
    from pipeline.langid import Detection, Guess
    from pipeline.run import Pipeline

    pipeline = Pipeline(config)
    if args.lang:
        from pipeline.languages import is_known

        if not is_known(args.lang):
            raise ConfigError(f"--lang {args.lang!r} is not a known language code")
        article = _read(args.file, config)
        article.detection = Detection(
            args.lang, 1.0, args.lang, [Guess(args.lang, 1.0) for _ in article.paragraphs], "--lang"
        )
    else:
        article, _ = pipeline.prepare(args.file, args.file.parent)
    translation = pipeline.translator.translate_article(article)
    if args.json:
        out = {
            "path": str(args.file),
            "lang": article.language,
            "models": translation.models,
            "decoding": translation.decoding,
            "sentences": [
                {
                    "paragraph": p.paragraph,
                    "lang": p.lang,
                    "route": p.route,
                    "source": p.source,
                    "english": p.english,
                    "flags": p.flags,
                    "notes": p.notes,
                }
                for p in translation.pairs
            ],
        }
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        if translation.title:
            print(f"# {translation.title}\n")
        print("\n\n".join(translation.paragraphs()))
    return EXIT_ARTICLES_FAILED if translation.flagged else EXIT_OK


# ---- models and doctor --------------------------------------------------------------------
def _routed_names(config: Config) -> list[str]:
    """The models config.yaml actually uses: routes, the default, and the summarizer."""
    names = {n for n in config.translate.routes.values() if n in config.models}
    names.add(config.translate.default)
    if config.summarize.method == "abstractive" and config.summarize.model:
        names.add(config.summarize.model)
    return sorted(names)


def cmd_models(args: argparse.Namespace, config: Config) -> int:
    from pipeline.models import ModelStore

    store = ModelStore(config.models_dir, config.models, config.runtime, config.base_dir)
    names = args.names or _routed_names(config)
    for name in names:
        store.spec(name)  # unknown names are a configuration error
    if args.action == "list":
        routes: dict[str, list[str]] = {}
        for lang, name in config.translate.routes.items():
            routes.setdefault(name, []).append(lang)
        statuses = store.status(names)  # resolving a model hashes its local weights: do it once
        for s in statuses:
            used = ", ".join(sorted(routes.get(s.name, [])))
            if s.name == config.translate.default:
                used = (used + ", " if used else "") + "every other language"
            if s.name == config.summarize.model:
                used = "summaries"
            state = f"present  {s.revision[:12]}" if s.present else "MISSING"
            backend = s.spec.backend + (f" {s.spec.quantization}" if s.spec.backend == "ctranslate2" else "")
            print(f"{s.name:<14} {s.spec.id:<40} {backend:<17} {state:<22} routes: {used}")
            if not s.present:
                print(f"{'':<14} {s.location}")
        return EXIT_OK if all(s.present for s in statuses) else EXIT_ARTICLES_FAILED
    if args.action == "download":
        return _download(store, names)
    if args.action == "verify":
        return _verify(config, store, names)
    if not args.names:  # by default, the models that run on CTranslate2
        names = [n for n in names if store.spec(n).backend == "ctranslate2"]
    return _convert(store, names)


def _download(store, names: list[str]) -> int:
    """Fetches each model (then converts it where its backend is ctranslate2), one line each.

    Without network this says so once per model and goes on at once: the Hub client would
    otherwise retry each model five times, for about 95 s and two dozen lines of noise.
    """
    from pipeline.models import hub_unreachable, is_network_error

    status = EXIT_OK
    offline = hub_unreachable() if any(not store.spec(n).path for n in names) else None
    for name in names:
        spec = store.spec(name)
        if offline and not spec.path:
            status = EXIT_ARTICLES_FAILED
            try:
                _, rev = store.source_path(name)
            except ArticleError:
                print(
                    f"{name}: not downloaded, no network ({offline}): {spec.id} is not in models/; "
                    "run `make models` where the Hub can be reached",
                    file=sys.stderr,
                )
                continue
            print(
                f"{name}: not updated, no network ({offline}); using {spec.id} @ {rev} in models/",
                file=sys.stderr,
            )
        else:
            try:
                path, rev = store.download(name)
                print(f"{name}: {spec.id} @ {rev} in {path}")
            except Exception as exc:  # no network, unknown revision, disk full: report each, go on
                print(f"{name}: download failed: {type(exc).__name__}: {exc}", file=sys.stderr)
                status = EXIT_ARTICLES_FAILED
                if is_network_error(exc):
                    offline = f"{type(exc).__name__}: {exc}"
        # Also after a failed download: a copy already here may need (re)converting offline.
        if spec.backend == "ctranslate2":
            status = max(status, _convert(store, [name]))
    return status


def _verify(config: Config, store, names: list[str]) -> int:
    """`models verify`: one line per model; non-zero when any model's output fails the checks."""
    from pipeline.verify import verify_models

    verdicts = verify_models(config, names, store)
    for v in verdicts:
        print(v.line(), file=sys.stdout if v.ok else sys.stderr)
        if v.vocabulary:  # the output vocabulary self-test's decision (pipeline/verify.py)
            print(f"{v.name}: {v.vocabulary}")
    return EXIT_OK if all(v.ok for v in verdicts) else EXIT_ARTICLES_FAILED


def _convert(store, names: list[str]) -> int:
    """Writes the CTranslate2 copy of each model whose backend is ctranslate2 (or of each named one)."""
    status = EXIT_OK
    for name in names:
        try:
            out = store.convert(name)
            print(f"{name}: {store.spec(name).id} → {out}")
        except ArticleError as exc:  # the source model is not downloaded
            print(f"{name}: {exc}", file=sys.stderr)
            status = EXIT_ARTICLES_FAILED
    return status


def cmd_doctor(args: argparse.Namespace, config: Config) -> int:
    from pipeline.models import ModelStore
    from pipeline.run import STATE_FILE, check_folders
    from pipeline.state import check_database

    problems: list[str] = []
    print(f"config      {Path(args.config).resolve()}: valid")
    inp, out = config.input_dir, config.output_dir
    try:
        check_folders(inp, out)
        print(f"input       {inp}: readable")
    except ConfigError as exc:
        problems.append(str(exc))
    damaged = check_database(out / STATE_FILE)
    if damaged:
        problems.append(f"{damaged}: the next run moves it aside and rebuilds it from the briefs")
    elif (out / STATE_FILE).exists():
        print(f"state       {out / STATE_FILE}: sound")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".doctor-probe"
        probe.write_text("ok")
        probe.unlink()
        print(f"output      {out}: writable")
    except OSError as exc:
        problems.append(f"output folder {out} is not writable: {exc}")
    store = ModelStore(config.models_dir, config.models, config.runtime, config.base_dir)
    present = []
    for s in store.status(_routed_names(config)):
        if s.present:
            print(f"model       {s.name}: {s.spec.id} present ({s.revision})")
            present.append(s.name)
        else:
            problems.append(s.location)
    if present and not config.translate.checks.enabled:
        # config.tiny.yaml: random models whose output the config itself says not to check.
        print("verify      skipped: translate.checks.enabled is false (run `newsbrief models verify`)")
    elif present:  # what `models verify` says: each model's output on built-in texts, checked
        from pipeline.verify import verify_models

        for verdict in verify_models(config, present, store):
            if verdict.ok:
                print(f"verify      {verdict.line()}")
            if verdict.vocabulary:
                print(f"vocabulary  {verdict.name}: {verdict.vocabulary}")
            else:
                problems.append(verdict.line())
    free_gb = shutil.disk_usage(out if out.exists() else config.base_dir).free / 1e9
    print(f"disk        {free_gb:.1f} GB free")
    if free_gb < 1:
        problems.append(f"only {free_gb:.1f} GB free on the output disk")
    for p in problems:
        print(f"PROBLEM     {p}")
    print("ok: ready for a nightly run" if not problems else f"{len(problems)} problem(s) to fix")
    return EXIT_OK if not problems else EXIT_CONFIG
