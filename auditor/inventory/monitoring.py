"""Monitoring: CloudWatch metric alarms, CloudWatch Logs groups and SNS topics."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from auditor.catalog import BulkTags, Detail, Listing, TypeSpec
from auditor.inventory.base import managed_by, register, with_tags

METRIC_ALARM = TypeSpec(
    type="aws_cloudwatch_metric_alarm",
    service="cloudwatch",
    compared=("alarm_name", "actions_enabled", "alarm_actions", "ok_actions", "insufficient_data_actions",
              "alarm_description", "comparison_operator", "datapoints_to_alarm", "dimensions",
              "evaluate_low_sample_count_percentiles", "evaluation_periods", "extended_statistic",
              "metric_name", "namespace", "period", "statistic", "threshold", "threshold_metric_id",
              "treat_missing_data", "unit", "metric_query"),
    set_paths=("alarm_actions", "ok_actions", "insufficient_data_actions", "metric_query"),
    tags=True,
    optional_live=("tags",),
    ignored={
        "id": "the alarm name",
        "arn": "derived from the name",
    },
    aws_owned=lambda r: made_by_target_tracking(r.attributes),
    notes="Everything compared comes from one paginated DescribeAlarms (AlarmTypes=MetricAlarm); the tags of "
          "alarms a state holds from one paginated tag:GetResources (cloudwatch:alarm) per region, or "
          "ListTagsForResource per held alarm where that is denied. Unmanaged alarms carry none. The alarms "
          "Application Auto Scaling creates for a target-tracking policy are AWS-owned, never unmanaged.",
    listing=Listing("DescribeAlarms", "MetricAlarms", "AlarmName", params={"AlarmTypes": ["MetricAlarm"]},
                    convert=lambda alarm, details, _: with_tags(alarm_attributes(alarm), details),
                    details=(Detail("ListTagsForResource", lambda alarm: {"ResourceARN": alarm["AlarmArn"]},
                                    "Tags", bulk_tags=BulkTags("cloudwatch:alarm", lambda a, _: a["AlarmArn"])),)),
)



LOG_GROUP = TypeSpec(
    type="aws_cloudwatch_log_group",
    service="logs",
    compared=("name", "retention_in_days", "kms_key_id", "log_group_class"),
    optional_live=("log_group_class", "tags"),
    tags=True,
    ignored={
        "id": "the log group name",
        "arn": "derived from the name",
        "name_prefix": "create-time option",
        "skip_destroy": "provider-only delete option",
    },
    notes="One paginated DescribeLogGroups; tags of held groups from one paginated tag:GetResources "
          "(logs), or ListTagsForResource per held group where that is denied. "
          "retention_in_days is 0 when logs never expire, as the provider stores it; log_group_class is "
          "compared only when AWS reports it.",
    listing=Listing("DescribeLogGroups", "logGroups", "logGroupName",
                    convert=lambda group, details, _: with_tags(log_group_attributes(group), details),
                    details=(Detail("ListTagsForResource", lambda group: {"resourceArn": _group_arn(group)},
                                    "tags", bulk_tags=BulkTags("logs", lambda g, _: _group_arn(g))),)),
)

TOPIC = TypeSpec(
    type="aws_sns_topic", partially_read=True,
    service="sns",
    mirrored=managed_by("policy", "aws_sns_topic_policy", "arn"),
    compared=("name", "display_name", "policy", "delivery_policy", "archive_policy", "kms_master_key_id",
              "fifo_topic", "content_based_deduplication", "fifo_throughput_scope", "signature_version",
              "tracing_config",
              "application_success_feedback_role_arn", "application_success_feedback_sample_rate",
              "application_failure_feedback_role_arn",
              "firehose_success_feedback_role_arn", "firehose_success_feedback_sample_rate",
              "firehose_failure_feedback_role_arn",
              "http_success_feedback_role_arn", "http_success_feedback_sample_rate",
              "http_failure_feedback_role_arn",
              "lambda_success_feedback_role_arn", "lambda_success_feedback_sample_rate",
              "lambda_failure_feedback_role_arn",
              "sqs_success_feedback_role_arn", "sqs_success_feedback_sample_rate",
              "sqs_failure_feedback_role_arn"),
    json_attributes=("policy", "delivery_policy", "archive_policy"),
    tags=True,
    optional_live=("tags",),
    ignored={
        "id": "the topic ARN",
        "arn": "the import id",
        "owner": "the account id",
        "beginning_archive_time": "computed by AWS",
        "name_prefix": "create-time option",
    },
    notes="ListTopics gives ARNs only: GetTopicAttributes is called for topics a state holds, their "
          "tags read from one paginated Tagging API GetResources (`sns`: a topic ARN names no resource type), "
          "or by ListTagsForResource per held topic where that is denied; unmanaged topics carry only their "
          "ARN and name. Where a state holds an "
          "aws_sns_topic_policy for the topic, `policy` is that resource's (compared there, not here).",
    listing=Listing("ListTopics", "Topics", "TopicArn",
                    convert=lambda topic, details, _: with_tags(topic_attributes(
                        topic["TopicArn"], details.get("GetTopicAttributes")), details),
                    details=(Detail("GetTopicAttributes", lambda topic: {"TopicArn": topic["TopicArn"]}, "Attributes"),
                             Detail("ListTagsForResource", lambda topic: {"ResourceArn": topic["TopicArn"]}, "Tags",
                                    bulk_tags=BulkTags("sns", lambda topic, _: topic["TopicArn"])))),
)

# Terraform attribute -> (GetTopicAttributes key, kind); absent keys take the provider's zero value.
_TOPIC_ATTRIBUTES: dict[str, tuple[str, str]] = {
    "display_name": ("DisplayName", "str"),
    "policy": ("Policy", "str"),
    "delivery_policy": ("DeliveryPolicy", "str"),
    "archive_policy": ("ArchivePolicy", "str"),
    "kms_master_key_id": ("KmsMasterKeyId", "str"),
    "fifo_topic": ("FifoTopic", "bool"),
    "content_based_deduplication": ("ContentBasedDeduplication", "bool"),
    "fifo_throughput_scope": ("FifoThroughputScope", "str"),
    "signature_version": ("SignatureVersion", "int"),
    "tracing_config": ("TracingConfig", "str"),
    "owner": ("Owner", "str"),
    "beginning_archive_time": ("BeginningArchiveTime", "str"),
}
for _tf, _aws in (("application", "Application"), ("firehose", "Firehose"), ("http", "HTTP"),
                  ("lambda", "Lambda"), ("sqs", "SQS")):
    _TOPIC_ATTRIBUTES[f"{_tf}_success_feedback_role_arn"] = (f"{_aws}SuccessFeedbackRoleArn", "str")
    _TOPIC_ATTRIBUTES[f"{_tf}_success_feedback_sample_rate"] = (f"{_aws}SuccessFeedbackSampleRate", "int")
    _TOPIC_ATTRIBUTES[f"{_tf}_failure_feedback_role_arn"] = (f"{_aws}FailureFeedbackRoleArn", "str")


def _number(value: Any) -> Any:
    """10.0 -> 10 (the provider stores whole numbers as integers); other values unchanged."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _dimensions(dims: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    return {str(d["Name"]): str(d.get("Value", "")) for d in dims or []}


def _metric_query(query: Mapping[str, Any]) -> dict[str, Any]:
    """One DescribeAlarms `Metrics` item -> one `metric_query` block."""
    stat = query.get("MetricStat")
    metric: list[dict[str, Any]] = []
    if stat:
        inner = stat.get("Metric") or {}
        metric.append({
            "dimensions": _dimensions(inner.get("Dimensions")),
            "metric_name": inner.get("MetricName", ""),
            "namespace": inner.get("Namespace", ""),
            "period": stat.get("Period", 0),
            "stat": stat.get("Stat", ""),
            "unit": stat.get("Unit", ""),
        })
    return {
        "id": query["Id"],
        "account_id": query.get("AccountId", ""),
        "expression": query.get("Expression", ""),
        "label": query.get("Label", ""),
        "period": query.get("Period"),
        "return_data": bool(query.get("ReturnData", False)),
        "metric": metric,
    }


def made_by_target_tracking(attributes: Mapping[str, Any]) -> bool:
    """An alarm Application Auto Scaling creates for a target-tracking policy (never unmanaged): its name
    starts `TargetTracking-` and its action is the policy's (`...:scalingPolicy:...`)."""
    return str(attributes.get("alarm_name", "")).startswith("TargetTracking-") and any(
        ":scalingPolicy:" in str(action) for action in attributes.get("alarm_actions") or [])


def alarm_attributes(alarm: Mapping[str, Any]) -> dict[str, Any]:
    """DescribeAlarms MetricAlarms item -> aws_cloudwatch_metric_alarm state attributes."""
    name = alarm["AlarmName"]
    return {
        "id": name,
        "alarm_name": name,
        "arn": alarm.get("AlarmArn", ""),
        "actions_enabled": bool(alarm.get("ActionsEnabled", True)),
        "alarm_actions": list(alarm.get("AlarmActions") or []),
        "ok_actions": list(alarm.get("OKActions") or []),
        "insufficient_data_actions": list(alarm.get("InsufficientDataActions") or []),
        "alarm_description": alarm.get("AlarmDescription", ""),
        "comparison_operator": alarm.get("ComparisonOperator", ""),
        "datapoints_to_alarm": alarm.get("DatapointsToAlarm", 0),
        "dimensions": _dimensions(alarm.get("Dimensions")),
        "evaluate_low_sample_count_percentiles": alarm.get("EvaluateLowSampleCountPercentile", ""),
        "evaluation_periods": alarm.get("EvaluationPeriods", 0),
        "extended_statistic": alarm.get("ExtendedStatistic", ""),
        "metric_name": alarm.get("MetricName", ""),
        "namespace": alarm.get("Namespace", ""),
        "period": alarm.get("Period", 0),
        "statistic": alarm.get("Statistic", ""),
        "threshold": _number(alarm.get("Threshold", 0)),
        "threshold_metric_id": alarm.get("ThresholdMetricId", ""),
        "treat_missing_data": alarm.get("TreatMissingData", "missing"),
        "unit": alarm.get("Unit", ""),
        "metric_query": [_metric_query(q) for q in alarm.get("Metrics") or []],
    }


collect_metric_alarms = register(METRIC_ALARM)


def log_group_attributes(group: Mapping[str, Any]) -> dict[str, Any]:
    """DescribeLogGroups item -> aws_cloudwatch_log_group state attributes."""
    name = group["logGroupName"]
    attrs: dict[str, Any] = {
        "id": name,
        "name": name,
        "arn": _group_arn(group),
        "retention_in_days": group.get("retentionInDays", 0),
        "kms_key_id": group.get("kmsKeyId", ""),
    }
    if group.get("logGroupClass"):
        attrs["log_group_class"] = group["logGroupClass"]
    return attrs


def _group_arn(group: Mapping[str, Any]) -> str:
    """The log group's ARN without the `:*` DescribeLogGroups appends (the form tags are asked by)."""
    return str(group.get("logGroupArn") or str(group.get("arn", "")).removesuffix(":*"))


collect_log_groups = register(LOG_GROUP)


def _topic_value(raw: str | None, kind: str) -> Any:
    if kind == "bool":
        return str(raw).lower() == "true" if raw is not None else False
    if kind == "int":
        return int(raw) if raw not in (None, "") else 0
    return raw or ""


def topic_attributes(arn: str, answer: Mapping[str, str] | None) -> dict[str, Any]:
    """Topic ARN (+ GetTopicAttributes when read) -> aws_sns_topic state attributes."""
    attrs: dict[str, Any] = {"id": arn, "arn": arn, "name": arn.rsplit(":", 1)[-1]}
    if answer is not None:
        for tf_name, (aws_name, kind) in _TOPIC_ATTRIBUTES.items():
            attrs[tf_name] = _topic_value(answer.get(aws_name), kind)
    return attrs


collect_topics = register(TOPIC)


# --- aws_cloudwatch_log_metric_filter -----------------------------------------------------------


def _metric_value_text(value: Any) -> str:
    """A default value as the provider stores it: the number as text ("0", "1.5"), "" when unset."""
    return "" if value is None else str(_number(value))


def metric_filter_attributes(metric_filter: Mapping[str, Any]) -> dict[str, Any]:
    """A DescribeMetricFilters item in aws_cloudwatch_log_metric_filter state shape."""
    return {
        "id": metric_filter["filterName"],
        "name": metric_filter["filterName"],
        "log_group_name": metric_filter.get("logGroupName", ""),
        "pattern": metric_filter.get("filterPattern", ""),
        "metric_transformation": [{
            "name": t.get("metricName", ""),
            "namespace": t.get("metricNamespace", ""),
            "value": t.get("metricValue", ""),
            "default_value": _metric_value_text(t.get("defaultValue")),
            "unit": t.get("unit", "") if t.get("unit") != "None" else "",
            "dimensions": dict(t.get("dimensions") or {}),
        } for t in metric_filter.get("metricTransformations") or []],
    }


def _unit(value: Any) -> Any:
    """AWS reports the unit `None` for a transformation without one, which the provider stores as ""."""
    if not isinstance(value, list):
        return value
    return [{**t, "unit": "" if t.get("unit") == "None" else t.get("unit")} if isinstance(t, Mapping) else t
            for t in value]


METRIC_FILTER = TypeSpec(
    type="aws_cloudwatch_log_metric_filter",
    service="logs",
    compared=("name", "log_group_name", "pattern", "metric_transformation"),
    normalizers={"metric_transformation": _unit},
    ignored={"id": "the filter name"},
    notes="One paginated DescribeMetricFilters per region. Matched on the filter name, as the provider's id "
          "(two log groups holding filters of one name are one resource to both).",
    listing=Listing("DescribeMetricFilters", "metricFilters", "filterName",
                    convert=lambda metric_filter, _, __: metric_filter_attributes(metric_filter)),
)
collect_metric_filters = register(METRIC_FILTER)
