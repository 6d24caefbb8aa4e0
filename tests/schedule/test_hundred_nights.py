"""A hundred nights on a driven clock: the real daemon (APScheduler, SQLite job store, slot accounting)
with injected audit failures, an unexpected exception and three spells of downtime. Every night is
audited exactly once or recorded as missed; a catch-up after downtime runs once; notifications
go out on changes only."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from apscheduler.executors.debug import DebugExecutor
from apscheduler.schedulers.base import BaseScheduler

from auditor.aws import Aws
from auditor.errors import AuditError
from auditor.models import AuditRun
from auditor.schedule import daemon as daemon_module
from auditor.schedule.config import load_schedule_config
from auditor.schedule.daemon import Daemon, build_scheduler
from auditor.schedule.jsonlog import JsonFormatter
from auditor.schedule.notify import Notifier
from auditor.schedule.runner import RunContext
from auditor.schedule.store import ScheduleStore
from auditor.schedule.units import Unit, UnitOutcome
from tests.schedule.conftest import RecordingHistory, audit_run

START = datetime(2026, 1, 1, tzinfo=UTC)
NIGHTS = 100
FAILING = {20, 21}        # AuditError: the state could not be read
RAISING = {30}            # an unexpected exception inside the run
DRIFTED = range(50, 60)   # aws_ecs_service.svc-a drifted on these nights
# (down from, back at): hours since START
DOWN = [(10 * 24, 12 * 24 + 5),        # nights 10, 11 missed; 12 caught up at 05:00 (within the 6 h grace)
        (40 * 24 + 1, 41 * 24 + 12),   # nights 40 and 41 missed (back after the grace)
        (70 * 24 + 1, 70 * 24 + 3)]    # night 70 caught up at 03:00


class DrivenScheduler(BaseScheduler):
    """APScheduler's own job processing, called by the test for each hour of the driven clock."""

    def wakeup(self) -> None:
        pass

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)

    def tick(self) -> float | None:
        """Process due jobs; the seconds until the next is due."""
        wait: float | None = self._process_jobs()
        return wait


class NightlyExecutor:
    """The unit executor seam, answering per night: a run, an expected failure or an exception."""

    def run(self, units: Sequence[Unit], audit: Callable[[Unit], AuditRun]) -> list[UnitOutcome]:
        night = (datetime.now(UTC) - START).days
        if night in FAILING:
            return [UnitOutcome(units[0], error="s3://b/k: AccessDenied")]
        if night in RAISING:
            raise RuntimeError("injected bug")
        return [UnitOutcome(units[0], run=audit_run(("svc-a",) if night in DRIFTED else ()))]


class Topic:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def publish(self, **kwargs: Any) -> None:
        self.messages.append(json.loads(kwargs["Message"]))


def test_a_hundred_nights(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "audit.toml"
    path.write_text("""
[[states]]
uri = "s3://b/k"
[scheduler]
misfire_grace_time = "6h"
cloudwatch_namespace = ""
digest_hour = 9
[[notifications]]
name = "ops"
sns_topic_arn = "arn:aws:sns:us-east-1:123456789012:drift"
[[notifications]]
name = "daily"
sns_topic_arn = "arn:aws:sns:us-east-1:123456789012:digest"
digest = true
[[schedules]]
name = "nightly"
cron = "0 2 * * *"
notify = ["ops"]
""")
    config = load_schedule_config(path)
    url = f"sqlite:///{tmp_path / 'history.db'}"
    history, topic = RecordingHistory(), Topic()
    store = ScheduleStore(url)
    notifier = Notifier(lambda region: topic, backoff=0.0)
    ctx = RunContext(config, history, store, Aws(), notifier, NightlyExecutor())

    daemons: list[Daemon] = []

    def start() -> Daemon:
        daemon = Daemon(ctx, build_scheduler(config, url, DrivenScheduler, DebugExecutor()))
        daemon_module._ACTIVE = daemon
        daemon.scheduler.start(paused=True)
        daemon.sync_jobs()
        daemon.sync_digest()
        daemon.scheduler.resume()
        daemons.append(daemon)
        return daemon

    caplog.set_level(logging.INFO, logger="auditor.schedule")
    end = START + timedelta(days=NIGHTS)
    spells = [(START + timedelta(hours=a), START + timedelta(hours=b)) for a, b in DOWN]
    with time_machine.travel(START, tick=False) as clock:
        daemon: Daemon | None = start()
        now = START
        while now < end:  # like the scheduler's own loop: sleep until its next wakeup, or until the process dies
            clock.move_to(now)
            spell = next(((down, back) for down, back in spells if down <= now < back), None)
            if spell is not None:
                daemon, now = None, spell[1]  # the process is gone: no shutdown, nothing flushed
                continue
            if daemon is None:
                daemon = start()
            wait = daemon.scheduler.tick()
            dies = min((down for down, _ in spells if down > now), default=end)
            now = min(now + timedelta(seconds=wait if wait is not None else 3600), dies, end)
    daemon_module._ACTIVE = None
    assert notifier.close(timeout=10)

    raised = [r for r in caplog.records if r.getMessage() == "run raised unexpectedly"]
    assert len(raised) == 1
    line = json.loads(JsonFormatter().format(raised[0]))
    assert line["traceback"].startswith("Traceback (most recent call last)")
    assert line["traceback"].rstrip().endswith("RuntimeError: injected bug") and line["job"] == "nightly"

    per_night = Counter((row.started_at - START).days for row in history.rows)
    assert sorted(per_night) == list(range(NIGHTS)), "a night with no row"
    assert set(per_night.values()) == {1}, f"nights with several rows: {[n for n, c in per_night.items() if c > 1]}"
    by_status: dict[str, set[int]] = {}
    for row in history.rows:
        by_status.setdefault(row.status, set()).add((row.started_at - START).days)
    assert by_status["missed"] == {10, 11, 40, 41}
    assert by_status["failed"] == FAILING | RAISING
    assert len(by_status["succeeded"]) == NIGHTS - 4 - 3
    catch_ups = {(r.started_at - START).days: r.started_at.hour for r in history.rows
                 if r.status == "succeeded" and r.started_at.hour != 2}
    assert catch_ups == {12: 5, 70: 3}, "each catch-up runs once, when the daemon is back"
    assert all(r.trigger == "schedule" for r in history.rows if r.status != "missed")
    def sample(daemon: Daemon, name: str) -> float | None:
        value: float | None = daemon.metrics.registry.get_sample_value(name, {"job": "nightly"})
        return value

    counted = [sample(d, "auditor_schedule_missed_runs_total") or 0 for d in daemons]
    assert counted == [0, 2, 2, 0], "each daemon counts the misses it found"
    assert all(sample(d, "auditor_schedule_skipped_runs_total") in (None, 0) for d in daemons)
    assert sample(daemons[-1], "auditor_schedule_last_run_success") == 1

    digests = [m for m in topic.messages if m["job"] == "digest"]
    # one a day at 09:00, but for the days the daemon was down then past the grace (10, 11, 40)
    assert len(digests) == NIGHTS - 3
    assert all(len(m["events"]) == 1 and m["events"][0]["text"].startswith("nightly: ") for m in digests)
    kinds = [(e["kind"], m["events"] and m["summary"]["started_at"][:10]) for m in topic.messages
             for e in m["events"] if m["job"] != "digest"]
    assert [k for k, _ in kinds] == ["run_failed", "run_recovered", "run_failed", "run_recovered", "new_drift",
                                     "resolved_drift"], "notified on changes only"
    assert [d for _, d in kinds] == ["2026-01-21", "2026-01-23", "2026-01-31", "2026-02-01", "2026-02-20",
                                     "2026-03-02"]


def test_a_run_that_raises_is_recorded_then_raised(tmp_path: Path) -> None:
    path = tmp_path / "audit.toml"
    path.write_text('[[states]]\nuri = "s3://b/k"\n[scheduler]\ncloudwatch_namespace = ""\n'
                    '[[schedules]]\nname = "n"\ncron = "0 2 * * *"\n')
    config = load_schedule_config(path)
    history = RecordingHistory()

    class Broken:
        def run(self, units: Sequence[Unit], audit: Callable[[Unit], AuditRun]) -> list[UnitOutcome]:
            raise KeyError("bug")

    class Refused:
        def run(self, units: Sequence[Unit], audit: Callable[[Unit], AuditRun]) -> list[UnitOutcome]:
            raise AuditError("expected")

    from auditor.schedule.runner import run_job

    ctx = RunContext(config, history, ScheduleStore(f"sqlite:///{tmp_path / 's.db'}"), Aws(),
                     Notifier(lambda region: Topic()), Broken())
    with pytest.raises(KeyError):
        run_job(ctx, "n")
    assert [(r.status, r.error) for r in history.rows] == [("failed", "KeyError: 'bug'")]
    ctx.executor = Refused()
    assert run_job(ctx, "n").status == "failed"
    assert history.rows[-1].error == "expected"
