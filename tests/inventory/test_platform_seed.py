"""The platform demo seeders against the live collectors: a zero-drift round trip, and real drift seen."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import botocore.exceptions
import pytest
from moto import mock_aws

from auditor.catalog import TypeSpec
from auditor.demo.drift import scenario
from auditor.demo.motoserver import reference_stack_moto
from auditor.demo.seed_platform import LOCK_TABLE, seed_alarms, seed_backend, seed_platform, state_bucket_name
from auditor.demo.seedkit import SeedContext, Seeded
from auditor.diff import attribute_changes
from auditor.inventory import dynamodb, ecr, iam, kms, monitoring, storage
from auditor.models import Resource
from tests.inventory._platform import ACCOUNT, REGION, CollectFn, context, new_aws

COLLECTORS: dict[str, tuple[TypeSpec, CollectFn]] = {spec.type: (spec, fn) for spec, fn in (
    (ecr.REPOSITORY, ecr.collect_repositories),
    (ecr.LIFECYCLE_POLICY, ecr.collect_lifecycle_policies),
    (ecr.PULL_THROUGH_CACHE_RULE, ecr.collect_pull_through_cache_rules),
    (kms.KEY, kms.collect_keys),
    (iam.ROLE_POLICY_ATTACHMENT, iam.collect_role_policy_attachments),
    (monitoring.METRIC_ALARM, monitoring.collect_metric_alarms),
    (monitoring.LOG_GROUP, monitoring.collect_log_groups),
    (monitoring.TOPIC, monitoring.collect_topics),
    (iam.ROLE, iam.collect_roles),
    (storage.BUCKET, storage.collect_buckets),
    (storage.VERSIONING, storage.collect_versioning),
    (storage.ENCRYPTION, storage.collect_encryption),
    (storage.PUBLIC_ACCESS_BLOCK, storage.collect_public_access_blocks),
    (storage.BUCKET_POLICY, storage.collect_bucket_policies),
    (storage.LIFECYCLE, storage.collect_lifecycle_configurations),
    (dynamodb.TABLE, dynamodb.collect_tables),
)}

# Top-level attributes of each type in the hashicorp/aws 5.100.0 provider schema.
PROVIDER_ATTRIBUTES = {t: frozenset(names.split()) for t, names in {
    "aws_ecr_repository": (
        "arn encryption_configuration force_delete id image_scanning_configuration image_tag_mutability "
        "name registry_id repository_url tags tags_all timeouts"
    ),
    "aws_ecr_lifecycle_policy": (
        "id policy registry_id repository"
    ),
    "aws_ecr_pull_through_cache_rule": (
        "credential_arn custom_role_arn ecr_repository_prefix id registry_id upstream_registry_url "
        "upstream_repository_prefix"
    ),
    "aws_kms_key": (
        "arn bypass_policy_lockout_safety_check custom_key_store_id customer_master_key_spec "
        "deletion_window_in_days description enable_key_rotation id is_enabled key_id key_usage multi_region "
        "policy rotation_period_in_days tags tags_all timeouts xks_key_id"
    ),
    "aws_iam_role_policy_attachment": (
        "id policy_arn role"
    ),
    "aws_cloudwatch_metric_alarm": (
        "actions_enabled alarm_actions alarm_description alarm_name arn comparison_operator "
        "datapoints_to_alarm dimensions evaluate_low_sample_count_percentiles evaluation_periods "
        "extended_statistic id insufficient_data_actions metric_name metric_query namespace ok_actions "
        "period statistic tags tags_all threshold threshold_metric_id treat_missing_data unit"
    ),
    "aws_cloudwatch_log_group": (
        "arn id kms_key_id log_group_class name name_prefix retention_in_days skip_destroy tags tags_all"
    ),
    "aws_sns_topic": (
        "application_failure_feedback_role_arn application_success_feedback_role_arn "
        "application_success_feedback_sample_rate archive_policy arn beginning_archive_time "
        "content_based_deduplication delivery_policy display_name fifo_throughput_scope fifo_topic "
        "firehose_failure_feedback_role_arn firehose_success_feedback_role_arn "
        "firehose_success_feedback_sample_rate http_failure_feedback_role_arn "
        "http_success_feedback_role_arn http_success_feedback_sample_rate id kms_master_key_id "
        "lambda_failure_feedback_role_arn lambda_success_feedback_role_arn "
        "lambda_success_feedback_sample_rate name name_prefix owner policy signature_version "
        "sqs_failure_feedback_role_arn sqs_success_feedback_role_arn sqs_success_feedback_sample_rate "
        "tags tags_all tracing_config"
    ),
    "aws_iam_role": (
        "arn assume_role_policy create_date description force_detach_policies id inline_policy "
        "managed_policy_arns max_session_duration name name_prefix path permissions_boundary tags "
        "tags_all unique_id"
    ),
    "aws_s3_bucket": (
        "acceleration_status acl arn bucket bucket_domain_name bucket_prefix bucket_regional_domain_name "
        "cors_rule force_destroy grant hosted_zone_id id lifecycle_rule logging object_lock_configuration "
        "object_lock_enabled policy region replication_configuration request_payer "
        "server_side_encryption_configuration tags tags_all timeouts versioning website website_domain "
        "website_endpoint"
    ),
    "aws_s3_bucket_versioning": (
        "bucket expected_bucket_owner id mfa versioning_configuration"
    ),
    "aws_s3_bucket_server_side_encryption_configuration": (
        "bucket expected_bucket_owner id rule"
    ),
    "aws_s3_bucket_public_access_block": (
        "block_public_acls block_public_policy bucket id ignore_public_acls restrict_public_buckets"
    ),
    "aws_s3_bucket_policy": (
        "bucket id policy"
    ),
    "aws_s3_bucket_lifecycle_configuration": (
        "bucket expected_bucket_owner id rule timeouts transition_default_minimum_object_size"
    ),
    "aws_dynamodb_table": (
        "arn attribute billing_mode deletion_protection_enabled global_secondary_index hash_key id "
        "import_table local_secondary_index name on_demand_throughput point_in_time_recovery range_key "
        "read_capacity replica restore_date_time restore_source_name restore_source_table_arn "
        "restore_to_latest_time server_side_encryption stream_arn stream_enabled stream_label "
        "stream_view_type table_class tags tags_all timeouts ttl write_capacity"
    ),
}.items()}


@dataclass(frozen=True, slots=True)
class SeededPlatform:
    """The two seeded states (bootstrap and stack) of one moto account."""

    boot: SeedContext
    stack: SeedContext

    @property
    def items(self) -> list[Seeded]:
        return [i for i in (*self.boot.items, *self.stack.items) if i.type in COLLECTORS]


@pytest.fixture
def seeded() -> Iterator[SeededPlatform]:
    with mock_aws(), reference_stack_moto():
        aws = new_aws()
        account = aws.account_id()
        boot, stack = SeedContext(aws, REGION, account), SeedContext(aws, REGION, account)
        seed_backend(boot)
        seed_platform(stack)
        # what seed_edge records for the load balancer and the target groups
        stack.add("aws_lb", "main", {"arn_suffix": "app/digitallync-core/50dc6c495c0c9188"})
        stack.add("aws_lb_target_group", "blue",
                  {"arn_suffix": "targetgroup/digitallync-blue/73e2d6bc24d8a067"})
        stack.add("aws_lb_target_group", "green",
                  {"arn_suffix": "targetgroup/digitallync-green/1e0e2a5fcbe0b5b1"})
        seed_alarms(stack)
        yield SeededPlatform(boot, stack)


def _live(seeded: SeededPlatform) -> dict[tuple[str, str], Resource]:
    """Collect every seeded type with the seeded import ids as the state hints."""
    wanted: dict[str, set[str]] = {}
    for item in seeded.items:
        spec = COLLECTORS[item.type][0]
        wanted.setdefault(item.type, set()).add(spec.import_id(item.attributes) or "")
    ctx = context(seeded.stack.aws, wanted)
    return {r.key: r for spec, fn in COLLECTORS.values() for r in fn(ctx)}


def _top(path: str) -> str:
    """The top-level attribute of a rendered path: 'ttl[0].enabled' -> 'ttl'."""
    return path.split("[")[0].split(".")[0]


def _item_key(item: Seeded) -> tuple[str, str]:
    return item.type, COLLECTORS[item.type][0].import_id(item.attributes) or ""


def test_seeded_platform_is_in_sync_with_the_live_collectors(seeded: SeededPlatform) -> None:
    live = _live(seeded)

    assert sorted(i.address for i in seeded.items) == sorted([
        "aws_kms_key.tfstate", "aws_s3_bucket.tfstate", "aws_s3_bucket_versioning.tfstate",
        "aws_s3_bucket_server_side_encryption_configuration.tfstate",
        "aws_s3_bucket_public_access_block.tfstate",
        "aws_s3_bucket_policy.tfstate", "aws_dynamodb_table.locks", "aws_iam_role.ecs_execution_role",
        "aws_iam_role_policy_attachment.ecs_execution",
        "aws_iam_role.ecs_task_role", "aws_kms_key.ecr", "aws_ecr_repository.app", "aws_ecr_lifecycle_policy.app",
        "aws_ecr_pull_through_cache_rule.docker_hub",
        "aws_cloudwatch_log_group.app", "aws_sns_topic.alarms", "aws_cloudwatch_metric_alarm.elb_5xx",
        "aws_cloudwatch_metric_alarm.target_5xx", "aws_cloudwatch_metric_alarm.unhealthy_hosts",
        "aws_cloudwatch_metric_alarm.target_5xx_green", "aws_cloudwatch_metric_alarm.unhealthy_hosts_green"])
    for item in seeded.items:
        spec = COLLECTORS[item.type][0]
        assert _item_key(item) in live, f"{item.address} not found live"
        assert attribute_changes(spec, item.attributes, live[_item_key(item)].attributes) == [], item.address


def test_seeded_attributes_use_provider_names_and_hold_every_compared_one(seeded: SeededPlatform) -> None:
    for item in seeded.items:
        spec = COLLECTORS[item.type][0]
        names = set(item.attributes)
        assert names <= PROVIDER_ATTRIBUTES[item.type], (item.address, names - PROVIDER_ATTRIBUTES[item.type])
        assert set(spec.compared) <= names, (item.address, set(spec.compared) - names)
        assert "id" in names
        assert "tags" not in PROVIDER_ATTRIBUTES[item.type] or {"tags", "tags_all"} <= names, item.address
    bucket = seeded.boot.ref("aws_s3_bucket.tfstate")
    assert bucket["bucket"] == state_bucket_name(ACCOUNT) and bucket["region"] == REGION
    assert seeded.boot.ref("aws_dynamodb_table.locks")["name"] == LOCK_TABLE
    alarm = seeded.stack.ref("aws_cloudwatch_metric_alarm.target_5xx")
    assert alarm["dimensions"] == {"LoadBalancer": "app/digitallync-core/50dc6c495c0c9188",
                                   "TargetGroup": "targetgroup/digitallync-blue/73e2d6bc24d8a067"}
    assert alarm["alarm_actions"] == alarm["ok_actions"] == [seeded.stack.ref("aws_sns_topic.alarms")["arn"]]
    green = seeded.stack.ref("aws_cloudwatch_metric_alarm.unhealthy_hosts_green")
    assert green["alarm_name"] == "digitallync-core-unhealthy-hosts-green"
    assert green["dimensions"]["TargetGroup"] == "targetgroup/digitallync-green/1e0e2a5fcbe0b5b1"


def test_keys_encrypt_what_the_configurations_say(seeded: SeededPlatform) -> None:
    state_key, ecr_key = seeded.boot.ref("aws_kms_key.tfstate"), seeded.stack.ref("aws_kms_key.ecr")
    assert state_key["enable_key_rotation"] and state_key["deletion_window_in_days"] == 30
    assert seeded.boot.ref("aws_dynamodb_table.locks")["server_side_encryption"] == [
        {"enabled": True, "kms_key_arn": state_key["arn"]}]
    [rule] = seeded.boot.ref("aws_s3_bucket_server_side_encryption_configuration.tfstate")["rule"]
    assert rule["apply_server_side_encryption_by_default"][0]["kms_master_key_id"] == state_key["arn"]
    assert seeded.stack.ref("aws_ecr_repository.app")["encryption_configuration"] == [
        {"encryption_type": "KMS", "kms_key": ecr_key["arn"]}]
    assert ecr_key["description"] == "digitallync-core ECR repository encryption"


def test_execution_role_has_the_aws_managed_execution_policy(seeded: SeededPlatform) -> None:
    attachment = seeded.stack.ref("aws_iam_role_policy_attachment.ecs_execution")
    assert attachment["role"] == seeded.stack.ref("aws_iam_role.ecs_execution_role")["name"]
    assert attachment["policy_arn"] == "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
    assert attachment["id"].startswith(f"{attachment['role']}-") and len(attachment["id"]) == len(
        attachment["role"]) + 1 + 26  # the provider's PrefixedUniqueId suffix
    rule = seeded.stack.ref("aws_ecr_pull_through_cache_rule.docker_hub")
    assert (rule["ecr_repository_prefix"], rule["upstream_registry_url"]) == ("docker-hub", "registry-1.docker.io")
    assert ":secret:ecr-pullthroughcache/docker-hub" in rule["credential_arn"]


@pytest.mark.parametrize("spec", [spec for spec, _ in COLLECTORS.values()], ids=lambda s: s.type)
def test_every_provider_attribute_is_compared_or_ignored_with_a_reason(spec: TypeSpec) -> None:
    tag_attributes = {"tags", "tags_all"} if spec.tags else set()
    covered = set(spec.compared) | set(spec.ignored) | tag_attributes
    assert covered == PROVIDER_ATTRIBUTES[spec.type]
    assert not set(spec.compared) & set(spec.ignored)
    assert all(reason.strip() for reason in spec.ignored.values())
    assert set(spec.json_attributes) <= set(spec.compared)
    assert set(spec.optional_live) <= set(spec.compared) | tag_attributes
    assert {p.split(".")[0] for p in spec.set_paths} <= set(spec.compared)


@pytest.mark.parametrize("name", ["versioning-suspended", "pitr-off", "log-retention", "ecr-mutable",
                                  "alarm-deleted"])
def test_demo_drift_scenarios_are_seen(seeded: SeededPlatform, name: str) -> None:
    chosen = scenario(name)
    chosen.apply(seeded.stack, seeded.boot)
    live = _live(seeded)

    for expected in chosen.expected:
        item = next(i for i in seeded.items if i.address == expected.address)
        if expected.kind == "missing":
            assert _item_key(item) not in live
            continue
        live_attributes = live[_item_key(item)].attributes
        changes = attribute_changes(COLLECTORS[item.type][0], item.attributes, live_attributes)
        assert any(expected.matches_path(c.path) for c in changes), (name, changes)
        # nothing else drifts (PITR off also zeroes its recovery period, as the provider records it)
        assert {_top(c.path) for c in changes} == {_top(expected.path or "")}, (name, changes)
    untouched = [i for i in seeded.items if i.address not in {e.address for e in chosen.expected}]
    for item in untouched:
        assert attribute_changes(COLLECTORS[item.type][0], item.attributes,
                                 live[_item_key(item)].attributes) == [], (name, item.address)


def test_state_bucket_objects_stay_reachable_under_the_tls_only_policy(seeded: SeededPlatform) -> None:
    s3 = seeded.boot.client("s3")
    bucket = state_bucket_name(ACCOUNT)
    s3.put_object(Bucket=bucket, Key="env/terraform.tfstate", Body=b"{}")
    assert s3.get_object(Bucket=bucket, Key="env/terraform.tfstate")["Body"].read() == b"{}"

    # only the TLS-only deny is let through: an unconditional deny still locks objects
    s3.create_bucket(Bucket="digitallync-locked", CreateBucketConfiguration={"LocationConstraint": REGION})
    deny_all = {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": "arn:aws:s3:::digitallync-locked/*"}
    s3.put_bucket_policy(Bucket="digitallync-locked",
                         Policy=json.dumps({"Version": "2012-10-17", "Statement": [deny_all]}))
    with pytest.raises(botocore.exceptions.ClientError, match="403"):
        s3.put_object(Bucket="digitallync-locked", Key="k", Body=b"x")
