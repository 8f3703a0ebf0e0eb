"""The manual cannot drift: the configuration reference is the schema's, and no relative link dangles."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from markdown_it import MarkdownIt
from pydantic import BaseModel, Field

from pipeline import configdoc

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "configuration-reference.md"
_MD = MarkdownIt("commonmark").enable("table")


def manual_pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _inline_children(tokens):
    for token in tokens:
        yield token
        if token.children:
            yield from _inline_children(token.children)


def anchors(path: Path) -> set[str]:
    """GitHub's anchors for the headings of a page (a repeated heading gets -1, -2…)."""
    tokens = _MD.parse(path.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    found = set()
    for i, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        text = "".join(t.content for t in _inline_children(tokens[i + 1].children or []) if t.content)
        slug = configdoc.anchor(text)
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        found.add(slug if n == 0 else f"{slug}-{n}")
    return found


def broken_links(pages: list[Path]) -> list[str]:
    """Each relative link (outside code) whose file or `#anchor` does not exist, as `page: target`."""
    broken = []
    for page in pages:
        targets = []
        for token in _inline_children(_MD.parse(page.read_text(encoding="utf-8"))):
            if token.type == "link_open":
                targets.append(str(token.attrs["href"]))
            elif token.type == "image":
                targets.append(str(token.attrs["src"]))
        for target in targets:
            parts = urlsplit(target)
            if parts.scheme or parts.netloc:
                continue  # http(s), mailto: not ours to check offline
            file = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if not file.exists():
                broken.append(f"{page.name}: {target} (no such file)")
            elif parts.fragment and (file.suffix != ".md" or unquote(parts.fragment) not in anchors(file)):
                broken.append(f"{page.name}: {target} (no such heading)")
    return broken


def test_configuration_reference_is_what_the_schema_says():
    text, problems = configdoc.render()
    assert problems == [], "\n".join(problems)
    committed = REFERENCE.read_text(encoding="utf-8") if REFERENCE.exists() else ""
    assert committed == text, "docs/configuration-reference.md is stale: run `make docs` and commit it"


def test_every_config_key_has_a_row():
    text, _ = configdoc.render()
    for name, info in configdoc.Config.model_fields.items():
        if info.exclude:
            continue
        model = info.annotation if isinstance(info.annotation, type) else None
        if model is not None and issubclass(model, BaseModel):
            for key in model.model_fields:
                assert f"| `{key}` |" in text, f"{name}.{key} is missing from the reference"


class _Inner(BaseModel):
    """A nested section.

    Attributes:
        kept: documented.
        gone: documented, but no longer a field.
    """

    kept: int = 1
    added: str = "x"


class _Section(BaseModel):
    """A section.

    Attributes:
        a / b: two fields, one text.
        inner: nested.
    """

    a: float = Field(0.5, ge=0, le=1)
    b: list[str] = Field(default_factory=list)
    c: bool = Field(True, description="described by Field")
    inner: _Inner = _Inner()


class _Bare(BaseModel):
    """Attributes:
    x: documented, but the class says nothing of itself.
    """

    x: int = 0


class _Root(BaseModel):
    """A config file.

    Attributes:
        section: the first section.
    """

    section: _Section = _Section()
    named: dict[str, _Inner] = Field(default_factory=dict)  # described by _Inner's summary
    bare: _Bare = _Bare()


def test_generator_names_undocumented_and_stale_keys():
    text, problems = configdoc.render(_Root)
    joined = "\n".join(problems)
    assert "section.inner.added" in joined and "no description" in joined  # added, not documented
    assert "documents `gone`, which is not one of its fields" in joined  # removed, still documented
    assert "bare: " in joined and "named" not in joined  # a section described nowhere
    assert "| `a` | number, ≥ 0, ≤ 1 | `0.5` | two fields, one text. |" in text
    assert "| `b` | list of string | `[]` | two fields, one text. |" in text
    assert "| `c` | boolean | `true` | described by Field |" in text
    assert "section [`section.inner`](#sectioninner)" in text
    assert "## `named.<name>`" not in text  # _Inner is documented once, where it is first met
    assert len(problems) == 3


def test_check_mode_fails_on_a_stale_file(tmp_path, capsys):
    stale = tmp_path / "reference.md"
    stale.write_text(configdoc.render()[0].replace("| `timeout_s` |", "| `timeout` |"), encoding="utf-8")
    assert configdoc.main([str(stale), "--check"]) == 1
    assert "out of date: run `make docs`" in capsys.readouterr().err
    assert configdoc.main([str(stale)]) == 0  # rewriting it makes it current
    assert configdoc.main([str(stale), "--check"]) == 0


def test_no_relative_link_in_the_manual_points_nowhere():
    assert (ROOT / "docs" / "README.md").exists()
    assert broken_links(manual_pages()) == []


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("Fetch the news from feeds", "fetch-the-news-from-feeds"),
        ("Stories, timelines and figures", "stories-timelines-and-figures"),
        ("Measured: `make bench-scale`", "measured-make-bench-scale"),
        ("`models.<name>`", "modelsname"),
        ("`runtime.ray_max_actors`", "runtimeray_max_actors"),
    ],
)
def test_anchor_is_githubs(heading, slug):
    assert configdoc.anchor(heading) == slug


def test_link_checker_finds_missing_files_and_headings(tmp_path):
    (tmp_path / "other.md").write_text("# Other page\n\n## A section, with punctuation\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n"
        "[ok](other.md) [ok](other.md#a-section-with-punctuation) [ok](#page) [web](https://example.com/x)\n"
        "[gone](missing.md) [bad anchor](other.md#nowhere) [bad here](#elsewhere)\n\n"
        "`[in code](missing-too.md)`\n\n```\n[fenced](missing-three.md)\n```\n",
        encoding="utf-8",
    )
    assert broken_links([page]) == [
        "page.md: missing.md (no such file)",
        "page.md: other.md#nowhere (no such heading)",
        "page.md: #elsewhere (no such heading)",
    ]
