"""Executors: the seam between the plan and the commit of a run.

The driver (run.py) plans: which files are new, their text and language, their route. It commits:
renders each brief, writes it atomically and records its row. In between, an executor does the
expensive part, translating and summarizing the planned articles, and hands each one back as soon
as it is finished, with the error that stopped it if any. `LocalExecutor` does it in this
process; the Ray executor (`runtime.executor: ray`) on a Ray cluster, built on the classes here.
Both run the same two steps below on the same groups, so their briefs are the same. run.py picks
one; this module knows only the local one, so nothing here imports Ray.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from pipeline.article import Article

log = logging.getLogger("newsbrief.executor")


class Stages(Protocol):
    """What an executor needs of the pipeline (run.Pipeline): the two expensive steps, each
    returning per article the error that stopped it, or None."""

    def translate_group(self, articles: list[Article]) -> list[Exception | None]: ...

    def summarize_group(self, articles: list[Article]) -> list[Exception | None]: ...


@dataclass
class Finished:
    """One planned article, back from the executor: translated and summarized, or with the error
    that stopped it. `article` is None only when the executor lost it (a worker that died past its
    retries); `source_file` still says which file to list as failed."""

    source_file: str
    article: Article | None
    error: Exception | None


def translate_step(stages: Stages, articles: list[Article]) -> list[Exception | None]:
    try:
        return stages.translate_group(articles)
    except Exception as exc:  # a group of one whose article failed: recorded on it by the driver
        return [exc]


def summarize_step(
    stages: Stages, articles: list[Article], errors: list[Exception | None]
) -> list[Exception | None]:
    """Summarizes the articles that translated; returns the errors of both steps per article."""
    errors = list(errors)
    translated = [k for k, error in enumerate(errors) if error is None]
    try:
        summarized = stages.summarize_group([articles[k] for k in translated])
    except Exception as exc:  # a group of one that failed
        summarized = [exc]
    for k, error in zip(translated, summarized, strict=True):
        errors[k] = error
    return errors


class Executor(ABC):
    """Turns groups of planned articles into finished ones, yielded as they complete (in any
    order). A group's articles share translation and summary batches."""

    #: What the digest says ran the models: `local`, or `ray (N nodes, C CPUs, G GPUs)`.
    description: str = "local"
    #: Models read from disk outside the driver's own ModelStore (by workers), for the run's log.
    remote_loads: int = 0

    @abstractmethod
    def run(self, groups: Iterable[list[Article]]) -> Iterator[Finished]: ...

    def close(self) -> None:  # noqa: B027 (most executors hold nothing to release)
        """Releases what the executor started (a local Ray cluster)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalExecutor(Executor):
    """Runs the steps in this process, one group at a time: memory holds one group."""

    def __init__(self, stages: Stages):
        self.stages = stages

    def run(self, groups: Iterable[list[Article]]) -> Iterator[Finished]:
        for group in groups:
            errors = summarize_step(self.stages, group, translate_step(self.stages, group))
            for article, error in zip(group, errors, strict=True):
                yield Finished(article.source_file, article, error)
