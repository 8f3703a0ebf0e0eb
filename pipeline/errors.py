"""Specific exceptions, each with a message a user can act on.

`ArticleError` and its subclasses fail one article: the run records it, lists it in the
digest and goes on. `ConfigError` stops the run before any work is done.
"""

from __future__ import annotations


class NewsbriefError(Exception):
    """Base class of every error the pipeline raises on purpose."""


class ConfigError(NewsbriefError):
    """config.yaml is missing, malformed, or names something that does not exist."""


class AlreadyRunningError(NewsbriefError):
    """Another run holds the lock on the output folder."""


class ArticleError(NewsbriefError):
    """One input file could not be processed; the run goes on without it."""


class IngestError(ArticleError):
    """The file is not a readable text article (binary, empty, compressed, too large...)."""


class UnsupportedLanguageError(ArticleError):
    """No route in config.yaml translates the article's language."""


class ModelMissingError(ArticleError):
    """A routed model is not in the local store and may not be downloaded now."""


class FetchError(NewsbriefError):
    """A feed or page could not be fetched (404, timeout, not HTML...); the fetch goes on.

    `retry` is True when the failure may pass by itself (a 5xx, a timeout): the next fetch
    tries again, up to `fetch.max_attempts` times. The message (for the console and the log)
    may name addresses, ports and what the server said; `category` is what the digest
    publishes (`timed out`, `HTTP 404 Not Found`, `refused: private address`), nothing more.
    """

    def __init__(self, message: str, retry: bool = False, category: str | None = None):
        super().__init__(message)
        self.retry = retry
        self.category = category or message

    @property
    def refused(self) -> bool:
        """The address policy refused it: nothing was sent, and it is not tried again."""
        return self.category.startswith("refused")


class OutputError(NewsbriefError):
    """The output folder cannot be written (read-only, disk full, state database unwritable).

    Not one article's fault: the run stops at once with one line naming the file and the
    cause. Everything finished before is already in place and committed; the next run, once
    the cause is fixed, completes the rest.
    """


class StateCorruptError(NewsbriefError):
    """The state database is not a readable SQLite database (truncated, overwritten)."""


class WorkerLostError(ArticleError):
    """The cluster worker holding the article died more often than it may be restarted."""
