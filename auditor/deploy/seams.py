"""The deployer's test seams: the clock, target health and the 5xx metrics, with their AWS implementations.

moto keeps registered targets healthy and never evaluates alarms, so tests pass their own health and
metrics sources and a clock that only moves when the deployer sleeps.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, Protocol

from auditor.aws import Aws, describe_error
from auditor.deploy.model import AWS_ERRORS, DeployError


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Wall time."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class HealthSource(Protocol):
    def healthy_targets(self, target_group: str) -> tuple[int, int]:
        """(healthy, registered) targets of the target group now."""
        ...


class MetricsSource(Protocol):
    def target_5xx(self, target_group: str, load_balancer: str, start: float, end: float) -> tuple[float, float]:
        """(HTTPCode_Target_5XX_Count, RequestCount) of the target group between two epoch times."""
        ...


class ElbHealth:
    """Target health from elbv2.DescribeTargetHealth."""

    def __init__(self, aws: Aws) -> None:
        self._elb = aws.client("elbv2")

    def healthy_targets(self, target_group: str) -> tuple[int, int]:
        try:
            found = self._elb.describe_target_health(TargetGroupArn=target_group)["TargetHealthDescriptions"]
        except AWS_ERRORS as exc:
            raise DeployError(f"cannot read the health of {_suffix(target_group)}: {describe_error(exc)}") from None
        healthy = sum(1 for t in found if t.get("TargetHealth", {}).get("State") == "healthy")
        return healthy, len(found)


class CloudWatchMetrics:
    """The target group's 5xx and request counts from cloudwatch.GetMetricData (AWS/ApplicationELB, Sum)."""

    def __init__(self, aws: Aws) -> None:
        self._cw = aws.client("cloudwatch")

    def target_5xx(self, target_group: str, load_balancer: str, start: float, end: float) -> tuple[float, float]:
        dims = [{"Name": "TargetGroup", "Value": _suffix(target_group)},
                {"Name": "LoadBalancer", "Value": _suffix(load_balancer)}]
        queries: list[dict[str, Any]] = [
            {"Id": qid, "MetricStat": {"Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": name,
                                                  "Dimensions": dims}, "Period": 60, "Stat": "Sum"},
             "ReturnData": True}
            for qid, name in (("errors", "HTTPCode_Target_5XX_Count"), ("requests", "RequestCount"))]
        sums = {"errors": 0.0, "requests": 0.0}
        kwargs: dict[str, Any] = {"MetricDataQueries": queries, "StartTime": datetime.fromtimestamp(start - 60, UTC),
                                  "EndTime": datetime.fromtimestamp(max(end, start + 60), UTC)}
        try:
            while True:
                page = self._cw.get_metric_data(**kwargs)
                for result in page.get("MetricDataResults", []):
                    sums[result["Id"]] += sum(result.get("Values", []))
                if not page.get("NextToken"):
                    break
                kwargs["NextToken"] = page["NextToken"]
        except AWS_ERRORS as exc:
            raise DeployError(f"cannot read the 5xx metrics of {_suffix(target_group)}: "
                              f"{describe_error(exc)}") from None
        return sums["errors"], sums["requests"]


def _suffix(arn: str) -> str:
    """The ARN part CloudWatch uses as a dimension: `targetgroup/name/id`, `app/name/id`."""
    return arn.split(":", 5)[-1].split("/", 1)[-1] if ":loadbalancer/" in arn else arn.split(":", 5)[-1]
