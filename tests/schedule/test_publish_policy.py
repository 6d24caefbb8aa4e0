"""terraform/auditor's publish policy covers every call a scheduled run makes after the audit
(recorded by the client's call counter against moto): metrics, notifications and the report
published to the bucket/prefix of terraform/auditor's variables — and nothing more."""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import replace
from types import SimpleNamespace
from typing import cast

import boto3
import pytest
from moto import mock_aws

from auditor.aws import Aws, AwsSettings
from auditor.schedule.cloudwatch import put_metrics
from auditor.schedule.config import Job, Target
from auditor.schedule.notify import Event, Notifier, message
from auditor.schedule.runner import RunContext, publish_report
from auditor.schedule.summary import summarize
from tests.conftest import REPO
from tests.e2e.test_iam_policy import iam_action
from tests.schedule.conftest import audit_run

POLICY = REPO / "terraform" / "auditor" / "policies" / "audit-publish.json"
VARIABLES = REPO / "terraform" / "auditor" / "variables.tf"


def default(variable: str) -> str:
    """The default of a string variable of terraform/auditor."""
    block = re.search(rf'variable "{variable}" {{.*?\n  default += "([^"]*)"', VARIABLES.read_text(), re.S)
    assert block, variable
    return block.group(1)


def test_publish_policy_covers_the_calls_after_a_run(monkeypatch: pytest.MonkeyPatch) -> None:
    # a moto server started earlier in this process asks moto to load AWS's managed IAM policies for
    # every account it meets: 20 s more for this in-process mock, which needs none of them
    monkeypatch.delenv("MOTO_IAM_LOAD_MANAGED_POLICIES", raising=False)
    bucket, prefix = default("report_bucket_name"), default("report_prefix")
    with mock_aws():
        aws = Aws(AwsSettings(region="us-east-1"))
        topic = aws.client("sns").create_topic(Name="digitallync-drift-audit")["TopicArn"]
        s3 = aws.client("s3")
        s3.create_bucket(Bucket=bucket)
        before = aws.counter.snapshot()
        summary = summarize("nightly", audit_run(("svc",)), "r1", None)
        assert put_metrics(aws.client("cloudwatch"), "DriftAudit", summary) > 7
        notifier = Notifier(lambda region: aws.client("sns", region), backoff=0.0)
        notifier.send([Target("ops", sns_topic_arn=topic)], message(summary, [Event("new_drift", "new drift: 1")]))
        assert notifier.close(timeout=10) and notifier.delivered == 1
        job = Job("nightly", "0 2 * * *", "UTC", publish=f"s3://{bucket}/{prefix}")
        ctx = cast(RunContext, SimpleNamespace(aws=aws))
        for run_id in ("r1", "r2"):  # the first publish finds no index.json, the second reads it
            assert publish_report(ctx, job, replace(audit_run(("svc",)), id=run_id)).link is not None
        after = aws.counter.snapshot()
        sent = aws.client("cloudwatch").list_metrics(Namespace="DriftAudit")["Metrics"]
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
        plain = boto3.client("s3", region_name="us-east-1")  # a raw client: only the checks, not counted
        encryption = {plain.head_object(Bucket=bucket, Key=k)["ServerSideEncryption"] for k in keys}
    made = {iam_action(op) for op, n in after.items() if n > before.get(op, 0)}
    document = json.loads(POLICY.read_text())
    granted = {s["Action"]: s for s in document["Statement"]}
    # s3:ListBucket is no call publish makes: without it S3 answers the first run's read of the missing
    # index.json with AccessDenied instead of NoSuchKey, and the publish fails
    assert made | {"s3:ListBucket"} == set(granted) == {"cloudwatch:PutMetricData", "sns:Publish", "s3:PutObject",
                                                        "s3:GetObject", "s3:ListBucket"}
    assert granted["cloudwatch:PutMetricData"]["Condition"]["StringEquals"]["cloudwatch:namespace"] == "DriftAudit"
    assert fnmatch.fnmatchcase(topic, granted["sns:Publish"]["Resource"])
    assert {d["Name"] for m in sent for d in m["Dimensions"]} == {"Job", "State"}
    assert sorted(keys) == sorted(f"{prefix}/nightly/{name}" for name in (
        "index.html", "index.json", "latest.html", "runs/r1.json", "runs/r1.html", "runs/r2.json", "runs/r2.html"))
    arns = {f"arn:aws:s3:::{bucket}/{k}": k for k in keys}
    assert all(fnmatch.fnmatchcase(arn, granted["s3:PutObject"]["Resource"]) for arn in arns)
    assert granted["s3:PutObject"]["Condition"] == {"StringEquals": {"s3:x-amz-server-side-encryption": "AES256"}}
    assert encryption == {"AES256"}
    readable = [k for arn, k in arns.items() if fnmatch.fnmatchcase(arn, granted["s3:GetObject"]["Resource"])]
    assert readable == [f"{prefix}/nightly/index.json"]  # the reports themselves are not read back
    assert granted["s3:ListBucket"]["Resource"] == f"arn:aws:s3:::{bucket}"
    assert "Condition" not in granted["s3:ListBucket"]

