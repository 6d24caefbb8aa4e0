"""Service health for the report, from the telemetry AWS already keeps: availability of each load balancer
over the last N days from CloudWatch (1 - (ELB 5xx + target 5xx) / requests, read with batched
GetMetricData), and each ECS service's deployments (rollout state, provisioning time, failed rate).
Anything that cannot be read is UNKNOWN with the reason: never healthy by default."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.exceptions

_ALB_METRICS = ("RequestCount", "HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count")
_BATCH = 500  # GetMetricData's limit of queries per call
_AWS_ERRORS = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)


@dataclass(frozen=True, slots=True)
class LoadBalancerHealth:
    name: str
    region: str
    status: str  # OK | NO_TRAFFIC | UNKNOWN
    requests: float | None = None
    elb_5xx: float | None = None
    target_5xx: float | None = None
    reason: str | None = None

    @property
    def availability(self) -> float | None:
        if not self.requests or self.elb_5xx is None or self.target_5xx is None:
            return None
        return max(0.0, 1 - (self.elb_5xx + self.target_5xx) / self.requests)


@dataclass(frozen=True, slots=True)
class ServiceHealth:
    service: str
    cluster: str
    region: str
    status: str  # OK | UNKNOWN
    completed: int = 0
    failed: int = 0
    in_progress: int = 0
    median_provisioning_seconds: float | None = None
    reason: str | None = None

    @property
    def failed_rate(self) -> float | None:
        done = self.completed + self.failed
        return None if done == 0 else self.failed / done


@dataclass(frozen=True, slots=True)
class Health:
    since: datetime
    until: datetime
    load_balancers: tuple[LoadBalancerHealth, ...]
    services: tuple[ServiceHealth, ...]
    deploys: Any = None  # auditor.deploy.telemetry.DeployStats of the window, when a history was read

    @property
    def days(self) -> int:
        return round((self.until - self.since).total_seconds() / 86400)


def _region(arn: str, default: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 and parts[3] else default


def load_balancer_dimension(arn: str) -> str | None:
    """arn:...:loadbalancer/app/NAME/ID -> app/NAME/ID (CloudWatch's LoadBalancer dimension)."""
    _, found, rest = arn.partition(":loadbalancer/")
    return rest if found and rest.startswith("app/") else None


def _targets(doc: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """The run's application load balancers and ECS services (ARNs), whatever their drift."""
    lbs, services = [], []
    for r in doc.get("resources", ()):
        if r["kind"] in ("missing", "unknown"):
            continue
        if r["type"] in ("aws_lb", "aws_alb") and load_balancer_dimension(r["id"]):
            lbs.append(r["id"])
        elif r["type"] == "aws_ecs_service" and ":service/" in r["id"]:
            services.append(r["id"])
    return sorted(set(lbs)), sorted(set(services))


def _metric_sums(cloudwatch: Any, dimensions: Sequence[str], since: datetime, until: datetime) -> dict[str, Any]:
    """(dimension, metric) sums over the window, in batches of 500 queries; raises on a failed call."""
    queries = [{"Id": f"q{i}_{j}", "ReturnData": True,
                "MetricStat": {"Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": metric,
                                          "Dimensions": [{"Name": "LoadBalancer", "Value": dim}]},
                               "Period": 86400, "Stat": "Sum"}}
               for i, dim in enumerate(dimensions) for j, metric in enumerate(_ALB_METRICS)]
    sums: dict[str, Any] = {}
    for start in range(0, len(queries), _BATCH):
        token = None
        while True:
            kwargs: dict[str, Any] = {"MetricDataQueries": queries[start:start + _BATCH], "StartTime": since,
                                      "EndTime": until, "ScanBy": "TimestampAscending"}
            if token:
                kwargs["NextToken"] = token
            answer = cloudwatch.get_metric_data(**kwargs)
            for result in answer.get("MetricDataResults", ()):
                i, j = (int(x) for x in result["Id"][1:].split("_"))
                key = f"{dimensions[i]}|{_ALB_METRICS[j]}"
                sums[key] = sums.get(key, 0.0) + sum(result.get("Values") or ())
                if result.get("StatusCode") not in (None, "Complete", "PartialData"):
                    sums[f"{key}|status"] = result["StatusCode"]
            token = answer.get("NextToken")
            if not token:
                break
    return sums


def _load_balancers(aws: Any, arns: Sequence[str], default_region: str, since: datetime,
                    until: datetime) -> list[LoadBalancerHealth]:
    from auditor.aws import describe_error

    by_region: dict[str, list[str]] = {}
    for arn in arns:
        by_region.setdefault(_region(arn, default_region), []).append(arn)
    out = []
    for region, group in sorted(by_region.items()):
        dims = [d for d in (load_balancer_dimension(a) for a in group) if d]
        try:
            sums = _metric_sums(aws.client("cloudwatch", region), dims, since, until)
        except _AWS_ERRORS as exc:  # a failure to read is UNKNOWN, never healthy
            out += [LoadBalancerHealth(d, region, "UNKNOWN", reason=describe_error(exc)) for d in dims]
            continue
        for dim in dims:
            values = [sums.get(f"{dim}|{m}") for m in _ALB_METRICS]
            bad = next((sums[f"{dim}|{m}|status"] for m in _ALB_METRICS if f"{dim}|{m}|status" in sums), None)
            if bad:
                out.append(LoadBalancerHealth(dim, region, "UNKNOWN", reason=f"CloudWatch answered {bad}"))
            elif not values[0]:
                out.append(LoadBalancerHealth(dim, region, "NO_TRAFFIC", 0.0, values[1] or 0.0, values[2] or 0.0,
                                              reason="no request in the window: availability not measurable"))
            else:
                out.append(LoadBalancerHealth(dim, region, "OK", values[0], values[1] or 0.0, values[2] or 0.0))
    return out


def _services(aws: Any, arns: Sequence[str], default_region: str) -> list[ServiceHealth]:
    from auditor.aws import describe_error

    out = []
    for arn in arns:
        region = _region(arn, default_region)
        cluster, _, name = arn.split(":service/", 1)[1].rpartition("/")
        cluster = cluster or "default"  # the old ARN format names no cluster
        try:
            answer = aws.client("ecs", region).describe_services(cluster=cluster, services=[arn])
        except _AWS_ERRORS as exc:
            out.append(ServiceHealth(name, cluster, region, "UNKNOWN", reason=describe_error(exc)))
            continue
        found = answer.get("services") or []
        if not found:
            reason = "; ".join(f.get("reason", "") for f in answer.get("failures") or ()) or "not found"
            out.append(ServiceHealth(name, cluster, region, "UNKNOWN", reason=reason))
            continue
        deployments = found[0].get("deployments") or []
        states = [d.get("rolloutState") for d in deployments]
        times = [(d["updatedAt"] - d["createdAt"]).total_seconds() for d in deployments
                 if d.get("rolloutState") == "COMPLETED" and d.get("createdAt") and d.get("updatedAt")]
        out.append(ServiceHealth(name, cluster, region, "OK", states.count("COMPLETED"), states.count("FAILED"),
                                 states.count("IN_PROGRESS"), statistics.median(times) if times else None,
                                 reason=None if any(states) else "no rollout state reported (circuit breaker off?)"))
    return out


def _deploys(history: Any, since: datetime) -> Any:
    """The bundled deployer's journals in the window: outcome, duration, green provisioning, rollback reason."""
    from auditor.deploy.telemetry import DeployStats, deploy_stats

    stats = deploy_stats(history)
    return DeployStats(tuple(d for d in stats.deploys if d.started_at >= since.timestamp()))


def read_health(aws: Any, doc: Mapping[str, Any], days: int = 30, now: datetime | None = None,
                history: Any = None) -> Health:
    """The health of the run's load balancers (last `days` days), ECS services (their current deployments)
    and, with a history, the deploys its journals recorded in the window."""
    until = now or datetime.now(UTC)
    since = until - timedelta(days=days)
    default_region = ((doc.get("run") or {}).get("regions") or ["us-east-1"])[0]
    lbs, services = _targets(doc)
    return Health(since, until, tuple(_load_balancers(aws, lbs, default_region, since, until)),
                  tuple(_services(aws, services, default_region)),
                  _deploys(history, since) if history is not None else None)
