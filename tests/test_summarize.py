"""Briefs worth reading: headline, key points with facts, a summary, and a fallback that needs no model."""

from __future__ import annotations

from pathlib import Path

import yaml

from pipeline.config import Config
from pipeline.models import ModelSpec, ModelStore
from pipeline.run import run_digest
from pipeline.summarize import SummarizeOptions, Summarizer, chunk_sentences, fact_level, key_points
from tests.test_digest import english_config

ARTICLE = [
    "The regional government said on Monday that the new bridge over the Neris would open in June.",
    "It will carry about 20,000 cars a day and cost 48 million euros, transport minister Ona Petraitė said.",
    "Residents have long complained about traffic.",
    "The old bridge, built in 1964, will be closed for repairs.",
    "Traffic is expected to improve.",
    "Work on the bridge began in 2022 and employed more than 300 workers from Kaunas and Vilnius.",
]


def front_matter(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---\n", 2)[1])


def section(text: str, name: str) -> str:
    return text.split(f"## {name}\n\n", 1)[1].split("\n## ", 1)[0]


def test_without_the_summarizer_briefs_are_extractive_and_say_why(tiny_models, tmp_path: Path):
    config = english_config(tmp_path)
    models = dict(config.models)
    absent = tmp_path / "no-such-model"
    models["tiny-bart"] = ModelSpec(id="newsbrief-fixtures/tiny-bart", path=str(absent), family="bart")
    config = config.model_copy(update={"models": models})
    result = run_digest(config)
    assert result.failed == [] and result.processed == 6  # a missing summarizer fails no article
    for brief in sorted((config.output_dir / "briefs").glob("*.md")):
        text = brief.read_text(encoding="utf-8")
        fm = front_matter(brief)
        assert fm["summary_method"] == "extractive" and fm["summary_model"].startswith("extractive")
        assert fm["title"] and f"\n# {fm['title']}\n" in text
        points = [line for line in section(text, "Key points").splitlines() if line.startswith("- ")]
        assert 3 <= len(points) <= 5
        assert all(fact_level(p[2:]) > 0 for p in points)  # each says who, where or how many
        summary = section(text, "Summary").strip()
        assert len(summary) > 80 and "(empty)" not in summary
        assert "Extractive summary" in summary
        why = [w for w in fm["warnings"] if w.startswith("extractive summary: the summarizer is unavailable")]
        assert len(why) == 1 and str(absent) in why[0]
        assert "> - extractive summary: the summarizer is unavailable" in text  # shown, not only stored
    digest = result.digest_path.read_text(encoding="utf-8")
    assert "6 with warnings" in digest


def test_extractive_by_choice_warns_of_nothing():
    summary = Summarizer(SummarizeOptions(method="extractive", model=None), None).summarize(ARTICLE, None)
    assert summary.method == "extractive" and summary.warnings == []
    assert 1 <= len(summary.headline.rstrip("…").split()) <= 14  # generated: no title was given
    assert summary.summary.split(". ")[0] in " ".join(ARTICLE)  # extracted, not invented
    titled = Summarizer(SummarizeOptions(method="extractive"), None).summarize(ARTICLE, "New Neris bridge")
    assert titled.headline == "New Neris bridge"  # the (translated) original title wins


def test_key_points_prefer_sentences_with_facts():
    points = key_points(ARTICLE, 4)
    assert len(points) == 4
    assert "Residents have long complained about traffic." not in points
    assert "Traffic is expected to improve." not in points
    assert all(fact_level(p) > 0 for p in points)
    assert points == [s for s in ARTICLE if s in points]  # in the article's order
    # With too few fact sentences, the rest are filled from the others: still 3 points.
    assert len(key_points(["It rained.", "The river rose.", "Roads closed in Riga."], 3)) == 3


def test_a_long_article_is_summarized_in_chunks_not_truncated(tiny_config: Config):
    store = ModelStore(tiny_config.models_dir, tiny_config.models, tiny_config.runtime, tiny_config.base_dir)
    summarizer = Summarizer(tiny_config.summarize, store)
    sentences = ARTICLE * 4  # over three times the tiny model's 256-token input
    summary = summarizer.summarize(sentences, "Bridge")
    assert summary.method == "abstractive" and summary.chunks > 1
    assert summary.model.startswith("newsbrief-fixtures/tiny-bart@") and summary.summary


def test_one_sentence_over_the_limit_is_cut_into_windows_that_fit():
    def count(text: str) -> int:
        return len(text.split())

    sentence = " ".join(f"w{i}" for i in range(25))
    chunks = chunk_sentences(["Short one.", sentence, "Another."], 10, count)
    assert all(sum(count(s) + 1 for s in c) <= 10 for c in chunks)
    assert " ".join(" ".join(c) for c in chunks).split() == ["Short", "one.", *sentence.split(), "Another."]


def test_articles_are_summarized_together_in_batches(tiny_config: Config, monkeypatch):
    """A group's first summaries share batches: the same summaries as one by one, in fewer calls."""
    store = ModelStore(tiny_config.models_dir, tiny_config.models, tiny_config.runtime, tiny_config.base_dir)
    summarizer = Summarizer(tiny_config.summarize, store)
    articles = [(ARTICLE[k:] + ARTICLE[:k], None) for k in range(5)] + [(ARTICLE * 4, "Long")]
    alone = [summarizer.summarize(sentences, title) for sentences, title in articles]

    calls: list[int] = []
    backend = type(store.load("tiny-bart").backend)
    run_batch = backend.summarize_batch
    monkeypatch.setattr(
        backend,
        "summarize_batch",
        lambda self, m, texts, d: calls.append(len(texts)) or run_batch(self, m, texts, d),
    )
    together = summarizer.summarize_many(articles)
    assert [s.summary for s in together] == [s.summary for s in alone]
    assert [s.chunks for s in together] == [s.chunks for s in alone] and together[-1].chunks > 1
    # 5 short articles + the long one's chunks in the first round, then the long one's second round.
    assert len(calls) < len(articles) and max(calls) > 1 and sum(calls) == sum(s.chunks for s in alone) + 1


def test_one_article_the_summarizer_fails_on_fails_alone(tiny_config: Config, monkeypatch):
    from pipeline.run import Pipeline

    original = Summarizer.summarize_many
    poison: list[list[str]] = []

    def fragile(self, articles):
        if any(sentences in poison for sentences, _ in articles):
            raise RuntimeError("the summarizer choked")
        return original(self, articles)

    monkeypatch.setattr(Summarizer, "summarize_many", fragile)

    pipeline = Pipeline(tiny_config)
    articles = [
        pipeline.prepare(path, tiny_config.input_dir)[0]
        for path in sorted(tiny_config.input_dir.glob("*"))[:3]
    ]
    assert pipeline.translate_group(articles) == [None] * 3
    poison.append(articles[1].translation.sentences())
    errors = pipeline.summarize_group(articles)
    assert errors[0] is None and errors[2] is None and "choked" in str(errors[1])
    assert articles[0].summary and articles[2].summary and articles[1].summary is None
