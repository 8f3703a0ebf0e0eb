"""Render: Markdown briefs and digests from Jinja2 templates, written atomically.

Front matter is produced by yaml.safe_dump (never by templating YAML by hand), so any title or
warning, whatever characters it holds, stays valid YAML. Every file is written to a temporary
name and renamed into place, so a run killed mid-write leaves no half-written output.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import yaml
from jinja2 import Environment, PackageLoader, StrictUndefined

from pipeline.article import Article
from pipeline.languages import name_of


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("pipeline", "templates"),
        autoescape=False,  # Markdown, not HTML; text is escaped by the `md` filter instead
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=StrictUndefined,
    )
    env.filters["md"] = escape_markdown
    env.filters["cell"] = lambda s: escape_markdown(str(s)).replace("|", "\\|").replace("\n", " ")
    env.filters["link"] = markdown_link
    env.filters["link_target"] = link_target
    return env


def escape_markdown(text: str) -> str:
    """Keeps input text from turning into HTML or Markdown structure (headings, quotes, lists)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"^(\s*)([#>+*-]|\d+\.)(\s)", r"\1\\\2\3", text, flags=re.MULTILINE)


def link_target(url: str | None) -> str | None:
    """An http(s) URL made safe as a Markdown link destination, or None for anything else
    (javascript:, data:, file:, relative or malformed): only web addresses become links."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    # Percent-encode what could end the destination or start markup (spaces, brackets, quotes,
    # angle brackets, backslashes, controls); `&` becomes an entity, which Markdown decodes back.
    safe = "/:?#@!$&*+,;=%~-._"
    rest = quote(urlunsplit(parts._replace(scheme="", netloc="")), safe=safe)
    url = f"{parts.scheme.lower()}://{quote(parts.netloc, safe=safe + '[]')}{rest}"
    return url.replace("&", "&amp;")


def markdown_link(url: str | None, text: str | None = None) -> str:
    """`[text](url)` for an http(s) URL, else the text (or URL) as escaped plain text."""
    label = escape_markdown(text or url or "").replace("[", "\\[").replace("]", "\\]").replace("\n", " ")
    target = link_target(url)
    return f"[{label}]({target})" if target else label


def slugify(text: str, max_len: int = 60) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_len].rstrip("-")


def brief_filename(article: Article, is_taken: Callable[[str], bool]) -> str:
    """`<date>-<lang>-<slug>.md`, unique within the folder; only [a-z0-9-] from any input."""
    assert article.summary is not None  # noqa: S101
    date = str(article.date) if article.date else "undated"
    slug = slugify(article.summary.headline) or article.sha256[:8]
    name = f"{date}-{slugify(article.language) or 'und'}-{slug}.md"
    if is_taken(name):  # two articles, one headline: the source file's name tells them apart
        name = f"{name[:-3]}-{hashlib.sha256(article.source_file.encode()).hexdigest()[:8]}.md"
    return name


def front_matter(article: Article) -> dict[str, Any]:
    det, tr, sm = article.detection, article.translation, article.summary
    assert det is not None and tr is not None and sm is not None  # noqa: S101
    main = (
        tr.models.get(article.language) or tr.models.get(det.best_guess) or next(iter(tr.models.values()), {})
    )
    return {
        "title": sm.headline,
        "date": str(article.date) if article.date else None,
        "date_precision": article.date.precision if article.date else None,
        "date_source": article.date_source,
        "ingested": article.ingested_at.isoformat(timespec="seconds"),
        "source_language": article.language,
        "language_confidence": det.confidence,
        "languages": det.languages,
        "source_file": article.source_file,
        **({"source_url": article.source_url} if article.source_url else {}),
        **({"feed": article.feed_title} if article.feed_title else {}),
        "sha256": article.sha256,
        "translation_model": _model_ref(main),
        "translation": {lang: dict(m) for lang, m in sorted(tr.models.items())},
        "decoding": tr.decoding,
        "fallback_sentences": tr.fallback_count,
        "summary_model": sm.model,
        "summary_method": sm.method,
        "summary_chunks": sm.chunks,
        "warnings": list(article.warnings),
    }


def _model_ref(m: dict[str, str]) -> str:
    if not m:
        return "none"
    if m.get("model") == "passthrough":
        return "passthrough (English, not translated)"
    return f"{m['model']}@{m['revision']}"


def render_brief(article: Article) -> str:
    det, tr, sm = article.detection, article.translation, article.summary
    assert det is not None and tr is not None and sm is not None  # noqa: S101
    if article.date:
        dateline = str(article.date)
    else:
        dateline = f"Date unknown (ingested {article.ingested_at:%Y-%m-%d})"
    dateline += f" · {name_of(article.language)} ({article.language}, confidence {det.confidence:.2f})"
    others = [name_of(lang) for lang in det.languages[1:]]
    if others:
        dateline += " · also in " + ", ".join(others)
    # Sentences with flags are marked where they stand, so a reader sees which text to distrust.
    paragraphs: dict[int, list[str]] = {}
    for p in tr.pairs:
        if p.paragraph >= 0:
            text = p.english + (f" [⚠ {'; '.join(p.flags)}]" if p.flags else "")
            paragraphs.setdefault(p.paragraph, []).append(text)
    fm = yaml.safe_dump(front_matter(article), allow_unicode=True, sort_keys=False, width=1000)
    return (
        environment()
        .get_template("brief.md.j2")
        .render(
            front_matter=fm,
            headline=sm.headline,
            dateline=dateline,
            warnings=article.warnings,
            key_points=sm.key_points,
            summary=sm.summary or "(empty)",
            translation=[" ".join(paragraphs[i]) for i in sorted(paragraphs)],
            language_name=name_of(det.best_guess),
            original_title=article.title,
            original=article.paragraphs,
            source_file=article.source_file,
            source_url=article.source_url,
            source_host=urlsplit(article.source_url).hostname if link_target(article.source_url) else None,
            feed_title=article.feed_title,
            sha256=article.sha256,
            encoding=article.encoding,
            removed=article.removed,
            translated_by=", ".join(
                f"{name_of(lang)}: {_model_ref(m)}" for lang, m in sorted(tr.models.items())
            ),
            summarized_by=f"summary: {sm.model}",
            summary_method=sm.method,
        )
    )


def write_atomic(path: Path, text: str) -> None:
    """Writes text to a temporary file in the same folder, fsyncs it, and renames it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
