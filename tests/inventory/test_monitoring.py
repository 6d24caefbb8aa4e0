"""CloudWatch alarm, log group and SNS topic collectors, against moto in-process and botocore stubs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from auditor.aws import Aws
from auditor.diff import attribute_changes
from auditor.inventory import monitoring as mon
from tests.inventory._platform import (
    ACCOUNT,
    REGION,
    calls,
    collect,
    compared,
    context,
    deny_tagging,
    new_aws,
    paged,
    spent_since,
)

TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:alarms"


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        yield new_aws()


# --- alarms ---------------------------------------------------------------------------------


def test_metric_alarm_in_provider_shape(aws: Aws) -> None:
    aws.client("cloudwatch", REGION).put_metric_alarm(
        AlarmName="elb-5xx", Namespace="AWS/ApplicationELB", MetricName="HTTPCode_ELB_5XX_Count",
        Dimensions=[{"Name": "LoadBalancer", "Value": "app/web/123"}], Statistic="Sum", Period=60,
        EvaluationPeriods=5, Threshold=10.0, ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching", AlarmActions=[TOPIC], OKActions=[TOPIC])

    live = collect(mon.collect_metric_alarms, context(aws), mon.METRIC_ALARM)["elb-5xx"]

    assert live.attributes == {
        "id": "elb-5xx", "alarm_name": "elb-5xx",
        "arn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:elb-5xx",
        "actions_enabled": True, "alarm_actions": [TOPIC], "ok_actions": [TOPIC],
        "insufficient_data_actions": [], "alarm_description": "",
        "comparison_operator": "GreaterThanOrEqualToThreshold", "datapoints_to_alarm": 0,
        "dimensions": {"LoadBalancer": "app/web/123"}, "evaluate_low_sample_count_percentiles": "",
        "evaluation_periods": 5, "extended_statistic": "", "metric_name": "HTTPCode_ELB_5XX_Count",
        "namespace": "AWS/ApplicationELB", "period": 60, "statistic": "Sum", "threshold": 10,
        "threshold_metric_id": "", "treat_missing_data": "notBreaching", "unit": "", "metric_query": [],
    }
    assert isinstance(live.attributes["threshold"], int)


def test_alarm_optional_settings_in_provider_shape(aws: Aws) -> None:
    aws.client("cloudwatch", REGION).put_metric_alarm(
        AlarmName="latency", Namespace="AWS/ApplicationELB", MetricName="TargetResponseTime",
        ExtendedStatistic="p99", Period=300, EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=1.5,
        ComparisonOperator="GreaterThanThreshold", Unit="Seconds", EvaluateLowSampleCountPercentile="ignore",
        AlarmDescription="slow", ActionsEnabled=False, InsufficientDataActions=[TOPIC])

    live = collect(mon.collect_metric_alarms, context(aws), mon.METRIC_ALARM)["latency"]

    expected = {
        "extended_statistic": "p99", "statistic": "", "datapoints_to_alarm": 2, "threshold": 1.5,
        "unit": "Seconds", "evaluate_low_sample_count_percentiles": "ignore", "alarm_description": "slow",
        "actions_enabled": False, "insufficient_data_actions": [TOPIC], "alarm_actions": [],
        "treat_missing_data": "missing",
    }
    assert {k: live.attributes[k] for k in expected} == expected


def test_metric_query_alarm_in_provider_shape(aws: Aws) -> None:
    aws.client("cloudwatch", REGION).put_metric_alarm(
        AlarmName="ratio", EvaluationPeriods=2, Threshold=1.0, ComparisonOperator="GreaterThanThreshold",
        Metrics=[
            {"Id": "m1", "ReturnData": False, "MetricStat": {
                "Metric": {"Namespace": "AWS/EC2", "MetricName": "CPUUtilization",
                           "Dimensions": [{"Name": "InstanceId", "Value": "i-1"}]},
                "Period": 60, "Stat": "Average"}},
            {"Id": "e1", "Expression": "m1*2", "Label": "double", "ReturnData": True},
        ])

    live = collect(mon.collect_metric_alarms, context(aws), mon.METRIC_ALARM)["ratio"]

    # the shape hashicorp/aws 5.100 writes for this alarm (metric_query is a set: order is free)
    state_queries = [
        {"account_id": "", "expression": "m1*2", "id": "e1", "label": "double", "metric": [], "period": None,
         "return_data": True},
        {"account_id": "", "expression": "", "id": "m1", "label": "", "period": None, "return_data": False,
         "metric": [{"dimensions": {"InstanceId": "i-1"}, "metric_name": "CPUUtilization",
                     "namespace": "AWS/EC2", "period": 60, "stat": "Average", "unit": ""}]},
    ]
    assert sorted(live.attributes["metric_query"], key=lambda q: q["id"]) == state_queries
    assert [live.attributes[k] for k in ("metric_name", "period", "dimensions")] == ["", 0, {}]
    state = {**live.attributes, "metric_query": state_queries, "dimensions": None, "ok_actions": None}
    assert attribute_changes(mon.METRIC_ALARM, state, live.attributes) == []


def test_alarm_drift_in_a_set_is_reported_at_the_set() -> None:
    live = mon.alarm_attributes({"AlarmName": "a", "AlarmActions": [TOPIC, f"{TOPIC}-2"], "Threshold": 5.0})
    state = {**live, "alarm_actions": [f"{TOPIC}-2", TOPIC]}
    assert attribute_changes(mon.METRIC_ALARM, state, live) == []
    changed = attribute_changes(mon.METRIC_ALARM, {**state, "threshold": 10, "alarm_actions": [TOPIC]}, live)
    assert [c.path for c in changed] == ["alarm_actions", "threshold"]


def test_describe_alarms_follows_every_page_and_asks_for_metric_alarms_only() -> None:
    pages = [[{"AlarmName": f"alarm-{n}", "Threshold": 1.0}] for n in (1, 2)]
    found = paged(new_aws(), "cloudwatch", "describe_alarms", "MetricAlarms", pages,
                  mon.collect_metric_alarms, token="NextToken", params={"AlarmTypes": ["MetricAlarm"]})
    assert [r.id for r in found] == ["alarm-1", "alarm-2"]


# --- log groups -----------------------------------------------------------------------------


def test_log_groups_in_provider_shape(aws: Aws) -> None:
    logs = aws.client("logs", REGION)
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234"
    logs.create_log_group(logGroupName="/ecs/app", kmsKeyId=key)
    logs.put_retention_policy(logGroupName="/ecs/app", retentionInDays=30)
    logs.create_log_group(logGroupName="/ecs/forever")

    found = collect(mon.collect_log_groups, context(aws), mon.LOG_GROUP)

    assert found["/ecs/app"].attributes == {
        "id": "/ecs/app", "name": "/ecs/app", "arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/app",
        "retention_in_days": 30, "kms_key_id": key,
    }
    # never-expiring logs: the provider stores 0; moto reports no class, so it is not compared
    assert compared(mon.LOG_GROUP, found["/ecs/forever"].attributes) == {
        "name": "/ecs/forever", "retention_in_days": 0, "kms_key_id": ""}
    state = {"name": "/ecs/forever", "retention_in_days": 0, "kms_key_id": "", "log_group_class": "STANDARD"}
    assert attribute_changes(mon.LOG_GROUP, state, found["/ecs/forever"].attributes) == []


def test_describe_log_groups_follows_every_page_and_keeps_the_class() -> None:
    pages: list[list[Any]] = [
        [{"logGroupName": "/a", "logGroupClass": "INFREQUENT_ACCESS", "retentionInDays": 7,
          "arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/a:*"}],
        [{"logGroupName": "/b"}]]
    found = paged(new_aws(), "logs", "describe_log_groups", "logGroups", pages, mon.collect_log_groups,
                  token="nextToken")
    assert [r.id for r in found] == ["/a", "/b"]
    assert found[0].attributes["log_group_class"] == "INFREQUENT_ACCESS"
    assert found[0].attributes["arn"] == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/a"
    changes = attribute_changes(mon.LOG_GROUP, {**found[0].attributes, "log_group_class": "STANDARD"},
                                found[0].attributes)
    assert [c.path for c in changes] == ["log_group_class"]


# --- SNS topics -----------------------------------------------------------------------------


def test_managed_topic_in_provider_shape(aws: Aws) -> None:
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "cw", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": "sns:Publish", "Resource": "*"}]})
    arn = aws.client("sns", REGION).create_topic(
        Name="alarms", Attributes={"DisplayName": "Alarms", "Policy": policy},
        Tags=[{"Key": "Env", "Value": "prod"}])["TopicArn"]

    live = collect(mon.collect_topics, context(aws, {"aws_sns_topic": [arn]}), mon.TOPIC)[arn]

    feedback = {f"{kind}_{name}": zero for kind in ("application", "firehose", "http", "lambda", "sqs")
                for name, zero in (("success_feedback_role_arn", ""), ("success_feedback_sample_rate", 0),
                                   ("failure_feedback_role_arn", ""))}
    attrs = dict(live.attributes)
    assert json.loads(attrs.pop("policy")) == json.loads(policy)
    assert attrs == {
        "id": arn, "arn": arn, "name": "alarms", "display_name": "Alarms",
        "delivery_policy": "", "archive_policy": "", "kms_master_key_id": "", "fifo_topic": False,
        "content_based_deduplication": False, "fifo_throughput_scope": "", "signature_version": 0,
        "tracing_config": "", "owner": ACCOUNT, "beginning_archive_time": "",
        "tags": {"Env": "prod"}, "tags_all": {"Env": "prod"}, **feedback,
    }


def test_fifo_topic_flags_and_numbers_are_typed() -> None:
    attrs = mon.topic_attributes(f"{TOPIC}.fifo", {
        "FifoTopic": "true", "ContentBasedDeduplication": "false", "SignatureVersion": "2",
        "SQSSuccessFeedbackSampleRate": "50", "KmsMasterKeyId": "alias/aws/sns"})
    assert [attrs[k] for k in ("name", "fifo_topic", "content_based_deduplication")] == [
        "alarms.fifo", True, False]
    assert (attrs["signature_version"], attrs["sqs_success_feedback_sample_rate"]) == (2, 50)
    assert attrs["kms_master_key_id"] == "alias/aws/sns"


def test_unmanaged_topic_carries_arn_and_name_only(aws: Aws) -> None:
    arn = aws.client("sns", REGION).create_topic(Name="scratch")["TopicArn"]
    live = collect(mon.collect_topics, context(aws), mon.TOPIC)[arn]
    assert live.attributes == {"id": arn, "arn": arn, "name": "scratch"}
    assert calls(aws, "sns") == {"sns.CreateTopic": 1, "sns.ListTopics": 1}


def test_list_topics_follows_every_page() -> None:
    pages = [[{"TopicArn": f"{TOPIC}-{n}"}] for n in (1, 2)]
    found = paged(new_aws(), "sns", "list_topics", "Topics", pages, mon.collect_topics, token="NextToken")
    assert [r.attributes["name"] for r in found] == ["alarms-1", "alarms-2"]


def test_calls_for_a_few_alarms_groups_and_topics(aws: Aws) -> None:
    sns, logs, cloudwatch = (aws.client(s, REGION) for s in ("sns", "logs", "cloudwatch"))
    arns = [sns.create_topic(Name=f"topic-{n}")["TopicArn"] for n in range(4)]
    for n in range(4):
        logs.create_log_group(logGroupName=f"/group/{n}")
        cloudwatch.put_metric_alarm(AlarmName=f"alarm-{n}", MetricName="M", Namespace="N", Statistic="Sum",
                                    Period=60, EvaluationPeriods=1, Threshold=1.0,
                                    ComparisonOperator="GreaterThanThreshold")
    before = aws.counter.snapshot()
    ctx = context(aws, {"aws_sns_topic": arns[:1], "aws_cloudwatch_log_group": ["/group/0"],
                        "aws_cloudwatch_metric_alarm": ["alarm-0"]})

    counts = [len(collect(fn, ctx, spec)) for fn, spec in ((mon.collect_topics, mon.TOPIC),
                                                          (mon.collect_log_groups, mon.LOG_GROUP),
                                                          (mon.collect_metric_alarms, mon.METRIC_ALARM))]

    spent = spent_since(aws, before)
    assert counts == [4, 4, 4]
    assert spent == {"sns.ListTopics": 1, "sns.GetTopicAttributes": 1,
                     "cloudwatch-logs.DescribeLogGroups": 1, "cloudwatch.DescribeAlarms": 1,
                     "resource-groups-tagging-api.GetResources": 3}  # topic, alarm and log-group tags in bulk


def test_tags_are_asked_per_resource_where_the_tagging_api_is_denied(aws: Aws) -> None:
    deny_tagging(aws)
    aws.client("logs", REGION).create_log_group(logGroupName="/ecs/app", tags={"Team": "web"})
    before = aws.counter.snapshot()
    found = collect(mon.collect_log_groups, context(aws, {"aws_cloudwatch_log_group": ["/ecs/app"]}), mon.LOG_GROUP)
    assert found["/ecs/app"].attributes["tags"] == {"Team": "web"}
    assert spent_since(aws, before) == {"cloudwatch-logs.DescribeLogGroups": 1,
                                        "cloudwatch-logs.ListTagsForResource": 1}


def test_tags_of_held_alarms_and_log_groups_are_compared(aws: Aws) -> None:
    logs, cloudwatch = aws.client("logs", REGION), aws.client("cloudwatch", REGION)
    logs.create_log_group(logGroupName="/ecs/app", tags={"Team": "web"})
    logs.create_log_group(logGroupName="/ecs/other", tags={"Team": "web"})
    cloudwatch.put_metric_alarm(AlarmName="cpu", MetricName="M", Namespace="N", Statistic="Sum", Period=60,
                                EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold",
                                Tags=[{"Key": "Team", "Value": "ops"}])
    ctx = context(aws, {"aws_cloudwatch_log_group": ["/ecs/app"], "aws_cloudwatch_metric_alarm": ["cpu"]})
    groups = collect(mon.collect_log_groups, ctx, mon.LOG_GROUP)
    [alarm] = collect(mon.collect_metric_alarms, ctx, mon.METRIC_ALARM).values()
    assert groups["/ecs/app"].attributes["tags"] == {"Team": "web"}
    assert "tags" not in groups["/ecs/other"].attributes  # not held: no per-resource call
    assert alarm.attributes["tags_all"] == {"Team": "ops"}
    state = {**alarm.attributes, "tags": {"Team": "web"}, "tags_all": {"Team": "web"}}
    assert [(c.path, c.state, c.live) for c in attribute_changes(mon.METRIC_ALARM, state, alarm.attributes)] == [
        ("tags.Team", "web", "ops")]
