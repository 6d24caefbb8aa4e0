"""Load balancers, listeners and target groups: attributes, TLS policy and certificate, health checks.

A listener's forward weights are not here: the deployment controller owns them (the planner skips them).
"""

from __future__ import annotations

from typing import Any

from auditor.fix.model import Call, Probe, Risk
from auditor.fix.reverts import Revert, exists_probe, first, state_attrs
from auditor.inventory.loadbalancing import LB_ATTRIBUTES, TG_ATTRIBUTES
from auditor.models import Drift, DriftKind

_LB_KEYS = {tf_name: key for key, tf_name, _ in LB_ATTRIBUTES}
_TG_KEYS = {tf_name: key for key, tf_name, _ in TG_ATTRIBUTES}


def _text(value: Any) -> str:
    """An attribute value as ELB's string attributes spell it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _changed_attributes(drift: Drift, keys: dict[str, str]) -> list[dict[str, str]]:
    attrs = state_attrs(drift)
    names = sorted({c.path.split("[", 1)[0].split(".", 1)[0] for c in drift.changes} & set(keys))
    return [{"Key": keys[name], "Value": _text(attrs[name])} for name in names if attrs.get(name) is not None]


def _lb_attributes(drift: Drift) -> tuple[Call, ...]:
    return (Call("elbv2", "modify_load_balancer_attributes",
                 {"LoadBalancerArn": drift.id, "Attributes": _changed_attributes(drift, _LB_KEYS)}),)


def _lb_probe(drift: Drift) -> Probe:
    return exists_probe("elbv2", "describe_load_balancers", {"LoadBalancerArns": [drift.id]}, "LoadBalancers",
                        "the load balancer")


def _listener_tls(drift: Drift) -> tuple[Call, ...]:
    attrs = state_attrs(drift)
    params: dict[str, Any] = {"ListenerArn": drift.id}
    heads = {c.path.split("[", 1)[0].split(".", 1)[0] for c in drift.changes}
    if "ssl_policy" in heads and attrs.get("ssl_policy"):
        params["SslPolicy"] = attrs["ssl_policy"]
    if "certificate_arn" in heads and attrs.get("certificate_arn"):
        params["Certificates"] = [{"CertificateArn": attrs["certificate_arn"]}]
    if "alpn_policy" in heads and attrs.get("alpn_policy"):
        params["AlpnPolicy"] = [attrs["alpn_policy"]]
    return (Call("elbv2", "modify_listener", params),)


def _listener_probe(drift: Drift) -> Probe:
    return exists_probe("elbv2", "describe_listeners", {"ListenerArns": [drift.id]}, "Listeners", "the listener")


def _health_check(drift: Drift) -> tuple[Call, ...]:
    check = first(state_attrs(drift).get("health_check"))
    params: dict[str, Any] = {"TargetGroupArn": drift.id, "HealthCheckEnabled": bool(check.get("enabled", True))}
    fields = (("protocol", "HealthCheckProtocol", str), ("port", "HealthCheckPort", str),
              ("path", "HealthCheckPath", str), ("interval", "HealthCheckIntervalSeconds", int),
              ("timeout", "HealthCheckTimeoutSeconds", int), ("healthy_threshold", "HealthyThresholdCount", int),
              ("unhealthy_threshold", "UnhealthyThresholdCount", int))
    for key, name, kind in fields:
        if check.get(key) not in (None, ""):
            params[name] = kind(check[key])
    if check.get("matcher"):
        grpc = str(check.get("protocol", "")).upper() == "GRPC"
        params["Matcher"] = {"GrpcCode" if grpc else "HttpCode": str(check["matcher"])}
    return (Call("elbv2", "modify_target_group", params),)


def _tg_attributes(drift: Drift) -> tuple[Call, ...]:
    return (Call("elbv2", "modify_target_group_attributes",
                 {"TargetGroupArn": drift.id, "Attributes": _changed_attributes(drift, _TG_KEYS)}),)


def _tg_probe(drift: Drift) -> Probe:
    return exists_probe("elbv2", "describe_target_groups", {"TargetGroupArns": [drift.id]}, "TargetGroups",
                        "the target group")


REVERTS: tuple[Revert, ...] = (
    Revert("aws_lb", "attributes", frozenset({DriftKind.CHANGED}), tuple(_LB_KEYS),
           ("elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:DescribeLoadBalancers"),
           Risk.LOW, "the load balancer still exists", _lb_attributes, _lb_probe),
    Revert("aws_lb_listener", "tls", frozenset({DriftKind.CHANGED}), ("ssl_policy", "certificate_arn", "alpn_policy"),
           ("elasticloadbalancing:ModifyListener", "elasticloadbalancing:DescribeListeners"), Risk.MEDIUM,
           "the listener still exists", _listener_tls, _listener_probe),
    Revert("aws_lb_target_group", "health-check", frozenset({DriftKind.CHANGED}), ("health_check",),
           ("elasticloadbalancing:ModifyTargetGroup", "elasticloadbalancing:DescribeTargetGroups"), Risk.MEDIUM,
           "the target group still exists", _health_check, _tg_probe),
    Revert("aws_lb_target_group", "attributes", frozenset({DriftKind.CHANGED}), tuple(_TG_KEYS),
           ("elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:DescribeTargetGroups"),
           Risk.LOW, "the target group still exists", _tg_attributes, _tg_probe),
)
