"""Application Auto Scaling, ECR repository policy and registry scanning, log metric filters, SNS
subscriptions and topic policies, SQS queues and queue policies: moto in-process and botocore stubs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber
from moto import mock_aws

from auditor.aws import Aws
from auditor.diff import attribute_changes
from auditor.inventory import appautoscaling as aas
from auditor.inventory import ecr, monitoring, sns, sqs
from tests.inventory._platform import ACCOUNT, REGION, collect, compared, context, new_aws, paged, spent_since

SERVICE_ID = "service/prod/web"
POLICY = {"Version": "2012-10-17", "Statement": [{"Sid": "CiPull", "Effect": "Allow",
                                                  "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                                                  "Action": ["ecr:BatchGetImage"]}]}


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        yield new_aws()


# --- aws_appautoscaling_target / _policy --------------------------------------------------------


def test_scalable_targets_and_policies_in_provider_shape(aws: Aws) -> None:
    ecs = aws.client("ecs", REGION)
    ecs.create_cluster(clusterName="prod")
    ecs.create_service(cluster="prod", serviceName="web", desiredCount=2)
    client = aws.client("application-autoscaling", REGION)
    client.register_scalable_target(ServiceNamespace="ecs", ResourceId=SERVICE_ID, MinCapacity=2, MaxCapacity=10,
                                    ScalableDimension="ecs:service:DesiredCount")
    client.put_scaling_policy(
        PolicyName="cpu", ServiceNamespace="ecs", ResourceId=SERVICE_ID, ScalableDimension="ecs:service:DesiredCount",
        PolicyType="TargetTrackingScaling", TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 60.0, "ScaleInCooldown": 120, "ScaleOutCooldown": 48,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}})
    client.put_scaling_policy(
        PolicyName="step", ServiceNamespace="ecs", ResourceId=SERVICE_ID, ScalableDimension="ecs:service:DesiredCount",
        PolicyType="StepScaling", StepScalingPolicyConfiguration={
            "AdjustmentType": "ChangeInCapacity", "Cooldown": 60, "MetricAggregationType": "Average",
            "StepAdjustments": [{"MetricIntervalLowerBound": 0.0, "MetricIntervalUpperBound": 10.0,
                                 "ScalingAdjustment": 1},
                                {"MetricIntervalLowerBound": 10.0, "ScalingAdjustment": 3}]})

    targets = collect(aas.collect_targets, context(aws), aas.TARGET)
    policies = collect(aas.collect_policies, context(aws), aas.POLICY)

    target_id = f"ecs/{SERVICE_ID}/ecs:service:DesiredCount"
    # the shape hashicorp/aws 5.100 writes (id = the resource id, matched on the import id)
    target_state = {"id": SERVICE_ID, "service_namespace": "ecs", "resource_id": SERVICE_ID,
                    "scalable_dimension": "ecs:service:DesiredCount", "min_capacity": 2, "max_capacity": 10,
                    "suspended_state": [{"dynamic_scaling_in_suspended": False,
                                         "dynamic_scaling_out_suspended": False,
                                         "scheduled_scaling_suspended": False}], "tags": {}, "tags_all": {}}
    assert aas.TARGET.import_id(target_state) == target_id and list(targets) == [target_id]
    assert attribute_changes(aas.TARGET, target_state, targets[target_id].attributes) == []
    scaled = attribute_changes(aas.TARGET, {**target_state, "max_capacity": 4}, targets[target_id].attributes)
    assert [(c.path, c.state, c.live) for c in scaled] == [("max_capacity", 4, 10)]

    cpu_state = {"id": "cpu", "name": "cpu", "policy_type": "TargetTrackingScaling", "service_namespace": "ecs",
                 "resource_id": SERVICE_ID, "scalable_dimension": "ecs:service:DesiredCount",
                 "step_scaling_policy_configuration": [],
                 "target_tracking_scaling_policy_configuration": [{
                     "target_value": 60, "disable_scale_in": False, "scale_in_cooldown": 120,
                     "scale_out_cooldown": 48, "customized_metric_specification": [],
                     "predefined_metric_specification": [{"predefined_metric_type":
                                                          "ECSServiceAverageCPUUtilization", "resource_label": ""}]}]}
    cpu = policies[f"{target_id}/cpu"].attributes
    assert attribute_changes(aas.POLICY, cpu_state, cpu) == []
    step_state = {**cpu_state, "id": "step", "name": "step", "policy_type": "StepScaling",
                  "target_tracking_scaling_policy_configuration": [],
                  "step_scaling_policy_configuration": [{
                      "adjustment_type": "ChangeInCapacity", "cooldown": 60, "metric_aggregation_type": "Average",
                      "min_adjustment_magnitude": 0, "step_adjustment": [
                          {"metric_interval_lower_bound": "10", "metric_interval_upper_bound": "",
                           "scaling_adjustment": 3},
                          {"metric_interval_lower_bound": "0", "metric_interval_upper_bound": "10",
                           "scaling_adjustment": 1}]}]}
    step = policies[f"{target_id}/step"].attributes
    assert compared(aas.POLICY, step)["policy_type"] == "StepScaling"
    assert attribute_changes(aas.POLICY, step_state, step) == []  # step adjustments are a set
    tuned = json.loads(json.dumps(cpu_state))
    tuned["target_tracking_scaling_policy_configuration"][0]["target_value"] = 75
    assert [c.path for c in attribute_changes(aas.POLICY, tuned, cpu)] == [
        "target_tracking_scaling_policy_configuration[0].target_value"]


def test_a_namespace_a_state_names_is_listed_too(aws: Aws) -> None:
    before = aws.counter.snapshot()
    ctx = context(aws, {"aws_appautoscaling_target": ["dynamodb/table/orders/dynamodb:table:ReadCapacityUnits"]})
    assert list(aas.collect_targets(ctx)) == []
    assert spent_since(aws, before) == {"application-auto-scaling.DescribeScalableTargets": 2}


def test_scalable_targets_and_policies_follow_every_page() -> None:
    target = {"ServiceNamespace": "ecs", "ScalableDimension": "ecs:service:DesiredCount", "MinCapacity": 1,
              "MaxCapacity": 2, "RoleARN": "arn:aws:iam::1:role/r", "CreationTime": "2026-01-01T00:00:00Z"}
    pages = [[{**target, "ResourceId": f"service/prod/s{n}"}] for n in (1, 2)]
    found = paged(new_aws(), "application-autoscaling", "describe_scalable_targets", "ScalableTargets", pages,
                  aas.collect_targets, token="NextToken", params={"ServiceNamespace": "ecs"})
    assert [r.attributes["resource_id"] for r in found] == ["service/prod/s1", "service/prod/s2"]
    policy = {"PolicyARN": "arn:p", "ServiceNamespace": "ecs", "ResourceId": SERVICE_ID, "PolicyType": "StepScaling",
              "ScalableDimension": "ecs:service:DesiredCount", "CreationTime": "2026-01-01T00:00:00Z"}
    found = paged(new_aws(), "application-autoscaling", "describe_scaling_policies", "ScalingPolicies",
                  [[{**policy, "PolicyName": f"p{n}"}] for n in (1, 2)], aas.collect_policies, token="NextToken",
                  params={"ServiceNamespace": "ecs"})
    assert [r.id.rsplit("/", 1)[-1] for r in found] == ["p1", "p2"]


def test_scalable_target_tags_of_held_targets_by_their_arn() -> None:
    aws = new_aws()
    arn = f"arn:aws:application-autoscaling:{REGION}:{ACCOUNT}:scalable-target/0ec9a8b5c2a84d1e9f0b"
    target = {"ServiceNamespace": "ecs", "ScalableDimension": "ecs:service:DesiredCount", "MinCapacity": 2,
              "MaxCapacity": 10, "RoleARN": "arn:aws:iam::1:role/r", "CreationTime": "2026-01-01T00:00:00Z"}
    listed = [{**target, "ResourceId": SERVICE_ID, "ScalableTargetARN": arn},
              {**target, "ResourceId": "service/prod/other", "ScalableTargetARN": f"{arn}x"}]
    held = f"ecs/{SERVICE_ID}/ecs:service:DesiredCount"
    with Stubber(aws.client("application-autoscaling", REGION)) as stub:
        stub.add_response("describe_scalable_targets", {"ScalableTargets": listed}, {"ServiceNamespace": "ecs"})
        stub.add_response("list_tags_for_resource", {"Tags": {"Team": "someone-else"}}, {"ResourceARN": arn})
        found = {r.id: r for r in aas.collect_targets(context(aws, {aas.TARGET.type: [held]}))}
        stub.assert_no_pending_responses()  # one tag call: the held target's, none for the other
    live = found[held].attributes
    state = {"id": SERVICE_ID, "service_namespace": "ecs", "resource_id": SERVICE_ID, "arn": arn, "role_arn": "",
             "scalable_dimension": "ecs:service:DesiredCount", "min_capacity": 2, "max_capacity": 10,
             "suspended_state": [{"dynamic_scaling_in_suspended": False, "dynamic_scaling_out_suspended": False,
                                  "scheduled_scaling_suspended": False}],
             "tags": {"Team": "platform"}, "tags_all": {"Team": "platform"}}
    assert [c.path for c in attribute_changes(aas.TARGET, {**state, "role_arn": "arn:aws:iam::1:role/r"}, live)] == [
        "tags.Team"]
    assert "tags" not in found["ecs/service/prod/other/ecs:service:DesiredCount"].attributes


# --- aws_ecr_repository_policy, aws_ecr_registry_scanning_configuration ------------------------


def test_repository_policies_of_held_repositories(aws: Aws) -> None:
    client = aws.client("ecr", REGION)
    for name in ("app", "worker", "nopolicy"):
        client.create_repository(repositoryName=name)
    for name in ("app", "worker"):
        client.set_repository_policy(repositoryName=name, policyText=json.dumps(POLICY))
    before = aws.counter.snapshot()

    found = collect(ecr.collect_repository_policies,
                    context(aws, {"aws_ecr_repository_policy": ["app", "nopolicy", "gone"]}), ecr.REPOSITORY_POLICY)

    assert list(found) == ["app"]  # no policy on nopolicy, no repository gone: both missing
    state = {"id": "app", "repository": "app", "registry_id": ACCOUNT, "policy": json.dumps(POLICY, indent=2)}
    assert attribute_changes(ecr.REPOSITORY_POLICY, state, found["app"].attributes) == []
    public = json.loads(json.dumps(POLICY))
    public["Statement"][0]["Principal"] = "*"
    assert [c.path for c in attribute_changes(ecr.REPOSITORY_POLICY, {**state, "policy": json.dumps(public)},
                                              found["app"].attributes)] == ["policy.Statement[0].Principal"]
    assert spent_since(aws, before) == {"ecr.DescribeRepositories": 1, "ecr.GetRepositoryPolicy": 2}


def test_registry_scanning_configuration_in_provider_shape(aws: Aws) -> None:
    client = aws.client("ecr", REGION)
    [default] = collect(ecr.collect_registry_scanning, context(aws), ecr.REGISTRY_SCANNING).values()
    assert default.attributes["scan_type"] == "BASIC" and ecr.REGISTRY_SCANNING.aws_owned
    assert ecr.REGISTRY_SCANNING.aws_owned(default)  # AWS's default is never unmanaged
    client.put_registry_scanning_configuration(scanType="ENHANCED", rules=[
        {"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "app*", "filterType": "WILDCARD"}]},
        {"scanFrequency": "CONTINUOUS_SCAN", "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}]}])
    [live] = collect(ecr.collect_registry_scanning, context(aws), ecr.REGISTRY_SCANNING).values()
    assert live.id == ACCOUNT
    state = {"id": ACCOUNT, "registry_id": ACCOUNT, "scan_type": "ENHANCED", "rule": [
        {"scan_frequency": "CONTINUOUS_SCAN", "repository_filter": [{"filter": "*", "filter_type": "WILDCARD"}]},
        {"scan_frequency": "SCAN_ON_PUSH", "repository_filter": [{"filter": "app*", "filter_type": "WILDCARD"}]}]}
    assert ecr.REGISTRY_SCANNING.import_id(state) == ACCOUNT
    assert attribute_changes(ecr.REGISTRY_SCANNING, state, live.attributes) == []
    assert [c.path for c in attribute_changes(ecr.REGISTRY_SCANNING, {**state, "scan_type": "BASIC"},
                                              live.attributes)] == ["scan_type"]


# --- aws_cloudwatch_log_metric_filter -----------------------------------------------------------


def test_log_metric_filters_in_provider_shape(aws: Aws) -> None:
    logs = aws.client("logs", REGION)
    logs.create_log_group(logGroupName="/ecs/app")
    logs.put_metric_filter(logGroupName="/ecs/app", filterName="errors", filterPattern="ERROR", metricTransformations=[
        {"metricName": "AppErrors", "metricNamespace": "App", "metricValue": "1", "defaultValue": 0.0}])

    [live] = collect(monitoring.collect_metric_filters, context(aws), monitoring.METRIC_FILTER).values()

    state = {"id": "errors", "name": "errors", "log_group_name": "/ecs/app", "pattern": "ERROR",
             "metric_transformation": [{"name": "AppErrors", "namespace": "App", "value": "1",
                                        "default_value": "0", "unit": "", "dimensions": {}}]}
    assert attribute_changes(monitoring.METRIC_FILTER, state, live.attributes) == []
    changed = attribute_changes(monitoring.METRIC_FILTER, {**state, "pattern": "FATAL"}, live.attributes)
    assert [(c.path, c.state, c.live) for c in changed] == [("pattern", "FATAL", "ERROR")]


def test_describe_metric_filters_follows_every_page() -> None:
    transformation = {"metricName": "M", "metricNamespace": "N", "metricValue": "1"}
    pages = [[{"filterName": f"f{n}", "logGroupName": "/g", "filterPattern": "",
               "metricTransformations": [transformation]}] for n in (1, 2)]
    found = paged(new_aws(), "logs", "describe_metric_filters", "metricFilters", pages,
                  monitoring.collect_metric_filters, token="nextToken")
    assert [r.id for r in found] == ["f1", "f2"]


# --- SNS subscriptions and topic policies -------------------------------------------------------


def test_subscriptions_and_topic_policy_in_provider_shape(aws: Aws) -> None:
    client, queues = aws.client("sns", REGION), aws.client("sqs", REGION)
    topic = client.create_topic(Name="alarms")["TopicArn"]
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:alarm-queue"
    queues.create_queue(QueueName="alarm-queue")
    held = client.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, ReturnSubscriptionArn=True,
                            Attributes={"RawMessageDelivery": "true",
                                        "FilterPolicy": json.dumps({"severity": ["high"]})})["SubscriptionArn"]
    other = client.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com",
                             ReturnSubscriptionArn=True)["SubscriptionArn"]
    topic_policy = {"Version": "2012-10-17", "Statement": [{"Sid": "cw", "Effect": "Allow",
                                                            "Principal": {"Service": "cloudwatch.amazonaws.com"},
                                                            "Action": "sns:Publish", "Resource": topic}]}
    client.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(topic_policy))
    ctx = context(aws, {"aws_sns_topic_subscription": [held], "aws_sns_topic_policy": [topic]})

    subscriptions = collect(sns.collect_subscriptions, ctx, sns.SUBSCRIPTION)
    [policy] = collect(sns.collect_topic_policies, ctx, sns.TOPIC_POLICY).values()

    live = subscriptions[held].attributes
    state = {"id": held, "arn": held, "topic_arn": topic, "protocol": "sqs", "endpoint": queue_arn,
             "raw_message_delivery": True, "filter_policy": json.dumps({"severity": ["high"]}),
             "filter_policy_scope": "MessageAttributes", "delivery_policy": "", "redrive_policy": "",
             "replay_policy": "", "subscription_role_arn": "", "confirmation_timeout_in_minutes": 1,
             "endpoint_auto_confirms": False, "owner_id": ACCOUNT, "pending_confirmation": False,
             "confirmation_was_authenticated": True}
    assert attribute_changes(sns.SUBSCRIPTION, state, live) == []
    assert [c.path for c in attribute_changes(sns.SUBSCRIPTION, {**state, "raw_message_delivery": False}, live)] == [
        "raw_message_delivery"]
    assert set(subscriptions[other].attributes) == {"id", "arn", "topic_arn", "protocol", "endpoint", "owner_id"}
    policy_state = {"id": topic, "arn": topic, "owner": ACCOUNT, "policy": json.dumps(topic_policy)}
    assert sns.TOPIC_POLICY.import_id(policy_state) == topic
    assert attribute_changes(sns.TOPIC_POLICY, policy_state, policy.attributes) == []


def test_list_subscriptions_follows_every_page_and_skips_pending_ones() -> None:
    base = {"Owner": ACCOUNT, "Protocol": "email", "Endpoint": "a@example.com", "TopicArn": "arn:aws:sns:t"}
    pages = [[{**base, "SubscriptionArn": "arn:aws:sns:t:1"}],
             [{**base, "SubscriptionArn": "PendingConfirmation"}, {**base, "SubscriptionArn": "arn:aws:sns:t:2"}]]
    found = paged(new_aws(), "sns", "list_subscriptions", "Subscriptions", pages, sns.collect_subscriptions,
                  token="NextToken")
    assert [r.id for r in found] == ["arn:aws:sns:t:1", "arn:aws:sns:t:2"]


# --- SQS queues and queue policies --------------------------------------------------------------


def _queue_state(url: str, **overrides: Any) -> dict[str, Any]:
    """The shape hashicorp/aws 5.100 writes for a standard queue with SSE-SQS."""
    return {"id": url, "url": url, "name": "jobs", "name_prefix": "", "arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs",
            "content_based_deduplication": False, "deduplication_scope": "", "delay_seconds": 0, "fifo_queue": False,
            "fifo_throughput_limit": "", "kms_data_key_reuse_period_seconds": 300, "kms_master_key_id": "",
            "max_message_size": 262144, "message_retention_seconds": 345600, "policy": "",
            "receive_wait_time_seconds": 0, "redrive_allow_policy": "", "redrive_policy": "",
            "sqs_managed_sse_enabled": True, "visibility_timeout_seconds": 60, "tags": {"Env": "prod"},
            "tags_all": {"Env": "prod"}, **overrides}


def test_queues_and_queue_policies_in_provider_shape(aws: Aws) -> None:
    client = aws.client("sqs", REGION)
    # what the provider sends on create: every argument, its defaults included
    url = client.create_queue(QueueName="jobs", tags={"Env": "prod"}, Attributes={
        "VisibilityTimeout": "60", "SqsManagedSseEnabled": "true", "MaximumMessageSize": "262144",
        "KmsDataKeyReusePeriodSeconds": "300", "MessageRetentionPeriod": "345600", "DelaySeconds": "0",
        "ReceiveMessageWaitTimeSeconds": "0"})["QueueUrl"]
    scratch = client.create_queue(QueueName="scratch")["QueueUrl"]
    queue_policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service":
                                                            "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
                                                            "Resource": f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs"}]}
    client.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(queue_policy)})
    ctx = context(aws, {"aws_sqs_queue": [url], "aws_sqs_queue_policy": [url, scratch]})

    queues = collect(sqs.collect_queues, ctx, sqs.QUEUE)
    policies = collect(sqs.collect_queue_policies, ctx, sqs.QUEUE_POLICY)

    live = queues[url].attributes
    state = _queue_state(url, policy=json.dumps(queue_policy))
    assert compared(sqs.QUEUE, live)["visibility_timeout_seconds"] == 60
    assert attribute_changes(sqs.QUEUE, state, live) == []
    assert [c.path for c in attribute_changes(sqs.QUEUE, {**state, "visibility_timeout_seconds": 30}, live)] == [
        "visibility_timeout_seconds"]
    assert queues[scratch].attributes == {"id": scratch, "url": scratch, "name": "scratch"}
    assert list(policies) == [url]  # the scratch queue has no policy: missing
    assert attribute_changes(sqs.QUEUE_POLICY, {"id": url, "queue_url": url, "policy": json.dumps(queue_policy)},
                             policies[url].attributes) == []


def test_list_queues_follows_every_page() -> None:
    pages = [[f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/q{n}"] for n in (1, 2)]
    found = paged(new_aws(), "sqs", "list_queues", "QueueUrls", pages, sqs.collect_queues, token="NextToken")
    assert [r.attributes["name"] for r in found] == ["q1", "q2"]
