"""How languages are identified: the options of the `detect:` section of config.yaml."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipeline.languages import is_known


class DetectOptions(BaseModel):
    """How languages are identified.

    Attributes:
        languages: the candidate languages a deployment expects; empty means every language
            the detector knows. A smaller set is both faster and more accurate (on the benchmark:
            see `python -m bench.langid`). A script that only one language writes still names
            that language when it is not a candidate: a Georgian text is never "Bulgarian".
        min_confidence: below this the article is `und` (undetermined).
        undetermined: `best_guess` routes an undetermined article by its best guess with a
            warning in the brief; `fail` fails it.
        paragraph_min_chars: shorter paragraphs inherit the article's language.
        paragraph_switch_confidence: a paragraph is translated from its own language only
            when the detector is at least this sure that it differs from the article's.
        screen_top: at most how many leading languages of lingua's trigram screen are read with
            the full models (8 more for a text under 40 characters; plus close neighbours). 0 reads
            every candidate with the full models: about 1.1 GB and a slow start with all languages.
        screen_share: the leaders read in full are those that together hold this share of the
            screen's confidence (at most `screen_top`): one language and its neighbours for a
            clear paragraph, many for a two-word title.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    languages: list[str] = []
    # A screen of 16 leaders lost UD sentences with all languages (98.72 % against 99.09 % with
    # every full model, docs/language-id.md); 24, up to 0.99999999 of the screen's
    # belief, keeps the all-language figures (265fbf1, 3f873bd) at 2.4 s / 191 MB for one
    # `newsbrief detect` on a Latin file instead of 7.1 s / 459 MB (`bench.langid --cost-only`).
    screen_top: int = Field(24, ge=0)
    screen_share: float = Field(0.99999999, gt=0, le=1)
    min_confidence: float = Field(0.5, ge=0, le=1)
    undetermined: Literal["best_guess", "fail"] = "best_guess"
    paragraph_min_chars: int = Field(40, ge=1)
    paragraph_switch_confidence: float = Field(0.9, ge=0, le=1)

    @field_validator("languages")
    @classmethod
    def _known(cls, codes: list[str]) -> list[str]:
        unknown = [c for c in codes if not is_known(c)]
        if unknown:
            raise ValueError(f"unknown language code(s) {unknown}; use ISO 639-1 codes such as 'ka', 'bg'")
        return codes
