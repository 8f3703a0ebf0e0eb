"""What language identification says: a guess per text, a detection per article."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pipeline.languages import UNDETERMINED


@dataclass(frozen=True)
class Guess:
    """One text's language and the winner's share of the combined probability."""

    lang: str
    confidence: float


@dataclass
class Detection:
    """An article's language, how sure we are, and the languages of its paragraphs."""

    lang: str  # a language code, or "und"
    confidence: float
    best_guess: str  # the most likely language even when `lang` is "und"
    paragraphs: list[Guess] = field(default_factory=list)  # one per input paragraph, final labels
    method: str = "lingua"

    @property
    def languages(self) -> list[str]:
        """The languages found, the article's own first."""
        counts = Counter(g.lang for g in self.paragraphs if g.lang != UNDETERMINED)
        rest = [lang for lang, _ in counts.most_common() if lang != self.best_guess]
        return [self.best_guess, *rest]
