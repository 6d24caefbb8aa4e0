"""cron/: every deployment parses (systemd-analyze verify when present) and calls a command that exists."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import hcl2
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


def _unquoted(value: object) -> object:
    """A python-hcl2 literal without the quotes 5.x+ keeps (4.x has none)."""
    return value[1:-1] if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"' else value


def _blocks(path: Path, kind: str) -> dict[str, dict[str, object]]:
    """`resource` (TYPE.NAME) or `variable` (NAME) blocks of one .tf file, their attributes unquoted."""
    with path.open(encoding="utf-8") as handle:
        document = hcl2.load(handle)
    found: dict[str, dict[str, object]] = {}
    for block in document.get(kind, []):
        for label, body in block.items():
            if kind == "variable":
                found[str(_unquoted(label))] = {k: _unquoted(v) for k, v in body.items()}
                continue
            for name, attributes in body.items():
                found[f"{_unquoted(label)}.{_unquoted(name)}"] = {k: _unquoted(v) for k, v in attributes.items()}
    return found


def test_the_eventbridge_task_runs_schedule_once_with_the_config_parameter() -> None:
    auditor = REPO / "terraform" / "auditor"
    variables = _blocks(auditor / "variables.tf", "variable")
    with (auditor / "ecs.tf").open(encoding="utf-8") as handle:
        arguments = [str(_unquoted(a)) for a in hcl2.load(handle)["locals"][0]["audit_arguments"]]
    task = _blocks(auditor / "ecs.tf", "resource")["aws_ecs_task_definition.auditor"]
    assert 'entryPoint = ["audit"]' in str(task["container_definitions"])
    assert "command = local.audit_arguments" in str(task["container_definitions"])
    schedule = _blocks(auditor / "schedule.tf", "resource")
    parameter = schedule["aws_ssm_parameter.audit_config"]
    assert (parameter["name"], parameter["type"], parameter["value"]) == (
        "${var.config_parameter_name}", "SecureString", "${var.audit_config}")
    assert variables["audit_config"]["sensitive"] is True and "default" not in variables["audit_config"]
    job, name = (str(variables[v]["default"]) for v in ("audit_job_name", "config_parameter_name"))
    argv = ["audit"] + [a.replace("${var.audit_job_name}", job).replace("${aws_ssm_parameter.audit_config.name}", name)
                        for a in arguments]
    assert argv == ["audit", "schedule", "once", "nightly", "--config", "ssm:/auditor/config"]
    assert_audit_command(argv)
    # the task role (and only it) may read the parameter, through policies/audit-config.json
    attachment = schedule["aws_iam_role_policy_attachment.auditor_task_config"]
    assert (attachment["role"], attachment["policy_arn"]) == ("${aws_iam_role.auditor_task.name}",
                                                              "${aws_iam_policy.audit_config.arn}")
    assert 'file("${path.module}/policies/audit-config.json")' in (auditor / "schedule.tf").read_text()
    readonly = json.loads((auditor / "policies" / "audit-readonly.json").read_text())
    actions = [a for s in readonly["Statement"]
               for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]
    assert not any(action.startswith("ssm:GetParameter") for action in actions)
