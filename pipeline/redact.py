"""What may be published: URLs without their secrets, text without the host's file system.

The console and the log are the operator's and keep the detail; briefs, digests (Markdown and
JSON) and story pages may be put on the web, so what they carry goes through here first.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# A query parameter whose name says it holds a credential; its value is not shown.
SECRET_PARAM = re.compile(
    r"token|key|secret|passw|pwd|auth|sig|session|sid|credential|ticket|code|jwt", re.IGNORECASE
)
REDACTED = "REDACTED"
# Characters that reorder or hide text (Trojan Source, CVE-2021-42574) or that are invisible:
# bidi embeddings, overrides, isolates and marks, zero-width space, word joiner, BOM. ZWNJ and
# ZWJ stay: Persian, the Indic scripts and emoji need them.
INVISIBLE = dict.fromkeys(
    [0x061C, 0x180E, 0x200B, 0x200E, 0x200F, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xFEFF]
    + list(range(0x202A, 0x202F))
    + list(range(0x2066, 0x206A))
)


def strip_userinfo(url: str) -> str:
    """`url` without `user:password@`: what is requested for a feed's item, and what is shown."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def public_url(url: str) -> str:
    """`url` as it may be shown or published: no userinfo, and the value of every query
    parameter that looks like a credential (`token`, `api_key`, `sig`...) replaced."""
    url = strip_userinfo(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if not any(SECRET_PARAM.search(k) for k, _ in pairs):
        return url
    query = urlencode([(k, REDACTED if SECRET_PARAM.search(k) else v) for k, v in pairs], safe="/:,")
    return urlunsplit(parts._replace(query=query))


def clean_title(text: str | None, max_chars: int = 300) -> str | None:
    """A feed's or item's title made harmless: no bidi overrides or invisible characters, control
    characters as spaces, runs of white space as one, at most `max_chars` characters."""
    if not text:
        return None
    text = text.translate(INVISIBLE)
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    text = " ".join(text.split())
    if len(text) > max_chars:
        text = text[: max_chars - 1].rstrip() + "…"
    return text or None


class PathScrubber:
    """Replaces the absolute paths of the host's folders in a text with names relative to them:
    a file in the input folder by its path in it, a model by `models/…`."""

    def __init__(self, labels: dict[Path, str]):
        pairs: dict[str, str] = {}
        for folder, label in labels.items():
            for form in {str(folder), str(folder.resolve())}:
                if form.rstrip("/"):
                    pairs[form.rstrip("/")] = label
        # The longest first, so the models folder inside the checkout is `models/`, not `./models`.
        self.pairs = sorted(pairs.items(), key=lambda kv: len(kv[0]), reverse=True)

    def __call__(self, text: str) -> str:
        for absolute, label in self.pairs:
            if absolute in text:
                text = re.sub(re.escape(absolute) + r"(/?)", _relative(label), text)
        return text


def _relative(label: str):
    def repl(match: re.Match) -> str:
        slash = match.group(1)
        if label:
            return label + slash
        return "" if slash else "."

    return repl
