"""Service health: load balancer availability from CloudWatch (batched GetMetricData) and ECS deployments;
UNKNOWN with the reason whenever the telemetry cannot be read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import orjson
import pytest
from click.testing import CliRunner
from moto import mock_aws

from auditor.aws import Aws, AwsSettings
from auditor.report.health import load_balancer_dimension, read_health
from tests.history.docs import make_doc

NOW = datetime.now(UTC).replace(microsecond=0)
ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/{name}/50dc6c495c0c9188"


def _lb(name: str) -> tuple[str, str]:
    return ("aws_lb", ARN.format(name=name))


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        yield Aws(AwsSettings(region="us-east-1"))


def _put(metric: str, lb: str, values: list[float]) -> None:
    dim = load_balancer_dimension(ARN.format(name=lb))
    boto3.client("cloudwatch", region_name="us-east-1").put_metric_data(Namespace="AWS/ApplicationELB", MetricData=[
        {"MetricName": metric, "Dimensions": [{"Name": "LoadBalancer", "Value": dim}],
         "Timestamp": NOW - timedelta(days=i + 1, hours=1), "Value": v} for i, v in enumerate(values)])


def test_availability_per_load_balancer(aws: Aws) -> None:
    _put("RequestCount", "web", [1000, 200])
    _put("HTTPCode_ELB_5XX_Count", "web", [3])
    _put("HTTPCode_Target_5XX_Count", "web", [4, 5])
    doc = make_doc(NOW, in_sync=[_lb("web"), _lb("idle")])
    health = read_health(aws, doc, days=30, now=NOW)
    by = {b.name: b for b in health.load_balancers}
    web = by["app/web/50dc6c495c0c9188"]
    assert (web.status, web.requests, web.elb_5xx, web.target_5xx) == ("OK", 1200, 3, 9)
    assert web.availability == pytest.approx(1 - 12 / 1200)
    idle = by["app/idle/50dc6c495c0c9188"]
    assert idle.status == "NO_TRAFFIC" and idle.availability is None and "no request" in (idle.reason or "")
    assert health.days == 30


def test_old_metrics_fall_outside_the_window(aws: Aws) -> None:
    _put("RequestCount", "web", [100] * 10)
    health = read_health(aws, make_doc(NOW, in_sync=[_lb("web")]), days=3, now=NOW)
    assert health.load_balancers[0].requests == 200  # the points 1 and 2 days back; 3 days and 1 hour is out


def test_queries_are_batched_500_at_a_time(aws: Aws) -> None:
    calls: list[int] = []
    client = aws.client("cloudwatch")
    client.meta.events.register("before-parameter-build.cloudwatch.GetMetricData",
                                lambda params, **_: calls.append(len(params["MetricDataQueries"])))
    doc = make_doc(NOW, in_sync=[_lb(f"lb{i}") for i in range(200)])
    health = read_health(aws, doc, now=NOW)
    assert calls == [500, 100] and len(health.load_balancers) == 200
    assert {b.status for b in health.load_balancers} == {"NO_TRAFFIC"}


class _Denied:
    """An Aws whose every client call is refused."""

    def client(self, service: str, region: str | None = None) -> Any:
        return self

    def __getattr__(self, name: str) -> Any:
        def refuse(**_: Any) -> Any:
            raise botocore.exceptions.ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, name)
        return refuse


def test_unreadable_telemetry_is_unknown_with_the_reason() -> None:
    doc = make_doc(NOW, in_sync=[_lb("web"), ("aws_ecs_service", "arn:aws:ecs:us-east-1:1:service/main/web")])
    health = read_health(_Denied(), doc, now=NOW)
    assert [(b.status, b.availability) for b in health.load_balancers] == [("UNKNOWN", None)]
    assert "AccessDenied" in (health.load_balancers[0].reason or "")
    assert health.services[0].status == "UNKNOWN" and "AccessDenied" in (health.services[0].reason or "")


def test_ecs_deployments(aws: Aws) -> None:
    ecs = boto3.client("ecs", region_name="us-east-1")
    ecs.create_cluster(clusterName="main")
    ecs.register_task_definition(family="web", containerDefinitions=[{"name": "c", "image": "x", "memory": 128}])
    arn = ecs.create_service(cluster="main", serviceName="web", taskDefinition="web", desiredCount=1)["service"][
        "serviceArn"]
    doc = make_doc(NOW, in_sync=[("aws_ecs_service", arn), ("aws_ecs_service", arn.replace("/web", "/gone"))])
    by = {s.service: s for s in read_health(aws, doc, now=NOW).services}
    assert (by["web"].status, by["web"].cluster, by["web"].in_progress) == ("OK", "main", 1)
    assert by["gone"].status == "UNKNOWN" and by["gone"].reason


def test_deployment_figures() -> None:
    t = NOW

    class Ecs:
        def client(self, service: str, region: str | None = None) -> Any:
            return self

        def describe_services(self, **_: Any) -> Any:
            return {"services": [{"deployments": [
                {"rolloutState": "COMPLETED", "createdAt": t, "updatedAt": t + timedelta(seconds=100)},
                {"rolloutState": "COMPLETED", "createdAt": t, "updatedAt": t + timedelta(seconds=300)},
                {"rolloutState": "COMPLETED", "createdAt": t, "updatedAt": t + timedelta(seconds=200)},
                {"rolloutState": "FAILED", "createdAt": t, "updatedAt": t + timedelta(seconds=900)}]}]}

    doc = make_doc(NOW, in_sync=[("aws_ecs_service", "arn:aws:ecs:us-east-1:1:service/main/api")])
    [s] = read_health(Ecs(), doc, now=NOW).services
    assert (s.completed, s.failed, s.median_provisioning_seconds, s.failed_rate) == (3, 1, 200.0, 0.25)


def test_audit_report_health_section(aws: Aws, tmp_path: Path) -> None:
    from auditor.cli import cli

    _put("RequestCount", "web", [1000])
    _put("HTTPCode_Target_5XX_Count", "web", [10])
    result_file = tmp_path / "result.json"
    result_file.write_bytes(orjson.dumps(make_doc(NOW, in_sync=[_lb("web")])))
    out = tmp_path / "r.html"
    result = CliRunner().invoke(cli, ["report", str(result_file), "--no-history", "--html", str(out),
                                      "--health", "30"])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert 'id="health"' in html and "99.000%" in html and "app/web/50dc6c495c0c9188" in html


def test_deploys_from_the_deployers_journals(aws: Aws, tmp_path: Path) -> None:
    from auditor.cli import cli
    from auditor.deploy.journal import Journal
    from auditor.history import open_history

    url = f"sqlite:///{tmp_path / 'h.db'}"
    clock = iter([(NOW - timedelta(days=d)).timestamp() for d in (40, 40, 5, 5, 2, 2)])
    with open_history(url) as h:
        for deploy_id, result, provisioning in (("old", "succeeded", 50.0), ("d1", "succeeded", 120.0),
                                                ("d2", "rolled_back", 80.0)):
            journal = Journal(h, deploy_id, lambda: next(clock))
            journal.write("start", way="alb-weights")
            journal.write("outcome", result=result, duration_seconds=600, green_provisioning_seconds=provisioning,
                          rollback_reason="target 5xx 3.2% > 1%" if result != "succeeded" else None)
        health = read_health(aws, make_doc(NOW), days=30, now=NOW, history=h)
    assert [d.deploy_id for d in health.deploys.deploys] == ["d1", "d2"]  # "old" is outside the 30 days
    assert health.deploys.failed_rate == 0.5 and health.deploys.median_provisioning_seconds == 100.0
    result_file = tmp_path / "result.json"
    result_file.write_bytes(orjson.dumps(make_doc(NOW)))
    out = tmp_path / "r.html"
    result = CliRunner().invoke(cli, ["report", str(result_file), "--history", url, "--html", str(out),
                                      "--health", "30"])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "Deploys by the bundled deployer" in html and "target 5xx 3.2% &gt; 1%" in html and "50%" in html
