"""Ingest: one input file becomes an `Article` with clean paragraphs, a title and a date.

Decoding: a BOM decides; then bytes that are valid UTF-8 are UTF-8 (UTF-8 validates itself:
text in another encoding almost never passes a strict decode, while charset-normalizer's guess
on a short line may be gb18030 or cp949); then a mostly-UTF-8 file with a few broken bytes is
UTF-8 with those bytes replaced and counted; only the rest goes to charset-normalizer (trying
codecs in turn is wrong because a UTF-16 decode of arbitrary bytes "succeeds").
HTML pages go through trafilatura. Page furniture (a repeated title, a photo caption, a share
line and the teasers after it) is removed and what was removed is recorded on the article.

The input folder is filled by other people and programs, so nothing about it is trusted: a
file name whose bytes are not UTF-8 is shown in a printable form (`bad\\xff.txt`), a symlink
that leads outside the folder is refused (`ingest.symlinks`), NUL bytes are removed and
counted, and a `date` header that is not a date is reported instead of read as text.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
import re
import stat
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pipeline.article import Article
from pipeline.dates import ArticleDate, parse_date_line, read_header
from pipeline.errors import IngestError

log = logging.getLogger("newsbrief.ingest")

COMPRESSED_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"PK\x03\x04": "zip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"7z\xbc\xaf\x27\x1c": "7z",
    b"\x28\xb5\x2f\xfd": "zstd",
}
BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]
HTML_SNIFF = re.compile(rb"^\s*(<!doctype html|<html|<head|<meta|<body)", re.IGNORECASE)
SENTENCE_END = tuple(".!?…:;\"'»“”")
# `newsbrief fetch` saves `<item>.html` with `<item>.feed.json` beside it: what the feed said.
SIDECAR_SUFFIX = ".feed.json"


class IngestOptions(BaseModel):
    """How input files are read.

    Attributes:
        extensions: file suffixes read as articles; other files are reported, not read.
        max_bytes: larger files are refused (a news article is rarely over 100 KB).
        max_paragraph_chars: a longer paragraph is refused: it is not news text, and would
            cost thousands of model calls.
        date_lines: how many leading lines may hold a stand-alone localised date.
        share_markers: a short line starting with one of these ends the story; the rest
            of the page (teasers, related articles) is dropped.
        caption_markers: a short line holding one of these is a photo caption.
        title_max_chars: a first line this short, without closing punctuation, is a title.
        symlinks: what a symlink in the input folder may lead to. `inside` (default): a file
            inside the input folder, else it is refused (a link to /etc/passwd must never be
            published); `follow`: anything the user running the job can read; `skip`: symlinks
            are not read at all (logged, not listed as failures).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    extensions: list[str] = [".txt", ".text", ".md", ".markdown", ".html", ".htm"]
    max_bytes: int = Field(2_000_000, gt=0)
    max_paragraph_chars: int = Field(50_000, gt=0)
    date_lines: int = Field(3, ge=0)
    share_markers: list[str] = [
        "Сподели", "Споделете", "Share", "Share this", "Share this article", "Dalintis", "Pasidalinkite",
        "Paylaş", "Paylaşın", "გაზიარება", "Teilen", "Partager", "Compartir", "Condividi",
        "Udostępnij", "Поделиться", "Поділитися", "Podijeli", "Sdílet", "Dalīties", "Jaga",
        "Read also", "Read more", "Related", "Прочетете още", "Skaitykite daugiau", "Həmçinin oxuyun",
    ]  # fmt: skip
    caption_markers: list[str] = [
        "снимка:", "снимки:", "фото:", "photo:", "photo by", "photograph:", "picture:", "foto:",
        "nuotr.", "nuotrauka", "ფოტო:", "ფოტო -", "şəkil:", "bild:", "credit:", "getty images",
        "©", "afp/", "reuters/", "ap photo",
    ]  # fmt: skip
    title_max_chars: int = Field(160, gt=0)
    symlinks: Literal["inside", "follow", "skip"] = "inside"


def printable_name(name: str) -> str:
    """A file name as text that can be logged, stored and published: bytes that are not UTF-8
    (os.fsdecode keeps them as surrogates, which no encoder accepts) become `\\xff`."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def source_name(path: Path, input_root: Path) -> str:
    """The name an input file goes by everywhere (state, briefs, digest, log): its printable
    path relative to the input folder."""
    rel = path.relative_to(input_root).as_posix() if path.is_relative_to(input_root) else path.name
    return printable_name(rel)


def resolve_input(path: Path, input_root: Path, options: IngestOptions) -> Path:
    """The path to read for `path`: the file itself, or a symlink's target where
    `ingest.symlinks` allows it. Raises IngestError for a link that leads outside the folder."""
    if not path.is_symlink() or options.symlinks == "follow":
        return path
    if options.symlinks == "skip":
        raise IngestError("a symlink, and ingest.symlinks is 'skip'")
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:  # broken link, loop
        raise IngestError(f"cannot read the file: {getattr(exc, 'strerror', None) or exc}") from exc
    if not target.is_relative_to(input_root.resolve()):
        raise IngestError(
            "symlink to a file outside the input folder: not read (ingest.symlinks: inside); "
            "set ingest.symlinks: follow to read such links"
        )
    return target


def iter_input_files(folder: Path, symlinks: str = "inside") -> Iterator[Path]:
    """Every regular-looking file below `folder`, sorted, hidden files skipped.

    Directory symlinks are not followed (a loop cannot trap the walk); file symlinks are
    yielded (and checked by `resolve_input`), unless `symlinks` is 'skip'.
    """
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or _is_sidecar(Path(root) / name):
                continue
            path = Path(root) / name
            if symlinks == "skip" and path.is_symlink():
                log.info("%s: a symlink, not read (ingest.symlinks: skip)", printable_name(str(path)))
                continue
            yield path


def read_article(path: Path, input_root: Path, options: IngestOptions) -> Article:
    """Reads one file into an Article, or raises IngestError saying why it cannot."""
    rel = source_name(path, input_root)
    suffix = path.suffix.lower()
    if suffix and suffix not in options.extensions:
        ext = printable_name(suffix)
        raise IngestError(f"unsupported file type {ext!r} (read: {', '.join(options.extensions)})")
    try:
        path = resolve_input(path, input_root, options)
        st = path.stat()  # follows symlinks; a loop raises ELOOP here
        if not stat.S_ISREG(st.st_mode):
            raise IngestError("not a regular file (a FIFO, socket or device is never read)")
        size = st.st_size
        if size > options.max_bytes:
            raise IngestError(
                f"file is {size / 1e6:.1f} MB, over the {options.max_bytes / 1e6:.1f} MB limit "
                "(ingest.max_bytes in config.yaml)"
            )
        data = path.read_bytes()
    except OSError as exc:  # permissions, symlink loops, vanished files
        raise IngestError(f"cannot read the file: {exc.strerror or exc}") from exc
    sha = hashlib.sha256(data).hexdigest()
    text, encoding, replaced = decode(data)
    text, nuls = text.replace("\x00", ""), text.count("\x00")
    if suffix in (".html", ".htm") or HTML_SNIFF.match(data[:512]):
        article = _from_html(text, path, rel, sha, encoding)
    else:
        article = _from_text(text, path, rel, sha, encoding, options, markdown=suffix in (".md", ".markdown"))
    if not article.paragraphs:
        raise IngestError("no article text left after removing page furniture")
    if nuls:  # NULs end strings in C tools and some renderers: never copied into a brief
        article.warn(f"{nuls} NUL byte(s) removed from the text")
    if replaced:
        article.warn(f"{replaced} invalid UTF-8 byte sequence(s) in the file, each replaced with U+FFFD")
    longest = max(len(p) for p in article.paragraphs)
    if longest > options.max_paragraph_chars:
        raise IngestError(
            f"a single paragraph of {longest:,} characters, over ingest.max_paragraph_chars "
            f"({options.max_paragraph_chars:,}): not a news article (a data dump?)"
        )
    _read_sidecar(article, path)
    return article


def decode(data: bytes) -> tuple[str, str, int]:
    """Bytes to text with the right codec, and how many invalid bytes were replaced.

    Raises IngestError for empty, compressed or binary data.
    """
    if not data.strip():
        raise IngestError("empty file" if not data else "the file holds only white space")
    for magic, kind in COMPRESSED_MAGIC.items():
        if data.startswith(magic):
            raise IngestError(f"compressed ({kind}) file: decompress it into the input folder first")
    replaced = 0
    for bom, codec in BOMS:
        if data.startswith(bom):
            text, encoding = data.decode(codec), codec
            break
    else:
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            mostly = _mostly_utf8(data)
            if mostly is not None:
                text, replaced = mostly
                encoding = "utf-8"
            else:
                from charset_normalizer import from_bytes

                best = from_bytes(data).best()
                if best is None:
                    raise IngestError("not a text file (no text encoding fits: binary data?)") from None
                text, encoding = str(best), best.encoding
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    if _control_ratio(text) > 0.01:
        raise IngestError(f"not a text file (decoded as {encoding}, but full of control characters)")
    if not text.strip():
        raise IngestError("the file holds only white space")
    return text, encoding, replaced


# A file is "UTF-8 with a few broken bytes" when its valid multi-byte characters outnumber its
# invalid sequences at least this many times. Text in a single-byte code page (cp1251, Latin-1)
# read as UTF-8 is nearly all invalid sequences: a lead byte followed by continuation bytes
# (0x80-0xBF, rare symbols in those code pages) arises from it only by chance.
_MIN_VALID_PER_INVALID = 2


def _mostly_utf8(data: bytes) -> tuple[str, int] | None:
    """The text and the number of invalid sequences replaced, if `data` is UTF-8 with a few broken
    bytes (a truncated copy, one stray Latin-1 byte); None if it is some other encoding."""
    text = data.decode("utf-8", errors="replace")
    # U+FFFD written as proper UTF-8 (EF BF BD) is text, not a replacement.
    replaced = text.count("\ufffd") - data.count("\ufffd".encode())
    multibyte = sum(1 for ch in text if ord(ch) > 0x7F and ch != "\ufffd")
    if multibyte >= _MIN_VALID_PER_INVALID * replaced:
        return text, replaced
    return None


def _control_ratio(text: str) -> float:
    sample = text[:20000]
    bad = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\n\t\f\v")
    return bad / max(1, len(sample))


def _from_html(text: str, path: Path, rel: str, sha: str, encoding: str) -> Article:
    import trafilatura

    doc = trafilatura.bare_extraction(text, with_metadata=True, include_comments=False, include_tables=False)
    body = (doc.text if doc else "") or ""
    if not body.strip():
        raise IngestError("HTML page without article text (trafilatura found none)")
    article = Article(path, rel, sha, encoding, paragraphs=_paragraphs(body), title=(doc.title or None))
    if doc.date:
        try:
            article.date, article.date_source = ArticleDate.parse(doc.date[:10]), "html"
        except ValueError:
            log.debug("%s: unusable HTML date %r", rel, doc.date)
    article.removed.append("HTML markup and page navigation (trafilatura)")
    return article


def _from_text(
    text: str, path: Path, rel: str, sha: str, encoding: str, options: IngestOptions, markdown: bool
) -> Article:
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), 0)
    header = read_header(lines[first])
    lines[first] = header.rest
    paragraphs = _paragraphs("\n".join(lines))
    article = Article(path, rel, sha, encoding, paragraphs=paragraphs)
    if header.date:
        article.date, article.date_source = header.date, "header"
    else:
        _take_date_line(article, options)
    if header.problem:
        if article.date is None:
            article.date_note = header.problem
        article.warn(f"{header.problem}: ignored" + ("" if article.date else "; the date is unknown"))
    if markdown:
        article.paragraphs = [_strip_markdown(p) for p in article.paragraphs]
    _take_title(article, options, markdown)
    _drop_captions(article, options)
    _cut_at_share_line(article, options)
    return article


def _paragraphs(text: str) -> list[str]:
    """Every non-empty line is a paragraph, unless the text is hard-wrapped into blocks."""
    blocks = [b for b in re.split(r"\n\s*\n", text) if b.strip()]
    wrapped = sum(1 for b in blocks if b.strip().count("\n") >= 2 and max(map(len, b.split("\n"))) <= 100)
    if blocks and wrapped / len(blocks) >= 0.5:
        return [" ".join(line.strip() for line in b.split("\n") if line.strip()) for b in blocks]
    return [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n") if line.strip()]


def _norm(s: str) -> str:
    return re.sub(r"\W+", " ", s).strip().casefold()


def _take_date_line(article: Article, options: IngestOptions) -> None:
    for i, para in enumerate(article.paragraphs[: options.date_lines]):
        found = parse_date_line(para)
        if found:
            article.date, article.date_source = found, "text"
            del article.paragraphs[i]
            return


def _strip_markdown(p: str) -> str:
    p = re.sub(r"^#{1,6}\s+", "# ", p)  # keep one marker so the title rule can see it
    p = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", p)  # images
    p = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", p)  # links keep their text
    return re.sub(r"(\*\*|__|\*|_|`)(\S.*?\S|\S)\1", r"\2", p).strip()


def _take_title(article: Article, options: IngestOptions, markdown: bool) -> None:
    paras = article.paragraphs
    if not paras:
        return
    if markdown and paras[0].startswith("# "):
        article.title = paras.pop(0)[2:].strip()
    elif len(paras) >= 2 and _norm(paras[0]) == _norm(paras[1]):
        article.title = paras.pop(0)
        paras.pop(0)
        article.removed.append("the title repeated on the next line")
    elif len(paras) >= 3 and len(paras[0]) <= options.title_max_chars and not paras[0].endswith(SENTENCE_END):
        article.title = paras.pop(0)
    # A repeated title further down (a web page's second headline) is furniture too.
    if article.title:
        before = len(paras)
        paras[:] = [p for p in paras if _norm(p) != _norm(article.title)]
        if len(paras) < before:
            article.removed.append("the title repeated in the body")
    for i, p in enumerate(paras):
        paras[i] = p[2:].strip() if p.startswith("# ") else p


def _drop_captions(article: Article, options: IngestOptions) -> None:
    # A marker opens a word: "Bild:" is a credit, "Autobild:" a magazine's name.
    marker_re = re.compile("|".join(rf"(?<!\w){re.escape(m.casefold())}" for m in options.caption_markers))
    kept, captions = [], []
    for p in article.paragraphs:
        if len(p) <= 200 and not p.endswith(tuple(".!?…")) and marker_re.search(p.casefold()):
            captions.append(p)
        else:
            kept.append(p)
    if not kept:
        return  # nothing but "captions": then they are the text, not furniture around it
    article.removed += [f"photo caption {p!r}" for p in captions]
    article.paragraphs = kept


def _cut_at_share_line(article: Article, options: IngestOptions) -> None:
    markers = {_norm(m) for m in options.share_markers}
    for i, p in enumerate(article.paragraphs):
        if i > 0 and len(p) <= 40 and _norm(p) in markers:
            dropped = len(article.paragraphs) - i - 1
            article.removed.append(f"share line {p!r} and the {dropped} paragraph(s) after it")
            del article.paragraphs[i:]
            return


# ---- what the feed said about a fetched page (pipeline/fetch.py writes it) ----------------------
def _is_sidecar(path: Path) -> bool:
    """A fetched page's sidecar is read with its page; one whose page is gone is listed as a file."""
    name = path.name
    return name.endswith(SIDECAR_SUFFIX) and path.with_name(name[: -len(SIDECAR_SUFFIX)] + ".html").exists()


def _read_sidecar(article: Article, path: Path) -> None:
    """The original URL and feed title; the item's title and date where the page gives none."""
    sidecar = path.with_name(path.stem + SIDECAR_SUFFIX)
    if sidecar.is_symlink() or not sidecar.is_file():  # fetch writes real files; a link may lead anywhere
        return
    import json

    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        if not isinstance(meta, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        article.warn(f"feed metadata {sidecar.name} unreadable ({exc}): no source URL")
        return
    text = {k: v.strip() for k, v in meta.items() if isinstance(v, str) and v.strip()}
    article.source_url = text.get("url")
    article.feed_title = text.get("feed_title")
    if not article.title and text.get("title"):
        article.title = text["title"]
    if article.date is None and text.get("published"):
        try:
            article.date, article.date_source = ArticleDate.parse(text["published"][:10]), "feed"
        except ValueError:
            log.debug("%s: unusable feed date %r", article.source_file, text["published"])
