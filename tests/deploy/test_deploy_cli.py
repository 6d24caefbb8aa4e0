"""`audit deploy` end to end on a moto server, with the real health, alarm and metrics readers.

moto reports every registered target healthy and never evaluates alarms, so these runs pass their
gates; the failure paths are driven by signals here and by the seams in test_alb_deploy.py.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from auditor.aws import Aws
from auditor.cli import cli, run_cli
from auditor.deploy import resume
from auditor.history import History
from tests.deploy.bgstack import ALARM_5XX, BLUE, CLUSTER, GREEN, Stack, desired, fake_seams, push_image, weights


def _base(stack: Stack, *extra: str) -> list[str]:
    return ["deploy", "--cluster", CLUSTER, "--service", BLUE, "--image", stack.image("v2"), "--alarm", ALARM_5XX,
            *extra]


def test_cli_deploys_and_prints_json(aws: Aws, stack: Stack, history: History) -> None:
    push_image(aws, "v2")
    result = CliRunner().invoke(cli, [*_base(stack, "--steps", "50,100", "--bake", "0s", "--poll", "0s",
                                             "--timeout", "1m", "--yes", "--format", "json")])
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout)
    assert outcome["result"] == "succeeded"
    assert outcome["weights"] == {stack.blue_tg: 0, stack.green_tg: 100}
    assert outcome["services"]["blue"] == {"service": BLUE, "target_group": stack.blue_tg, "desired": 0}
    assert outcome["services"]["green"] == {"service": GREEN, "target_group": stack.green_tg, "desired": 2}
    assert outcome["rollback_reason"] is None
    assert history.list_journals("deploy") == [outcome["deploy_id"]]
    assert weights(aws, stack) == {"blue": 0, "green": 100}


def test_cli_refusal_is_one_line_and_exit_1(aws: Aws, stack: Stack, history: History) -> None:
    code, err = _run_cli(["deploy", "--cluster", CLUSTER, "--service", BLUE, "--image",
                                   stack.image("latest"), "--yes"])
    assert code == 1
    assert err.count("\n") == 1 and err.startswith(f"error: image {stack.repo_uri}:latest is not pinned")
    assert weights(aws, stack) == {"blue": 100, "green": 0}


def test_cli_dry_run_and_deploy_table_from_audit_toml(aws: Aws, stack: Stack, history: History,
                                                      tmp_path: Path) -> None:
    push_image(aws, "v2")
    config = tmp_path / "audit.toml"
    config.write_text(f'[deploy]\ncluster = "{CLUSTER}"\nservice = "{BLUE}"\nsteps = [20, 100]\nbake = "90s"\n'
                      f'alarms = ["{ALARM_5XX}"]\n')
    result = CliRunner().invoke(cli, ["deploy", "--config", str(config), "--image", stack.image("v2"), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("dry_run: dry run: nothing changed")
    assert "weights on " in result.stdout and "green 20% -> 100%, baking 1m30s each" in result.stdout
    assert f"alarms {ALARM_5XX}" in result.stdout
    config.write_text('[deploy]\nbake = "soon"\n')
    code, err = _run_cli(["deploy", "--config", str(config), "--cluster", CLUSTER, "--service", BLUE,
                                         "--image", stack.image("v2"), "--dry-run"])
    assert (code, err) == (1, "error: invalid [deploy] bake 'soon' — use e.g. 30s, 5m or 1h\n")


def _run_cli(args: list[str]) -> tuple[int, str]:
    """`audit ARGS` as the console script runs it (expected errors as one line): (exit code, stderr)."""
    err = io.StringIO()
    argv = sys.argv
    sys.argv = ["audit", *args]
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = run_cli()
    finally:
        sys.argv = argv
    return code, err.getvalue()


# --- a real process: SIGTERM mid-shift, and a crash (SIGKILL) after the 50% step ---------------------


def _start(stack: Stack, data: Path, steps: str, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "XDG_DATA_HOME": str(data)}
    return subprocess.Popen([sys.executable, "-c", "from auditor.cli import main; main()",
                             *_base(stack, "--steps", steps, "--bake", "60s", "--poll", "0.2s", "--yes",
                                    "--timeout", "10m", *extra)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for(aws: Aws, stack: Stack, green: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while weights(aws, stack)["green"] != green:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"green never reached {green}%"
        time.sleep(0.1)


def test_sigterm_mid_shift_rolls_back(aws: Aws, stack: Stack, history: History, tmp_path: Path) -> None:
    push_image(aws, "v2")
    process = _start(stack, tmp_path / "data", "10,50,100", "--format", "json")
    _wait_for(aws, stack, 10, process)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1, err
    outcome = json.loads(out)
    assert outcome["result"] == "rolled_back"
    assert outcome["rollback_reason"] == "interrupted by SIGTERM"
    assert weights(aws, stack) == {"blue": 100, "green": 0}
    assert (desired(aws, BLUE), desired(aws, GREEN)) == (2, 0)
    entries = history.read_journal(outcome["deploy_id"])
    assert [e["green"] for e in entries if e["event"] == "weights"] == [10, 0]
    assert entries[-1]["event"] == "outcome" and entries[-1]["rollback_reason"] == "interrupted by SIGTERM"


def crash_after_half(aws: Aws, stack: Stack, history: History, data: Path) -> str:
    process = _start(stack, data, "50,100")
    _wait_for(aws, stack, 50, process)
    process.kill()
    process.communicate(timeout=30)
    (deploy_id,) = history.list_journals("deploy")[-1:]
    assert history.read_journal(deploy_id)[-1]["event"] != "outcome"
    return deploy_id


def test_crash_after_the_50_step_then_resume(aws: Aws, stack: Stack, history: History,
                                             tmp_path: Path) -> None:
    push_image(aws, "v2")
    deploy_id = crash_after_half(aws, stack, history, tmp_path / "data")
    assert weights(aws, stack) == {"blue": 50, "green": 50}
    # a new deploy is refused: traffic is split (and the dead process still holds the lease)
    code, err = _run_cli(_base(stack, "--yes"))
    assert code == 1 and "splits traffic web-blue=50/web-green=50: a deploy is under way or died" in err
    outcome = resume(deploy_id, aws=aws, history=history, **fake_seams(aws, stack))
    assert outcome.result == "succeeded", outcome
    assert weights(aws, stack) == {"blue": 0, "green": 100}
    assert (desired(aws, BLUE), desired(aws, GREEN)) == (0, 2)
    events = [e["event"] for e in history.read_journal(deploy_id)]
    assert events.count("start") == 1 and "resume" in events and events[-1] == "outcome"


def test_crash_after_the_50_step_then_rollback(aws: Aws, stack: Stack, history: History,
                                               tmp_path: Path) -> None:
    push_image(aws, "v2")
    deploy_id = crash_after_half(aws, stack, history, tmp_path / "data")
    result = CliRunner().invoke(cli, ["deploy", "--rollback", deploy_id, "--format", "json"])
    assert result.exit_code == 1, result.output  # a rollback is not a deploy
    outcome = json.loads(result.stdout)
    assert outcome["result"] == "rolled_back"
    assert outcome["rollback_reason"] == "requested with --rollback after the deploy's process died"
    assert weights(aws, stack) == {"blue": 100, "green": 0}
    assert (desired(aws, BLUE), desired(aws, GREEN)) == (2, 0)
    again = CliRunner().invoke(cli, ["deploy", "--rollback", deploy_id])
    assert again.exit_code != 0 and "already ended: rolled_back" in str(again.exception)
