"""Bad input and hostile values fail closed: one-line errors, escaped terminal output, JSON log lines."""

from __future__ import annotations

import io
import json
import logging
import math
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from auditor.aws import validate_region
from auditor.config import config_from_mapping, load_config, parse_duration
from auditor.errors import ConfigError
from auditor.models import AttributeChange, AuditRun, Drift, DriftKind, Inventory
from auditor.pipeline import check_types
from auditor.report.console import print_summary
from auditor.report.text import JsonLogFormatter, printable
from auditor.score import score

HOSTILE = "[bold red]X[/bold red] [link=http://evil.example]x[/link] \x1b[2J\x1b]8;;http://evil.example\x07y\r"


@pytest.mark.parametrize("weight", [math.nan, math.inf, -math.inf, -1.0])
def test_weights_must_be_finite_and_non_negative(weight: float) -> None:
    with pytest.raises(ConfigError, match="non-negative number"):
        config_from_mapping({"weights": {"types": {"aws_vpc": weight}}}, "audit.toml")


@pytest.mark.parametrize("duration", [math.nan, math.inf, "-5s"])
def test_durations_must_be_finite(duration: object) -> None:
    with pytest.raises(ConfigError):
        parse_duration(duration, "wait_for_lock")  # type: ignore[arg-type]


@pytest.mark.parametrize(("table", "message"), [
    ({"bake": "soon"}, "invalid \\[deploy\\] bake 'soon'"),
    ({"alarms": "web-5xx"}, "alarms must be a list of alarm names"),
    ({"colour": "blue"}, "unknown setting\\(s\\) colour"),
])
def test_a_bad_deploy_table_fails_every_command_that_loads_the_config(table: dict[str, object], message: str) -> None:
    """[deploy] also steers the deploys of `audit --fix`: it is checked wherever the config is read."""
    with pytest.raises(ConfigError, match=message):
        config_from_mapping({"deploy": table}, "audit.toml")


def test_the_deploy_table_is_read_as_deploy_settings() -> None:
    config = config_from_mapping({"deploy": {"alarms": ["web-5xx"], "bake": "90s", "lease_table": "leases"}},
                                 "audit.toml")
    assert config.deploy == {"alarms": ("web-5xx",), "bake_seconds": 90.0, "lease_table": "leases"}


def test_a_deeply_nested_config_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "audit.toml"
    path.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_config(path)


@pytest.mark.parametrize("name", ["xx-fake-1", "AP-SOUTH-1", "", "us-east-1 ", "eu-west"])
def test_region_names_are_checked_against_botocores_partitions(name: str) -> None:
    with pytest.raises(ConfigError, match="not an AWS region"):
        validate_region(name)


@pytest.mark.parametrize("name", ["ap-south-1", "us-gov-west-1", "cn-north-1", "eu-central-2"])
def test_real_regions_pass(name: str) -> None:
    assert validate_region(name) == name


def test_a_type_typo_is_an_error_with_a_suggestion() -> None:
    with pytest.raises(ConfigError, match=r"unknown resource type 'aws_ecs_servic' \(did you mean aws_ecs_service\?\)"):
        check_types(["aws_ecs_servic"])
    check_types(["aws_ecs_service", "aws_alb"])  # an alias is a known type


def _run_with(drift: Drift) -> AuditRun:
    now = datetime.now(UTC)
    inventory = Inventory(resources=(), observations=(), api_calls=0)
    return AuditRun(started_at=now, finished_at=now, tool_version="t", account_id="123456789012",
                    regions=("eu-west-1",), states=(), failures=(), inventory=inventory, drifts=(drift,),
                    score=score([drift], None))


def test_the_console_shows_hostile_values_as_text() -> None:
    drift = Drift("aws_lb", "lb-1", DriftKind.CHANGED, f"aws_lb.x{HOSTILE}", "eu-west-1",
                  (AttributeChange(f"tags.{HOSTILE}", "a", HOSTILE),))
    out = io.StringIO()
    print_summary(_run_with(drift), Console(file=out, force_terminal=True, width=400))
    text = out.getvalue()
    assert "\x1b]8" not in text and "\x1b[2J" not in text and "\r" not in text and "\x07" not in text
    assert "[bold red]X[/bold red]" in text.replace("\x1b[0m", "")  # shown literally, not styled
    assert "\\x1b[2J" in text


def test_printable_shows_control_characters_and_keeps_the_rest() -> None:
    assert printable("a\x1b[31mb\x9bc\u202ed\te\nf") == "a\\x1b[31mb\\x9bc\\u202ed\te\nf"


def test_json_log_lines_carry_the_traceback_in_one_line() -> None:
    try:
        raise ValueError(f"boom {HOSTILE}")
    except ValueError:
        record = logging.LogRecord("auditor.x", logging.ERROR, __file__, 1, "failed: %s", (HOSTILE,),
                                   sys.exc_info())
    line = JsonLogFormatter().format(record)
    assert "\n" not in line and "\x1b" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and "ValueError" in entry["traceback"]


def test_outputs_are_written_all_or_none(tmp_path: Path) -> None:
    from auditor.errors import AuditError
    from auditor.report import write_all

    html, folder = tmp_path / "audit.html", tmp_path / "out"
    folder.mkdir()
    with pytest.raises(AuditError, match="is a directory"):
        write_all([(html, "<html>"), (folder, "{}")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_termination_while_writing_leaves_no_temporary_file(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from auditor.report import write_all

    def terminated(_fd: int) -> None:  # what the CLI's SIGTERM handler raises, in the middle of a write
        raise SystemExit(143)

    monkeypatch.setattr(os, "fsync", terminated)
    with pytest.raises(SystemExit):
        write_all([(tmp_path / "a.json", "{}"), (tmp_path / "b.html", "<html>")])
    assert list(tmp_path.iterdir()) == []


def test_sigterm_becomes_a_clean_exit() -> None:
    import signal
    import subprocess
    import time

    script = ("import time, auditor.cli as c, signal; signal.signal(signal.SIGTERM, c._terminated)\n"
              "try:\n    time.sleep(30)\nfinally:\n    print('cleaned up', flush=True)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    time.sleep(1.5)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 143 and "cleaned up" in out
