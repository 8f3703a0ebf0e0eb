"""Stories: the run's articles grouped by event, across languages, each with a merged summary,
a timeline and the figures its sources give.

Why this shape: a reader has a few minutes. One event reported five times in four languages
must read as one story that says what happened (a summary drawn from all its articles), in
which order (a timeline, oldest first, one line per article) and who said which number (the
figures for the same quantity side by side, with their dates and sources).

Grouping works on the English text every brief has by now, and on evidence that survives
translation. Two articles are similar by the cosine of their TF-IDF vectors (sublinear tf, IDF
over the night) of their words, names and places (capitalised phrases, folded so that
`Zelenskyy`, `Zelenskij` and `Selenskyj` are one name; each mention weighs `name_weight` words)
and figures (numbers with what they count); a pair that shares fewer than `min_shared_names`
names or figures is not similar at all. Groups are merged by average linkage while their mean
similarity is at least `min_similarity`: unlike single linkage, one article that touches two
events cannot chain them into one story. Look-alike events (two players of one team arrested,
two fires at one supermarket chain) share topic words and most names, so a similarity threshold
cannot part them; what does is that each is about a name the other does not mention (another
player, another town). Two groups that each own such a name (`conflict`) never merge. Everything
is ordered by date and file name first, ties break by index, so the same input gives the same
stories in the same order. Cost is O(n³) in the articles of one digest, about a second for a
hundred. Measured on ECB+ news with gold events: `make bench-stories` (docs/stories.md).

The merged summary is extractive, by choice: sentences from all the story's articles are ranked
by how central they are to the story (each article weighing the same), how many other articles
say the same, and whether they carry a fact; near-duplicates are dropped and the rest read in
date order, each with its source. An abstractive model would write smoother prose, but it
also merges and invents numbers, and the numbers are what this digest must keep straight.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pipeline import evidence
from pipeline.evidence import Evidence
from pipeline.evidence import fold_latin as fold
from pipeline.figures import MONTHS, WEEKDAYS, Figure, FigureReader
from pipeline.figures import change as figure_change
from pipeline.summarize import STOPWORDS, centrality, fact_level, shorten, tfidf, words

if TYPE_CHECKING:
    import numpy as np

from pipeline.article import DigestEntry

log = logging.getLogger("newsbrief.stories")

NAME_RE = re.compile(r"[^\W\d_]+(?:[’'-][^\W\d_]+)*|[^\w\s]|\d+")  # words; punctuation ends a run
POSSESSIVE_RE = re.compile(r"[’']s$")
SENTENCE_MIN_WORDS = 4  # shorter "sentences" are captions or fragments, not summary material
SENTENCE_MAX_WORDS = 60
SUPPORT_SIMILARITY = 0.25  # a sentence is "said again" by an article holding one this similar
DUPLICATE_SIMILARITY = 0.5  # a candidate this close to a chosen sentence says nothing new
LEAD_BONUS = (0.15, 0.05)  # the first sentences of a news article carry its news


@dataclass
class TimelineItem:
    entry: DigestEntry
    gist: str  # the article's most telling sentence
    why: list[str] = field(default_factory=list)  # what it shares with the story's other articles


@dataclass
class SummarySentence:
    text: str
    source: DigestEntry


@dataclass
class SourcedFigure:
    figure: Figure
    source: DigestEntry


@dataclass
class FigureGroup:
    """Every figure the story's articles give for one quantity, oldest first."""

    quantity: str
    figures: list[SourcedFigure]

    @property
    def differs(self) -> bool:
        return len({(f.figure.value, f.figure.upper) for f in self.figures}) > 1

    def change_of(self, f: SourcedFigure) -> str:
        """The change from the earliest report to `f`: "+2,300 since 2025-07-02", "no change since
        …", "changed since …" (a vague or ranged figure), "earliest report" for the first of
        several; "" when the quantity has one figure."""
        if len(self.figures) < 2:
            return ""
        first = self.figures[0]
        if f is first:
            return "earliest report"
        since = f"since {first.source.date}" if first.source.date_precision else "since the earliest report"
        delta = figure_change(first.figure, f.figure)
        if delta is None:  # a vague or ranged figure: whether it changed, not by how much
            same = (f.figure.value, f.figure.upper) == (first.figure.value, first.figure.upper)
            delta = "no change" if same else "changed"
        return f"{delta} {since}"

    @property
    def change(self) -> str:
        """From the earliest report to the latest: "+2,300 since 2025-07-02"; "" for one figure."""
        return self.change_of(self.figures[-1]) if len(self.figures) > 1 else ""


@dataclass
class Story:
    title: str
    summary: list[SummarySentence]
    timeline: list[TimelineItem]  # oldest → newest; undated articles last
    figures: list[FigureGroup] = field(default_factory=list)

    @property
    def articles(self) -> list[DigestEntry]:
        return [t.entry for t in self.timeline]

    @property
    def summary_text(self) -> str:
        return " ".join(s.text for s in self.summary)

    @property
    def languages(self) -> list[str]:
        """Language names, in the order the timeline meets them."""
        return list(dict.fromkeys(e.language_name for e in self.articles))

    @property
    def span(self) -> str:
        dated = [e.date for e in self.articles if _dated(e)]
        if not dated:
            return "undated"
        return dated[0] if dated[0] == dated[-1] else f"{dated[0]} → {dated[-1]}"


def build_stories(entries: Sequence[DigestEntry], options: DigestOptions) -> list[Story]:
    """The entries grouped into stories, newest story first."""
    ordered = sorted(entries, key=_chronological)
    if not ordered:
        return []
    reader = FigureReader(options.figure_synonyms)
    proper = proper_words(ordered)
    feats = [features(e, reader, proper) for e in ordered]
    sim = similarity_of(feats, options)
    clusters = cluster(sim, feats, options)
    stories = []
    for members in clusters:
        items = [ordered[i] for i in sorted(members)]  # already chronological
        centre = _most_central(members, sim)
        why = why_joined([feats[i] for i in sorted(members)])
        stories.append(
            Story(
                title=ordered[centre].headline,
                summary=merged_summary(items, options),
                timeline=[
                    TimelineItem(e, gist(e, options.gist_max_chars), w)
                    for e, w in zip(items, why, strict=True)
                ],
                figures=story_figures(items, reader, options.max_figure_groups),
            )
        )
    stories.sort(key=_newest_first)
    log.info("%d article(s) → %d stor%s", len(ordered), len(stories), "y" if len(stories) == 1 else "ies")
    return stories


def story_of(entries: Sequence[DigestEntry], options: DigestOptions) -> Story:
    """One story from entries already known to belong together (every article a stored story
    has gathered over many nights): its title is its most central headline."""
    items = sorted(entries, key=_chronological)
    reader = FigureReader(options.figure_synonyms)
    proper = proper_words(items)
    feats = [features(e, reader, proper) for e in items]
    sim = similarity_of(feats, options)
    centre = _most_central(list(range(len(items))), sim)
    why = why_joined(feats)
    return Story(
        title=items[centre].headline,
        summary=merged_summary(items, options),
        timeline=[
            TimelineItem(e, gist(e, options.gist_max_chars), w) for e, w in zip(items, why, strict=True)
        ],
        figures=story_figures(items, reader, options.max_figure_groups),
    )


# How many shared places, names and figures an article's timeline line lists, most shared first.
WHY_MOST = {"^": 3, "~": 3, "=": 1}


def why_joined(feats: Sequence[Features]) -> list[list[str]]:
    """For each article of one story, what its original shares with the others, in English:
    places by their English name, names romanised (the shortest spelling the story has, which is
    the least inflected), figures as numbers; those most articles share first. An editor sees a
    wrong merge at a glance: "Kim, North Korea, Kursk" against "Trump" alone."""
    marks = [source_marks(f, ns) for f, ns in zip(feats, source_names(feats), strict=True)]
    labels: dict[str, str] = {}
    for f in feats:
        for key, label in f.source.labels.items():
            mark = ("^" if key in f.source.places else "=" if key in f.source.figures else "~") + key
            if mark not in labels or len(label) < len(labels[mark]):
                labels[mark] = label
    counts = Counter(m for ms in marks for m in ms)
    out = []
    for ms in marks:
        why: list[str] = []
        for kind, most in WHY_MOST.items():  # places, then names, then figures
            shared = [m for m in ms if m[0] == kind and counts[m] > 1 and m in labels]
            shared.sort(key=lambda m: (-counts[m], -len(labels[m]), labels[m]))
            why.extend(list(dict.fromkeys(labels[m] for m in shared if labels[m] not in why))[:most])
        out.append(why)
    return out


class DigestOptions(BaseModel):
    """How the digest groups articles into stories and what it shows of each.

    Attributes:
        title: the digest's heading.
        min_similarity: groups of articles merge into one story while their average pairwise
            similarity (0-1) is at least this. Lower merges more; 1 keeps every article apart.
        name_weight: how many words one mention of a name or place weighs in the TF-IDF vectors
            whose cosine is that similarity (names are the evidence that survives translation).
        min_shared_names: a pair of articles sharing fewer names, places or figures than this
            is not similar at all, whatever its words (0 turns the rule off).
        name_share: two groups never merge when each owns a name: at least this share of its
            articles (it has five or more) are about the name (headline, lead, or twice), and
            hardly any of the other's mention it. This parts look-alike events (two arrests of
            players of one team, two fires at one supermarket chain). 0 turns the rule off.
        translation_weight: how much the English weighs in a pair's similarity when both
            translations are trusted; the rest is the originals' evidence (the names, places
            and figures they give, and for two articles in one language their words). A pair
            whose English is flagged, fell back or lost what the original names weighs its
            English in proportion less (stories.translation_quality). 0: originals only.
        min_shared_source: on the originals' side, a pair of articles sharing fewer names,
            places or figures than this is not similar at all: one famous name (Trump, Putin)
            or one country is not a story.
        summary_sentences: the most sentences in a story's merged summary; a story gets at most
            two more than it has articles (a one-article story: 3).
        max_figure_groups: the most quantities listed under a story's key figures.
        gist_max_chars: a timeline line's sentence is cut at a word boundary past this length.
        story_window_days: how long a story stays open without a new article: a new article is
            only matched with stories updated within this many days of the run date (the most
            recently updated first); older stories are closed and keep their page.
        figure_synonyms: more quantity synonyms, added to the built-in table in figures.py
            (troops = soldiers = military personnel, euros = EUR = €, …): a quantity's name →
            the words (singular) and symbols that count the same thing. A name given here
            replaces the built-in entry of that name.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = "News digest"
    min_similarity: float = Field(0.125, ge=0.0, le=1.0)
    name_weight: int = Field(2, ge=0, le=10)
    min_shared_names: int = Field(1, ge=0)
    name_share: float = Field(0.67, ge=0.0, le=1.0)
    translation_weight: float = Field(0.75, ge=0.0, le=1.0)
    min_shared_source: int = Field(2, ge=0)
    summary_sentences: int = Field(5, ge=1, le=12)
    max_figure_groups: int = Field(6, ge=0)
    gist_max_chars: int = Field(220, ge=40)
    story_window_days: int = Field(365, ge=1)
    figure_synonyms: dict[str, list[str]] = {}

    @model_validator(mode="before")
    @classmethod
    def _retired_keys(cls, data: Any) -> Any:
        # `text_weight` mixed two cosines until names joined the one TF-IDF vector (name_weight):
        # a config written for the old grouping still loads, and says the key does nothing now.
        if isinstance(data, dict) and "text_weight" in data:
            data = {k: v for k, v in data.items() if k != "text_weight"}
            log.warning("digest.text_weight is no longer used (names weigh in via name_weight): remove it")
        return data


# ---- similarity and clustering ---------------------------------------------------------


def _chronological(e: DigestEntry) -> tuple:
    date = tuple(e.sort_key[0]) if e.sort_key else (0, 0, 0)
    return (0 if _dated(e) else 1, date, e.source_file)


def _dated(e: DigestEntry) -> bool:
    return bool(e.sort_key) and tuple(e.sort_key[0]) != (0, 0, 0)


def _newest_first(story: Story) -> tuple:
    dated = [tuple(e.sort_key[0]) for e in story.articles if _dated(e)]
    newest = max(dated) if dated else (0, 0, 0)
    return (tuple(-x for x in newest), story.articles[0].source_file)


def english_sentences(e: DigestEntry) -> list[str]:
    """The article's English sentences that translation did not flag (a flagged sentence may be
    cut or invented, so it neither summarizes a story nor supplies a figure)."""
    flagged = set(e.flagged)
    body = [s for i, s in enumerate(e.sentences) if i not in flagged and s.strip()]
    return body or [s for s in re.split(r"(?<=[.!?])\s+", e.summary) if s.strip()]


def proper_words(entries: Sequence[DigestEntry]) -> set[str]:
    """Words the run's English capitalises mid-sentence and never writes in lower case: names.

    Pooled over the run, so "Vilnius" that one article only has at the start of a sentence is
    known from another that has it mid-sentence, while "Strong" or "Officials" are not names.
    """
    upper: set[str] = set()
    lower: set[str] = set()
    for e in entries:
        for s in english_sentences(e):
            ws = _tokens(s)
            for k, w in enumerate(ws):
                if w[:1].islower():
                    lower.add(w.lower())
                elif k > 0 and w[:1].isupper() and ws[k - 1][:1].isalnum():
                    upper.add(w)
    return {w for w in upper if w.lower() not in lower}


def _tokens(sentence: str) -> list[str]:
    return [POSSESSIVE_RE.sub("", w) for w in NAME_RE.findall(sentence)]


def name_mentions(sentences: Sequence[str], proper: set[str], headline: str = "") -> Counter[str]:
    """Names and places with how often they are mentioned: runs of capitalised words,
    lower-cased, each word of a longer run counted with it.

    Mid-sentence, a capitalised word is a name. At the start of a sentence, and anywhere in the
    headline (headlines are often in title case), only a word from `proper` is; weekdays and
    months never are.
    """
    out: Counter[str] = Counter()
    for n, sentence in enumerate([headline, *sentences]):
        run: list[str] = []
        ws = _tokens(sentence)
        for k, w in enumerate([*ws, ""]):
            low = w.lower()
            is_name = (
                w[:1].isupper()
                and low not in STOPWORDS
                and low not in MONTHS
                and low not in WEEKDAYS
                and (
                    w in proper
                    or (n > 0 and k > 0 and ws[k - 1][:1].isalnum())
                    or (w.isupper() and len(w) > 1)
                )
            )
            if is_name:
                run.append(low)
                continue
            if run:
                out[" ".join(run)] += 1
                if len(run) > 1:
                    out.update(run)
                run = []
    return out


def names(sentences: Sequence[str], proper: set[str], headline: str = "") -> set[str]:
    """The names and places `name_mentions` finds, without their counts."""
    return set(name_mentions(sentences, proper, headline))


def signature(e: DigestEntry, reader: FigureReader, proper: set[str]) -> set[str]:
    """What identifies an article's event beyond its words: names, places and figures, from its
    English and from its original (`Evidence.marks`), so the story store finds a story told in
    another language and script."""
    sentences = english_sentences(e)
    marks = names(sentences, proper, e.headline)
    for s in sentences:
        for f in reader.read(s):
            marks.add(f"#{f.key}={f.value:g}")
    return marks | source_evidence(e).marks


@dataclass(frozen=True)
class Features:
    """What grouping weighs of one article, computed once (plain data: a later night can store
    it beside the entry; it depends on the night only through `proper`, see `features`).

    Attributes:
        words: content words (lower case, stopwords dropped) → count, headline and body.
        names: folded name words → mentions (a two-word name counts for each of its words).
        key_names: folded name words the article is about: in its headline or lead, or
            mentioned at least twice.
        figures: the figures it gives, as `quantity=value`.
        source: what the original text names and counts (evidence.py), whatever the translation.
        language: the original's language.
        quality: how far the English can be trusted (0-1, `translation_quality`).
    """

    words: dict[str, int]
    names: dict[str, int]
    key_names: frozenset[str]
    figures: frozenset[str]
    source: Evidence = Evidence()
    language: str = "en"
    quality: float = 1.0


LEAD_SENTENCES = 2  # names in the headline and the first sentences are what an article is about


def features(e: DigestEntry, reader: FigureReader, proper: set[str] | None = None) -> Features:
    """An article's grouping evidence. `proper`: the words known to be names (`proper_words`),
    which decides whether a capitalised word opening a sentence or in the headline is one; the
    night's pool by default in `group`, the article's own when None."""
    sentences = english_sentences(e)
    proper = proper_words([e]) if proper is None else proper
    mentions = name_mentions(sentences, proper, e.headline)
    lead = name_mentions(sentences[:LEAD_SENTENCES], proper, e.headline)
    folded: Counter[str] = Counter()
    for name, n in mentions.items():
        if " " not in name:
            folded[fold(name)] += n
    lead_words = {fold(w) for name in lead for w in name.split()}
    key = frozenset(w for w, n in folded.items() if len(w) > 1 and (n >= 2 or w in lead_words))
    figures = frozenset(f"{f.key}={f.value:g}" for s in sentences for f in reader.read(s))
    text = Counter(words(" ".join([e.headline, *sentences])))
    source = source_evidence(e)
    return Features(
        dict(text), dict(folded), key, figures, source, e.language, translation_quality(e, source)
    )


def source_evidence(e: DigestEntry) -> Evidence:
    """The original's evidence; an entry stored before originals were kept falls back on its
    English (read as English)."""
    if e.source_sentences:
        return evidence.read(e.source_sentences, e.language, e.original_title or "")
    return evidence.read(e.sentences, "en", e.headline)


# How much of what the original names (places, figures, names) a trustworthy English keeps. On
# ../shared/eval/realnews (ntrex_events, wmt21-23) a human reference keeps a median 0.56-0.71 of
# them, its 10th percentile 0.30-0.44 (names are respelled: Korėja → Korea); the tiny models'
# meaningless English keeps 0.00 at the 90th percentile. At this share or more the English is
# trusted fully, below it in proportion: set between the two, not fitted to a score.
FAITHFUL_SHARE = 0.4
MIN_CHECKED = 3  # an original naming fewer things gives no verdict: its English is trusted


def translation_quality(e: DigestEntry, source: Evidence) -> float:
    """How far grouping trusts the article's English (0-1): the share of sentences that passed
    the output checks and were not retranslated by the fallback, times how much of what the
    original names and counts the English still names (a translation that drops every name,
    place and figure says nothing about which story it belongs to)."""
    n = max(1, len(e.sentences))
    checked = 1.0 - min(1.0, (len(e.flagged) + e.fallback_sentences) / n)
    if e.language == "en" or not e.source_sentences:
        return checked
    english = evidence.read(e.sentences, "en", e.headline)
    wanted = set(source.places) | set(source.figures) | set(source.names)
    if len(wanted) < MIN_CHECKED:
        return checked
    have = set(english.places) | set(english.figures)
    have_names = {n[:3] for n in english.names}
    kept = sum(1 for w in wanted if w in have or (w in source.names and w[:3] in have_names))
    return checked * min(1.0, kept / len(wanted) / FAITHFUL_SHARE)


def similarity_of(feats: Sequence[Features], options: DigestOptions) -> np.ndarray:
    """Pairwise similarity (0-1), from both sides of each article.

    The English side: the cosine of the articles' TF-IDF vectors (sublinear tf, IDF over the
    night) of their words, their names (folded, so transliterations meet; each mention counted
    `name_weight` times) and their figures. A pair sharing fewer than `min_shared_names` names or
    figures is not similar at all.

    The original's side (evidence.py): the same cosine over what the originals name, the places
    they name (one identifier in every language), and the figures they give; for two articles
    in one language, with the original's words too. A pair sharing fewer than `min_shared_source`
    of these is not similar at all.

    The two are mixed by how far the pair's English can be trusted: `translation_weight` times
    the lower quality of the two (flagged sentences, fallbacks, names the English lost); a pair
    whose English is worthless is compared by its originals alone.
    """
    return mix(english_similarity(feats, options), source_similarity(feats, options), feats, options)


def mix(
    english: np.ndarray, source: np.ndarray, feats: Sequence[Features], options: DigestOptions
) -> np.ndarray:
    """The two sides weighed by how far each pair's English can be trusted (`similarity_of`)."""
    import numpy as np

    quality = np.array([f.quality for f in feats])
    trust = options.translation_weight * np.minimum.outer(quality, quality)
    sim = trust * english + (1.0 - trust) * source
    np.fill_diagonal(sim, 1.0)
    return sim


def english_similarity(feats: Sequence[Features], options: DigestOptions) -> np.ndarray:
    docs = [[*_expand(f.words), *(f"@{w}" for w in _expand(f.names) for _ in range(options.name_weight)),
             *sorted(f.figures)] for f in feats]  # fmt: skip
    m = tfidf(docs)
    sim = m @ m.T
    if options.min_shared_names:
        shared = [set(f.names) | f.figures for f in feats]
        _require_shared(sim, shared, options.min_shared_names)
    return sim


def source_names(feats: Sequence[Features]) -> list[dict[str, int]]:
    """Each article's names in its original, with the words of a caseless script that another
    article names (evidence.resolve_weak)."""
    return evidence.resolve_weak([f.source for f in feats])


def source_similarity(feats: Sequence[Features], options: DigestOptions) -> np.ndarray:
    import numpy as np

    names = source_names(feats)
    marks = [
        [*(f"~{w}" for w in _expand(n) for _ in range(options.name_weight)),
         *(f"^{p}" for p in _expand(f.source.places) for _ in range(options.name_weight)),
         *(f"={x}" for x in sorted(f.source.figures))]
        for f, n in zip(feats, names, strict=True)
    ]  # fmt: skip
    across = tfidf(marks)
    within = tfidf([[*m, *_expand(f.source.words)] for m, f in zip(marks, feats, strict=True)])
    same = np.equal.outer(np.array([f.language for f in feats]), np.array([f.language for f in feats]))
    sim = np.where(same, within @ within.T, across @ across.T)
    if options.min_shared_source:
        shared = [source_marks(f, n) for f, n in zip(feats, names, strict=True)]
        for i in range(len(feats)):
            for j in range(i + 1, len(feats)):
                li, lj = feats[i].source.links, feats[j].source.links
                if evidence.distinct_shared(shared[i], shared[j], li, lj) < options.min_shared_source:
                    sim[i, j] = sim[j, i] = 0.0
    return sim


def source_marks(f: Features, names: dict[str, int]) -> set[str]:
    """An article's original's marks: `~name`, `^place`, `=figure` (`names`: as resolved)."""
    return {f"~{n}" for n in names} | {f"^{p}" for p in f.source.places} | {f"={x}" for x in f.source.figures}


def _require_shared(sim: np.ndarray, shared: Sequence[set[str]], need: int) -> None:
    for i in range(len(shared)):
        for j in range(i + 1, len(shared)):
            if len(shared[i] & shared[j]) < need:
                sim[i, j] = sim[j, i] = 0.0


def _expand(counts: dict[str, int]) -> list[str]:
    return [w for w, n in sorted(counts.items()) for _ in range(n)]


# A group owns a name when at least `name_share` of its articles are about it and at most this
# share of the other group's articles mention it at all (a few articles recalling the other
# event in passing must not make the two one story).
ABSENT_SHARE = 0.3
# Below this many articles a group's names are not yet evidence: a few articles often all name a
# spokesman or a town the others leave out. Both set on the development slices (bench.stories),
# in the middle of a plateau: MIN_OWNER 4-5 with ABSENT_SHARE 0.25-0.4 give twin B-cubed F1
# 0.93-0.94; MIN_OWNER 2-4 splits single events (single F1 0.95-0.99), 6 merges more twins.
MIN_OWNER = 5


def conflict(a: Sequence[int], b: Sequence[int], feats: Sequence[Features], share: float) -> bool:
    """Two groups are different events when each owns a name the other (almost) never mentions:
    the same team, place and charge, but another player; the same chain, but another town."""
    return _owns_a_name(a, b, feats, share) and _owns_a_name(b, a, feats, share)


def _owns_a_name(a: Sequence[int], b: Sequence[int], feats: Sequence[Features], share: float) -> bool:
    if len(a) < MIN_OWNER:
        return False
    about = Counter(w for i in a for w in feats[i].key_names)
    mentioned = Counter(w for i in b for w in feats[i].names)
    return any(n >= share * len(a) and mentioned[w] <= ABSENT_SHARE * len(b) for w, n in about.items())


def group(
    entries: Sequence[DigestEntry],
    options: DigestOptions,
    seeds: Sequence[Sequence[int]] = (),
    feats: Sequence[Features] | None = None,
) -> list[list[int]]:
    """The entries (by index) grouped into stories; deterministic for a given order of entries.

    `seeds` are groups of indices already known to be one story (an earlier night's): each
    starts as one group and stays together, though it may take in others. `feats` are the
    entries' `features` where the caller has them stored.
    """
    if feats is None:
        reader = FigureReader(options.figure_synonyms)
        proper = proper_words(entries)
        feats = [features(e, reader, proper) for e in entries]
    return cluster(similarity_of(feats, options), feats, options, seeds)


def cluster(
    sim: np.ndarray, feats: Sequence[Features], options: DigestOptions, seeds: Sequence[Sequence[int]] = ()
) -> list[list[int]]:
    """`group`, given the similarity matrix and the features it was computed from."""
    share = options.name_share
    return average_linkage(
        sim,
        options.min_similarity,
        seeds=seeds,
        cannot=(lambda a, b: conflict(a, b, feats, share)) if share else None,
    )


def average_linkage(
    sim: np.ndarray,
    threshold: float,
    seeds: Sequence[Sequence[int]] = (),
    cannot: Callable[[list[int], list[int]], bool] | None = None,
) -> list[list[int]]:
    """Clusters of indices: the two most similar groups merge while their mean similarity ≥ threshold.

    `seeds` start as groups of their own (an index in two seeds joins the two); a pair of groups
    that `cannot` refuses never merges, and neither does what either later becomes with the other.
    Ties go to the lowest indices (numpy's argmax takes the first maximum), so the result depends
    only on the matrix. Returned in order of each cluster's first index.
    """
    import numpy as np

    n = len(sim)
    s = np.array(sim, dtype=float)
    np.fill_diagonal(s, -np.inf)
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    blocked = np.zeros((n, n), dtype=bool)

    def merge(i: int, j: int) -> None:
        i, j = min(i, j), max(i, j)
        ni, nj = len(members[i]), len(members[j])
        merged = (ni * s[i] + nj * s[j]) / (ni + nj)  # Lance-Williams update for average linkage
        s[i, :] = merged
        s[:, i] = merged
        s[j, :] = -np.inf
        s[:, j] = -np.inf
        s[i, i] = -np.inf
        blocked[i, :] |= blocked[j, :]
        blocked[:, i] = blocked[i, :]
        members[i] = sorted(members[i] + members.pop(j))

    for seed in seeds:
        where = {k: key for key, m in members.items() for k in m}
        roots = sorted({where[k] for k in seed if 0 <= k < n})
        for r in roots[1:]:
            merge(roots[0], r)
    while len(members) > 1:
        flat = int(np.argmax(np.where(blocked, -np.inf, s)))
        i, j = divmod(flat, n)
        if s[i, j] < threshold or blocked[i, j]:
            break
        if cannot is not None and cannot(members[min(i, j)], members[max(i, j)]):
            blocked[i, j] = blocked[j, i] = True
            continue
        merge(i, j)
    return [members[k] for k in sorted(members)]


def _most_central(members: list[int], sim: np.ndarray) -> int:
    """The member most similar to the others (its headline names the story); ties: the newest."""
    if len(members) == 1:
        return members[0]
    best = max(members, key=lambda i: (round(float(sum(sim[i, j] for j in members if j != i)), 9), i))
    return best


# ---- what a story says ----------------------------------------------------------------


def gist(e: DigestEntry, max_chars: int) -> str:
    """The article's most telling sentence: central to it, early in it, and holding a fact."""
    sentences = [s for s in english_sentences(e) if len(s.split()) >= SENTENCE_MIN_WORDS]
    if not sentences:
        return shorten(e.headline, max_chars)
    scores = centrality(sentences)
    for k, bonus in enumerate(LEAD_BONUS[: len(scores)]):
        scores[k] += bonus
    best = max(range(len(sentences)), key=lambda k: (scores[k] + 0.05 * fact_level(sentences[k]), -k))
    return shorten(sentences[best], max_chars)


def merged_summary(items: Sequence[DigestEntry], options: DigestOptions) -> list[SummarySentence]:
    """The story told once: the best sentences across its articles, de-duplicated, in date order."""
    import numpy as np

    candidates: list[tuple[int, int, str]] = []  # (article, position, sentence)
    for a, e in enumerate(items):
        for pos, s in enumerate(english_sentences(e)):
            if SENTENCE_MIN_WORDS <= len(s.split()) <= SENTENCE_MAX_WORDS:
                candidates.append((a, pos, s))
    if not candidates:
        return [SummarySentence(e.summary, e) for e in items[:1] if e.summary]
    m = tfidf([words(s) for _, _, s in candidates])
    rows_of = [[c for c, (a, _, _) in enumerate(candidates) if a == art] for art in range(len(items))]
    centroids = [m[rows].mean(axis=0) for rows in rows_of if rows]
    centroid = np.mean(centroids, axis=0)  # every article weighs the same, however long
    centroid /= np.linalg.norm(centroid) or 1.0
    central = m @ centroid
    pair = m @ m.T
    others = max(1, len(items) - 1)
    scores = []
    for c, (a, pos, s) in enumerate(candidates):
        support = sum(
            1
            for b, rows in enumerate(rows_of)
            if b != a and rows and pair[c, rows].max() >= SUPPORT_SIMILARITY
        )
        lead = LEAD_BONUS[pos] if pos < len(LEAD_BONUS) else 0.0
        scores.append(float(central[c]) + 0.15 * support / others + lead + 0.05 * fact_level(s))
    want = min(options.summary_sentences, 2 + len(items))
    chosen: list[int] = []
    for c in sorted(range(len(candidates)), key=lambda c: (-round(scores[c], 9), c)):
        if any(pair[c, k] >= DUPLICATE_SIMILARITY for k in chosen):
            continue
        chosen.append(c)
        if len(chosen) == want:
            break
    return [SummarySentence(candidates[c][2], items[candidates[c][0]]) for c in sorted(chosen)]


def story_figures(items: Sequence[DigestEntry], reader: FigureReader, limit: int) -> list[FigureGroup]:
    """Figures grouped by quantity; quantities several articles give (and disagree on) first,
    then those written in digits, then in the order the story first gives them."""
    groups: dict[str, list[SourcedFigure]] = {}
    labels: dict[str, Counter[str]] = {}
    for e in items:
        seen: set[tuple[str, float, str]] = set()
        for s in english_sentences(e):
            for f in reader.read(s):
                if (f.key, f.value, f.qualifier) in seen:
                    continue  # the same figure repeated in one article
                seen.add((f.key, f.value, f.qualifier))
                groups.setdefault(f.key, []).append(SourcedFigure(f, e))
                labels.setdefault(f.key, Counter())[f.quantity] += 1
    ranked = sorted(
        enumerate(groups),
        key=lambda ik: (
            -len({id(sf.source) for sf in groups[ik[1]]}),
            -len({sf.figure.value for sf in groups[ik[1]]}),
            # Then figures written in digits: news spells out small incidental counts ("two
            # firefighters were treated"), the numbers it puts forward are in digits.
            -any(ch.isdigit() for sf in groups[ik[1]] for ch in sf.figure.text),
            ik[0],
        ),
    )
    out = []
    for _, key in ranked[:limit]:
        label = min(labels[key].items(), key=lambda kv: (-kv[1], kv[0]))[0]
        out.append(FigureGroup(label, groups[key]))
    return out
