"""terraform/auditor's publish policy covers every call a scheduled run makes after the audit
(recorded by the client's call counter against moto), and nothing more."""

from __future__ import annotations

import fnmatch
import json

import pytest
from moto import mock_aws

from auditor.aws import Aws, AwsSettings
from auditor.schedule.cloudwatch import put_metrics
from auditor.schedule.config import Target
from auditor.schedule.notify import Event, Notifier, message
from auditor.schedule.summary import summarize
from tests.conftest import REPO
from tests.e2e.test_iam_policy import iam_action
from tests.schedule.conftest import audit_run

POLICY = REPO / "terraform" / "auditor" / "policies" / "audit-publish.json"


def test_publish_policy_covers_the_calls_after_a_run(monkeypatch: pytest.MonkeyPatch) -> None:
    # a moto server started earlier in this process asks moto to load AWS's managed IAM policies for
    # every account it meets: 20 s more for this in-process mock, which needs none of them
    monkeypatch.delenv("MOTO_IAM_LOAD_MANAGED_POLICIES", raising=False)
    with mock_aws():
        aws = Aws(AwsSettings(region="us-east-1"))
        topic = aws.client("sns").create_topic(Name="digitallync-drift-audit")["TopicArn"]
        before = aws.counter.snapshot()
        summary = summarize("nightly", audit_run(("svc",)), "r1", None)
        assert put_metrics(aws.client("cloudwatch"), "DriftAudit", summary) > 7
        notifier = Notifier(lambda region: aws.client("sns", region), backoff=0.0)
        notifier.send([Target("ops", sns_topic_arn=topic)], message(summary, [Event("new_drift", "new drift: 1")]))
        assert notifier.close(timeout=10) and notifier.delivered == 1
        after = aws.counter.snapshot()
        sent = aws.client("cloudwatch").list_metrics(Namespace="DriftAudit")["Metrics"]
    made = {iam_action(op) for op, n in after.items() if n > before.get(op, 0)}
    document = json.loads(POLICY.read_text())
    granted = {s["Action"]: s for s in document["Statement"]}
    assert made == set(granted) == {"cloudwatch:PutMetricData", "sns:Publish"}
    assert granted["cloudwatch:PutMetricData"]["Condition"]["StringEquals"]["cloudwatch:namespace"] == "DriftAudit"
    assert fnmatch.fnmatchcase(topic, granted["sns:Publish"]["Resource"])
    assert {d["Name"] for m in sent for d in m["Dimensions"]} == {"Job", "State"}
