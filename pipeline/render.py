"""Render: Markdown briefs and digests from Jinja2 templates, written atomically.

Escape at the edge: every string that came from input (file names, titles, article text,
warnings) goes through the filter for the place it lands, so no input can create a link, an
HTML tag, a table column or a Liquid/Hugo template tag on the site that publishes our files:
`md_text` (running text), `md_table_cell`, `md_link_text`, `md_inline` (code, e.g. a file name)
and `html_text` (inside an HTML element). Front matter is produced by yaml.safe_dump (never by
templating YAML by hand), so any title or warning stays valid YAML. Every file is written to a
temporary name and renamed into place, so a run killed mid-write leaves no half-written output.
"""

from __future__ import annotations

import hashlib
import html
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
from pipeline.errors import OutputError
from pipeline.languages import name_of

# Jekyll and Hugo read the front matter of every file we write: tell Jekyll not to run Liquid
# over it (our text cannot hold template tags anyway; this guards the templates' own text too).
SITE_FRONT_MATTER = {"render_with_liquid": False}


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
    env.filters["md"] = md_text
    env.filters["cell"] = md_table_cell
    env.filters["line"] = md_table_cell  # a heading: one line
    env.filters["link_text"] = md_link_text
    env.filters["code"] = md_inline
    env.filters["html"] = html_text
    env.filters["link"] = markdown_link
    env.filters["link_target"] = link_target
    return env


# Characters written as HTML character references wherever input text lands. Markdown shows
# `&#91;` as `[` but never reads it as structure, so this one rule covers links and images
# (`[`, `]`), HTML (`<`, `>`, `&`), emphasis and code (`*`, `_`, `~`, backquote, `\`) and
# table columns (`|`). `{` and `}` too: Liquid (`{% %}`, `{{ }}`) and Hugo shortcodes
# (`{{< >}}`) are expanded from the raw file before any Markdown is read, and neither sees a
# brace in `&#123;`. A plain search of the file for `](javascript:`, `<img` or `{%` finds nothing.
_SPECIAL_RE = re.compile(r"[&<>{}\[\]|\\`*_~]")
# A line start that Markdown would read as block structure: heading, list, rule, setext line.
# Each needs a space or the line's end after it ("-5", "2025-07-02" are plain text).
_BLOCK_RE = re.compile(r"^(\s*)(#{1,6}|\d{1,9}[.)]|[+-]|=+|-+)(?=[ \t]|$)", re.MULTILINE)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def _ref(ch: str) -> str:
    return f"&#{ord(ch)};"


def visible_controls(text: str) -> str:
    """Control characters (a NUL, a tab or line separator inside a name) as visible escapes."""
    return _CONTROL_RE.sub(lambda m: ascii(m.group())[1:-1], text)


def md_text(text: object) -> str:
    """Running Markdown text that shows exactly `text` and creates no structure: no HTML, link,
    image, emphasis, code, table column, heading, list or template tag. Line breaks are kept."""
    text = _SPECIAL_RE.sub(lambda m: _ref(m.group()), visible_controls(str(text)))
    return _BLOCK_RE.sub(_escape_block_start, text)


def _escape_block_start(m: re.Match) -> str:
    lead, mark = m.group(1), m.group(2)
    if mark[0].isdigit():  # "12." stays readable as "12&#46;"
        return f"{lead}{mark[:-1]}{_ref(mark[-1])}"
    return f"{lead}{_ref(mark[0])}{mark[1:]}"


escape_markdown = md_text  # the name earlier code used


def md_table_cell(text: object) -> str:
    """`md_text` on one line: a line break would end the table row (`|` is already escaped)."""
    return md_text(re.sub(r"\s*\n\s*", " ", str(text)))


def md_link_text(text: object) -> str:
    """The text between `[` and `]` of a link: one line, no bracket or nested link left live."""
    return md_table_cell(text)


def html_text(text: object) -> str:
    """Text inside an HTML element (`<summary>…</summary>`): one line, references as in md_text."""
    return md_table_cell(text)


def md_inline(text: object) -> str:
    """A verbatim, code-styled string such as a file name, safe in running text, a table cell
    and link text.

    Written as an HTML `<code>` element rather than a backtick span: inside backticks nothing
    can be escaped, so a name holding `{%` or `{{<` would reach Liquid or Hugo as a live tag
    and a `|` would still split a table row. Character references escape all of them and still
    show (and copy) the exact characters. Line breaks and other control characters are shown as
    `\\n`, `\\x00`, the way the printable file name already shows bytes that are not UTF-8.
    """
    text = visible_controls(str(text)).replace("\n", "\\n")
    return f"<code>{_SPECIAL_RE.sub(lambda m: _ref(m.group()), text)}</code>"


def md_unescape(text: str) -> str:
    """The text `md_text` was given (control characters aside): for reading our own briefs back
    when the state database is rebuilt from them."""
    return html.unescape(text)


def web_url(url: str | None) -> str | None:
    """An http(s) URL with everything that could end a link destination or an HTML attribute
    percent-encoded (spaces, brackets, quotes, angle brackets, backslashes, controls), or None
    for anything else (javascript:, data:, file:, relative or malformed): only web addresses
    become links. The site's templates escape `&` themselves (autoescape)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return None
    except ValueError:
        return None
    safe = "/:?#@!$&*+,;=%~-._"
    rest = quote(urlunsplit(parts._replace(scheme="", netloc="")), safe=safe)
    return f"{parts.scheme.lower()}://{quote(parts.netloc, safe=safe + '[]')}{rest}"


def link_target(url: str | None) -> str | None:
    """`web_url` as a Markdown link destination: `&` becomes an entity, which Markdown decodes back."""
    url = web_url(url)
    return url.replace("&", "&amp;") if url else None


def markdown_link(url: str | None, text: str | None = None) -> str:
    """`[text](url)` for an http(s) URL, else the text (or URL) as escaped plain text."""
    label = md_link_text(text or url or "")
    target = link_target(url)
    return f"[{label}]({target})" if target else label


def slugify(text: str, max_len: int = 60) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_len].rstrip("-")


def brief_filename(article: Article, is_taken: Callable[[str], bool]) -> str:
    """`<date>-<lang>-<slug>.md`, unique within the folder; only [a-z0-9-] from any input.

    A taken name (another article's brief, or a published brief that must not be overwritten)
    gets the source file's short hash, then a counter."""
    assert article.summary is not None  # noqa: S101
    date = str(article.date) if article.date else "undated"
    slug = slugify(article.summary.headline) or article.sha256[:8]
    base = f"{date}-{slugify(article.language) or 'und'}-{slug}"
    name = f"{base}.md"
    if is_taken(name):  # two articles, one headline: the source file's name tells them apart
        base = f"{base}-{hashlib.sha256(article.source_file.encode()).hexdigest()[:8]}"
        name, n = f"{base}.md", 1
        while is_taken(name):
            n += 1
            name = f"{base}-{n}.md"
    return name


def front_matter(article: Article, fingerprint: str | None = None) -> dict[str, Any]:
    """The brief's YAML front matter. `fingerprint` (of the models and settings that made it)
    lets a lost state database be rebuilt from the briefs without translating anything again."""
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
        # Which output vocabulary each language's model decoded with, and why (docs/fast-path.md).
        "output_vocabulary": dict(sorted(tr.vocabularies.items())),
        "fallback_sentences": tr.fallback_count,
        "summary_model": sm.model,
        "summary_method": sm.method,
        "summary_chunks": sm.chunks,
        "warnings": list(article.warnings),
        **({"pipeline_fingerprint": fingerprint} if fingerprint else {}),
        **SITE_FRONT_MATTER,
    }


def _model_ref(m: dict[str, str]) -> str:
    if not m:
        return "none"
    if m.get("model") == "passthrough":
        return "passthrough (English, not translated)"
    return f"{m['model']}@{m['revision']}"


def translated_by(models: dict[str, dict[str, str]]) -> str:
    """ "Lithuanian: Helsinki-NLP/opus-mt-tc-big-lt-en@…, …": which model translated each language."""
    return ", ".join(f"{name_of(lang)}: {_model_ref(m)}" for lang, m in sorted(models.items()))


def render_brief(article: Article, fingerprint: str | None = None) -> str:
    det, tr, sm = article.detection, article.translation, article.summary
    assert det is not None and tr is not None and sm is not None  # noqa: S101
    if article.date:
        dateline = str(article.date)
    else:
        why = f"{article.date_note}; " if article.date_note else ""
        dateline = f"Date unknown ({why}ingested {article.ingested_at:%Y-%m-%d})"
    dateline += f" · {name_of(article.language)} ({article.language}, confidence {det.confidence:.2f})"
    others = [name_of(lang) for lang in det.languages[1:]]
    if others:
        dateline += " · also in " + ", ".join(others)
    # Sentences with flags are marked where they stand, so a reader sees which text to distrust.
    paragraphs: dict[int, list[str]] = {}
    for p in tr.pairs:
        if p.paragraph >= 0:
            # The sentence is input (escaped); the mark is ours and stays readable in the file.
            text = md_text(p.english) + (f" [⚠ {md_text('; '.join(p.flags))}]" if p.flags else "")
            paragraphs.setdefault(p.paragraph, []).append(text)
    fm = dump_front_matter(front_matter(article, fingerprint))
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
            translation=[" ".join(paragraphs[i]) for i in sorted(paragraphs)],  # escaped above
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
            translated_by=translated_by(tr.models),
            summarized_by=f"summary: {sm.model}",
            summary_method=sm.method,
        )
    )


class _FrontMatterDumper(yaml.SafeDumper):
    """Strings holding markup characters are written double-quoted, with those characters as
    `\\xNN` escapes: YAML reads back the exact string, and a template, a site generator or a
    plain search of the file never meets a raw `<img`, `{%` or `](` from input."""


_YAML_SPECIAL = "<>{}[]&`|"


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = '"' if any(ch in value for ch in _YAML_SPECIAL) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_FrontMatterDumper.add_representer(str, _represent_str)
_QUOTED_RE = re.compile(r'"(?:[^"\\]|\\.)*"')


def dump_front_matter(data: dict[str, Any]) -> str:
    """YAML for between the `---` lines. Every string is quoted or escaped by the dumper, so no
    value can end the front matter early or smuggle in a key."""
    text = yaml.dump(data, Dumper=_FrontMatterDumper, allow_unicode=True, sort_keys=False, width=1000)
    # Only the double-quoted scalars hold input's markup characters (`{}`/`[]` elsewhere are
    # YAML's own empty mappings and lists); inside them `\xNN` is a YAML escape.
    return _QUOTED_RE.sub(
        lambda m: "".join(f"\\x{ord(c):02X}" if c in _YAML_SPECIAL else c for c in m.group()), text
    )


def render_page(template: str, front: dict[str, Any], **context: Any) -> str:
    """One of our Markdown pages: `front` (plus the site keys) as escaped front matter, then the
    template rendered with `context`."""
    front_matter = dump_front_matter({**front, **SITE_FRONT_MATTER})
    return environment().get_template(template).render(front_matter=front_matter, **context)


def read_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """The front matter of one of our files and the body after it; ({}, text) if it has none."""
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---\n", 3)
    if end < 0:
        return {}, text
    data = yaml.safe_load(text[4 : end + 1])
    return (data if isinstance(data, dict) else {}), text[end + 5 :]


# The line the brief template writes after each flagged sentence of the translation.
_FLAG_RE = re.compile(r" \[⚠ [^\]]*\]")


def read_brief(path: Path) -> dict[str, Any] | None:
    """Reads one of our briefs back into what the state database keeps of it (for State.rebuild),
    or None for a file that is not a brief. The digest entry is re-made from the brief's own
    sections, so a day's digest can still be rebuilt; sentences are the translation's paragraphs
    (the brief does not keep sentence boundaries)."""
    data, body = read_front_matter(path.read_text(encoding="utf-8"))
    source, sha = data.get("source_file"), data.get("sha256")
    if not isinstance(source, str) or not isinstance(sha, str):
        return None
    ingested = str(data.get("ingested") or "")
    sections = _sections(body)
    paragraphs = [md_unescape(p) for p in _blocks(sections.get("Full translation", ""))]
    flagged = [i for i, p in enumerate(paragraphs) if _FLAG_RE.search(p)]
    lang = str(data.get("source_language") or "und")
    date, precision = data.get("date"), data.get("date_precision")
    try:
        from pipeline.dates import ArticleDate

        sort_date = ArticleDate.parse(str(date)).sort_key() if date else (0, 0, 0)
    except ValueError:
        sort_date = (0, 0, 0)
    points = sections.get("Key points", "")
    summary = [b for b in _blocks(sections.get("Summary", "")) if not b.startswith("*Extractive summary")]
    entry = {
        "brief": f"briefs/{path.name}",
        "date": str(date) if date else f"undated (ingested {ingested[:10]})",
        "language": lang,
        "language_name": name_of(lang),
        "source_file": source,
        "headline": str(data.get("title") or ""),
        "summary": md_unescape(" ".join(summary)),
        "warnings": [str(w) for w in data.get("warnings") or []],
        "flagged_sentences": len(flagged),
        "sort_key": [list(sort_date), source],
        "date_precision": precision,
        "sentences": [_FLAG_RE.sub("", p) for p in paragraphs],
        "flagged": flagged,
        "key_points": [md_unescape(x[2:]) for x in points.split("\n") if x.startswith("- ")],
        "summary_method": str(data.get("summary_method") or ""),
        "fallback_sentences": int(data.get("fallback_sentences") or 0),
        "vocabulary_map": any(
            not str(v).startswith("all") for v in (data.get("output_vocabulary") or {}).values()
        ),
        "source_url": data.get("source_url"),
        "feed_title": data.get("feed"),
        "translated_by": translated_by(data.get("translation") or {}),
        **_original(body),
    }
    return {
        "source_file": source,
        "sha256": sha,
        "fingerprint": str(data.get("pipeline_fingerprint") or "unknown (rebuilt from the brief)"),
        "run_date": ingested[:10] or "unknown",
        "language": lang,
        "brief": f"briefs/{path.name}",
        "entry": entry,
        "superseded": bool(data.get("superseded_by")),
        "ingested": ingested,
    }


def _original(body: str) -> dict[str, Any]:
    """The original title and paragraphs from the brief's `<details>` block; the translation's
    paragraphs are the brief's, one sentence each (for the site's side-by-side view)."""
    details = body.split("\n<details>", 1)[1].split("</details>", 1)[0] if "\n<details>" in body else ""
    blocks = _blocks(details.split("</summary>", 1)[1]) if "</summary>" in details else []
    title = None
    if blocks and blocks[0].startswith("**") and blocks[0].endswith("**"):
        title = md_unescape(blocks.pop(0)[2:-2])
    sentences = _blocks(_sections(body).get("Full translation", ""))
    return {
        "original": [md_unescape(b) for b in blocks],
        "original_title": title,
        "paragraphs": list(range(len(sentences))),
    }


def _sections(body: str) -> dict[str, str]:
    """The brief's `## ` sections by heading; the original text (in <details>) is cut off."""
    out: dict[str, str] = {}
    for part in re.split(r"^## ", body, flags=re.MULTILINE)[1:]:
        heading, _, text = part.partition("\n")
        out[heading.strip()] = text.split("\n<details>", 1)[0]
    return out


def _blocks(text: str) -> list[str]:
    return [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]


def mark_superseded(path: Path, newer: str, reason: str) -> None:
    """Adds to a published brief a line pointing to the brief that replaces it (`newer`, a path
    relative to the output folder), and `superseded_by` to its front matter. The brief itself
    stays where it is: digests and readers that link to it keep working."""
    data, body = read_front_matter(path.read_text(encoding="utf-8"))
    if data.get("superseded_by") == newer:
        return
    data["superseded_by"] = newer
    target = Path(newer).name  # briefs link to each other inside briefs/
    link = f"[{md_link_text(target)}]({target})"
    note = f"> **Superseded:** {md_text(reason)}. The current brief is {link}.\n\n"
    # The note goes under the headline, where a reader who followed an old link sees it first.
    lines = body.split("\n")
    at = next((i + 1 for i, line in enumerate(lines) if line.startswith("# ")), 0)
    body = "\n".join(lines[:at]) + ("\n\n" if at else "") + note + "\n".join(lines[at:]).lstrip("\n")
    write_atomic(path, f"---\n{dump_front_matter(data)}---\n{body}")


def write_atomic(path: Path, text: str | bytes) -> None:
    """Writes text (or bytes, as they are) to a temporary file in the same folder, fsyncs it,
    and renames it into place.

    The file gets the permissions the user's umask gives a new file (0644 under umask 022), not
    mkstemp's private 0600: a web server or a colleague must be able to read what we publish.
    A failure to write (read-only folder, disk full) is an OutputError naming the file; the
    file that was in place before is left as it was.
    """
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            os.fchmod(fd, 0o666 & ~current_umask())
            data = text.encode("utf-8") if isinstance(text, str) else text
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def current_umask() -> int:
    """The process umask (reading it means setting it: put it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
