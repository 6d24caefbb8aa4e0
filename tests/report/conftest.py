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


@pytest.fixture
def health_html(sample: tuple[History, list[str]], tmp_path: Path) -> Path:
    """The report of day 33 with a service-health section: every status, and the deployer's figures."""
    from datetime import timedelta

    from auditor.deploy.telemetry import DeployRecord, DeployStats
    from auditor.report.health import Health, LoadBalancerHealth, ServiceHealth
    from auditor.report.html import render_report
    from auditor.report.model import build, history_context

    history, ids = sample
    report = build(history.run(ids[33]).document or {}, history_context(history, ids[33]))
    until = report.started_at
    health = Health(until - timedelta(days=30), until, (
        LoadBalancerHealth("app/web/1", "us-east-1", "OK", 1200, 3, 9),
        LoadBalancerHealth("app/idle/2", "us-east-1", "NO_TRAFFIC", 0, 0, 0, "no request in the window"),
        LoadBalancerHealth("app/<b>x</b>/3", "eu-west-1", "UNKNOWN", reason="AccessDenied on GetMetricData"),
    ), (ServiceHealth("web", "main", "us-east-1", "OK", 3, 1, 0, 200.0),
        ServiceHealth("api", "main", "us-east-1", "UNKNOWN", reason="AccessDenied on DescribeServices")),
        DeployStats((DeployRecord("d1", "alb-weights", "succeeded", until.timestamp(), 600, 120, None),
                     DeployRecord("d2", "alb-weights", "rolled_back", until.timestamp(), 300, 80, "5xx 3% > 1%"))))
    path = tmp_path / "health.html"
    path.write_text(render_report(report, health=health), encoding="utf-8")
    return path
