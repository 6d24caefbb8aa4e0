"""Demo seeding of the platform layer: the state backend, IAM roles, ECR, logs, SNS and the ALB alarms.

It also holds what the other seeders share: KMS keys (`seed_kms_key`) and private buckets with their
split configuration resources (`seed_bucket`), used for the state bucket and the ALB's log bucket.

Every recorded attribute is built from what was asked of AWS and what AWS answered, in the shape
the hashicorp/aws provider (v5) writes to state.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
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
    """The bootstrap state bucket: the name terraform/stack's backend block and terraform/bootstrap use."""
    return f"{PROJECT}-tfstate"


def _json(document: Any) -> str:
    """JSON text as Terraform's jsonencode writes it (compact, sorted keys)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def _aws_tags() -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in TAGS.items()]


def _tag_attributes() -> dict[str, dict[str, str]]:
    """`tags` and `tags_all` as the provider stores them (no provider default_tags)."""
    return {"tags": dict(TAGS), "tags_all": dict(TAGS)}


_ROTATION_PERIOD_DAYS = 365  # what AWS answers for a key whose rotation was enabled without a period


def seed_kms_key(ctx: SeedContext, name: str, description: str) -> dict[str, Any]:
    """An aws_kms_key with rotation on and a 30-day deletion window, as both configurations declare it."""
    kms = ctx.client("kms")
    meta = kms.create_key(Description=description, KeyUsage="ENCRYPT_DECRYPT", KeySpec="SYMMETRIC_DEFAULT",
                          Tags=[{"TagKey": k, "TagValue": v} for k, v in TAGS.items()])["KeyMetadata"]
    key_id = meta["KeyId"]
    kms.enable_key_rotation(KeyId=key_id)
    policy = kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]  # the provider's read
    return ctx.add("aws_kms_key", name, {
        "id": key_id, "key_id": key_id, "arn": meta["Arn"], "description": description,
        "key_usage": meta["KeyUsage"], "customer_master_key_spec": meta["KeySpec"],
        "is_enabled": meta["Enabled"], "enable_key_rotation": True,
        "rotation_period_in_days": _ROTATION_PERIOD_DAYS, "multi_region": bool(meta.get("MultiRegion", False)),
        "custom_key_store_id": "", "xks_key_id": "", "policy": policy, "deletion_window_in_days": 30,
        "bypass_policy_lockout_safety_check": False, "timeouts": None, **_tag_attributes(),
    })


_UNIQUE_COUNTER = itertools.count(1)


def terraform_unique_id(prefix: str) -> str:
    """An id like the provider's PrefixedUniqueId: prefix, UTC time to 1/10000 s, an 8-hex counter."""
    now = datetime.now(UTC)
    return f"{prefix}{now:%Y%m%d%H%M%S}{now.microsecond // 100:04d}{next(_UNIQUE_COUNTER):08x}"


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


def deny_insecure_transport(bucket: str) -> dict[str, Any]:
    """The bucket-policy statement both configurations use to refuse requests made without TLS."""
    return {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            "Condition": _TLS_ONLY_CONDITION}


def policy_document(*statements: dict[str, Any]) -> str:
    """A policy as `jsonencode({Version = "2012-10-17", Statement = [...]})` writes it."""
    return _json({"Version": "2012-10-17", "Statement": list(statements)})


def bucket_attributes(bucket: str, region: str, *, policy: str, sse_rule: dict[str, Any], versioned: bool,
                      lifecycle_rule: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """aws_s3_bucket state: the bucket, and the provider's read of its configuration into the legacy
    inline attributes (which the split aws_s3_bucket_* resources manage)."""
    return {
        "id": bucket, "bucket": bucket, "arn": f"arn:aws:s3:::{bucket}", "region": region,
        "bucket_domain_name": f"{bucket}.s3.amazonaws.com",
        "bucket_regional_domain_name": f"{bucket}.s3.{region}.amazonaws.com",
        "hosted_zone_id": S3_HOSTED_ZONES.get(region, ""),
        "bucket_prefix": "", "force_destroy": False, "object_lock_enabled": False,
        "acceleration_status": "", "acl": None, "request_payer": "BucketOwner", "grant": [],
        "cors_rule": [], "lifecycle_rule": lifecycle_rule or [], "logging": [], "object_lock_configuration": [],
        "replication_configuration": [], "website": [], "website_domain": None, "website_endpoint": None,
        "versioning": [{"enabled": versioned, "mfa_delete": False}],
        "server_side_encryption_configuration": [{"rule": [sse_rule]}],
        "policy": policy, "timeouts": None, **_tag_attributes(),
    }


S3_HOSTED_ZONES = {"ap-south-1": "Z11RGJOFQNVJUP", "us-east-1": "Z3AQBSTGFYJSTF"}
"""Route 53 zone of the S3 website endpoints of a region (the provider's hosted_zone_id)."""


@dataclass(frozen=True, slots=True)
class ExpiryRule:
    """One lifecycle rule expiring every object after `days` (and stale multipart uploads)."""

    id: str
    days: int
    abort_multipart_days: int

    def request(self) -> dict[str, Any]:
        return {"ID": self.id, "Status": "Enabled", "Filter": {}, "Expiration": {"Days": self.days},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": self.abort_multipart_days}}

    def state(self) -> dict[str, Any]:
        """As aws_s3_bucket_lifecycle_configuration (hashicorp/aws 5.100) stores `rule` for `filter {}`."""
        return {
            "id": self.id, "status": "Enabled", "prefix": "",
            "filter": [{"and": [], "object_size_greater_than": None, "object_size_less_than": None,
                        "prefix": "", "tag": []}],
            "expiration": [{"date": None, "days": self.days, "expired_object_delete_marker": False}],
            "abort_incomplete_multipart_upload": [{"days_after_initiation": self.abort_multipart_days}],
            "noncurrent_version_expiration": [], "noncurrent_version_transition": [], "transition": [],
        }


@dataclass(frozen=True, slots=True)
class BucketPlan:
    """A private, encrypted bucket with its split configuration resources, all named `name` in Terraform."""

    name: str
    bucket: str
    sse_algorithm: str  # AES256 | aws:kms
    policy_statements: tuple[dict[str, Any], ...]
    kms_key_arn: str = ""
    bucket_key: bool = False
    versioned: bool = False
    expiry: ExpiryRule | None = None
    dependencies: tuple[str, ...] = ()  # what the encryption configuration refers to (its KMS key)


_TRANSITION_MINIMUM = "all_storage_classes_128K"  # the provider's default for new lifecycle configurations


def seed_bucket(ctx: SeedContext, plan: BucketPlan) -> dict[str, Any]:
    """Create the bucket and its configurations like the split resources do, and record each of them."""
    s3, region, bucket = ctx.client("s3"), ctx.region, plan.bucket
    create: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        create["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**create)
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": _aws_tags()})
    if plan.versioned:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    sse_default = {"SSEAlgorithm": plan.sse_algorithm, **({"KMSMasterKeyID": plan.kms_key_arn}
                                                           if plan.kms_key_arn else {})}
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": sse_default, "BucketKeyEnabled": plan.bucket_key}]})
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True})
    policy = policy_document(*plan.policy_statements)
    moto_honours_tls_only_policies()
    s3.put_bucket_policy(Bucket=bucket, Policy=policy)
    if plan.expiry:
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket, TransitionDefaultMinimumObjectSize=_TRANSITION_MINIMUM,
            LifecycleConfiguration={"Rules": [plan.expiry.request()]})

    sse_rule = {"apply_server_side_encryption_by_default": [{"kms_master_key_id": plan.kms_key_arn,
                                                              "sse_algorithm": plan.sse_algorithm}],
                "bucket_key_enabled": plan.bucket_key}
    legacy_lifecycle = [] if plan.expiry is None else [{
        "id": plan.expiry.id, "enabled": True, "prefix": "", "tags": {},
        "abort_incomplete_multipart_upload_days": plan.expiry.abort_multipart_days,
        "expiration": [{"date": "", "days": plan.expiry.days, "expired_object_delete_marker": False}],
        "noncurrent_version_expiration": [], "noncurrent_version_transition": [], "transition": []}]
    attrs = ctx.add("aws_s3_bucket", plan.name, bucket_attributes(
        bucket, region, policy=policy, sse_rule=sse_rule, versioned=plan.versioned,
        lifecycle_rule=legacy_lifecycle))
    split, deps = {"id": bucket, "bucket": bucket}, (f"aws_s3_bucket.{plan.name}",)
    if plan.versioned:
        ctx.add("aws_s3_bucket_versioning", plan.name, {
            **split, "expected_bucket_owner": "", "mfa": None,
            "versioning_configuration": [{"status": "Enabled", "mfa_delete": ""}],
        }, dependencies=deps)
    ctx.add("aws_s3_bucket_server_side_encryption_configuration", plan.name, {
        **split, "expected_bucket_owner": "", "rule": [sse_rule],
    }, dependencies=(*deps, *plan.dependencies))
    ctx.add("aws_s3_bucket_public_access_block", plan.name, {
        **split, "block_public_acls": True, "block_public_policy": True, "ignore_public_acls": True,
        "restrict_public_buckets": True,
    }, dependencies=deps)
    ctx.add("aws_s3_bucket_policy", plan.name, {**split, "policy": policy},
            dependencies=(*deps, f"aws_s3_bucket_public_access_block.{plan.name}"))
    if plan.expiry:
        ctx.add("aws_s3_bucket_lifecycle_configuration", plan.name, {
            **split, "expected_bucket_owner": "", "rule": [plan.expiry.state()],
            "transition_default_minimum_object_size": _TRANSITION_MINIMUM, "timeouts": None,
        }, schema_version=1, dependencies=deps)
    return attrs


def seed_backend(ctx: SeedContext) -> None:
    """The bootstrap state: its KMS key, a versioned, KMS-encrypted, private, TLS-only bucket, the lock table."""
    bucket = state_bucket_name(ctx.account_id)
    key_arn = seed_kms_key(ctx, "tfstate", "Terraform state of digitallync (S3 bucket and DynamoDB lock table)")["arn"]
    seed_bucket(ctx, BucketPlan(
        name="tfstate", bucket=bucket, sse_algorithm="aws:kms", kms_key_arn=key_arn, bucket_key=True,
        versioned=True, policy_statements=(deny_insecure_transport(bucket),),
        dependencies=("aws_kms_key.tfstate",)))
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
    }, schema_version=1, dependencies=("aws_kms_key.tfstate",))


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
    key_arn = seed_kms_key(ctx, "ecr", f"{CORE} ECR repository encryption")["arn"]
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
    }, dependencies=("aws_kms_key.ecr",))
    policy = _json({"rules": [{
        "rulePriority": 1, "description": f"keep the last {IMAGES_KEPT} images",
        "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": IMAGES_KEPT},
        "action": {"type": "expire"}}]})
    answer = ecr.put_lifecycle_policy(repositoryName=CORE, lifecyclePolicyText=policy)
    ctx.add("aws_ecr_lifecycle_policy", "app", {
        "id": CORE, "repository": CORE, "registry_id": answer["registryId"], "policy": policy,
    }, dependencies=("aws_ecr_repository.app", "aws_kms_key.ecr"))


DOCKER_HUB = "registry-1.docker.io"


def _seed_pull_through_cache(ctx: SeedContext) -> None:
    """Docker Hub through ECR, with the Secrets Manager credentials ECR requires (a stack input, not in state)."""
    secret = ctx.client("secretsmanager").create_secret(
        Name="ecr-pullthroughcache/docker-hub", Description="Docker Hub credentials for the ECR pull-through cache",
        SecretString=_json({"username": "digitallync-demo", "accessToken": "demo-only"}))
    rule = ctx.client("ecr").create_pull_through_cache_rule(
        ecrRepositoryPrefix="docker-hub", upstreamRegistryUrl=DOCKER_HUB, credentialArn=secret["ARN"])
    ctx.add("aws_ecr_pull_through_cache_rule", "docker_hub", {
        "id": rule["ecrRepositoryPrefix"], "ecr_repository_prefix": rule["ecrRepositoryPrefix"],
        "upstream_registry_url": DOCKER_HUB, "credential_arn": secret["ARN"], "custom_role_arn": "",
        "upstream_repository_prefix": "", "registry_id": rule["registryId"],
    })


EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


def _attach_execution_policy(ctx: SeedContext) -> None:
    """AWS's managed execution policy on the execution role (moto needs MOTO_IAM_LOAD_MANAGED_POLICIES)."""
    role = ctx.ref("aws_iam_role.ecs_execution_role")["name"]
    ctx.client("iam").attach_role_policy(RoleName=role, PolicyArn=EXECUTION_POLICY)
    ctx.add("aws_iam_role_policy_attachment", "ecs_execution", {
        "id": terraform_unique_id(f"{role}-"), "role": role, "policy_arn": EXECUTION_POLICY,
    }, dependencies=("aws_iam_role.ecs_execution_role",))


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
    """The ECS task roles and the execution policy, the image repository with its KMS key, lifecycle policy
    and pull-through cache rule, the log group, the alarm topic."""
    _seed_role(ctx, "ecs_execution_role", f"{CORE}-ecs-execution",
               "Lets ECS pull images from ECR and write container logs")
    _attach_execution_policy(ctx)
    _seed_role(ctx, "ecs_task_role", f"{CORE}-ecs-task", "The application's own AWS permissions")
    _seed_repository(ctx)
    _seed_pull_through_cache(ctx)
    _seed_log_group(ctx)
    _seed_topic(ctx)


# --- autoscaling ----------------------------------------------------------------------------

SCALING_MIN, SCALING_MAX, CPU_TARGET = 2, 6, 60
SCALE_IN_COOLDOWN, SCALE_OUT_COOLDOWN = 300, 60
SCALING_POLICY = f"{CORE}-cpu"


def seed_autoscaling(ctx: SeedContext) -> None:
    """The serving service's scalable target (2-6 tasks) and its target-tracking policy on average CPU."""
    scaling = ctx.client("application-autoscaling")
    service = ctx.ref("aws_ecs_service.web_app")
    cluster = ctx.ref("aws_ecs_cluster.main")["name"]
    key = {"ServiceNamespace": "ecs", "ResourceId": f"service/{cluster}/{service['name']}",
           "ScalableDimension": "ecs:service:DesiredCount"}
    scaling.register_scalable_target(**key, MinCapacity=SCALING_MIN, MaxCapacity=SCALING_MAX, Tags=dict(TAGS))
    [target] = scaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[key["ResourceId"]],
                                                 ScalableDimension=key["ScalableDimension"])["ScalableTargets"]
    suspended = target.get("SuspendedState") or {}
    state_key = {"service_namespace": "ecs", "resource_id": key["ResourceId"],
                 "scalable_dimension": key["ScalableDimension"]}
    ctx.add("aws_appautoscaling_target", "web_app", {
        "id": key["ResourceId"], "arn": target["ScalableTargetARN"], **state_key,
        "min_capacity": SCALING_MIN, "max_capacity": SCALING_MAX, "role_arn": target.get("RoleARN") or "",
        "suspended_state": [{"dynamic_scaling_in_suspended": bool(suspended.get("DynamicScalingInSuspended")),
                             "dynamic_scaling_out_suspended": bool(suspended.get("DynamicScalingOutSuspended")),
                             "scheduled_scaling_suspended": bool(suspended.get("ScheduledScalingSuspended"))}],
        "tags": {}, "tags_all": dict(TAGS),
    }, dependencies=("aws_ecs_cluster.main", "aws_ecs_service.web_app"))
    metric = "ECSServiceAverageCPUUtilization"
    policy = scaling.put_scaling_policy(
        **key, PolicyName=SCALING_POLICY, PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": float(CPU_TARGET), "DisableScaleIn": False, "ScaleInCooldown": SCALE_IN_COOLDOWN,
            "ScaleOutCooldown": SCALE_OUT_COOLDOWN, "PredefinedMetricSpecification": {"PredefinedMetricType": metric}})
    ctx.add("aws_appautoscaling_policy", "web_app_cpu", {
        "id": SCALING_POLICY, "arn": policy["PolicyARN"], "name": SCALING_POLICY,
        "policy_type": "TargetTrackingScaling", **state_key,
        "alarm_arns": [a["AlarmARN"] for a in policy.get("Alarms") or []],
        "step_scaling_policy_configuration": [],
        "target_tracking_scaling_policy_configuration": [{
            "target_value": CPU_TARGET, "disable_scale_in": False, "scale_in_cooldown": SCALE_IN_COOLDOWN,
            "scale_out_cooldown": SCALE_OUT_COOLDOWN,
            "predefined_metric_specification": [{"predefined_metric_type": metric, "resource_label": ""}],
            "customized_metric_specification": []}],
    }, dependencies=("aws_appautoscaling_target.web_app",))


# --- alarms ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlarmPlan:
    """One ALB alarm of the reference stack; a per-target-group one exists once per colour."""

    name: str
    metric: str
    statistic: str
    evaluation_periods: int
    threshold: int
    per_target_group: bool
    description: str  # `{colour}` is replaced by the target group's colour


ALARMS: tuple[AlarmPlan, ...] = (
    AlarmPlan("elb_5xx", "HTTPCode_ELB_5XX_Count", "Sum", 5, 10, False,
              "The load balancer itself answers 5xx"),
    AlarmPlan("target_5xx", "HTTPCode_Target_5XX_Count", "Sum", 5, 5, True,
              "The {colour} target group's tasks answer 5xx through the load balancer"),
    AlarmPlan("unhealthy_hosts", "UnHealthyHostCount", "Maximum", 3, 1, True,
              "Some tasks behind the {colour} target group fail their health checks"),
)
COLOURS = ("blue", "green")


def _alarm_instances(plan: AlarmPlan) -> list[tuple[str, str, str | None]]:
    """(Terraform name, alarm name, target group colour) of each alarm a plan stands for.

    The blue alarms keep the plan's name (`target_5xx`), the green ones add `_green`, as in the stack.
    """
    if not plan.per_target_group:
        return [(plan.name, f"{CORE}-{plan.name.replace('_', '-')}", None)]
    return [(plan.name if colour == "blue" else f"{plan.name}_{colour}",
             f"{CORE}-{plan.name.replace('_', '-')}-{colour}", colour) for colour in COLOURS]


def seed_alarms(ctx: SeedContext) -> None:
    """The 5xx and unhealthy-host alarms on the ALB and on each target group, notifying the SNS topic."""
    cloudwatch = ctx.client("cloudwatch")
    topic = ctx.ref("aws_sns_topic.alarms")["arn"]
    dims_lb = {"LoadBalancer": ctx.ref("aws_lb.main")["arn_suffix"]}
    for plan in ALARMS:
        for tf_name, alarm_name, colour in _alarm_instances(plan):
            target_group = f"aws_lb_target_group.{colour}" if colour else None
            dims = {**dims_lb, "TargetGroup": ctx.ref(target_group)["arn_suffix"]} if target_group else dims_lb
            description = plan.description.format(colour=colour)
            cloudwatch.put_metric_alarm(
                AlarmName=alarm_name, AlarmDescription=description, ActionsEnabled=True,
                AlarmActions=[topic], OKActions=[topic], Namespace="AWS/ApplicationELB", MetricName=plan.metric,
                Statistic=plan.statistic, Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()],
                Period=60, EvaluationPeriods=plan.evaluation_periods, Threshold=float(plan.threshold),
                ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="notBreaching",
                Tags=_aws_tags())
            ctx.add("aws_cloudwatch_metric_alarm", tf_name, {
                "id": alarm_name, "alarm_name": alarm_name,
                "arn": f"arn:aws:cloudwatch:{ctx.region}:{ctx.account_id}:alarm:{alarm_name}",
                "alarm_description": description, "actions_enabled": True,
                "alarm_actions": [topic], "ok_actions": [topic], "insufficient_data_actions": [],
                "namespace": "AWS/ApplicationELB", "metric_name": plan.metric, "dimensions": dict(dims),
                "statistic": plan.statistic, "extended_statistic": "", "period": 60,
                "evaluation_periods": plan.evaluation_periods, "datapoints_to_alarm": 0,
                "threshold": plan.threshold, "threshold_metric_id": "",
                "comparison_operator": "GreaterThanOrEqualToThreshold", "treat_missing_data": "notBreaching",
                "evaluate_low_sample_count_percentiles": "", "unit": "", "metric_query": [],
                **_tag_attributes(),
            }, schema_version=1, dependencies=tuple(sorted(
                {"aws_lb.main", "aws_sns_topic.alarms"} | ({target_group} if target_group else set()))))
