"""Helpers for the code-loader tests: write a small configuration, load it, probe a value."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from auditor.code import CodeModule, load_code
from tests.code._helpers import by_address

Write = Callable[..., Path]


@pytest.fixture
def write(tmp_path: Path) -> Write:
    """write({"main.tf": "...", "modules/x/main.tf": "..."}) -> the root folder (dedented)."""

    def _write(files: Mapping[str, str], root: str = "cfg") -> Path:
        base = tmp_path / root
        for name, text in files.items():
            path = base / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        return base

    return _write


@pytest.fixture
def load(write: Write) -> Callable[..., CodeModule]:
    """load("main.tf text", **var_overrides) -> CodeModule of a one-file configuration."""

    def _load(main: str, **overrides: Any) -> CodeModule:
        return load_code(write({"main.tf": main}), var_overrides=overrides or None)

    return _load


@pytest.fixture
def probe(load: Callable[..., CodeModule]) -> Callable[..., Any]:
    """probe("expr", prelude="...") -> the value `expr` evaluates to, as a resource argument."""

    def _probe(expr: str, prelude: str = "", **overrides: Any) -> Any:
        module = load(f"{textwrap.dedent(prelude)}\nresource \"terraform_data\" \"probe\" {{\n  v = {expr}\n}}\n",
                      **overrides)
        return by_address(module, "terraform_data.probe").attributes["v"]

    return _probe

