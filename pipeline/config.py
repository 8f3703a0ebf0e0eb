"""config.yaml: the single source of routes, model ids, pinned revisions, paths and knobs.

Loaded once in `main()`, validated by pydantic (an unknown key, a bad value or a route to a
model that does not exist is refused with a message naming the key), then passed down.
Relative paths are relative to the config file, so a nightly job works from any directory.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pipeline.digest import DigestOptions
from pipeline.errors import ConfigError
from pipeline.fetch import FetchOptions
from pipeline.ingest import IngestOptions
from pipeline.langid import DetectOptions
from pipeline.languages import is_known
from pipeline.models import ModelSpec, RuntimeOptions
from pipeline.segment import SegmentOptions
from pipeline.site import SiteOptions
from pipeline.summarize import SummarizeOptions
from pipeline.translate import PASSTHROUGH, TranslateOptions


class Paths(BaseModel):
    """Where articles are read and everything is written (relative to the config file).

    Attributes:
        input: the inbox: the folder of articles, and where `newsbrief fetch` saves feed items.
        output: briefs, digests, story pages, logs and the state database.
        models: the local model store (`make models` downloads and converts into it).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: Path = Path("inbox")
    output: Path = Path("output")
    models: Path = Path("models")


class Config(BaseModel):
    """config.yaml: one section per stage, each the options object of the stage that owns it.

    Attributes:
        paths: where articles are read and everything is written.
        fetch: which feeds `newsbrief fetch` reads and how politely.
        ingest: how input files are read.
        detect: how languages are identified.
        segment: how text is split into sentences.
        translate: which model translates which language, and how batches are built.
        summarize: how briefs are summarized.
        digest: how the digest groups articles into stories and what it shows of each.
        site: the static HTML site written next to the Markdown, searchable offline.
        runtime: where and how models run (this machine or a Ray cluster).
        models: the models routes can name: a name of your choice → where to get it and how to run it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    paths: Paths = Paths()
    fetch: FetchOptions = FetchOptions()
    ingest: IngestOptions = IngestOptions()
    detect: DetectOptions = DetectOptions()
    segment: SegmentOptions = SegmentOptions()
    translate: TranslateOptions = TranslateOptions()
    summarize: SummarizeOptions = SummarizeOptions()
    digest: DigestOptions = DigestOptions()
    site: SiteOptions = SiteOptions()
    runtime: RuntimeOptions = RuntimeOptions()
    models: dict[str, ModelSpec] = Field(default_factory=dict)
    base_dir: Path = Field(default=Path("."), exclude=True)  # the config file's folder

    @model_validator(mode="after")
    def _cross_check(self) -> Config:
        names = set(self.models)
        for lang, name in self.translate.routes.items():
            if not is_known(lang):
                raise ValueError(f"translate.routes: unknown language code {lang!r}")
            if name != PASSTHROUGH and name not in names:
                raise ValueError(f"translate.routes.{lang}: no model named {name!r} under `models:`")
        if self.translate.default not in names:
            raise ValueError(f"translate.default: no model named {self.translate.default!r} under `models:`")
        if self.translate.fallback and self.translate.fallback not in names:
            raise ValueError(
                f"translate.fallback: no model named {self.translate.fallback!r} under `models:`"
            )
        for lang in self.translate.checks.length_ratio_by_language:
            if not is_known(lang):
                raise ValueError(f"translate.checks.length_ratio_by_language: unknown language code {lang!r}")
        s = self.summarize
        if s.method == "abstractive" and s.model and s.model not in names:
            raise ValueError(f"summarize.model: no model named {s.model!r} under `models:`")
        return self

    def resolve(self, path: Path) -> Path:
        return path if path.is_absolute() else (self.base_dir / path)

    @property
    def input_dir(self) -> Path:
        return self.resolve(self.paths.input)

    @property
    def output_dir(self) -> Path:
        return self.resolve(self.paths.output)

    @property
    def models_dir(self) -> Path:
        return self.resolve(self.paths.models)


def load_config(path: Path | str) -> Config:
    """Reads and validates a config file, or raises ConfigError naming what is wrong."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist (pass --config PATH)") from None
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    try:
        return Config(**raw, base_dir=path.resolve().parent)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(top level)"
            lines.append(f"  {key}: {err['msg']}")
        raise ConfigError(f"{path} is not valid:\n" + "\n".join(lines)) from None
