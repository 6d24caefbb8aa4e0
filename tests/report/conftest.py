"""A recorded 40-day sample history for the report tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor.history import History, open_history
from tests.report.sample import record_sample


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[History, list[str]]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('report') / 'h.db'}"
    history = open_history(url)
    ids = record_sample(history)
    yield history, ids
    history.close()


@pytest.fixture
def sample_url(sample: tuple[History, list[str]]) -> str:
    return sample[0].url


@pytest.fixture
def report_html(sample: tuple[History, list[str]], tmp_path: Path) -> Path:
    """The HTML report of day 33 (hostile names drifted, an expired exception, 34 runs of trend)."""
    from auditor.report.html import render_document

    history, ids = sample
    path = tmp_path / "report.html"
    path.write_text(render_document(history.run(ids[33]).document or {}, history.url), encoding="utf-8")
    return path
