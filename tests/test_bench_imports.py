"""The benchmarks import pipeline names inside their functions (to keep start-up light), where an
import error shows only when someone runs them: every such name must still exist."""

from __future__ import annotations

import ast
import importlib

import pytest

from tests.conftest import ROOT

BENCH_IMPORTS = sorted(
    {
        (node.module, alias.name)
        for path in (ROOT / "bench").glob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pipeline")
        for alias in node.names
    }
)


@pytest.mark.parametrize(("module", "name"), BENCH_IMPORTS)
def test_every_pipeline_name_a_benchmark_imports_exists(module: str, name: str) -> None:
    assert hasattr(importlib.import_module(module), name), f"bench imports {module}.{name}"
