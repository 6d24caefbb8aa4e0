"""Two daemons on one PostgreSQL job store: the second refuses, or waits as a standby; killing the
leader mid-run (SIGKILL) frees its advisory lock with its connection, the standby leads within
seconds, and the killed run left no history row and no half-written report."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from auditor.aws import Aws, AwsSettings
from auditor.demo.run import REGION, SeededStack
from auditor.history import open_history
from tests.e2e.test_schedule_daemon import hold_lock, stack_toml, wait_for
from tests.history.conftest import postgres_server, postgres_url  # noqa: F401 (fixtures)

AUDIT = Path(sys.executable).with_name("audit")
pytestmark = pytest.mark.e2e


def test_standby_takes_over_from_a_killed_leader(stack: SeededStack, moto_server: str, postgres_url: str,  # noqa: F811
                                                 tmp_path: Path) -> None:
    config = tmp_path / "audit.toml"
    config.write_text(stack_toml(stack, postgres_url, 'wait_for_lock = "60s"') + """
[scheduler]
cloudwatch_namespace = ""
[[schedules]]
name = "every2s"
cron = "*/2 * * * * *"
report_dir = "reports"
""")
    env = {**os.environ, "AWS_ENDPOINT_URL": moto_server, "AWS_REGION": REGION}

    def start(*extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen([str(AUDIT), "schedule", "run", "--config", str(config), *extra], cwd=tmp_path,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    history = open_history(postgres_url)

    def runs() -> list[Any]:
        return [r for r in history.runs() if r.trigger == "schedule"]

    aws = Aws(AwsSettings(region=REGION))
    leader = start()
    standby: subprocess.Popen[str] | None = None
    try:
        wait_for("the leader's first run", lambda: len(runs()) >= 1)
        second = subprocess.run([str(AUDIT), "schedule", "run", "--config", str(config)], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 1
        assert second.stderr.startswith("error: another scheduler is active on this job store (PostgreSQL backend")
        standby = start("--standby")
        time.sleep(2)
        assert standby.poll() is None

        # the leader is killed while an audit waits on a held Terraform lock
        hold_lock(aws, stack, True)
        time.sleep(3)  # the leader's next run is under way, waiting
        recorded = len(runs())
        leader.send_signal(signal.SIGKILL)
        leader.wait()
        killed = time.monotonic()
        hold_lock(aws, stack, False)
        wait_for("a run by the standby", lambda: len(runs()) > recorded, timeout=30)
        took = time.monotonic() - killed
        assert took < 10, f"takeover took {took:.1f} s"
        # the new leader accounts the killed run's slot when its own first run has ended (the run's row is
        # written before that): waited for here, so the SIGTERM below cannot race it
        wait_for("the killed run's slot recorded as missed by the new leader",
                 lambda: [r for r in history.runs() if r.trigger == "missed"], timeout=30)
        standby.send_signal(signal.SIGTERM)
        _, err = standby.communicate(timeout=60)
        assert standby.returncode == 0, err[-2000:]
    finally:
        for proc in (leader, standby):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
    messages = [json.loads(line)["message"] for line in err.splitlines() if line.startswith("{")]
    assert messages.index("standby: waiting to lead") < messages.index("scheduler started")
    done = sorted(runs(), key=lambda r: r.started_at)
    assert all(r.status == "completed" for r in done), "the killed run left no row, failed or otherwise"
    assert all(a.finished_at <= b.started_at for a, b in itertools.pairwise(done))
    for report in (tmp_path / "reports" / "every2s").rglob("*.*"):  # only whole files (written by rename)
        if report.suffix == ".json":
            json.loads(report.read_text())
        else:
            assert report.suffix == ".html" and report.read_text().rstrip().endswith("</html>"), report
    history.close()
