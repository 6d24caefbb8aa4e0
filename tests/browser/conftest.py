"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, with axe-core from this folder's
node_modules (`npm ci --prefix tests/browser`). Nothing is downloaded by the tests; without the browser or
axe-core the tests skip on a developer machine and fail in CI (CI=true)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.report.conftest import health_html, report_html, sample  # noqa: F401  (the sample and its pages)

HERE = Path(__file__).resolve().parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-default-apps", "--mute-audio"]


def missing(what: str) -> None:
    """Skip here, fail in CI: a browser test must never silently not run there."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} (required in CI)")
    pytest.skip(what)


def chromium_path() -> str | None:
    for candidate in (os.environ.get("AUDITOR_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A fresh-profile headless Chromium: (playwright, executable)."""
    executable = chromium_path()
    if executable is None:
        missing("Chromium not found at /usr/bin/chromium: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright Python package is not installed")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    with sync_playwright() as pw:
        yield pw, executable


@pytest.fixture
def browser(chromium: Any, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A browser context with a fresh --user-data-dir (JavaScript on unless the test is marked `no_js`)."""
    pw, executable = chromium
    options = getattr(request, "param", {}) or {}
    context = pw.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=executable, headless=True, args=FLAGS,
        viewport={"width": 1280, "height": 900}, **options)
    yield context
    context.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.is_file():
        missing(f"axe-core not installed: npm ci --prefix {HERE.relative_to(HERE.parents[1])}")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    """Where screenshots go: $AUDITOR_ARTIFACTS_DIR (CI keeps it), else the test's tmp folder."""
    folder = Path(os.environ.get("AUDITOR_ARTIFACTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
