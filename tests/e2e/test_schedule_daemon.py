"""`audit schedule run` as a process against a moto server, one run every 2 s: runs recorded in the
history without overlap, a run slowed by a held Terraform lock makes the next be skipped and
counted, metrics in CloudWatch and Prometheus, an SNS message through an SQS subscription, a second
daemon refused, a standby taking over from a killed leader, and SIGTERM -> exit 0 once the running
audit is done."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from auditor.aws import Aws, AwsSettings
from auditor.demo.motoserver import free_port
from auditor.demo.run import REGION, STACK_KEY, SeededStack, apply_scenarios
from auditor.history import open_history

AUDIT = Path(sys.executable).with_name("audit")
pytestmark = pytest.mark.e2e


def wait_for(what: str, check: Callable[[], Any], timeout: float = 40.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def metric(port: int, name: str) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    values = [float(m.group(1)) for m in re.finditer(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M)]
    return sum(values)


def hold_lock(aws: Aws, stack: SeededStack, held: bool) -> None:
    key = {"LockID": {"S": f"{stack.bucket}/{STACK_KEY}"}}
    table = aws.client("dynamodb")
    if held:
        info = {"ID": "5e1f", "Operation": "OperationTypeApply", "Who": "ci@runner-7", "Version": "1.11.4",
                "Created": "2026-12-07T10:11:00Z", "Path": f"{stack.bucket}/{STACK_KEY}", "Info": ""}
        table.put_item(TableName=stack.lock_table, Item={**key, "Info": {"S": json.dumps(info)}})
    else:
        table.delete_item(TableName=stack.lock_table, Key=key)


def stack_toml(stack: SeededStack, history_url: str, *lines: str) -> str:
    """audit.toml's head for the seeded stack: the history, the region, extra top-level lines, its states."""
    return "\n".join([f'history = "{history_url}"', f'regions = ["{REGION}"]', *lines, "[[states]]",
                      f'uri = "s3://{stack.bucket}/**/terraform.tfstate"', f'lock_table = "{stack.lock_table}"',
                      f'region = "{REGION}"', ""])


def test_the_daemon(stack: SeededStack, moto_server: str, tmp_path: Path) -> None:
    aws = Aws(AwsSettings(region=REGION))
    sns, sqs = aws.client("sns"), aws.client("sqs")
    topic = sns.create_topic(Name="drift-audit")["TopicArn"]
    queue = sqs.create_queue(QueueName="drift-audit")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    history_url = f"sqlite:///{tmp_path / 'history.db'}"
    config = tmp_path / "audit.toml"
    config.write_text(stack_toml(stack, history_url, 'wait_for_lock = "20s"') + f"""
[scheduler]
heartbeat_file = "heartbeat.json"
shutdown_timeout = "60s"
[[notifications]]
name = "ops"
sns_topic_arn = "{topic}"
[[schedules]]
name = "every2s"
cron = "*/2 * * * * *"
notify = ["ops"]
report_dir = "reports"
""")
    env = {**os.environ, "AWS_ENDPOINT_URL": moto_server, "AWS_REGION": REGION}
    port = free_port()

    def start(*extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen([str(AUDIT), "schedule", "run", "--config", str(config), *extra], cwd=tmp_path,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    history = open_history(history_url)

    def runs() -> list[Any]:
        return sorted(history.runs(), key=lambda r: r.started_at)

    leader = start("--metrics-port", str(port), "--metrics-host", "127.0.0.1")
    try:
        wait_for("3 runs", lambda: len([r for r in runs() if r.status == "completed"]) >= 3)
        # a second daemon on the same job store is refused: one line, exit 1, nothing started
        second = subprocess.run([str(AUDIT), "schedule", "run", "--config", str(config)], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=30)
        assert second.returncode == 1
        assert second.stderr.startswith("error: another scheduler is active on this job store (pid ")
        assert len(second.stderr.strip().splitlines()) == 1

        # drift appears: the next run notifies (SNS -> SQS); CloudWatch has the run's metrics
        apply_scenarios(stack, ["service-scaled"])
        notes: list[dict[str, Any]] = []

        def service_drift_noted() -> bool:  # the first run notes the SNS topic itself: unmanaged
            for message in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", []):
                notes.append(json.loads(json.loads(message["Body"])["Message"]))
            return any("aws_ecs_service" in item for n in notes for e in n["events"] for item in e["items"])

        wait_for("an SNS message in SQS", service_drift_noted)
        note = notes[-1]
        assert note["job"] == "every2s" and [e["kind"] for e in note["events"]] == ["new_drift"]
        assert all(n["schema"] == "auditor.notification/v1" for n in notes)
        assert note["report_url"].endswith(".html") and Path(note["report_url"]).is_file()
        names = {m["MetricName"] for m in aws.client("cloudwatch").list_metrics(Namespace="DriftAudit")["Metrics"]}
        assert {"DriftIndex", "Coverage", "Changed", "Missing", "Unmanaged", "Unknown", "FailingRules"} <= names

        # a run slowed by a held lock: the runs due meanwhile are skipped and counted, never overlapped
        skipped_before = metric(port, "auditor_schedule_skipped_runs_total")
        hold_lock(aws, stack, True)
        time.sleep(5)
        hold_lock(aws, stack, False)
        wait_for("skips counted", lambda: metric(port, "auditor_schedule_skipped_runs_total") > skipped_before)
        assert metric(port, "auditor_schedule_last_run_success") == 1
        heartbeat = json.loads((tmp_path / "heartbeat.json").read_text())
        assert heartbeat["pid"] == leader.pid and "every2s" in heartbeat["jobs"]

        # SIGTERM while an audit runs: no new run, the running one finishes, exit 0 soon after
        hold_lock(aws, stack, True)
        wait_for("a running audit", lambda: metric(port, "auditor_schedule_running") == 1)
        leader.send_signal(signal.SIGTERM)
        time.sleep(1)
        count = len(runs())
        hold_lock(aws, stack, False)
        released = time.monotonic()
        _, err = leader.communicate(timeout=30)
        assert leader.returncode == 0, err[-2000:]
        assert time.monotonic() - released < 5
        assert len(runs()) == count + 1, "the running audit was recorded, and no run started after SIGTERM"
    finally:
        if leader.poll() is None:
            leader.kill()
            leader.wait()
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    finished = [line for line in lines if line["message"] == "run finished"]
    assert finished and {"run_id", "job", "duration", "drift_index", "exit_code", "status"} <= set(finished[0])
    assert any(line["message"].startswith("run skipped") for line in lines)

    done = [r for r in runs() if r.trigger == "schedule"]  # not the slots recorded as missed
    assert len(done) >= 5
    assert all(a.finished_at <= b.started_at for a, b in itertools.pairwise(done)), "runs overlapped"
    assert all(r.job == "every2s" and r.trigger == "schedule" for r in done if r.status == "completed")

    # a standby takes over when the leader is killed
    leader = start()
    standby = start("--standby")
    try:
        seen = len(runs())
        before = wait_for("the new leader's first run", lambda: len(runs()) > seen and len(runs()))
        leader.kill()
        leader.wait()
        wait_for("the standby's runs", lambda: len(runs()) >= before + 2, timeout=30)
        standby.send_signal(signal.SIGTERM)
        assert standby.wait(timeout=30) == 0
    finally:
        for proc in (leader, standby):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    history.close()


def test_bad_config_and_unreachable_history_exit_1_with_one_line(tmp_path: Path) -> None:
    config = tmp_path / "audit.toml"
    cases = {
        'history = "sqlite:///h.db"\n[[schedules]]\nname = "n"\ncron = "0 2 * * * * *"\n': "bad cron",
        'history = "sqlite:///h.db"\n[[schedules]]\nname = "n"\ncron = "0 2 * * *"\ntimezone = "X/Y"\n':
            "unknown timezone",
        'history = "sqlite:///h.db"\n[[schedules]]\nname = "n"\ncron = "0 2 * * *"\nstates = ["s3://x/y"]\n':
            "unknown state",
        'history = "postgresql://u:secret@127.0.0.1:1/db"\n[[schedules]]\nname = "n"\ncron = "0 2 * * *"\n':
            "connection failed",
    }
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    schedule = '[[schedules]]\nname = "n"\ncron = "0 2 * * *"\n'
    cases['history = "sqlite:///h2.db"\n[scheduler]\nheartbeat_file = "/proc/no/heartbeat"\n' + schedule] = \
        "cannot write /proc/no/heartbeat"
    cases['history = "sqlite:///h2.db"\n' + schedule + "#metrics"] = "cannot serve metrics on 127.0.0.1:"
    for i, (text, message) in enumerate(cases.items()):
        config.write_text(text)
        command = ["check"] if i == 0 else ["run"]
        if text.endswith("#metrics"):
            command += ["--metrics-port", str(busy.getsockname()[1]), "--metrics-host", "127.0.0.1"]
        done = subprocess.run([str(AUDIT), "schedule", *command, "--config", str(config)], cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 1, (text, done.stderr)
        assert done.stderr.startswith("error: ") and message in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "secret" not in done.stderr
        assert not (tmp_path / "h.db").exists()
    busy.close()


def test_once_list_and_check(stack: SeededStack, moto_server: str, tmp_path: Path) -> None:
    history_url = f"sqlite:///{tmp_path / 'history.db'}"
    config = tmp_path / "audit.toml"
    aws = Aws(AwsSettings(region=REGION))
    config.write_text(stack_toml(stack, history_url, "history_keep_days = 400") + """
[[schedules]]
name = "nightly"
cron = "30 2 * * 1-5"
timezone = "Europe/Berlin"
publish = "s3://audit-reports/audits"
""")
    # as terraform/auditor's task runs it: the config is a SecureString parameter, read through boto3 in the
    # task's region (deployed, terraform/auditor's state holds the parameter; here it sits outside the audit)
    aws.client("ssm", "us-east-1").put_parameter(Name="/auditor/config", Type="SecureString",
                                                 Value=config.read_text())
    env = {**os.environ, "AWS_ENDPOINT_URL": moto_server, "AWS_REGION": "us-east-1"}

    def audit(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(AUDIT), "schedule", *args, "--config", "ssm:/auditor/config"], cwd=tmp_path,
                              env=env, capture_output=True, text=True, timeout=120)
        assert "history_keep_days" not in done.stdout + done.stderr  # the config's content is never logged
        return done

    listed = audit("list")
    assert listed.returncode == 0 and listed.stdout.startswith('nightly  cron "30 2 * * 1-5" Europe/Berlin')
    assert len([line for line in listed.stdout.splitlines() if line.startswith("  ")]) == 3
    checked = audit("check")
    assert checked.returncode == 0 and checked.stdout.count("T02:30:00+01:00") == 5
    assert "history sqlite:///" in checked.stdout
    assert audit("once", "nope").stderr.startswith("error: ") and audit("once", "nope").returncode == 1

    clean = audit("once", "nightly")  # the reports bucket does not exist yet: logged, the run still counts
    assert clean.returncode == 0, clean.stderr[-2000:]
    assert '"message": "report not published"' in clean.stderr
    aws.client("s3").create_bucket(Bucket="audit-reports", CreateBucketConfiguration={"LocationConstraint": REGION})
    apply_scenarios(stack, ["alarm-deleted"])
    drifted = audit("once", "nightly")
    assert drifted.returncode == 2, drifted.stderr[-2000:]
    history = open_history(history_url)
    recorded = history.runs()
    history.close()
    assert [(r.job, r.trigger, r.exit_code) for r in recorded] == [("nightly", "schedule", 2),
                                                                    ("nightly", "schedule", 0)]
    line = json.loads(drifted.stderr.strip().splitlines()[-1])
    assert line["message"] == "run finished" and line["exit_code"] == 2 and line["run_id"] == recorded[0].id
    published = aws.client("s3").list_objects_v2(Bucket="audit-reports")["Contents"]
    assert sorted(o["Key"] for o in published) == [
        f"audits/nightly/{name}" for name in ("index.html", "index.json", "latest.html", f"runs/{recorded[0].id}.html",
                                              f"runs/{recorded[0].id}.json")]
    body = aws.client("s3").get_object(Bucket="audit-reports", Key=f"audits/nightly/runs/{recorded[0].id}.json")["Body"]
    assert json.loads(body.read())["run"]["id"] == recorded[0].id
