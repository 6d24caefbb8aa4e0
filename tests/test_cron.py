"""cron/: every deployment parses (systemd-analyze verify when present) and calls a command that exists."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml

from auditor.cli import cli
from auditor.schedule.config import cron_trigger
from tests.conftest import REPO

CRON = REPO / "cron"
AUDIT = Path(sys.executable).with_name("audit")


def assert_audit_command(argv: list[str]) -> None:
    """`argv` is `audit schedule once|run ...` and its options parse (the command and its options exist)."""
    assert Path(argv[0]).name == "audit" and argv[1] == "schedule" and argv[2] in ("once", "run"), argv
    ctx = click.Context(cli)
    group = cli.get_command(ctx, "schedule")
    assert isinstance(group, click.Group)
    command = group.get_command(ctx, argv[2])
    assert command is not None
    command.make_context(argv[2], list(argv[3:]), parent=ctx)  # raises UsageError on an unknown option


def test_crontab_lines() -> None:
    jobs = [line for line in (CRON / "crontab").read_text().splitlines()
            if line.strip() and not line.startswith("#") and "=" not in line.split()[0]]
    assert jobs
    for line in jobs:
        fields = line.split(None, 5)
        cron_trigger(" ".join(fields[:5]), "UTC")
        command = shlex.split(fields[5])
        audit = command[command.index("&&") + 1:] if "&&" in command else command
        assert_audit_command([word for word in audit if not word.startswith((">", "2>"))])


def unit_exec_start(path: Path) -> list[str]:
    lines = [line.split("=", 1)[1] for line in path.read_text().splitlines() if line.startswith("ExecStart=")]
    assert len(lines) == 1
    return shlex.split(lines[0])


@pytest.mark.parametrize("unit", ["auditor-nightly.service", "auditor-scheduler.service"])
def test_systemd_services_call_audit(unit: str) -> None:
    assert_audit_command(unit_exec_start(CRON / "systemd" / unit))


def test_the_timer_catches_up() -> None:
    text = (CRON / "systemd" / "auditor-nightly.timer").read_text()
    assert "Persistent=true" in text and "Unit=auditor-nightly.service" in text


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_verify(tmp_path: Path) -> None:
    for unit in (CRON / "systemd").iterdir():  # ExecStart pointed at this venv's audit: verify checks it exists
        text = unit.read_text().replace("/usr/local/bin/audit", str(AUDIT))
        (tmp_path / unit.name).write_text(text)
    units = sorted(str(p) for p in tmp_path.iterdir())
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", *units], capture_output=True, text=True,
                          timeout=60)
    problems = [line for line in done.stderr.splitlines()
                if "auditor" in line and "User" not in line and "Group" not in line]
    assert done.returncode == 0 or not problems, done.stderr


def test_kubernetes_cronjob() -> None:
    doc = yaml.safe_load((CRON / "kubernetes" / "cronjob.yaml").read_text())
    assert doc["kind"] == "CronJob" and doc["apiVersion"] == "batch/v1"
    spec = doc["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    cron_trigger(spec["schedule"], spec["timeZone"])
    container = spec["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert_audit_command(container["command"])


def test_readme_names_every_file() -> None:
    readme = (CRON / "README.md").read_text()
    for path in CRON.rglob("*"):
        if path.is_file() and path.name != "README.md":
            assert path.name in readme or str(path.relative_to(CRON)) in readme, path
    assert "terraform/auditor/schedule.tf" in readme
