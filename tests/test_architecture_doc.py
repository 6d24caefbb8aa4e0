"""docs/architecture.md matches the code: every path it names exists, and it names every part of auditor/."""

from __future__ import annotations

import re

from tests.conftest import REPO

DOC = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")


def _named_paths() -> set[str]:
    """The file and folder paths the doc names in backquotes, `{a,b}` groups expanded; a path that does not
    start at the top of the repository (`state/backend.py`) is under auditor/."""
    paths = set()
    for found in re.findall(r"`([a-z_]+/[^`*<>… ]*)`", DOC):
        if not found.startswith(("auditor/", "rules/", "tests/", "docs/")):
            found = f"auditor/{found}"
        group = re.search(r"\{([^}]+)\}", found)
        if group:
            paths |= {found.replace(group.group(0), part) for part in group.group(1).split(",")}
        else:
            paths.add(found)
    return paths


def test_every_path_the_doc_names_exists() -> None:
    named = _named_paths()
    assert len(named) > 20
    missing = sorted(p for p in named if not (REPO / p).exists())
    assert not missing, missing


def test_the_doc_names_every_module_and_package_of_auditor() -> None:
    parts = {p.name for p in (REPO / "auditor").iterdir()
             if (p.suffix == ".py" and p.name != "__init__.py") or (p.is_dir() and (p / "__init__.py").is_file())}
    unnamed = sorted(name for name in parts if f"{name.removesuffix('.py')}" not in DOC)
    assert not unnamed, f"docs/architecture.md does not say where these live: {unnamed}"


def test_the_doc_names_the_values_between_the_stages() -> None:
    from dataclasses import is_dataclass

    from auditor import models

    values = {name for name, value in vars(models).items()
              if is_dataclass(value) and value.__module__ == models.__name__}
    unnamed = sorted(name for name in values if f"`{name}`" not in DOC)
    assert not unnamed, unnamed
