"""The brief's English headline, key points and summary.

Abstractive by default (a seq2seq summarizer such as distilbart-cnn-12-6). Its input limit is
1024 tokens, so a longer article is summarized in chunks and the chunk summaries summarized
again, as often as needed, until one summary is left; a single sentence longer than the limit is
cut into word windows first. Nothing is silently truncated.

The extractive method needs no weights (a TF-IDF centroid ranking of the English sentences, with
a small bonus for the lead, where news puts its news) and takes over, with a warning, when the
abstractive model is missing. Key points are always extracted sentences, chosen first among
those that carry a concrete fact (a number, a name, a place), so every point can be traced to
the text. The TF-IDF helpers here are shared with the digest's story clustering.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from pipeline.article import Summary
from pipeline.backends import token_batches
from pipeline.errors import ModelMissingError
from pipeline.headline import HeadlineOptions, make_headline
from pipeline.segment import split_long

if TYPE_CHECKING:
    import numpy as np

    from pipeline.models import ModelStore

log = logging.getLogger("newsbrief.summarize")

WORD_RE = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*|\d[\d,.]*", re.UNICODE)
STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from as is are was were be been being it its this
    that these those he she they them his her their we our you your i not no so than then there also has
    have had will would can could may might said says which who whom what when where how after before
    about into over under more most other some such only own same too very just""".split()
)
EXTRACTIVE_MODEL = "extractive (TF-IDF centroid)"
LEAD_BONUS = (0.1, 0.05)  # added to the first and second sentence's score: the news comes first
NUMBER_RE = re.compile(r"\d")


class SummarizeOptions(BaseModel):
    """How briefs are summarized.

    Attributes:
        method: `abstractive` (a seq2seq model) or `extractive` (no weights needed).
        model: the summarizer's name under `models:`.
        min_new_tokens / max_new_tokens / num_beams: generation settings (distilbart-cnn's own: 56, 142, 4).
        key_points: how many key points (3-5).
        summary_sentences: sentences in an extractive summary.
        headline_max_words: an article without a title gets its lead sentence, compressed, as its
            headline (headline.py); a longer one is cut where a phrase ends, at or before this
            many words (never mid-phrase, never with "…").
        batch_tokens / max_batch_articles: the articles of a group are summarized together, in
            batches of at most this many padded input tokens (the memory knob: with 4 beams each
            1024-token input holds ~200 MB of attention cache) and this many articles.
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
    batch_tokens: int = Field(2048, ge=1024)
    max_batch_articles: int = Field(8, ge=1)


class Summarizer:
    def __init__(self, options: SummarizeOptions, store: ModelStore | None):
        self.options = options
        self.store = store

    def summarize(self, sentences: list[str], title: str | None) -> Summary:
        """Headline, key points and summary of an English article given as sentences."""
        return self.summarize_many([(sentences, title)])[0]

    def summarize_many(self, articles: list[tuple[list[str], str | None]]) -> list[Summary]:
        """`summarize` for several articles (sentences, title) at once: the first summaries of
        all their chunks share length-sorted batches, as translation's sentences do."""
        cleaned = [[s.strip() for s in sentences if s.strip()] for sentences, _ in articles]
        warnings: list[str] = []
        if self.options.method == "abstractive" and self.options.model and self.store:
            try:
                # Chunking is recorded in the front matter (summary_chunks); it is not a problem.
                results = self._abstractive(cleaned)
                return [
                    Summary(
                        self._headline(title, sentences, text),
                        key_points(sentences, self.options.key_points),
                        text,
                        "abstractive",
                        model,
                        chunks,
                        [],
                    )
                    for (_, title), sentences, (text, chunks, model) in zip(
                        articles, cleaned, results, strict=True
                    )
                ]
            except ModelMissingError as exc:
                warnings.append(f"extractive summary: the summarizer is unavailable ({exc})")
                log.warning("%s", warnings[-1])
        out = []
        for (_, title), sentences in zip(articles, cleaned, strict=True):
            text = " ".join(rank_sentences(sentences, self.options.summary_sentences))
            points = key_points(sentences, self.options.key_points)
            out.append(
                Summary(
                    self._headline(title, sentences, text),
                    points,
                    text,
                    "extractive",
                    EXTRACTIVE_MODEL,
                    1,
                    list(warnings),
                )
            )
        return out

    def _abstractive(self, articles: list[list[str]]) -> list[tuple[str, int, str]]:
        """(summary, chunks, model) per article."""
        from pipeline.backends import SummaryDecoding

        assert self.store is not None and self.options.model is not None  # noqa: S101
        loaded = self.store.load(self.options.model)
        tok, limit = loaded.tokenizer, loaded.spec.max_input_tokens - 2  # <s> and </s>
        o = self.options
        decoding = SummaryDecoding(o.num_beams, o.min_new_tokens, o.max_new_tokens)
        model = f"{loaded.spec.id}@{loaded.revision}"

        def count(text: str) -> int:
            return len(tok(text, add_special_tokens=False)["input_ids"])

        def run(texts: list[str]) -> list[str]:
            """Summaries of texts, in order, in batches of similar length within the token budget."""
            lengths = [count(t) + 2 for t in texts]
            order = sorted(range(len(texts)), key=lambda i: lengths[i], reverse=True)
            out = [""] * len(texts)
            for batch in token_batches(order, lengths, o.batch_tokens, o.max_batch_articles):
                for i, summary in zip(
                    batch,
                    loaded.backend.summarize_batch(loaded, [texts[i] for i in batch], decoding),
                    strict=True,
                ):
                    out[i] = summary
            return out

        chunked = [chunk_sentences(sentences, limit, count) if sentences else [] for sentences in articles]
        flat = [(a, " ".join(c)) for a, chunks in enumerate(chunked) for c in chunks]
        firsts = run([text for _, text in flat])
        parts: list[list[str]] = [[] for _ in articles]
        for (a, _), summary in zip(flat, firsts, strict=True):
            parts[a].append(summary)
        results = []
        for a, chunks in enumerate(chunked):
            own = parts[a]
            # Summarize the summaries until one is left. Each round shrinks the text (a summary is
            # at most max_new_tokens long); if a round does not, its summaries are joined as they are.
            while len(own) > 1:
                again = chunk_sentences(own, limit, count)
                if len(again) >= len(own):
                    log.warning("chunk summaries do not fit %d tokens together; joining %d", limit, len(own))
                    break
                own = run([" ".join(c) for c in again])
            results.append((" ".join(own), max(1, len(chunks)), model))
        return results

    def _headline(self, title: str | None, sentences: list[str], summary: str) -> str:
        options = HeadlineOptions(max_words=self.options.headline_max_words)
        return make_headline(title, sentences, summary, options)


def chunk_sentences(sentences: list[str], limit: int, count: Callable[[str], int]) -> list[list[str]]:
    """Consecutive sentences packed into chunks of at most `limit` tokens.

    A sentence that alone is over the limit (English passed through untranslated can be one
    long line) is cut at clause boundaries, then between words, so the model never sees a
    truncated input.
    """
    chunks: list[list[str]] = [[]]
    used = 0
    for sentence in sentences:
        for piece in split_long(sentence, limit - 1, count):  # -1: the space that joins it
            n = count(piece) + 1
            if chunks[-1] and used + n > limit:
                chunks.append([])
                used = 0
            chunks[-1].append(piece)
            used += n
    return chunks


def words(text: str) -> list[str]:
    """Lower-cased content words (stopwords dropped); numbers are kept as words."""
    return [w.lower() for w in WORD_RE.findall(text) if w.lower() not in STOPWORDS]


def tfidf(docs: Sequence[Sequence[str]]) -> np.ndarray:
    """Row-normalised TF-IDF vectors (sublinear tf, smoothed idf) of tokenised documents."""
    import numpy as np

    counts = [Counter(d) for d in docs]
    vocab = sorted({w for c in counts for w in c})
    m = np.zeros((len(counts), len(vocab)))
    if not vocab:
        return m
    index = {w: i for i, w in enumerate(vocab)}
    df = Counter(w for c in counts for w in c)
    idf = np.array([math.log((1 + len(counts)) / (1 + df[w])) + 1 for w in vocab])
    for r, c in enumerate(counts):
        for w, n in c.items():
            m[r, index[w]] = 1 + math.log(n)
    m *= idf
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return np.divide(m, norms, out=np.zeros_like(m), where=norms > 0)


def centrality(sentences: Sequence[str]) -> list[float]:
    """Cosine similarity of each sentence's TF-IDF vector with the text's centroid."""
    import numpy as np

    if not sentences:
        return []
    m = tfidf([words(s) for s in sentences])
    centroid = m.mean(axis=0)
    norm = float(np.linalg.norm(centroid))
    if norm == 0:
        return [0.0] * len(sentences)
    return (m @ (centroid / norm)).tolist()


def _scores(sentences: list[str]) -> list[float]:
    scores = centrality(sentences)
    for i, bonus in enumerate(LEAD_BONUS[: len(scores)]):
        scores[i] += bonus
    return scores


def rank_sentences(sentences: list[str], n: int) -> list[str]:
    """The n most central sentences, in their original order (a coherent extractive summary)."""
    if len(sentences) <= n:
        return list(sentences)
    scores = _scores(sentences)
    best = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))[:n]
    return [sentences[i] for i in sorted(best)]


def fact_level(sentence: str) -> int:
    """2: a number; 1: a name or place (a capitalised word past the first); 0: neither."""
    if NUMBER_RE.search(sentence):
        return 2
    tokens = sentence.split()[1:]
    return int(any(t[:1].isupper() and t.strip("\"'“”«»()").lower() not in STOPWORDS for t in tokens))


def key_points(sentences: list[str], n: int) -> list[str]:
    """n central sentences, those with a concrete fact first, near-duplicates removed.

    A sentence with a fact is taken before any without one, so a point says who, what, how many
    or where whenever the text says it; among equals, the more central (and earlier) wins.
    """
    if not sentences:
        return []
    scores = _scores(sentences)
    levels = [fact_level(s) for s in sentences]
    ranked = sorted(
        range(len(sentences)),
        key=lambda i: (-(levels[i] > 0), -(scores[i] + 0.1 * levels[i]), i),
    )
    chosen: list[int] = []
    seen: list[set[str]] = []
    skipped: list[int] = []
    for i in ranked:
        ws = set(words(sentences[i]))
        if any(len(ws & s) / max(1, len(ws | s)) > 0.6 for s in seen):
            skipped.append(i)
            continue
        chosen.append(i)
        seen.append(ws)
        if len(chosen) == n:
            break
    # Too few distinct sentences for three points: near-duplicates are better than no point.
    for i in skipped:
        if len(chosen) >= min(3, n):
            break
        chosen.append(i)
    return [shorten(sentences[i]) for i in sorted(chosen)]


def shorten(sentence: str, max_chars: int = 300) -> str:
    """Cut at a word boundary with an ellipsis; short sentences are returned unchanged."""
    if len(sentence) <= max_chars:
        return sentence
    cut = sentence[:max_chars].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"
