"""S3 bucket (and split configuration) and DynamoDB table collectors, against moto and botocore stubs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import botocore.exceptions
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from auditor.aws import Aws
from auditor.catalog import TypeSpec
from auditor.diff import attribute_changes
from auditor.inventory import dynamodb as ddb
from auditor.inventory import storage as st
from auditor.inventory.base import CollectContext, CollectFn
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

BUCKET = "digitallync-tfstate-test"
SPLIT: dict[str, tuple[TypeSpec, CollectFn, str]] = {
    spec.type: (spec, fn, operation) for spec, fn, operation in (
        (st.VERSIONING, st.collect_versioning, "get_bucket_versioning"),
        (st.ENCRYPTION, st.collect_encryption, "get_bucket_encryption"),
        (st.PUBLIC_ACCESS_BLOCK, st.collect_public_access_blocks, "get_public_access_block"),
        (st.BUCKET_POLICY, st.collect_bucket_policies, "get_bucket_policy"),
        (st.LIFECYCLE, st.collect_lifecycle_configurations, "get_bucket_lifecycle_configuration"),
    )
}


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        yield new_aws()


def _bucket(aws: Aws, name: str = BUCKET, region: str = REGION) -> Any:
    s3 = aws.client("s3", region)
    config = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=name, **config)
    return s3


def _split(ctx: CollectContext, tf_type: str) -> dict[str, Any]:
    """One split type's live resources by bucket name."""
    spec, fn, _ = SPLIT[tf_type]
    return {rid: r.attributes for rid, r in collect(fn, ctx, spec).items()}


def _all_split_wanted(*buckets: str) -> dict[str, list[str]]:
    return {t: list(buckets) for t in ("aws_s3_bucket", *SPLIT)}


# --- S3 -------------------------------------------------------------------------------------


def test_buckets_of_the_region_with_tags_for_managed_ones(aws: Aws) -> None:
    s3 = _bucket(aws)
    s3.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": [{"Key": "Env", "Value": "prod"}]})
    _bucket(aws, "digitallync-untagged")
    _bucket(aws, "digitallync-scratch")
    _bucket(aws, "digitallync-virginia", "us-east-1")

    ctx = context(aws, {"aws_s3_bucket": [BUCKET, "digitallync-untagged"]})
    found = collect(st.collect_buckets, ctx, st.BUCKET)

    assert sorted(found) == sorted([BUCKET, "digitallync-scratch", "digitallync-untagged"])
    assert found[BUCKET].attributes == {
        "id": BUCKET, "bucket": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}", "region": REGION,
        "tags": {"Env": "prod"}, "tags_all": {"Env": "prod"}}
    assert found["digitallync-untagged"].attributes["tags"] == {}  # NoSuchTagSet: no tags
    assert "tags" not in found["digitallync-scratch"].attributes
    state = {"bucket": BUCKET, "tags_all": {"Env": "prod"}, "versioning": [{"enabled": True}], "policy": "{}"}
    assert attribute_changes(st.BUCKET, state, found[BUCKET].attributes) == []  # legacy blocks are ignored


def test_versioning_in_provider_shape(aws: Aws) -> None:
    s3 = _bucket(aws)
    _bucket(aws, "digitallync-never-versioned")
    ctx_wanted = {"aws_s3_bucket_versioning": [BUCKET, "digitallync-never-versioned"]}

    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    enabled = _split(context(aws, ctx_wanted), "aws_s3_bucket_versioning")
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    suspended = _split(context(aws, ctx_wanted), "aws_s3_bucket_versioning")

    assert enabled[BUCKET] == {"id": BUCKET, "bucket": BUCKET, "expected_bucket_owner": "",
                               "versioning_configuration": [{"status": "Enabled", "mfa_delete": ""}]}
    assert suspended[BUCKET]["versioning_configuration"] == [{"status": "Suspended", "mfa_delete": ""}]
    assert enabled["digitallync-never-versioned"]["versioning_configuration"] == [
        {"status": "Disabled", "mfa_delete": ""}]
    changes = attribute_changes(st.VERSIONING, enabled[BUCKET], suspended[BUCKET])
    assert [(c.path, c.state, c.live) for c in changes] == [
        ("versioning_configuration[0].status", "Enabled", "Suspended")]


def test_encryption_public_access_block_and_policy_in_provider_shape(aws: Aws) -> None:
    s3 = _bucket(aws)
    key = aws.client("kms", REGION).create_key()["KeyMetadata"]["Arn"]
    s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key},
        "BucketKeyEnabled": True}]})
    s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": False, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True})
    policy = {"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    ctx = context(aws, _all_split_wanted(BUCKET))

    assert _split(ctx, "aws_s3_bucket_server_side_encryption_configuration")[BUCKET] == {
        "id": BUCKET, "bucket": BUCKET, "expected_bucket_owner": "",
        "rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "aws:kms",
                                                               "kms_master_key_id": key}],
                  "bucket_key_enabled": True}]}
    assert _split(ctx, "aws_s3_bucket_public_access_block")[BUCKET] == {
        "id": BUCKET, "bucket": BUCKET, "block_public_acls": True, "block_public_policy": True,
        "ignore_public_acls": False, "restrict_public_buckets": True}
    live_policy = _split(ctx, "aws_s3_bucket_policy")[BUCKET]
    assert json.loads(live_policy["policy"]) == policy
    terraform_text = json.dumps(policy, sort_keys=True, separators=(",", ":"))
    state = {"bucket": BUCKET, "policy": terraform_text}
    assert attribute_changes(st.BUCKET_POLICY, state, live_policy) == []


def test_default_encryption_rule_without_bucket_key() -> None:
    answer = {"ServerSideEncryptionConfiguration": {"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}}
    assert st.encryption_attributes("b", answer)["rule"] == [{
        "apply_server_side_encryption_by_default": [{"sse_algorithm": "AES256", "kms_master_key_id": ""}],
        "bucket_key_enabled": False}]


EXPIRY_RULE = {"ID": "expire-access-logs", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 90},
               "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}
# aws_s3_bucket_lifecycle_configuration.rule as hashicorp/aws 5.100 stores it for that rule with `filter {}`
EXPIRY_STATE = {
    "id": "expire-access-logs", "status": "Enabled", "prefix": "",
    "filter": [{"and": [], "object_size_greater_than": None, "object_size_less_than": None, "prefix": "",
                "tag": []}],
    "expiration": [{"date": None, "days": 90, "expired_object_delete_marker": False}],
    "abort_incomplete_multipart_upload": [{"days_after_initiation": 7}],
    "noncurrent_version_expiration": [], "noncurrent_version_transition": [], "transition": [],
}


def test_lifecycle_configuration_in_provider_shape(aws: Aws) -> None:
    s3 = _bucket(aws)
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [EXPIRY_RULE]},
                                          TransitionDefaultMinimumObjectSize="all_storage_classes_128K")
    live = _split(context(aws, {st.LIFECYCLE.type: [BUCKET]}), st.LIFECYCLE.type)[BUCKET]
    state = {"id": BUCKET, "bucket": BUCKET, "expected_bucket_owner": "", "rule": [EXPIRY_STATE],
             "transition_default_minimum_object_size": "all_storage_classes_128K", "timeouts": None}
    assert live == {k: v for k, v in state.items() if k != "timeouts"}
    assert attribute_changes(st.LIFECYCLE, state, live) == []

    shorter = {**EXPIRY_RULE, "Expiration": {"Days": 7}}
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [shorter]})
    live = _split(context(aws, {st.LIFECYCLE.type: [BUCKET]}), st.LIFECYCLE.type)[BUCKET]
    assert [(c.path, c.state, c.live) for c in attribute_changes(st.LIFECYCLE, state, live)] == [
        ("rule[0].expiration[0].days", 90, 7)]


def test_lifecycle_rule_with_every_block_converts_like_the_provider_reads_it() -> None:
    from datetime import UTC, datetime

    answer = {"Rules": [{
        "ID": "archive", "Status": "Disabled",
        "Filter": {"And": {"Prefix": "logs/", "ObjectSizeGreaterThan": 1024,
                           "Tags": [{"Key": "tier", "Value": "cold"}]}},
        "Expiration": {"Date": datetime(2030, 1, 1, tzinfo=UTC)},
        "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}, {"Days": 90, "StorageClass": "GLACIER"}],
        "NoncurrentVersionTransitions": [{"NoncurrentDays": 30, "StorageClass": "GLACIER"}],
        "NoncurrentVersionExpiration": {"NoncurrentDays": 365, "NewerNoncurrentVersions": 3}}]}
    [rule] = st.lifecycle_attributes("b", answer)["rule"]
    assert rule == {
        "id": "archive", "status": "Disabled", "prefix": "",
        "filter": [{"object_size_greater_than": None, "object_size_less_than": None, "prefix": "", "tag": [],
                    "and": [{"object_size_greater_than": 1024, "object_size_less_than": None, "prefix": "logs/",
                             "tags": {"tier": "cold"}}]}],
        "expiration": [{"date": "2030-01-01T00:00:00Z", "days": None, "expired_object_delete_marker": False}],
        "abort_incomplete_multipart_upload": [],
        "noncurrent_version_expiration": [{"newer_noncurrent_versions": 3, "noncurrent_days": 365}],
        "noncurrent_version_transition": [{"newer_noncurrent_versions": None, "noncurrent_days": 30,
                                           "storage_class": "GLACIER"}],
        "transition": [{"date": None, "days": 30, "storage_class": "STANDARD_IA"},
                       {"date": None, "days": 90, "storage_class": "GLACIER"}],
    }
    # the provider's 0 placeholder for an unset `days`, and the transition set in another order
    state = {"bucket": "b", "rule": [{**rule, "expiration": [{**rule["expiration"][0], "days": 0}],
                                      "transition": list(reversed(rule["transition"]))}]}
    assert attribute_changes(st.LIFECYCLE, state, st.lifecycle_attributes("b", answer)) == []
    assert st.LIFECYCLE.normalizers["rule"](st.LIFECYCLE.normalizers["rule"](state["rule"])) == \
        st.LIFECYCLE.normalizers["rule"](state["rule"])


def test_removed_configurations_and_gone_buckets_are_not_yielded(aws: Aws) -> None:
    s3 = _bucket(aws)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": []}))
    s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration={"BlockPublicAcls": True})
    s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [EXPIRY_RULE]})
    s3.delete_bucket_policy(Bucket=BUCKET)
    s3.delete_public_access_block(Bucket=BUCKET)
    s3.delete_bucket_encryption(Bucket=BUCKET)
    s3.delete_bucket_lifecycle(Bucket=BUCKET)
    ctx = context(aws, _all_split_wanted(BUCKET, "digitallync-deleted"))

    found = {t: _split(ctx, t) for t in SPLIT}

    assert found == {"aws_s3_bucket_versioning": {BUCKET: found["aws_s3_bucket_versioning"][BUCKET]},
                     "aws_s3_bucket_server_side_encryption_configuration": {},
                     "aws_s3_bucket_public_access_block": {}, "aws_s3_bucket_policy": {},
                     "aws_s3_bucket_lifecycle_configuration": {}}
    # the deleted bucket is known gone from ListBuckets: only the existing bucket is asked about
    assert {k: v for k, v in calls(aws, "s3").items() if k.startswith("s3.Get")} == {
        "s3.GetBucketLocation": 1, "s3.GetBucketVersioning": 1, "s3.GetBucketEncryption": 1,
        "s3.GetPublicAccessBlock": 1, "s3.GetBucketPolicy": 1, "s3.GetBucketLifecycleConfiguration": 1}


def test_split_resources_of_a_bucket_in_another_region_are_read_there(aws: Aws) -> None:
    s3 = _bucket(aws, "digitallync-virginia", "us-east-1")
    s3.put_bucket_versioning(Bucket="digitallync-virginia", VersioningConfiguration={"Status": "Enabled"})
    ctx = context(aws, {"aws_s3_bucket_versioning": ["digitallync-virginia"]})

    found = _split(ctx, "aws_s3_bucket_versioning")

    assert found["digitallync-virginia"]["versioning_configuration"][0]["status"] == "Enabled"
    assert collect(st.collect_buckets, ctx, st.BUCKET) == {}  # listed as unmanaged only in its own region


@pytest.mark.parametrize("tf_type", sorted(SPLIT))
def test_access_denied_on_a_per_bucket_call_propagates(tf_type: str) -> None:
    aws = new_aws()
    spec, fn, operation = SPLIT[tf_type]
    with Stubber(aws.client("s3", REGION)) as stub:
        stub.add_response("list_buckets", {"Buckets": [{"Name": BUCKET, "BucketRegion": REGION}]},
                          {"MaxBuckets": 1000})
        stub.add_client_error(operation, "AccessDenied", "denied", 403, expected_params={"Bucket": BUCKET})
        with pytest.raises(botocore.exceptions.ClientError, match="AccessDenied"):
            list(fn(context(aws, {spec.type: [BUCKET]})))
        stub.assert_no_pending_responses()


def test_access_denied_on_tagging_propagates_and_is_remembered() -> None:
    aws = new_aws()
    deny_tagging(aws)  # the Tagging API too: GetBucketTagging is asked, and its denial is the type's
    ctx = context(aws, {"aws_s3_bucket": [BUCKET]})
    with Stubber(aws.client("s3", REGION)) as stub:
        stub.add_response("list_buckets", {"Buckets": [{"Name": BUCKET, "BucketRegion": REGION}]})
        stub.add_client_error("get_bucket_tagging", "AccessDenied", "denied", 403)
        for _ in range(2):  # the second run reuses the remembered failure: no second call
            with pytest.raises(botocore.exceptions.ClientError, match="AccessDenied"):
                list(st.collect_buckets(ctx))
        stub.assert_no_pending_responses()


def test_bucket_region_comes_from_list_buckets_or_its_location() -> None:
    aws = new_aws()
    with Stubber(aws.client("s3", REGION)) as stub:
        stub.add_response("list_buckets", {"Buckets": [
            {"Name": "here", "BucketRegion": REGION}, {"Name": "legacy-eu"}, {"Name": "virginia"}]},
            {"MaxBuckets": 1000})
        stub.add_response("get_bucket_location", {"LocationConstraint": "EU"}, {"Bucket": "legacy-eu"})
        stub.add_response("get_bucket_location", {}, {"Bucket": "virginia"})
        regions = st.bucket_regions(context(aws))
        stub.assert_no_pending_responses()
    assert regions == {"here": REGION, "legacy-eu": "eu-west-1", "virginia": "us-east-1"}


def test_list_buckets_follows_every_page() -> None:
    pages = [[{"Name": f"bucket-{n}", "BucketRegion": REGION}] for n in (1, 2)]
    found = paged(new_aws(), "s3", "list_buckets", "Buckets", pages, st.collect_buckets,
                  token="ContinuationToken", params={"MaxBuckets": 1000})
    assert [r.id for r in found] == ["bucket-1", "bucket-2"]


def test_calls_for_a_few_buckets_each_once_across_the_six_types(aws: Aws) -> None:
    for n in range(4):
        _bucket(aws, f"digitallync-bucket-{n}")
    before = aws.counter.snapshot()
    ctx = context(aws, _all_split_wanted("digitallync-bucket-0"))

    collect(st.collect_buckets, ctx, st.BUCKET)
    for tf_type in SPLIT:
        _split(ctx, tf_type)
        _split(ctx, tf_type)  # a second pass in the same audit reuses every answer

    spent = spent_since(aws, before)
    # moto leaves BucketRegion out of ListBuckets, so each bucket's location is asked once
    assert spent == {"s3.ListBuckets": 1, "s3.GetBucketLocation": 4, "resource-groups-tagging-api.GetResources": 1,
                     "s3.GetBucketVersioning": 1, "s3.GetBucketEncryption": 1, "s3.GetPublicAccessBlock": 1,
                     "s3.GetBucketPolicy": 1, "s3.GetBucketLifecycleConfiguration": 1}


# --- DynamoDB -------------------------------------------------------------------------------


def _table(aws: Aws, name: str, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("KeySchema", [{"AttributeName": "LockID", "KeyType": "HASH"}])
    kwargs.setdefault("AttributeDefinitions", [{"AttributeName": "LockID", "AttributeType": "S"}])
    if "ProvisionedThroughput" not in kwargs:
        kwargs.setdefault("BillingMode", "PAY_PER_REQUEST")
    return dict(aws.client("dynamodb", REGION).create_table(TableName=name, **kwargs)["TableDescription"])


def test_managed_table_in_provider_shape(aws: Aws) -> None:
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/cmk-1"
    table = _table(
        aws, "scores",
        KeySchema=[{"AttributeName": "user", "KeyType": "HASH"},
                   {"AttributeName": "game", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in
                              (("user", "S"), ("game", "S"), ("score", "N"))],
        ProvisionedThroughput={"ReadCapacityUnits": 20, "WriteCapacityUnits": 10},
        GlobalSecondaryIndexes=[{"IndexName": "by-game", "KeySchema": [
            {"AttributeName": "game", "KeyType": "HASH"}, {"AttributeName": "score", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["user"]},
            "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 2}}],
        LocalSecondaryIndexes=[{"IndexName": "by-score", "KeySchema": [
            {"AttributeName": "user", "KeyType": "HASH"}, {"AttributeName": "score", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key},
        DeletionProtectionEnabled=True, Tags=[{"Key": "Env", "Value": "prod"}])
    aws.client("dynamodb", REGION).update_time_to_live(
        TableName="scores", TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})

    live = collect(ddb.collect_tables, context(aws, {"aws_dynamodb_table": ["scores"]}), ddb.TABLE)["scores"]

    assert live.attributes == {
        "id": "scores", "name": "scores", "arn": table["TableArn"], "hash_key": "user", "range_key": "game",
        "attribute": [{"name": "user", "type": "S"}, {"name": "game", "type": "S"},
                      {"name": "score", "type": "N"}],
        "billing_mode": "PROVISIONED", "read_capacity": 20, "write_capacity": 10,
        "global_secondary_index": [{"name": "by-game", "hash_key": "game", "range_key": "score",
                                    "projection_type": "INCLUDE", "non_key_attributes": ["user"],
                                    "read_capacity": 5, "write_capacity": 2}],
        "local_secondary_index": [{"name": "by-score", "range_key": "score", "projection_type": "KEYS_ONLY",
                                   "non_key_attributes": []}],
        "stream_enabled": True, "stream_view_type": "NEW_IMAGE",
        "stream_arn": table["LatestStreamArn"], "stream_label": table["LatestStreamLabel"],
        "server_side_encryption": [{"enabled": True, "kms_key_arn": key}],
        "deletion_protection_enabled": True, "table_class": "STANDARD",
        "point_in_time_recovery": [{"enabled": False, "recovery_period_in_days": 0}],
        "ttl": [{"attribute_name": "expires", "enabled": True}],
        "tags": {"Env": "prod"}, "tags_all": {"Env": "prod"},
    }


def test_lock_table_with_pitr_and_the_aws_managed_key(aws: Aws) -> None:
    _table(aws, "locks", SSESpecification={"Enabled": True})
    _table(aws, "other", SSESpecification={"Enabled": True})
    aws.client("dynamodb", REGION).update_continuous_backups(
        TableName="locks", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})

    found = collect(ddb.collect_tables, context(aws, {"aws_dynamodb_table": ["locks"]}), ddb.TABLE)

    locks = found["locks"].attributes
    assert compared(ddb.TABLE, locks) | {"tags": locks["tags"]} == {
        "name": "locks", "hash_key": "LockID", "range_key": "",
        "attribute": [{"name": "LockID", "type": "S"}],
        "billing_mode": "PAY_PER_REQUEST", "read_capacity": 0, "write_capacity": 0,
        "global_secondary_index": [], "local_secondary_index": [], "stream_enabled": False,
        "stream_view_type": "", "server_side_encryption": [{"enabled": True, "kms_key_arn": ""}],
        "deletion_protection_enabled": False, "table_class": "STANDARD",
        "point_in_time_recovery": [{"enabled": True, "recovery_period_in_days": 35}],
        "ttl": [{"attribute_name": "", "enabled": False}], "tags": {},
    }
    # an unmanaged table: no per-table extras, and its key is not looked up
    other = found["other"].attributes
    assert not {"point_in_time_recovery", "ttl", "tags"} & other.keys()
    assert other["server_side_encryption"][0]["kms_key_arn"].startswith(f"arn:aws:kms:{REGION}:")
    assert calls(aws, "kms") == {"kms.DescribeKey": 1}


def test_pitr_switched_off_is_drift(aws: Aws) -> None:
    _table(aws, "locks")
    client = aws.client("dynamodb", REGION)
    client.update_continuous_backups(TableName="locks",
                                     PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    ctx_wanted = {"aws_dynamodb_table": ["locks"]}
    before = collect(ddb.collect_tables, context(aws, ctx_wanted), ddb.TABLE)["locks"].attributes
    client.update_continuous_backups(TableName="locks",
                                     PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})
    after = collect(ddb.collect_tables, context(aws, ctx_wanted), ddb.TABLE)["locks"].attributes

    assert [c.path for c in attribute_changes(ddb.TABLE, before, after)] == [
        "point_in_time_recovery[0].enabled", "point_in_time_recovery[0].recovery_period_in_days"]


def test_table_class_and_sets_compare_without_order() -> None:
    table = {"TableName": "t", "TableClassSummary": {"TableClass": "STANDARD_INFREQUENT_ACCESS"},
             "AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S"},
                                      {"AttributeName": "b", "AttributeType": "N"}],
             "GlobalSecondaryIndexes": [{
                 "IndexName": "g", "KeySchema": [{"AttributeName": "b", "KeyType": "HASH"}],
                 "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x", "y"]}}]}
    live = ddb.table_attributes(table)
    assert live["table_class"] == "STANDARD_INFREQUENT_ACCESS"
    index = {**live["global_secondary_index"][0], "non_key_attributes": ["y", "x"],
             "on_demand_throughput": []}
    state = {**live, "attribute": live["attribute"][::-1], "global_secondary_index": [index]}
    assert attribute_changes(ddb.TABLE, state, live) == []


def test_list_tables_follows_every_page() -> None:
    aws = new_aws()
    with Stubber(aws.client("dynamodb", REGION)) as stub:
        stub.add_response("list_tables", {"TableNames": ["table-1"], "LastEvaluatedTableName": "table-1"}, {})
        stub.add_response("describe_table", {"Table": {"TableName": "table-1"}}, {"TableName": "table-1"})
        stub.add_response("list_tables", {"TableNames": ["table-2"]}, {"ExclusiveStartTableName": "table-1"})
        stub.add_response("describe_table", {"Table": {"TableName": "table-2"}}, {"TableName": "table-2"})
        found = list(ddb.collect_tables(context(aws)))
        stub.assert_no_pending_responses()
    assert [r.id for r in found] == ["table-1", "table-2"]


def test_table_tags_follow_every_page() -> None:
    aws = new_aws()
    deny_tagging(aws)  # ListTagsOfResource is the fallback
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/table-1"
    with Stubber(aws.client("dynamodb", REGION)) as stub:
        stub.add_response("list_tables", {"TableNames": ["table-1"]})
        stub.add_response("describe_table", {"Table": {"TableName": "table-1", "TableArn": arn}})
        stub.add_response("describe_continuous_backups", {"ContinuousBackupsDescription": {
            "ContinuousBackupsStatus": "ENABLED"}})
        stub.add_response("describe_time_to_live", {})
        stub.add_response("list_tags_of_resource", {"Tags": [{"Key": "a", "Value": "1"}], "NextToken": "n2"},
                          {"ResourceArn": arn})
        stub.add_response("list_tags_of_resource", {"Tags": [{"Key": "b", "Value": "2"}]},
                          {"ResourceArn": arn, "NextToken": "n2"})
        found = list(ddb.collect_tables(context(aws, {"aws_dynamodb_table": ["table-1"]})))
        stub.assert_no_pending_responses()
    assert found[0].attributes["tags"] == {"a": "1", "b": "2"}


def test_calls_for_a_few_tables(aws: Aws) -> None:
    for n in range(5):
        _table(aws, f"table-{n}")
    before = aws.counter.snapshot()

    found = collect(ddb.collect_tables, context(aws, {"aws_dynamodb_table": ["table-0"]}), ddb.TABLE)

    spent = spent_since(aws, before)
    assert len(found) == 5
    assert spent == {"dynamodb.ListTables": 1, "dynamodb.DescribeTable": 5,
                     "dynamodb.DescribeContinuousBackups": 1, "dynamodb.DescribeTimeToLive": 1,
                     "resource-groups-tagging-api.GetResources": 1}
