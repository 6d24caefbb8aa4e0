"""Each revert declaration, one by one, on moto (in-process): the drift is made with boto3, the
declared calls put the state's value back, the precondition holds, and every call and the probe
need only permissions the declaration lists."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from moto import mock_aws

from auditor.aws import Aws, AwsSettings
from auditor.fix.apply import check_probe, invoke
from auditor.fix.reverts import REVERTS, declared_permissions, iam_permission, reverts_for
from auditor.models import AttributeChange, Drift, DriftKind

REGION = "eu-west-1"

# Which declarations each test exercises. `revert` checks that a test exercises only what it is listed for,
# and the last test that every declaration (tags aside) is listed: no run order or worker split involved.
COVERS: dict[str, set[str]] = {
    "test_security_group_rules_added_by_hand_are_revoked_and_revoked_ones_authorized": {"aws_security_group/rules"},
    "test_a_rule_added_by_hand_to_a_managed_group_is_revoked": {
        "aws_vpc_security_group_egress_rule/added-by-hand", "aws_vpc_security_group_ingress_rule/added-by-hand"},
    "test_a_legacy_rule_revoked_by_hand_is_authorized_again": {"aws_security_group_rule/revoked-by-hand"},
    "test_log_retention_is_put_back": {"aws_cloudwatch_log_group/retention"},
    "test_a_deleted_alarm_is_created_again_with_the_same_name_and_settings": {"aws_cloudwatch_metric_alarm/settings"},
    "test_a_deleted_alarm_is_not_put_over_one_made_since": {"aws_cloudwatch_metric_alarm/settings"},
    "test_an_edited_alarm_gets_the_states_settings_back": {"aws_cloudwatch_metric_alarm/settings"},
    "test_ecr_tag_mutability_and_scan_on_push_are_put_back": {
        "aws_ecr_repository/scan-on-push", "aws_ecr_repository/tag-mutability"},
    "test_a_desired_count_changed_by_hand_is_put_back": {"aws_ecs_service/desired-count"},
    "test_load_balancer_attributes_are_put_back": {"aws_lb/attributes"},
    "test_listener_tls_policy_and_certificate_are_put_back": {"aws_lb_listener/tls"},
    "test_target_group_health_check_and_attributes_are_put_back": {
        "aws_lb_target_group/attributes", "aws_lb_target_group/health-check"},
    "test_bucket_versioning_is_put_back": {"aws_s3_bucket_versioning/status"},
    "test_public_access_block_is_put_back": {"aws_s3_bucket_public_access_block/settings"},
    "test_point_in_time_recovery_is_put_back": {"aws_dynamodb_table/point-in-time-recovery"},
}


def _current_test() -> str:
    return os.environ["PYTEST_CURRENT_TEST"].split("::")[-1].split("[")[0].split(" ")[0]


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        yield Aws(AwsSettings(region=REGION, max_attempts=1))


def drift(type_: str, id_: str, kind: DriftKind, changes: Mapping[str, tuple[Any, Any]] | None = None,
          state: Mapping[str, Any] | None = None, live: Mapping[str, Any] | None = None) -> Drift:
    return Drift(type=type_, id=id_, kind=kind, address=f"{type_}.x", region=REGION,
                 changes=tuple(AttributeChange(p, s, v) for p, (s, v) in (changes or {}).items()),
                 states=("s3://b/k",), state_attributes=state, live_attributes=live)


def revert(aws: Aws, finding: Drift) -> None:
    """Plan the finding's reverts, check their declarations, make their calls."""
    reverts = reverts_for(finding)
    assert reverts, f"no revert for {finding.type} {finding.kind}"
    for declared in reverts:
        calls = declared.calls(finding)
        assert calls
        for call in calls:
            assert iam_permission(call) in declared.permissions, (declared.qualified, call.operation)
        if declared.probe is not None:
            probe = declared.probe(finding)
            assert iam_permission(probe.call) in declared.permissions
            assert check_probe(aws, probe, REGION) is None
        for call in calls:
            invoke(aws, call, REGION)
        if declared.name != "tags":
            assert declared.qualified in COVERS.get(_current_test(), ()), (_current_test(), declared.qualified)


# --- security groups ----------------------------------------------------------------------------


def _group(aws: Aws) -> tuple[Any, str, str]:
    ec2 = aws.client("ec2", REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="svc", Description="svc", VpcId=vpc)["GroupId"]
    return ec2, vpc, group


def _ingress(ec2: Any, group: str) -> set[tuple[int, str]]:
    perms = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["IpPermissions"]
    return {(p["FromPort"], r["CidrIp"]) for p in perms for r in p.get("IpRanges", [])}


def _block(port: int, cidr: str) -> dict[str, Any]:
    return {"cidr_blocks": [cidr], "description": "", "from_port": port, "ipv6_cidr_blocks": [],
            "prefix_list_ids": [], "protocol": "tcp", "security_groups": [], "self": False, "to_port": port}


def test_security_group_rules_added_by_hand_are_revoked_and_revoked_ones_authorized(aws: Aws) -> None:
    ec2, _, group = _group(aws)
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    want, have = [_block(443, "10.0.0.0/16")], [_block(22, "0.0.0.0/0")]
    revert(aws, drift("aws_security_group", group, DriftKind.CHANGED, {"ingress": (want, have)},
                      state={"id": group, "ingress": want, "egress": []},
                      live={"id": group, "ingress": have, "egress": []}))
    assert _ingress(ec2, group) == {(443, "10.0.0.0/16")}


@pytest.mark.parametrize("direction", ["ingress", "egress"])
def test_a_rule_added_by_hand_to_a_managed_group_is_revoked(aws: Aws, direction: str) -> None:
    ec2, _, group = _group(aws)
    authorize = getattr(ec2, f"authorize_security_group_{direction}")
    answer = authorize(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "203.0.113.0/24"}]}])
    rule_id = answer["SecurityGroupRules"][0]["SecurityGroupRuleId"]
    finding = drift(f"aws_vpc_security_group_{direction}_rule", rule_id, DriftKind.UNMANAGED,
                    live={"id": rule_id, "security_group_id": group})
    revert(aws, finding)
    left = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group]}])["SecurityGroupRules"]
    assert rule_id not in {r["SecurityGroupRuleId"] for r in left}


def test_a_legacy_rule_revoked_by_hand_is_authorized_again(aws: Aws) -> None:
    ec2, _, group = _group(aws)
    state = {"type": "ingress", "security_group_id": group, "protocol": "tcp", "from_port": 443, "to_port": 443,
             "cidr_blocks": ["10.0.0.0/16"], "ipv6_cidr_blocks": [], "prefix_list_ids": [], "self": False,
             "source_security_group_id": None, "description": "https"}
    revert(aws, drift("aws_security_group_rule", f"sgrule-{group}", DriftKind.MISSING, state=state))
    assert _ingress(ec2, group) == {(443, "10.0.0.0/16")}


# --- CloudWatch ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("days", "expected"), [(30, 30), (0, None)])
def test_log_retention_is_put_back(aws: Aws, days: int, expected: int | None) -> None:
    logs = aws.client("logs", REGION)
    logs.create_log_group(logGroupName="/ecs/app")
    logs.put_retention_policy(logGroupName="/ecs/app", retentionInDays=7)
    revert(aws, drift("aws_cloudwatch_log_group", "/ecs/app", DriftKind.CHANGED,
                      {"retention_in_days": (days, 7)}, state={"name": "/ecs/app", "retention_in_days": days}))
    group = logs.describe_log_groups(logGroupNamePrefix="/ecs/app")["logGroups"][0]
    assert group.get("retentionInDays") == expected


ALARM = {"id": "app-5xx", "alarm_name": "app-5xx", "alarm_description": "5xx", "actions_enabled": True,
         "alarm_actions": ["arn:aws:sns:eu-west-1:123456789012:alarms"], "ok_actions": [],
         "insufficient_data_actions": [], "namespace": "AWS/ApplicationELB", "metric_name": "HTTPCode_Target_5XX_Count",
         "dimensions": {"LoadBalancer": "app/x/1"}, "statistic": "Sum", "extended_statistic": "", "period": 60,
         "evaluation_periods": 3, "datapoints_to_alarm": 2, "threshold": 5, "threshold_metric_id": "",
         "comparison_operator": "GreaterThanThreshold", "treat_missing_data": "notBreaching",
         "evaluate_low_sample_count_percentiles": "", "unit": "", "metric_query": [], "tags": {"Team": "web"}}


def _alarm(aws: Aws) -> dict[str, Any]:
    found = aws.client("cloudwatch", REGION).describe_alarms(AlarmNames=["app-5xx"])["MetricAlarms"]
    assert len(found) == 1
    return dict(found[0])


def test_a_deleted_alarm_is_created_again_with_the_same_name_and_settings(aws: Aws) -> None:
    revert(aws, drift("aws_cloudwatch_metric_alarm", "app-5xx", DriftKind.MISSING, state=ALARM))
    alarm = _alarm(aws)
    assert (alarm["Threshold"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"], alarm["Statistic"]) == (
        5.0, 3, 2, "Sum")
    assert alarm["Dimensions"] == [{"Name": "LoadBalancer", "Value": "app/x/1"}]
    assert alarm["TreatMissingData"] == "notBreaching"
    tags = aws.client("cloudwatch", REGION).list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
    assert tags == [{"Key": "Team", "Value": "web"}]


def test_a_deleted_alarm_is_not_put_over_one_made_since(aws: Aws) -> None:
    finding = drift("aws_cloudwatch_metric_alarm", "app-5xx", DriftKind.MISSING, state=ALARM)
    revert(aws, finding)
    probe = reverts_for(finding)[0].probe(finding)  # type: ignore[index, misc]
    assert "precondition failed" in str(check_probe(aws, probe, REGION))


def test_an_edited_alarm_gets_the_states_settings_back(aws: Aws) -> None:
    revert(aws, drift("aws_cloudwatch_metric_alarm", "app-5xx", DriftKind.MISSING, state=ALARM))
    aws.client("cloudwatch", REGION).put_metric_alarm(
        AlarmName="app-5xx", MetricName="HTTPCode_Target_5XX_Count", Namespace="AWS/ApplicationELB", Period=60,
        Statistic="Sum", EvaluationPeriods=1, Threshold=500.0, ComparisonOperator="GreaterThanThreshold")
    revert(aws, drift("aws_cloudwatch_metric_alarm", "app-5xx", DriftKind.CHANGED,
                      {"threshold": (5, 500), "evaluation_periods": (3, 1)}, state=ALARM))
    alarm = _alarm(aws)
    assert (alarm["Threshold"], alarm["EvaluationPeriods"]) == (5.0, 3)


# --- ECR ----------------------------------------------------------------------------------------


def test_ecr_tag_mutability_and_scan_on_push_are_put_back(aws: Aws) -> None:
    ecr = aws.client("ecr", REGION)
    ecr.create_repository(repositoryName="app", imageTagMutability="MUTABLE",
                          imageScanningConfiguration={"scanOnPush": False})
    state = {"name": "app", "image_tag_mutability": "IMMUTABLE",
             "image_scanning_configuration": [{"scan_on_push": True}]}
    revert(aws, drift("aws_ecr_repository", "app", DriftKind.CHANGED,
                      {"image_tag_mutability": ("IMMUTABLE", "MUTABLE"),
                       "image_scanning_configuration[0].scan_on_push": (True, False)}, state=state))
    repo = ecr.describe_repositories(repositoryNames=["app"])["repositories"][0]
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert repo["imageScanningConfiguration"] == {"scanOnPush": True}


# --- ECS ----------------------------------------------------------------------------------------


def test_a_desired_count_changed_by_hand_is_put_back(aws: Aws) -> None:
    ecs = aws.client("ecs", REGION)
    cluster = ecs.create_cluster(clusterName="c")["cluster"]["clusterArn"]
    ecs.register_task_definition(family="web", containerDefinitions=[{"name": "web", "image": "nginx",
                                                                     "memory": 128}])
    service = ecs.create_service(cluster="c", serviceName="web", taskDefinition="web", desiredCount=4)["service"]
    revert(aws, drift("aws_ecs_service", service["serviceArn"], DriftKind.CHANGED, {"desired_count": (2, 4)},
                      state={"cluster": cluster, "name": "web", "desired_count": 2}))
    assert ecs.describe_services(cluster="c", services=["web"])["services"][0]["desiredCount"] == 2


# --- load balancing -----------------------------------------------------------------------------


@pytest.fixture
def edge(aws: Aws) -> dict[str, str]:
    ec2 = aws.client("ec2", REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")
               ["Subnet"]["SubnetId"] for i, z in enumerate("ab")]
    elbv2 = aws.client("elbv2", REGION)
    lb = elbv2.create_load_balancer(Name="core", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elbv2.create_target_group(Name="blue", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip",
                                   HealthCheckPath="/health")["TargetGroups"][0]["TargetGroupArn"]
    acm = aws.client("acm", REGION)
    certs = [acm.request_certificate(DomainName=f"{n}.example.com")["CertificateArn"] for n in ("a", "b")]
    listener = elbv2.create_listener(LoadBalancerArn=lb, Protocol="HTTPS", Port=443, Certificates=[
        {"CertificateArn": certs[0]}], SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])["Listeners"][0]["ListenerArn"]
    return {"lb": lb, "tg": tg, "listener": listener, "cert": certs[0], "other_cert": certs[1]}


def test_load_balancer_attributes_are_put_back(aws: Aws, edge: dict[str, str]) -> None:
    elbv2 = aws.client("elbv2", REGION)
    elbv2.modify_load_balancer_attributes(LoadBalancerArn=edge["lb"], Attributes=[
        {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "false"},
        {"Key": "idle_timeout.timeout_seconds", "Value": "600"}])
    revert(aws, drift("aws_lb", edge["lb"], DriftKind.CHANGED,
                      {"drop_invalid_header_fields": (True, False), "idle_timeout": (60, 600)},
                      state={"drop_invalid_header_fields": True, "idle_timeout": 60}))
    attrs = {a["Key"]: a["Value"] for a in
             elbv2.describe_load_balancer_attributes(LoadBalancerArn=edge["lb"])["Attributes"]}
    assert attrs["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attrs["idle_timeout.timeout_seconds"] == "60"


def test_listener_tls_policy_and_certificate_are_put_back(aws: Aws, edge: dict[str, str]) -> None:
    elbv2 = aws.client("elbv2", REGION)
    elbv2.modify_listener(ListenerArn=edge["listener"], SslPolicy="ELBSecurityPolicy-2016-08",
                          Certificates=[{"CertificateArn": edge["other_cert"]}])
    revert(aws, drift("aws_lb_listener", edge["listener"], DriftKind.CHANGED,
                      {"ssl_policy": ("ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-2016-08"),
                       "certificate_arn": (edge["cert"], edge["other_cert"])},
                      state={"ssl_policy": "ELBSecurityPolicy-TLS13-1-2-2021-06", "certificate_arn": edge["cert"]}))
    listener = elbv2.describe_listeners(ListenerArns=[edge["listener"]])["Listeners"][0]
    assert listener["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert listener["Certificates"][0]["CertificateArn"] == edge["cert"]


def test_target_group_health_check_and_attributes_are_put_back(aws: Aws, edge: dict[str, str]) -> None:
    elbv2 = aws.client("elbv2", REGION)
    elbv2.modify_target_group(TargetGroupArn=edge["tg"], HealthCheckPath="/", HealthyThresholdCount=10)
    elbv2.modify_target_group_attributes(TargetGroupArn=edge["tg"], Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "600"}])
    check = {"enabled": True, "healthy_threshold": 3, "interval": 30, "matcher": "200", "path": "/health",
             "port": "traffic-port", "protocol": "HTTP", "timeout": 5, "unhealthy_threshold": 3}
    revert(aws, drift("aws_lb_target_group", edge["tg"], DriftKind.CHANGED,
                      {"health_check[0].path": ("/health", "/"), "health_check[0].healthy_threshold": (3, 10),
                       "deregistration_delay": ("30", "600")},
                      state={"health_check": [check], "deregistration_delay": "30"}))
    group = elbv2.describe_target_groups(TargetGroupArns=[edge["tg"]])["TargetGroups"][0]
    assert (group["HealthCheckPath"], group["HealthyThresholdCount"], group["Matcher"]) == ("/health", 3,
                                                                                           {"HttpCode": "200"})
    attrs = {a["Key"]: a["Value"] for a in
             elbv2.describe_target_group_attributes(TargetGroupArn=edge["tg"])["Attributes"]}
    assert attrs["deregistration_delay.timeout_seconds"] == "30"


# --- S3 and DynamoDB ----------------------------------------------------------------------------


def _bucket(aws: Aws) -> Any:
    s3 = aws.client("s3", REGION)
    s3.create_bucket(Bucket="state-bucket", CreateBucketConfiguration={"LocationConstraint": REGION})
    return s3


def test_bucket_versioning_is_put_back(aws: Aws) -> None:
    s3 = _bucket(aws)
    s3.put_bucket_versioning(Bucket="state-bucket", VersioningConfiguration={"Status": "Suspended"})
    revert(aws, drift("aws_s3_bucket_versioning", "state-bucket", DriftKind.CHANGED,
                      {"versioning_configuration[0].status": ("Enabled", "Suspended")},
                      state={"bucket": "state-bucket", "versioning_configuration": [{"status": "Enabled",
                                                                                      "mfa_delete": ""}]}))
    assert s3.get_bucket_versioning(Bucket="state-bucket")["Status"] == "Enabled"


PAB = {"bucket": "state-bucket", "block_public_acls": True, "block_public_policy": True,
       "ignore_public_acls": True, "restrict_public_buckets": True}


@pytest.mark.parametrize("kind", [DriftKind.CHANGED, DriftKind.MISSING])
def test_public_access_block_is_put_back(aws: Aws, kind: DriftKind) -> None:
    s3 = _bucket(aws)
    if kind is DriftKind.CHANGED:
        s3.put_public_access_block(Bucket="state-bucket", PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "BlockPublicPolicy": False, "IgnorePublicAcls": True,
            "RestrictPublicBuckets": False})
    changes = {"block_public_policy": (True, False)} if kind is DriftKind.CHANGED else None
    revert(aws, drift("aws_s3_bucket_public_access_block", "state-bucket", kind, changes, state=PAB))
    config = s3.get_public_access_block(Bucket="state-bucket")["PublicAccessBlockConfiguration"]
    assert all(config.values()) and len(config) == 4


def test_point_in_time_recovery_is_put_back(aws: Aws) -> None:
    ddb = aws.client("dynamodb", REGION)
    ddb.create_table(TableName="locks", KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    revert(aws, drift("aws_dynamodb_table", "locks", DriftKind.CHANGED,
                      {"point_in_time_recovery[0].enabled": (True, False)},
                      state={"name": "locks", "point_in_time_recovery": [{"enabled": True,
                                                                          "recovery_period_in_days": 35}]}))
    pitr = ddb.describe_continuous_backups(TableName="locks")["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"
    assert pitr["RecoveryPeriodInDays"] == 35


# --- tags ---------------------------------------------------------------------------------------


def _tagged(aws: Aws, kind: str) -> tuple[str, str, dict[str, Any], Any]:
    """(type, id, state attributes, read the live tags) of a resource tagged {Env: staging, Debug: yes}."""
    hand = [{"Key": "Env", "Value": "staging"}, {"Key": "Debug", "Value": "yes"}]
    if kind == "aws_vpc":
        ec2 = aws.client("ec2", REGION)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": hand}])
        vid = vpc["Vpc"]["VpcId"]
        return kind, vid, {}, lambda: ec2.describe_vpcs(VpcIds=[vid])["Vpcs"][0].get("Tags", [])
    if kind == "aws_ecr_repository":
        ecr = aws.client("ecr", REGION)
        arn = ecr.create_repository(repositoryName="app", tags=hand)["repository"]["repositoryArn"]
        return kind, "app", {"arn": arn}, lambda: ecr.list_tags_for_resource(resourceArn=arn)["tags"]
    if kind == "aws_ecs_cluster":
        ecs = aws.client("ecs", REGION)
        arn = ecs.create_cluster(clusterName="c", tags=[{"key": t["Key"], "value": t["Value"]} for t in hand])[
            "cluster"]["clusterArn"]
        return kind, arn, {"arn": arn}, lambda: [{"Key": t["key"], "Value": t["value"]} for t in
                                                 ecs.list_tags_for_resource(resourceArn=arn)["tags"]]
    if kind == "aws_dynamodb_table":
        ddb = aws.client("dynamodb", REGION)
        arn = ddb.create_table(TableName="t", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                               AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                               BillingMode="PAY_PER_REQUEST", Tags=hand)["TableDescription"]["TableArn"]
        return kind, "t", {"arn": arn}, lambda: ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]
    if kind == "aws_sns_topic":
        sns = aws.client("sns", REGION)
        arn = sns.create_topic(Name="alarms", Tags=hand)["TopicArn"]
        return kind, arn, {"arn": arn}, lambda: sns.list_tags_for_resource(ResourceArn=arn)["Tags"]
    if kind == "aws_kms_key":
        kms = aws.client("kms", REGION)
        key = kms.create_key(Tags=[{"TagKey": t["Key"], "TagValue": t["Value"]} for t in hand])["KeyMetadata"]["KeyId"]
        return kind, key, {}, lambda: [{"Key": t["TagKey"], "Value": t["TagValue"]} for t in
                                       kms.list_resource_tags(KeyId=key)["Tags"]]
    if kind == "aws_iam_role":
        iam = aws.client("iam", REGION)
        iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}", Tags=hand)
        return kind, "r", {}, lambda: iam.list_role_tags(RoleName="r")["Tags"]
    if kind == "aws_s3_bucket":
        s3 = _bucket(aws)
        s3.put_bucket_tagging(Bucket="state-bucket", Tagging={"TagSet": hand})
        return kind, "state-bucket", {"bucket": "state-bucket"}, lambda: s3.get_bucket_tagging(
            Bucket="state-bucket")["TagSet"]
    assert kind == "aws_lb"
    ec2 = aws.client("ec2", REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")
               ["Subnet"]["SubnetId"] for i, z in enumerate("ab")]
    elbv2 = aws.client("elbv2", REGION)
    arn = elbv2.create_load_balancer(Name="core", Subnets=subnets, Tags=hand)["LoadBalancers"][0]["LoadBalancerArn"]
    return kind, arn, {}, lambda: elbv2.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"]


TAGGED = ("aws_lb", "aws_vpc", "aws_ecr_repository", "aws_ecs_cluster", "aws_dynamodb_table", "aws_sns_topic",
          "aws_kms_key", "aws_iam_role", "aws_s3_bucket")


@pytest.mark.parametrize("kind", TAGGED)
def test_tags_changed_or_added_by_hand_are_put_back(aws: Aws, kind: str) -> None:
    tf_type, resource_id, attrs, read = _tagged(aws, kind)
    want, have = {"Env": "prod", "Team": "web"}, {"Env": "staging", "Debug": "yes"}
    revert(aws, drift(tf_type, resource_id, DriftKind.CHANGED,
                      {"tags.Env": ("prod", "staging"), "tags.Team": ("web", None), "tags.Debug": (None, "yes")},
                      state={**attrs, "tags": want}, live={**attrs, "tags": have}))
    assert {t["Key"]: t["Value"] for t in read()} == want


def test_default_tags_the_state_holds_in_tags_all_are_kept(aws: Aws) -> None:
    """With the provider's default_tags, `tags` holds only the resource's own: the rest are in `tags_all`."""
    tf_type, resource_id, attrs, read = _tagged(aws, "aws_lb")
    state = {**attrs, "tags": {"Env": "prod"}, "tags_all": {"Env": "prod", "ManagedBy": "terraform"}}
    live = {**attrs, "tags": {"Env": "staging", "Debug": "yes"},
            "tags_all": {"Env": "staging", "Debug": "yes"}}
    revert(aws, drift(tf_type, resource_id, DriftKind.CHANGED,
                      {"tags.Env": ("prod", "staging"), "tags_all.ManagedBy": ("terraform", None)}, state=state,
                      live=live))
    assert {t["Key"]: t["Value"] for t in read()} == {"Env": "prod", "ManagedBy": "terraform"}


# --- the declarations themselves -----------------------------------------------------------------


def test_every_declaration_is_complete() -> None:
    for tf_type, reverts in REVERTS.items():
        for declared in reverts:
            assert declared.type == tf_type
            assert declared.permissions and declared.precondition and declared.kinds
            # a revert of changed attributes names them; one of a whole resource names none
            assert bool(declared.paths) == (DriftKind.CHANGED in declared.kinds), declared.qualified
            assert all(":" in p for p in declared.permissions)
    assert "ec2:RevokeSecurityGroupIngress" in declared_permissions()


def test_a_change_without_a_declared_revert_gets_none() -> None:
    finding = drift("aws_lb", "arn", DriftKind.CHANGED, {"subnets": (["a"], ["b"]), "idle_timeout": (60, 600)},
                    state={"idle_timeout": 60})
    assert reverts_for(finding) is None
    assert reverts_for(drift("aws_vpc", "vpc-1", DriftKind.MISSING)) is None


def test_every_non_tag_revert_is_tested_one_by_one() -> None:
    declared = {r.qualified for reverts in REVERTS.values() for r in reverts if r.name != "tags"}
    covered = set().union(*COVERS.values())
    assert declared == covered, (sorted(declared - covered), sorted(covered - declared))
    tests = {name for name in globals() if name.startswith("test_")}
    assert set(COVERS) <= tests, sorted(set(COVERS) - tests)
