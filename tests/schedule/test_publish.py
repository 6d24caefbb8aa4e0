"""A scheduled run publishes through auditor.report.publish, like `audit report --publish`: the run's JSON and
page, latest.html and the index, under PUBLISH/JOB/ on S3 (SSE-S3) and REPORT_DIR/JOB/ on disk."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from moto import mock_aws

from auditor.aws import Aws, AwsSettings
from auditor.history import History, open_history
from auditor.models import AuditRun
from auditor.schedule.config import load_schedule_config
from auditor.schedule.notify import Notifier
from auditor.schedule.runner import RunContext, run_job
from auditor.schedule.store import ScheduleStore
from auditor.schedule.units import Unit, UnitOutcome
from tests.schedule.conftest import audit_run


class OneRun:
    """The unit executor seam answering every run with `drifted` services changed."""

    def __init__(self, drifted: tuple[str, ...]) -> None:
        self.drifted = drifted

    def run(self, units: Sequence[Unit], audit: Callable[[Unit], AuditRun]) -> list[UnitOutcome]:
        return [UnitOutcome(units[0], run=audit_run(self.drifted))]


def _context(tmp_path: Path, schedule: str, aws: Aws, executor: OneRun) -> tuple[RunContext, History]:
    """A run context for one `nightly` schedule (its keys after `cron`) over one state, with no metrics,
    recording in a real SQLite history (the reports read their trend from it)."""
    path = tmp_path / "audit.toml"
    path.write_text('[[states]]\nuri = "s3://b/k"\n[scheduler]\ncloudwatch_namespace = ""\n'
                    '[[notifications]]\nname = "ops"\nsns_topic_arn = "arn:aws:sns:us-east-1:123456789012:ops"\n'
                    f'[[schedules]]\nname = "nightly"\ncron = "0 2 * * *"\nnotify = ["ops"]\n{schedule}')
    url = f"sqlite:///{tmp_path / 'history.db'}"
    history = open_history(url)
    ctx = RunContext(load_schedule_config(path), history, ScheduleStore(url), aws,
                     Notifier(lambda region: aws.client("sns", region), backoff=0.0), executor)
    return ctx, history


def _statuses(history: History) -> list[str]:
    return [r.status for r in reversed(history.runs())]


def test_a_scheduled_run_publishes_the_report_index_and_latest(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOTO_IAM_LOAD_MANAGED_POLICIES", raising=False)
    with mock_aws():
        aws = Aws(AwsSettings(region="us-east-1"))
        s3 = aws.client("s3")
        s3.create_bucket(Bucket="audit-reports")
        ctx, history = _context(tmp_path, 'report_dir = "reports"\npublish = "s3://audit-reports/audits/"\n', aws,
                                OneRun(("svc-a",)))
        first = run_job(ctx, "nightly")
        ctx.executor = OneRun(())
        second = run_job(ctx, "nightly")
        keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="audit-reports")["Contents"])
        objects = {k.removeprefix("audits/nightly/"): s3.get_object(Bucket="audit-reports", Key=k) for k in keys}
        assert ctx.notifier.close(timeout=10)

    ids = [first.run_id, second.run_id]
    assert all(ids) and ids[0] != ids[1]
    assert sorted(objects) == sorted(["index.html", "index.json", "latest.html",
                                      *(f"runs/{i}.{ext}" for i in ids for ext in ("html", "json"))])
    assert {o["ServerSideEncryption"] for o in objects.values()} == {"AES256"}
    assert objects["runs/" + ids[1] + ".html"]["ContentType"].startswith("text/html")
    assert json.loads(objects[f"runs/{ids[0]}.json"]["Body"].read())["run"]["id"] == ids[0]
    latest = objects["latest.html"]["Body"].read().decode()
    assert latest.rstrip().endswith("</html>") and ids[1] in latest
    index = objects["index.html"]["Body"].read().decode()
    assert all(f"runs/{i}.html" in index for i in ids)
    assert [e["run_id"] for e in json.loads(objects["index.json"]["Body"].read())] == [ids[1], ids[0]]
    assert second.report_url == f"s3://audit-reports/audits/nightly/runs/{ids[1]}.html"

    folder = tmp_path / "reports" / "nightly"  # the same files on disk
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) == sorted(objects)
    assert _statuses(history) == ["completed", "completed"]
    # recorded before it was published: the second report's trend holds both runs, itself included
    page = objects[f"runs/{ids[1]}.html"]["Body"].read().decode()
    assert "Drift index, last 2 runs" in page and ids[0] in page


def test_a_publish_failure_is_recorded_with_the_run_and_notified(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOTO_IAM_LOAD_MANAGED_POLICIES", raising=False)
    with mock_aws():
        aws = Aws(AwsSettings(region="us-east-1"))
        sns, sqs = aws.client("sns"), aws.client("sqs")
        topic = sns.create_topic(Name="ops")["TopicArn"]
        queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
        ctx, history = _context(tmp_path, 'publish = "s3://no-such-bucket/audits"\n'
                                'report_url = "https://audit.example.com/nightly/"\n', aws, OneRun(()))
        summary = run_job(ctx, "nightly")
        assert ctx.notifier.close(timeout=10)
        received = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
                    .get("Messages", [])]
    assert summary.status == "succeeded" and _statuses(history) == ["completed"]
    assert summary.publish_error and summary.publish_error.startswith("s3://no-such-bucket/audits/nightly: ")
    assert "\n" not in summary.publish_error
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == ["report not published"]
    assert history.read_journal(str(summary.run_id)) == [
        {"job": "nightly", "status": "failed", "error": summary.publish_error}]
    assert [e["kind"] for m in received for e in m["events"]] == ["report_not_published"]
    assert summary.report_url == f"https://audit.example.com/nightly/runs/{summary.run_id}.html"
