"""The gates' own readers (CloudWatch metrics, the smoke URL), keep-blue standby, and a weighted listener rule."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from auditor.aws import Aws
from auditor.deploy import DeployRequest, deploy
from auditor.deploy.gates import Gates, GateSettings
from auditor.deploy.seams import CloudWatchMetrics, ElbHealth
from auditor.history import History
from tests.deploy.bgstack import ALARM_5XX, BLUE, CLUSTER, GREEN, Stack, desired, fake_seams, push_image, weights


def test_cloudwatch_metrics_sum_the_target_groups_5xx_and_requests(aws: Aws, stack: Stack) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    dims = [{"Name": "TargetGroup", "Value": stack.green_tg.split(":", 5)[-1]},
            {"Name": "LoadBalancer", "Value": stack.load_balancer.split(":loadbalancer/", 1)[-1]}]
    aws.client("cloudwatch").put_metric_data(Namespace="AWS/ApplicationELB", MetricData=[
        {"MetricName": "HTTPCode_Target_5XX_Count", "Dimensions": dims, "Timestamp": now, "Value": 3.0},
        {"MetricName": "RequestCount", "Dimensions": dims, "Timestamp": now, "Value": 200.0}])
    start = now.timestamp() - 120
    gates = Gates(aws, GateSettings(max_5xx_rate=0.01), ElbHealth(aws), CloudWatchMetrics(aws))
    reading = gates.error_rate(stack.green_tg, stack.load_balancer, start, now.timestamp() + 60)
    assert (reading.ok, reading.detail) == (False, "3 5xx of 200 requests (1.50%, limit 1.00%)")
    assert gates.error_rate(stack.blue_tg, stack.load_balancer, start, now.timestamp() + 60).ok
    assert gates.healthy(stack.green_tg, 2).detail == "2 healthy of 2 registered, 2 desired"


class _Answer(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 503)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def smoke_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_smoke_gate(aws: Aws, smoke_server: str) -> None:
    def reading(url: str) -> tuple[bool, str]:
        result = Gates(aws, GateSettings(smoke_url=url), ElbHealth(aws), CloudWatchMetrics(aws)).smoke()
        return result.ok, result.detail

    assert reading(f"{smoke_server}/health") == (True, f"{smoke_server}/health: HTTP 200")
    assert reading(f"{smoke_server}/down") == (False, f"{smoke_server}/down: HTTP 503")


def test_failing_smoke_url_rolls_back_before_any_traffic_moves(aws: Aws, stack: Stack, history: History,
                                                               smoke_server: str) -> None:
    push_image(aws, "v2")
    request = DeployRequest(cluster=CLUSTER, service=BLUE, image=stack.image("v2"), smoke_url=f"{smoke_server}/down")
    outcome = deploy(request, aws=aws, history=history, **fake_seams(aws, stack))
    assert outcome.result == "rolled_back"
    assert outcome.rollback_reason == f"gate smoke failed: {smoke_server}/down: HTTP 503"
    assert not [e for e in history.read_journal(outcome.deploy_id) if e["event"] == "weights"]
    assert weights(aws, stack) == {"blue": 100, "green": 0} and desired(aws, GREEN) == 0


def test_alarm_during_keep_blue_goes_back_to_the_warm_blue(aws: Aws, stack: Stack, history: History) -> None:
    push_image(aws, "v2")
    seams = fake_seams(aws, stack)
    request = DeployRequest(cluster=CLUSTER, service=BLUE, image=stack.image("v2"), strategy="all-at-once",
                            bake_seconds=60, keep_blue_seconds=600, alarms=(ALARM_5XX,), poll_seconds=10)
    # 45 s to provision, 60 s bake at 100%, then the alarm fires 5 minutes into blue's warm standby
    seams["clock"].at(405, lambda: aws.client("cloudwatch").set_alarm_state(
        AlarmName=ALARM_5XX, StateValue="ALARM", StateReason="late 5xx"))
    outcome = deploy(request, aws=aws, history=history, **seams)
    assert outcome.result == "rolled_back"
    assert weights(aws, stack) == {"blue": 100, "green": 0}
    assert (desired(aws, BLUE), desired(aws, GREEN)) == (2, 0)
    entries = history.read_journal(outcome.deploy_id)
    assert [e["event"] for e in entries if e["event"] in ("keep_blue", "rollback")] == ["keep_blue", "rollback"]
    assert [e["green"] for e in entries if e["event"] == "weights"] == [100, 0]


def test_a_weighted_listener_rule(aws: Aws, stack: Stack, history: History) -> None:
    push_image(aws, "v2")
    elb = aws.client("elbv2")
    rule = elb.create_rule(ListenerArn=stack.listener, Priority=5,
                           Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}],
                           Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
                               {"TargetGroupArn": stack.blue_tg, "Weight": 100},
                               {"TargetGroupArn": stack.green_tg, "Weight": 0}]}}])["Rules"][0]["RuleArn"]
    try:
        request = DeployRequest(cluster=CLUSTER, service=BLUE, image=stack.image("v2"), listener_rule=rule,
                                steps=(50, 100), bake_seconds=60)
        assert deploy(request, aws=aws, history=history, **fake_seams(aws, stack)).result == "succeeded"
        forward = elb.describe_rules(RuleArns=[rule])["Rules"][0]["Actions"][0]["ForwardConfig"]["TargetGroups"]
        assert {t["TargetGroupArn"]: t["Weight"] for t in forward} == {stack.blue_tg: 0, stack.green_tg: 100}
        assert weights(aws, stack) == {"blue": 100, "green": 0}  # the listener's default action is not touched
    finally:
        elb.delete_rule(RuleArn=rule)
