"""ECS services: a desired count changed by hand (unless Application Auto Scaling owns it; the
planner checks). A drifted task definition is not reverted here: it is redeployed through the
blue/green deployer (see auditor.fix.planner)."""

from __future__ import annotations

from auditor.fix.model import Call, Probe, Risk
from auditor.fix.reverts import Revert, state_attrs
from auditor.models import Drift, DriftKind


def cluster_and_name(drift: Drift) -> tuple[str, str]:
    """The service's cluster and name, from its ARN (`…:service/<cluster>/<name>`) or the state."""
    attrs = state_attrs(drift)
    tail = drift.id.split(":service/", 1)[-1].split("/")
    cluster = str(attrs.get("cluster") or (tail[0] if len(tail) == 2 else ""))
    name = str(attrs.get("name") or tail[-1])
    return cluster, name


def _desired_count(drift: Drift) -> tuple[Call, ...]:
    cluster, name = cluster_and_name(drift)
    return (Call("ecs", "update_service", {"cluster": cluster, "service": name,
                                           "desiredCount": int(state_attrs(drift)["desired_count"])}),)


def _probe(drift: Drift) -> Probe:
    cluster, name = cluster_and_name(drift)
    return Probe(Call("ecs", "describe_services", {"cluster": cluster, "services": [name]}), "services", "exists",
                 f"service {name} still exists in {cluster}, and no Application Auto Scaling target governs "
                 "its desired count (checked when planning)")


REVERTS: tuple[Revert, ...] = (
    Revert("aws_ecs_service", "desired-count", frozenset({DriftKind.CHANGED}), ("desired_count",),
           ("ecs:UpdateService", "ecs:DescribeServices", "application-autoscaling:DescribeScalableTargets"),
           Risk.MEDIUM, "the service still exists and no Application Auto Scaling target governs its desired "
           "count", _desired_count, _probe),
)
