"""CloudWatch: log retention, and alarms deleted or edited by hand (put back with the same name and settings)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.fix.model import Call, Probe, Risk
from auditor.fix.reverts import Revert, exists_probe, state_attrs
from auditor.models import Drift, DriftKind


def _retention(drift: Drift) -> tuple[Call, ...]:
    attrs = state_attrs(drift)
    days = int(attrs.get("retention_in_days") or 0)
    if days == 0:  # the state keeps logs forever
        return (Call("logs", "delete_retention_policy", {"logGroupName": drift.id}),)
    return (Call("logs", "put_retention_policy", {"logGroupName": drift.id, "retentionInDays": days}),)


def _log_group_probe(drift: Drift) -> Probe:
    return exists_probe("logs", "describe_log_groups", {"logGroupNamePrefix": drift.id}, "logGroups",
                        f"log group {drift.id}")


def _dimensions(dims: Mapping[str, Any] | None) -> list[dict[str, str]]:
    return [{"Name": str(k), "Value": str(v)} for k, v in sorted((dims or {}).items())]


def _query(query: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"Id": query["id"], "ReturnData": bool(query.get("return_data"))}
    for key, name in (("expression", "Expression"), ("label", "Label"), ("account_id", "AccountId")):
        if query.get(key):
            out[name] = query[key]
    if query.get("period"):
        out["Period"] = int(query["period"])
    metric = (query.get("metric") or [None])[0]
    if metric:
        stat: dict[str, Any] = {"Metric": {"Namespace": metric["namespace"], "MetricName": metric["metric_name"],
                                           "Dimensions": _dimensions(metric.get("dimensions"))},
                                "Period": int(metric["period"]), "Stat": metric["stat"]}
        if metric.get("unit"):
            stat["Unit"] = metric["unit"]
        out["MetricStat"] = stat
    return out


def _put_alarm(drift: Drift) -> tuple[Call, ...]:
    """PutMetricAlarm with every setting the state holds (it creates, or overwrites as a whole)."""
    a = state_attrs(drift)
    params: dict[str, Any] = {
        "AlarmName": a["alarm_name"], "ActionsEnabled": bool(a.get("actions_enabled", True)),
        "AlarmActions": sorted(a.get("alarm_actions") or []), "OKActions": sorted(a.get("ok_actions") or []),
        "InsufficientDataActions": sorted(a.get("insufficient_data_actions") or []),
        "EvaluationPeriods": int(a["evaluation_periods"]), "ComparisonOperator": a["comparison_operator"],
    }
    optional = (("alarm_description", "AlarmDescription", str), ("treat_missing_data", "TreatMissingData", str),
                ("evaluate_low_sample_count_percentiles", "EvaluateLowSampleCountPercentile", str),
                ("threshold_metric_id", "ThresholdMetricId", str), ("unit", "Unit", str),
                ("datapoints_to_alarm", "DatapointsToAlarm", int))
    for key, name, kind in optional:
        if a.get(key):
            params[name] = kind(a[key])
    if a.get("metric_query"):
        params["Metrics"] = [_query(q) for q in a["metric_query"]]
    else:
        params.update(Namespace=a["namespace"], MetricName=a["metric_name"], Period=int(a["period"]),
                      Dimensions=_dimensions(a.get("dimensions")))
        if a.get("extended_statistic"):
            params["ExtendedStatistic"] = a["extended_statistic"]
        else:
            params["Statistic"] = a["statistic"]
    if not a.get("threshold_metric_id"):
        params["Threshold"] = float(a.get("threshold") or 0)
    tags = a.get("tags") or {}
    if tags and drift.kind is DriftKind.MISSING:  # tags are set only when creating; an edit keeps them
        params["Tags"] = [{"Key": k, "Value": str(v)} for k, v in sorted(tags.items())]
    return (Call("cloudwatch", "put_metric_alarm", params),)


def _alarm_probe(drift: Drift) -> Probe:
    call = Call("cloudwatch", "describe_alarms", {"AlarmNames": [drift.id]})
    if drift.kind is DriftKind.MISSING:
        return Probe(call, "MetricAlarms", "absent", f"no alarm named {drift.id} exists (nothing is overwritten)")
    return Probe(call, "MetricAlarms", "exists", f"alarm {drift.id} still exists")


_ALARM_SETTINGS = ("alarm_description", "actions_enabled", "alarm_actions", "ok_actions",
                   "insufficient_data_actions", "namespace", "metric_name", "dimensions", "statistic",
                   "extended_statistic", "period", "evaluation_periods", "datapoints_to_alarm", "threshold",
                   "threshold_metric_id", "comparison_operator", "treat_missing_data",
                   "evaluate_low_sample_count_percentiles", "unit", "metric_query")

REVERTS: tuple[Revert, ...] = (
    Revert("aws_cloudwatch_log_group", "retention", frozenset({DriftKind.CHANGED}), ("retention_in_days",),
           ("logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy", "logs:DescribeLogGroups"), Risk.LOW,
           "the log group still exists", _retention, _log_group_probe),
    Revert("aws_cloudwatch_metric_alarm", "settings", frozenset({DriftKind.CHANGED, DriftKind.MISSING}),
           _ALARM_SETTINGS, ("cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms"), Risk.LOW,
           "a deleted alarm is created again only while no alarm of its name exists (its id is its name, "
           "so the state's id holds again); an edited one is overwritten with the state's settings",
           _put_alarm, _alarm_probe),
)
