"""Every auditor module imports on its own, in a fresh interpreter: no module leans on another having
been imported first, and no import cycle hides behind the order the test suite happens to use."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO

MODULES = sorted(
    ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
    for path in (REPO / "auditor").rglob("*.py")
)


def test_every_module_is_listed() -> None:
    assert {"auditor", "auditor.models", "auditor.catalog", "auditor.cli", "auditor.scan.code"} <= set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_in_isolation(module: str) -> None:
    done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, cwd=REPO,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
