"""Monitoring: CloudWatch metric alarms, CloudWatch Logs groups and SNS topics."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from auditor.catalog import TypeSpec
from auditor.inventory.base import CollectContext, collector, paginate, tags_dict
from auditor.models import Resource

_TAGS_PER_CALL = "tags need one more call per resource and are not compared"

METRIC_ALARM = TypeSpec(
    type="aws_cloudwatch_metric_alarm",
    service="cloudwatch",
    compared=("alarm_name", "actions_enabled", "alarm_actions", "ok_actions", "insufficient_data_actions",
              "alarm_description", "comparison_operator", "datapoints_to_alarm", "dimensions",
              "evaluate_low_sample_count_percentiles", "evaluation_periods", "extended_statistic",
              "metric_name", "namespace", "period", "statistic", "threshold", "threshold_metric_id",
              "treat_missing_data", "unit", "metric_query"),
    set_paths=("alarm_actions", "ok_actions", "insufficient_data_actions", "metric_query"),
    ignored={
        "id": "the alarm name",
        "arn": "derived from the name",
        "tags": _TAGS_PER_CALL,
        "tags_all": _TAGS_PER_CALL,
    },
    notes="Everything compared comes from one paginated DescribeAlarms (AlarmTypes=MetricAlarm).",
)

LOG_GROUP = TypeSpec(
    type="aws_cloudwatch_log_group",
    service="logs",
    compared=("name", "retention_in_days", "kms_key_id", "log_group_class"),
    optional_live=("log_group_class",),
    ignored={
        "id": "the log group name",
        "arn": "derived from the name",
        "name_prefix": "create-time option",
        "skip_destroy": "provider-only delete option",
        "tags": _TAGS_PER_CALL,
        "tags_all": _TAGS_PER_CALL,
    },
    notes="One paginated DescribeLogGroups. retention_in_days is 0 when logs never expire, as the "
          "provider stores it; log_group_class is compared only when AWS reports it.",
)

TOPIC = TypeSpec(
    type="aws_sns_topic", partially_read=True,
    service="sns",
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
    notes="ListTopics gives ARNs only: GetTopicAttributes and ListTagsForResource are called for "
          "topics a state holds; unmanaged topics carry only their ARN and name.",
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


@collector(METRIC_ALARM)
def collect_metric_alarms(ctx: CollectContext) -> Iterator[Resource]:
    for alarm in paginate(ctx.client("cloudwatch"), "describe_alarms", "MetricAlarms",
                          AlarmTypes=["MetricAlarm"]):
        yield ctx.resource(METRIC_ALARM, alarm["AlarmName"], alarm_attributes(alarm))


def log_group_attributes(group: Mapping[str, Any]) -> dict[str, Any]:
    """DescribeLogGroups item -> aws_cloudwatch_log_group state attributes."""
    name = group["logGroupName"]
    attrs: dict[str, Any] = {
        "id": name,
        "name": name,
        "arn": group.get("logGroupArn") or str(group.get("arn", "")).removesuffix(":*"),
        "retention_in_days": group.get("retentionInDays", 0),
        "kms_key_id": group.get("kmsKeyId", ""),
    }
    if group.get("logGroupClass"):
        attrs["log_group_class"] = group["logGroupClass"]
    return attrs


@collector(LOG_GROUP)
def collect_log_groups(ctx: CollectContext) -> Iterator[Resource]:
    for group in paginate(ctx.client("logs"), "describe_log_groups", "logGroups"):
        yield ctx.resource(LOG_GROUP, group["logGroupName"], log_group_attributes(group))


def _topic_value(raw: str | None, kind: str) -> Any:
    if kind == "bool":
        return str(raw).lower() == "true" if raw is not None else False
    if kind == "int":
        return int(raw) if raw not in (None, "") else 0
    return raw or ""


def topic_attributes(arn: str, answer: Mapping[str, str] | None,
                     tags: dict[str, str] | None) -> dict[str, Any]:
    """Topic ARN (+ GetTopicAttributes and tags when read) -> aws_sns_topic state attributes."""
    attrs: dict[str, Any] = {"id": arn, "arn": arn, "name": arn.rsplit(":", 1)[-1]}
    if answer is not None:
        for tf_name, (aws_name, kind) in _TOPIC_ATTRIBUTES.items():
            attrs[tf_name] = _topic_value(answer.get(aws_name), kind)
    if tags is not None:
        attrs["tags"] = tags
        attrs["tags_all"] = dict(tags)
    return attrs


@collector(TOPIC)
def collect_topics(ctx: CollectContext) -> Iterator[Resource]:
    sns = ctx.client("sns")
    wanted = ctx.wanted.get(TOPIC.type, frozenset())
    for topic in paginate(sns, "list_topics", "Topics"):
        arn = topic["TopicArn"]
        answer = tags = None
        if arn in wanted:
            answer = sns.get_topic_attributes(TopicArn=arn).get("Attributes", {})
            tags = tags_dict(sns.list_tags_for_resource(ResourceArn=arn).get("Tags"))
        yield ctx.resource(TOPIC, arn, topic_attributes(arn, answer, tags))

