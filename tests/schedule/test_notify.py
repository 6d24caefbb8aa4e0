"""Notifications: on changes and threshold crossings only; webhooks retried with backoff off the run's
path; no attribute value and no webhook URL in any message or log line."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from auditor.models import AttributeChange, Drift, DriftKind
from auditor.schedule.config import Target, Thresholds
from auditor.schedule.notify import Notifier, changes, message, text
from auditor.schedule.summary import RunSummary, failed, summarize
from tests.schedule.conftest import audit_run

T0 = "2026-12-07T02:00:00+00:00"


def ok(drifted: tuple[str, ...] = (), rules: tuple[str, ...] = (), index: float | None = 0.0) -> RunSummary:
    return RunSummary(job="n", status="succeeded", started_at=T0, finished_at=T0, exit_code=0, drift_index=index,
                      coverage=100.0, drifted=drifted, failing_rules=rules)


def kinds(events: list[Any]) -> list[str]:
    return [e.kind for e in events]


def test_only_changes_are_news() -> None:
    none = Thresholds()
    assert kinds(changes(None, None, ok(), none)) == []
    assert kinds(changes(None, None, ok(("changed a x",)), none)) == ["new_drift"]
    assert kinds(changes(ok(("changed a x",)), ok(("changed a x",)), ok(("changed a x",)), none)) == []
    both = changes(ok(("changed a x",), ("R1 y",)), ok(("changed a x",), ("R1 y",)), ok(("missing b z",)), none)
    assert kinds(both) == ["new_drift", "resolved_drift", "fixed_rules"]
    assert both[0].items == ("missing b z",)
    at = datetime.fromisoformat(T0)
    broken = failed("n", at, at, "AccessDenied", "r2")
    assert kinds(changes(ok(), ok(), broken, none)) == ["run_failed"]
    assert kinds(changes(broken, ok(), broken, none)) == [], "a second failure in a row is not news"
    assert kinds(changes(broken, ok(("changed a x",)), ok(("changed a x",)), none)) == ["run_recovered"]


def test_thresholds_notify_when_crossed_either_way() -> None:
    limits = Thresholds(drift_index=10.0, failing_rules=1, coverage=90.0)
    low, high = ok(index=5.0), ok(index=12.0)
    assert kinds(changes(low, low, high, limits)) == ["threshold_crossed"]
    assert kinds(changes(high, high, high, limits)) == []
    assert kinds(changes(high, high, low, limits)) == ["threshold_cleared"]
    assert [e.text for e in changes(None, None, ok(rules=("R1 a", "R2 b")), limits)] == [
        "newly failing rules: 2", "failing rules 2 crossed the threshold 1"]


def test_no_attribute_value_reaches_a_message() -> None:
    drift = Drift(type="aws_ecs_task_definition", id="web", kind=DriftKind.CHANGED,
                  address="aws_ecs_task_definition.web",
                  changes=(AttributeChange("container_definitions[0].environment[0].value", "hunter2", "s3cr3t"),),
                  states=("s3://b/k",), state_attributes={"password": "hunter2"}, live_attributes={"pw": "s3cr3t"})
    run = audit_run()
    summary = summarize("n", replace(run, drifts=(drift,)), "r1", "https://audit.example.com/r1.html")
    doc = message(summary, changes(None, None, summary, Thresholds()))
    rendered = json.dumps(doc) + text(doc)
    assert "aws_ecs_task_definition.web" in rendered
    assert "hunter2" not in rendered and "s3cr3t" not in rendered


class Hook(BaseHTTPRequestHandler):
    bodies: list[dict[str, Any]] = []
    failures = 0
    delay = 0.0

    def do_POST(self) -> None:
        time.sleep(Hook.delay)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if Hook.failures > 0:
            Hook.failures -= 1
            self.send_response(500)
        else:
            Hook.bodies.append(body)
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), Hook)
    Hook.bodies, Hook.failures, Hook.delay = [], 0, 0.0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/services/T000/B000/XXXXSECRETTOKEN"
    monkeypatch.setenv("SLACK_WEBHOOK_URL", url)
    yield url
    server.shutdown()


def test_webhooks_are_retried_with_backoff_without_blocking(hook: str) -> None:
    Hook.failures, Hook.delay = 2, 0.3
    notifier = Notifier(lambda region: None, backoff=0.05)
    summary = ok(("changed aws_ecs_service aws_ecs_service.web",))
    started = time.monotonic()
    notifier.send([Target("slack", webhook_url_env="SLACK_WEBHOOK_URL")],
                  message(summary, changes(None, None, summary, Thresholds())))
    assert time.monotonic() - started < 0.1, "sending never waits for the endpoint"
    assert notifier.close(timeout=10)
    assert notifier.delivered == 1 and len(Hook.bodies) == 1
    assert "aws_ecs_service.web" in Hook.bodies[0]["text"] and "new drift: 1" in Hook.bodies[0]["text"]


def test_an_undeliverable_webhook_is_logged_without_its_url(hook: str, caplog: pytest.LogCaptureFixture) -> None:
    Hook.failures = 100
    notifier = Notifier(lambda region: None, backoff=0.0, attempts=3)
    with caplog.at_level(logging.INFO, logger="auditor.schedule.notify"):
        notifier.send([Target("slack", webhook_url_env="SLACK_WEBHOOK_URL")], message(ok(), []))
        assert notifier.close(timeout=10)
    assert notifier.failed == 1 and Hook.failures == 97
    logged = " ".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
    assert "HTTP 500 from 127.0.0.1" in logged and "SECRETTOKEN" not in logged
