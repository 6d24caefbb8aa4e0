"""Application Auto Scaling: scalable targets and scaling policies (an ECS service's desired count).

Both are listed per service namespace (AWS has no call across namespaces): `ecs` always, and every
other namespace a state's target or policy names. Calls per region: DescribeScalableTargets and
DescribeScalingPolicies (paginated) once per namespace; ListTagsForResource for each target a state holds.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from auditor.catalog import TypeSpec
from auditor.inventory.base import CollectContext, collector, moto_lacks, paginate, with_tags
from auditor.models import Resource

SERVICE = "application-autoscaling"
DEFAULT_NAMESPACES = ("ecs",)


def target_import_id(attributes: Mapping[str, Any]) -> str | None:
    """`<namespace>/<resource-id>/<scalable-dimension>`: the import id (the provider's id is the resource id)."""
    parts = [attributes.get(k) for k in ("service_namespace", "resource_id", "scalable_dimension")]
    return "/".join(str(p) for p in parts) if all(parts) else None


def policy_import_id(attributes: Mapping[str, Any]) -> str | None:
    """`<service-namespace>/<resource-id>/<scalable-dimension>/<policy-name>`, the import id."""
    target, name = target_import_id(attributes), attributes.get("name")
    return f"{target}/{name}" if target and name else None


def _namespaces(ctx: CollectContext, tf_type: str) -> list[str]:
    held = {import_id.split("/", 1)[0] for import_id in ctx.wanted.get(tf_type, frozenset())}
    return sorted(held | set(DEFAULT_NAMESPACES))


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


# --- aws_appautoscaling_target ------------------------------------------------------------------

TARGET = TypeSpec(
    type="aws_appautoscaling_target",
    tags_per_resource=moto_lacks("application-autoscaling:scalable-target"),
    service=SERVICE,
    compared=("service_namespace", "resource_id", "scalable_dimension", "min_capacity", "max_capacity",
              "role_arn", "suspended_state"),
    optional_live=("role_arn", "tags"),
    tags=True,
    partially_read=True,
    state_id=target_import_id,
    calls=("DescribeScalableTargets", "ListTagsForResource"),
    ignored={
        "id": "the resource id; matched on <namespace>/<resource id>/<dimension>",
        "arn": "computed",
    },
    notes="DescribeScalableTargets per namespace (ecs, and those a state names); ListTagsForResource (no bulk "
          "form: the Tagging API does not serve scalable targets) for each target a state holds, by the "
          "ScalableTargetARN AWS answers with (an answer without one leaves tags uncompared). "
          "suspended_state is the provider's block of three flags (false when AWS reports none).",
)


def target_attributes(target: Mapping[str, Any]) -> dict[str, Any]:
    """A DescribeScalableTargets item in aws_appautoscaling_target state shape."""
    suspended = target.get("SuspendedState") or {}
    attrs: dict[str, Any] = {
        "id": target.get("ResourceId", ""),
        "arn": target.get("ScalableTargetARN", ""),
        "service_namespace": target.get("ServiceNamespace", ""),
        "resource_id": target.get("ResourceId", ""),
        "scalable_dimension": target.get("ScalableDimension", ""),
        "min_capacity": target.get("MinCapacity", 0),
        "max_capacity": target.get("MaxCapacity", 0),
        "suspended_state": [{
            "dynamic_scaling_in_suspended": bool(suspended.get("DynamicScalingInSuspended")),
            "dynamic_scaling_out_suspended": bool(suspended.get("DynamicScalingOutSuspended")),
            "scheduled_scaling_suspended": bool(suspended.get("ScheduledScalingSuspended")),
        }],
    }
    if target.get("RoleARN"):
        attrs["role_arn"] = target["RoleARN"]
    return attrs


@collector(TARGET)
def collect_targets(ctx: CollectContext) -> Iterator[Resource]:
    client = ctx.client(SERVICE)
    wanted = ctx.wanted.get(TARGET.type, frozenset())
    found = [target_attributes(target) for namespace in _namespaces(ctx, TARGET.type)
             for target in paginate(client, "describe_scalable_targets", "ScalableTargets", ServiceNamespace=namespace)]
    tagged = [attrs for attrs in found if attrs["arn"] and target_import_id(attrs) in wanted]
    answers = ctx.each(lambda attrs: client.list_tags_for_resource(ResourceARN=attrs["arn"]), tagged)
    for attrs, answer in zip(tagged, answers, strict=True):
        with_tags(attrs, {"Tags": answer.get("Tags") or {}}, "Tags")
    for attrs in found:
        yield ctx.resource(TARGET, target_import_id(attrs) or "", attrs)


# --- aws_appautoscaling_policy ------------------------------------------------------------------

POLICY = TypeSpec(
    type="aws_appautoscaling_policy",
    service=SERVICE,
    compared=("name", "policy_type", "service_namespace", "resource_id", "scalable_dimension",
              "step_scaling_policy_configuration", "target_tracking_scaling_policy_configuration"),
    set_paths=("step_scaling_policy_configuration.*.step_adjustment",
               "target_tracking_scaling_policy_configuration.*.customized_metric_specification.*.dimensions",
               "target_tracking_scaling_policy_configuration.*.customized_metric_specification.*.metrics"),
    state_id=policy_import_id,
    calls=("DescribeScalingPolicies",),
    ignored={
        "id": "the policy name; matched on <namespace>/<resource id>/<dimension>/<name>",
        "arn": "computed",
        "alarm_arns": "computed: the alarms target tracking creates",
    },
    notes="DescribeScalingPolicies per namespace (ecs, and those a state names). Step bounds are strings in "
          "the provider's schema (\"\" when open), as it stores them.",
)


def _bound(value: Any) -> str:
    return "" if value is None else str(_number(value))


def _metric_dimensions(dimensions: Any) -> list[dict[str, str]]:
    return [{"name": str(d.get("Name", "")), "value": str(d.get("Value", ""))} for d in dimensions or []]


def _customized_metric(spec: Mapping[str, Any]) -> dict[str, Any]:
    metrics = []
    for metric in spec.get("Metrics") or []:
        stat = metric.get("MetricStat")
        metrics.append({
            "id": metric.get("Id", ""), "expression": metric.get("Expression", ""), "label": metric.get("Label", ""),
            "return_data": bool(metric.get("ReturnData", True)),
            "metric_stat": [{"stat": stat.get("Stat", ""), "unit": stat.get("Unit", ""), "metric": [{
                "metric_name": (stat.get("Metric") or {}).get("MetricName", ""),
                "namespace": (stat.get("Metric") or {}).get("Namespace", ""),
                "dimensions": _metric_dimensions((stat.get("Metric") or {}).get("Dimensions"))}]}] if stat else [],
        })
    return {"metric_name": spec.get("MetricName", ""), "namespace": spec.get("Namespace", ""),
            "statistic": spec.get("Statistic", ""), "unit": spec.get("Unit", ""),
            "dimensions": _metric_dimensions(spec.get("Dimensions")), "metrics": metrics}


def policy_attributes(policy: Mapping[str, Any]) -> dict[str, Any]:
    """A DescribeScalingPolicies item in aws_appautoscaling_policy state shape."""
    step = policy.get("StepScalingPolicyConfiguration")
    tracking = policy.get("TargetTrackingScalingPolicyConfiguration")
    attrs: dict[str, Any] = {
        "id": policy.get("PolicyName", ""),
        "arn": policy.get("PolicyARN", ""),
        "name": policy.get("PolicyName", ""),
        "policy_type": policy.get("PolicyType", ""),
        "service_namespace": policy.get("ServiceNamespace", ""),
        "resource_id": policy.get("ResourceId", ""),
        "scalable_dimension": policy.get("ScalableDimension", ""),
        "alarm_arns": [a.get("AlarmARN", "") for a in policy.get("Alarms") or []],
        "step_scaling_policy_configuration": [{
            "adjustment_type": step.get("AdjustmentType", ""),
            "cooldown": step.get("Cooldown", 0),
            "metric_aggregation_type": step.get("MetricAggregationType", ""),
            "min_adjustment_magnitude": step.get("MinAdjustmentMagnitude", 0),
            "step_adjustment": [{"metric_interval_lower_bound": _bound(s.get("MetricIntervalLowerBound")),
                                 "metric_interval_upper_bound": _bound(s.get("MetricIntervalUpperBound")),
                                 "scaling_adjustment": s.get("ScalingAdjustment", 0)}
                                for s in step.get("StepAdjustments") or []],
        }] if step else [],
        "target_tracking_scaling_policy_configuration": [{
            "target_value": _number(tracking.get("TargetValue", 0)),
            "disable_scale_in": bool(tracking.get("DisableScaleIn", False)),
            "scale_in_cooldown": tracking.get("ScaleInCooldown", 0),
            "scale_out_cooldown": tracking.get("ScaleOutCooldown", 0),
            "predefined_metric_specification": [{
                "predefined_metric_type": tracking["PredefinedMetricSpecification"].get("PredefinedMetricType", ""),
                "resource_label": tracking["PredefinedMetricSpecification"].get("ResourceLabel", ""),
            }] if tracking.get("PredefinedMetricSpecification") else [],
            "customized_metric_specification": [_customized_metric(tracking["CustomizedMetricSpecification"])]
            if tracking.get("CustomizedMetricSpecification") else [],
        }] if tracking else [],
    }
    return attrs


@collector(POLICY)
def collect_policies(ctx: CollectContext) -> Iterator[Resource]:
    client = ctx.client(SERVICE)
    for namespace in _namespaces(ctx, POLICY.type):
        for policy in paginate(client, "describe_scaling_policies", "ScalingPolicies", ServiceNamespace=namespace):
            attrs = policy_attributes(policy)
            yield ctx.resource(POLICY, policy_import_id(attrs) or "", attrs)
