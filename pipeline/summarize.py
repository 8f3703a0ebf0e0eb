"""The brief's English headline, key points and summary.

Abstractive by default (a seq2seq summarizer such as distilbart-cnn-12-6). Its input limit is
1024 tokens, so a longer article is summarized in chunks and the chunk summaries summarized
again: nothing is silently truncated. The extractive method needs no weights (a TF-IDF
centroid ranking of the English sentences) and takes over, with a warning, when the
abstractive model is missing. Key points are always extracted sentences, preferring ones
that carry a concrete fact (a number, a name), so every point can be traced to the text.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from pipeline.errors import ModelMissingError

if TYPE_CHECKING:
    from pipeline.models import ModelStore

log = logging.getLogger("newsbrief.summarize")

WORD_RE = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*|\d[\d,.]*", re.UNICODE)
STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from as is are was were be been being it its this
    that these those he she they them his her their we our you your i not no so than then there also has
    have had will would can could may might said says which who whom what when where how after before
    about into over under more most other some such only own same too very just""".split()
)


class SummarizeOptions(BaseModel):
    """How briefs are summarized.

    Attributes:
        method: `abstractive` (a seq2seq model) or `extractive` (no weights needed).
        model: the summarizer's name under `models:`.
        min_new_tokens / max_new_tokens / num_beams: generation settings (distilbart-cnn's own: 56, 142, 4).
        key_points: how many key points (3-5).
        summary_sentences: sentences in an extractive summary.
        headline_max_words: a generated headline is cut at a word boundary after this many words.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Literal["abstractive", "extractive"] = "abstractive"
    model: str | None = "distilbart"
    min_new_tokens: int = Field(56, ge=0)
    max_new_tokens: int = Field(142, gt=0)
    num_beams: int = Field(4, ge=1)
    key_points: int = Field(4, ge=3, le=5)
    summary_sentences: int = Field(3, ge=1)
    headline_max_words: int = Field(14, ge=4)


@dataclass
class Summary:
    headline: str
    key_points: list[str]
    summary: str
    method: str  # "abstractive" or "extractive"
    model: str  # "<id>@<revision>" or "extractive (TF-IDF centroid)"
    chunks: int = 1
    warnings: list[str] = field(default_factory=list)


class Summarizer:
    def __init__(self, options: SummarizeOptions, store: ModelStore | None):
        self.options = options
        self.store = store

    def summarize(self, sentences: list[str], title: str | None) -> Summary:
        """Headline, key points and summary of an English article given as sentences."""
        sentences = [s for s in sentences if s.strip()]
        points = key_points(sentences, self.options.key_points)
        warnings: list[str] = []
        if self.options.method == "abstractive" and self.options.model and self.store:
            try:
                # Chunking is recorded in the front matter (summary_chunks); it is not a problem.
                text, chunks, model = self._abstractive(sentences)
                return Summary(
                    self._headline(title, text), points, text, "abstractive", model, chunks, warnings
                )
            except ModelMissingError as exc:
                warnings.append(f"extractive summary: the summarizer is unavailable ({exc})")
                log.warning("%s", warnings[-1])
        text = " ".join(rank_sentences(sentences, self.options.summary_sentences))
        return Summary(
            self._headline(title, text),
            points,
            text,
            "extractive",
            "extractive (TF-IDF centroid)",
            1,
            warnings,
        )

    def _abstractive(self, sentences: list[str]) -> tuple[str, int, str]:
        import torch

        assert self.store is not None and self.options.model is not None  # noqa: S101
        loaded = self.store.load(self.options.model)
        tok, limit = loaded.tokenizer, loaded.spec.max_input_tokens - 2
        chunks = _chunks(sentences, limit, lambda s: len(tok(s, add_special_tokens=False)["input_ids"]))
        o = self.options

        def run(texts: list[str]) -> list[str]:
            inputs = tok(texts, return_tensors="pt", padding=True)
            inputs = {k: v.to(loaded.device) for k, v in inputs.items()}
            with torch.inference_mode():
                out = loaded.model.generate(
                    **inputs,
                    num_beams=o.num_beams,
                    min_new_tokens=o.min_new_tokens,
                    max_new_tokens=o.max_new_tokens,
                    no_repeat_ngram_size=3,
                )
            return [t.strip() for t in tok.batch_decode(out, skip_special_tokens=True)]

        parts = run([" ".join(c) for c in chunks]) if sentences else [""]
        text = parts[0]
        if len(parts) > 1:  # summarize the summaries, themselves chunked if they are still too long
            again = _chunks(parts, limit, lambda s: len(tok(s, add_special_tokens=False)["input_ids"]))
            text = " ".join(run([" ".join(c) for c in again]))
        return text, len(chunks), f"{loaded.spec.id}@{loaded.revision}"

    def _headline(self, title: str | None, summary: str) -> str:
        if title and title.strip():
            return title.strip()
        first = re.split(r"(?<=[.!?])\s+", summary.strip(), maxsplit=1)[0] if summary.strip() else ""
        words = first.rstrip(".!?").split()
        if len(words) > self.options.headline_max_words:
            words = words[: self.options.headline_max_words]
            return " ".join(words).rstrip(",;:") + "…"
        return " ".join(words) or "Untitled article"


def _chunks(sentences: list[str], limit: int, count) -> list[list[str]]:
    chunks: list[list[str]] = [[]]
    used = 0
    for s in sentences:
        n = count(s) + 1
        if chunks[-1] and used + n > limit:
            chunks.append([])
            used = 0
        chunks[-1].append(s)
        used += n
    return chunks


def _words(text: str) -> list[str]:
    return [w.lower() for w in WORD_RE.findall(text) if w.lower() not in STOPWORDS]


def _scores(sentences: list[str]) -> list[float]:
    """Cosine similarity of each sentence's TF-IDF vector with the article's centroid."""
    import numpy as np

    docs = [Counter(_words(s)) for s in sentences]
    vocab = sorted({w for d in docs for w in d})
    if not vocab:
        return [0.0] * len(sentences)
    index = {w: i for i, w in enumerate(vocab)}
    df = Counter(w for d in docs for w in d)
    idf = np.array([math.log((1 + len(docs)) / (1 + df[w])) + 1 for w in vocab])
    m = np.zeros((len(docs), len(vocab)))
    for r, d in enumerate(docs):
        for w, c in d.items():
            m[r, index[w]] = c
    m *= idf
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    m = np.divide(m, norms, out=np.zeros_like(m), where=norms > 0)
    centroid = m.mean(axis=0)
    centroid /= np.linalg.norm(centroid) or 1.0
    return (m @ centroid).tolist()


def rank_sentences(sentences: list[str], n: int) -> list[str]:
    """The n most central sentences, in their original order (a coherent extractive summary)."""
    if len(sentences) <= n:
        return list(sentences)
    scores = _scores(sentences)
    best = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))[:n]
    return [sentences[i] for i in sorted(best)]


def _has_fact(sentence: str) -> bool:
    """A number, or a capitalised name past the first word: something a reader can check."""
    words = sentence.split()
    return bool(re.search(r"\d", sentence)) or any(w[:1].isupper() for w in words[1:])


def key_points(sentences: list[str], n: int) -> list[str]:
    """n central sentences, preferring those with a concrete fact, near-duplicates removed."""
    if not sentences:
        return []
    scores = _scores(sentences)
    ranked = sorted(
        range(len(sentences)), key=lambda i: (-(scores[i] + (0.25 if _has_fact(sentences[i]) else 0)), i)
    )
    chosen: list[int] = []
    seen: list[set[str]] = []
    for i in ranked:
        words = set(_words(sentences[i]))
        if any(len(words & s) / max(1, len(words | s)) > 0.6 for s in seen):
            continue
        chosen.append(i)
        seen.append(words)
        if len(chosen) == n:
            break
    return [_shorten(sentences[i]) for i in sorted(chosen)]


def _shorten(sentence: str, max_chars: int = 300) -> str:
    if len(sentence) <= max_chars:
        return sentence
    cut = sentence[:max_chars].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"
