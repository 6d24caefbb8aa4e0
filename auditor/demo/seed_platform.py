"""Demo seeding of the platform layer: the state backend, IAM roles, ECR, logs, SNS and the ALB alarms.

Every recorded attribute is built from what was asked of AWS and what AWS answered, in the shape
the hashicorp/aws provider (v5) writes to state.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from auditor.demo.seedkit import SeedContext

PROJECT = "digitallync"
CORE = "digitallync-core"
LOCK_TABLE = "digitallync-tf-locks"
LOG_GROUP = "/ecs/digitallync"
LOG_RETENTION_DAYS = 30
IMAGES_KEPT = 30
TAGS: Mapping[str, str] = {"Project": PROJECT, "Environment": "prod", "ManagedBy": "terraform"}
_ECS_TASKS = "ecs-tasks.amazonaws.com"


def state_bucket_name(account_id: str) -> str:
    """The bootstrap state bucket of an account."""
    return f"{PROJECT}-tfstate-{account_id}"


def _json(document: Any) -> str:
    """JSON text as Terraform's jsonencode writes it (compact, sorted keys)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def _aws_tags() -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in TAGS.items()]


def _tag_attributes() -> dict[str, dict[str, str]]:
    """`tags` and `tags_all` as the provider stores them (no provider default_tags)."""
    return {"tags": dict(TAGS), "tags_all": dict(TAGS)}


def _kms_key(ctx: SeedContext, description: str) -> str:
    """A customer-managed KMS key (aws_kms_key is not audited: only its ARN is referenced)."""
    return str(ctx.client("kms").create_key(Description=description, Tags=[
        {"TagKey": k, "TagValue": v} for k, v in TAGS.items()])["KeyMetadata"]["Arn"])


# --- backend --------------------------------------------------------------------------------

_TLS_ONLY_CONDITION = {"Bool": {"aws:SecureTransport": "false"}}


def _denies_plain_http(statement: Mapping[str, Any]) -> bool:
    return statement.get("Effect") == "Deny" and statement.get("Condition") == _TLS_ONLY_CONDITION


def moto_honours_tls_only_policies() -> None:
    """Let the embedded AWS (moto) serve objects of a bucket whose policy denies plain HTTP.

    moto 5 ignores policy conditions: a conditioned statement denies every object request, so the
    state bucket's TLS-only policy would lock the demo out of its own state. Requests are taken as
    sent over TLS (what the policy demands), so that one deny never applies. Idempotent; a no-op
    without moto. The demo only ever seeds moto.
    """
    try:
        from moto.iam.access_control import IAMPolicyStatement, PermissionResult
    except ImportError:
        return
    original = IAMPolicyStatement.is_action_permitted
    if getattr(original, "_tls_aware", False):
        return

    def is_action_permitted(self: Any, action: str, resource: str = "*", principal: str | None = None,
                            incoming_condition_values: dict[str, str] | None = None) -> Any:
        if _denies_plain_http(self._statement):
            return PermissionResult.NEUTRAL
        return original(self, action, resource, principal, incoming_condition_values)

    is_action_permitted._tls_aware = True  # type: ignore[attr-defined]
    IAMPolicyStatement.is_action_permitted = is_action_permitted  # type: ignore[method-assign]



def _tls_only_policy(bucket: str) -> str:
    return _json({"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": _TLS_ONLY_CONDITION}]})


def seed_backend(ctx: SeedContext) -> None:
    """The bootstrap state: a versioned, KMS-encrypted, private, TLS-only bucket and the lock table."""
    s3, region = ctx.client("s3"), ctx.region
    bucket = state_bucket_name(ctx.account_id)
    key_arn = _kms_key(ctx, "Terraform state encryption")
    create: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        create["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**create)
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": _aws_tags()})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    sse_default = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": sse_default, "BucketKeyEnabled": True}]})
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True})
    policy = _tls_only_policy(bucket)
    moto_honours_tls_only_policies()
    s3.put_bucket_policy(Bucket=bucket, Policy=policy)

    sse_rule = {"apply_server_side_encryption_by_default": [{"kms_master_key_id": key_arn,
                                                              "sse_algorithm": "aws:kms"}],
                "bucket_key_enabled": True}
    bucket_address = "aws_s3_bucket.tfstate"
    ctx.add("aws_s3_bucket", "tfstate", {
        "id": bucket, "bucket": bucket, "arn": f"arn:aws:s3:::{bucket}", "region": region,
        "bucket_domain_name": f"{bucket}.s3.amazonaws.com",
        "bucket_regional_domain_name": f"{bucket}.s3.{region}.amazonaws.com",
        "bucket_prefix": "", "force_destroy": False, "object_lock_enabled": False,
        "acceleration_status": "", "acl": None, "request_payer": "BucketOwner", "grant": [],
        "cors_rule": [], "lifecycle_rule": [], "logging": [], "object_lock_configuration": [],
        "replication_configuration": [], "website": [], "website_domain": None, "website_endpoint": None,
        "versioning": [{"enabled": True, "mfa_delete": False}],
        "server_side_encryption_configuration": [{"rule": [sse_rule]}],
        "policy": policy, "timeouts": None, **_tag_attributes(),
    })
    split = {"id": bucket, "bucket": bucket}
    ctx.add("aws_s3_bucket_versioning", "tfstate", {
        **split, "expected_bucket_owner": "", "mfa": None,
        "versioning_configuration": [{"status": "Enabled", "mfa_delete": ""}],
    }, dependencies=(bucket_address,))
    ctx.add("aws_s3_bucket_server_side_encryption_configuration", "tfstate", {
        **split, "expected_bucket_owner": "", "rule": [sse_rule],
    }, dependencies=(bucket_address,))
    ctx.add("aws_s3_bucket_public_access_block", "tfstate", {
        **split, "block_public_acls": True, "block_public_policy": True, "ignore_public_acls": True,
        "restrict_public_buckets": True,
    }, dependencies=(bucket_address,))
    ctx.add("aws_s3_bucket_policy", "tfstate", {**split, "policy": policy}, dependencies=(bucket_address,))
    _seed_lock_table(ctx, key_arn)


def _seed_lock_table(ctx: SeedContext, key_arn: str) -> None:
    ddb = ctx.client("dynamodb")
    table = ddb.create_table(
        TableName=LOCK_TABLE, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
        SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key_arn},
        Tags=_aws_tags())["TableDescription"]
    backups = ddb.update_continuous_backups(
        TableName=LOCK_TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    ctx.add("aws_dynamodb_table", "locks", {
        "id": LOCK_TABLE, "name": LOCK_TABLE, "arn": table["TableArn"],
        "hash_key": "LockID", "range_key": None, "attribute": [{"name": "LockID", "type": "S"}],
        "billing_mode": "PAY_PER_REQUEST", "read_capacity": 0, "write_capacity": 0,
        "global_secondary_index": [], "local_secondary_index": [], "replica": [], "import_table": [],
        "on_demand_throughput": [],
        "point_in_time_recovery": [{"enabled": pitr["PointInTimeRecoveryStatus"] == "ENABLED",
                                    "recovery_period_in_days": pitr.get("RecoveryPeriodInDays", 0)}],
        "server_side_encryption": [{"enabled": True, "kms_key_arn": key_arn}],
        "stream_enabled": False, "stream_view_type": "", "stream_arn": "", "stream_label": "",
        "ttl": [{"attribute_name": "", "enabled": False}],
        "deletion_protection_enabled": False, "table_class": "STANDARD",
        "restore_date_time": None, "restore_source_name": None, "restore_source_table_arn": None,
        "restore_to_latest_time": None, "timeouts": None, **_tag_attributes(),
    }, schema_version=1)


# --- platform -------------------------------------------------------------------------------


def _seed_role(ctx: SeedContext, name: str, role_name: str, description: str) -> None:
    trust = _json({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": _ECS_TASKS}, "Action": "sts:AssumeRole"}]})
    role = ctx.client("iam").create_role(RoleName=role_name, AssumeRolePolicyDocument=trust,
                                         Description=description, Tags=_aws_tags())["Role"]
    ctx.add("aws_iam_role", name, {
        "id": role_name, "name": role_name, "arn": role["Arn"], "unique_id": role["RoleId"],
        "path": role["Path"], "create_date": role["CreateDate"].strftime("%Y-%m-%dT%H:%M:%SZ"),
        "assume_role_policy": trust, "description": description, "max_session_duration": 3600,
        "permissions_boundary": "", "force_detach_policies": False, "name_prefix": "",
        "inline_policy": [], "managed_policy_arns": [], **_tag_attributes(),
    })


def _seed_repository(ctx: SeedContext) -> None:
    ecr = ctx.client("ecr")
    key_arn = _kms_key(ctx, "ECR image encryption")
    repo = ecr.create_repository(
        repositoryName=CORE, imageTagMutability="IMMUTABLE",
        imageScanningConfiguration={"scanOnPush": True},
        encryptionConfiguration={"encryptionType": "KMS", "kmsKey": key_arn}, tags=_aws_tags())["repository"]
    encryption = repo["encryptionConfiguration"]
    ctx.add("aws_ecr_repository", "app", {
        "id": CORE, "name": CORE, "arn": repo["repositoryArn"], "registry_id": repo["registryId"],
        "repository_url": repo["repositoryUri"], "image_tag_mutability": repo["imageTagMutability"],
        "image_scanning_configuration": [{"scan_on_push": repo["imageScanningConfiguration"]["scanOnPush"]}],
        "encryption_configuration": [{"encryption_type": encryption["encryptionType"],
                                      "kms_key": encryption.get("kmsKey", "")}],
        "force_delete": None, "timeouts": None, **_tag_attributes(),
    })
    policy = _json({"rules": [{
        "rulePriority": 1, "description": f"keep the last {IMAGES_KEPT} images",
        "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": IMAGES_KEPT},
        "action": {"type": "expire"}}]})
    answer = ecr.put_lifecycle_policy(repositoryName=CORE, lifecyclePolicyText=policy)
    ctx.add("aws_ecr_lifecycle_policy", "app", {
        "id": CORE, "repository": CORE, "registry_id": answer["registryId"], "policy": policy,
    }, dependencies=("aws_ecr_repository.app",))


def _seed_log_group(ctx: SeedContext) -> None:
    logs = ctx.client("logs")
    logs.create_log_group(logGroupName=LOG_GROUP, tags=dict(TAGS))
    logs.put_retention_policy(logGroupName=LOG_GROUP, retentionInDays=LOG_RETENTION_DAYS)
    ctx.add("aws_cloudwatch_log_group", "app", {
        "id": LOG_GROUP, "name": LOG_GROUP, "name_prefix": "",
        "arn": f"arn:aws:logs:{ctx.region}:{ctx.account_id}:log-group:{LOG_GROUP}",
        "retention_in_days": LOG_RETENTION_DAYS, "kms_key_id": "", "log_group_class": "STANDARD",
        "skip_destroy": False, **_tag_attributes(),
    })


_FEEDBACK = ("application", "firehose", "http", "lambda", "sqs")


def _seed_topic(ctx: SeedContext) -> None:
    name = f"{CORE}-alarms"
    arn = f"arn:aws:sns:{ctx.region}:{ctx.account_id}:{name}"
    policy = _json({"Version": "2012-10-17", "Statement": [{
        "Sid": "AllowCloudWatchAlarms", "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:Publish", "Resource": arn,
        "Condition": {"StringEquals": {"AWS:SourceAccount": ctx.account_id}}}]})
    display = "DigitalLync core alarms"
    answer = ctx.client("sns").create_topic(Name=name, Attributes={"DisplayName": display, "Policy": policy},
                                            Tags=_aws_tags())
    attrs: dict[str, Any] = {
        "id": answer["TopicArn"], "arn": answer["TopicArn"], "name": name, "name_prefix": "",
        "owner": ctx.account_id, "display_name": display, "policy": policy, "delivery_policy": "",
        "archive_policy": "", "beginning_archive_time": "", "kms_master_key_id": "", "fifo_topic": False,
        "content_based_deduplication": False, "fifo_throughput_scope": "", "signature_version": 0,
        "tracing_config": "", **_tag_attributes(),
    }
    for kind in _FEEDBACK:
        attrs.update({f"{kind}_success_feedback_role_arn": "", f"{kind}_success_feedback_sample_rate": 0,
                      f"{kind}_failure_feedback_role_arn": ""})
    ctx.add("aws_sns_topic", "alarms", attrs)


def seed_platform(ctx: SeedContext) -> None:
    """The ECS task roles, the image repository and its lifecycle policy, the log group, the alarm topic."""
    _seed_role(ctx, "ecs_execution_role", f"{CORE}-ecs-execution",
               "Lets ECS pull images from ECR and write container logs")
    _seed_role(ctx, "ecs_task_role", f"{CORE}-ecs-task", "The application's own AWS permissions")
    _seed_repository(ctx)
    _seed_log_group(ctx)
    _seed_topic(ctx)


# --- alarms ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlarmPlan:
    """One ALB alarm of the reference stack."""

    name: str
    metric: str
    statistic: str
    evaluation_periods: int
    threshold: int
    per_target_group: bool
    description: str


ALARMS: tuple[AlarmPlan, ...] = (
    AlarmPlan("elb_5xx", "HTTPCode_ELB_5XX_Count", "Sum", 5, 10, False,
              "The load balancer itself answers 5xx"),
    AlarmPlan("target_5xx", "HTTPCode_Target_5XX_Count", "Sum", 5, 5, True,
              "The service answers 5xx through the load balancer"),
    AlarmPlan("unhealthy_hosts", "UnHealthyHostCount", "Maximum", 3, 1, True,
              "Some service tasks fail their health checks"),
)


def seed_alarms(ctx: SeedContext) -> None:
    """The 5xx and unhealthy-host alarms on the ALB and its blue target group, notifying the SNS topic."""
    cloudwatch = ctx.client("cloudwatch")
    topic = ctx.ref("aws_sns_topic.alarms")["arn"]
    dims_lb = {"LoadBalancer": ctx.ref("aws_lb.main")["arn_suffix"]}
    dims_tg = {**dims_lb, "TargetGroup": ctx.ref("aws_lb_target_group.blue")["arn_suffix"]}
    for plan in ALARMS:
        alarm_name = f"{CORE}-{plan.name.replace('_', '-')}"
        dims = dims_tg if plan.per_target_group else dims_lb
        cloudwatch.put_metric_alarm(
            AlarmName=alarm_name, AlarmDescription=plan.description, ActionsEnabled=True,
            AlarmActions=[topic], OKActions=[topic], Namespace="AWS/ApplicationELB", MetricName=plan.metric,
            Statistic=plan.statistic, Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()],
            Period=60, EvaluationPeriods=plan.evaluation_periods, Threshold=float(plan.threshold),
            ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="notBreaching",
            Tags=_aws_tags())
        ctx.add("aws_cloudwatch_metric_alarm", plan.name, {
            "id": alarm_name, "alarm_name": alarm_name,
            "arn": f"arn:aws:cloudwatch:{ctx.region}:{ctx.account_id}:alarm:{alarm_name}",
            "alarm_description": plan.description, "actions_enabled": True,
            "alarm_actions": [topic], "ok_actions": [topic], "insufficient_data_actions": [],
            "namespace": "AWS/ApplicationELB", "metric_name": plan.metric, "dimensions": dict(dims),
            "statistic": plan.statistic, "extended_statistic": "", "period": 60,
            "evaluation_periods": plan.evaluation_periods, "datapoints_to_alarm": 0,
            "threshold": plan.threshold, "threshold_metric_id": "",
            "comparison_operator": "GreaterThanOrEqualToThreshold", "treat_missing_data": "notBreaching",
            "evaluate_low_sample_count_percentiles": "", "unit": "", "metric_query": [],
            **_tag_attributes(),
        }, schema_version=1, dependencies=("aws_lb.main", "aws_lb_target_group.blue", "aws_sns_topic.alarms"))
