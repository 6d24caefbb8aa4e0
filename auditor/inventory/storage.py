"""Storage: S3 buckets with their split configuration resources, and DynamoDB tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import botocore.exceptions

from auditor.aws import error_code
from auditor.catalog import TypeSpec
from auditor.inventory.base import CollectContext, CollectFn, collector, paginate, tags_dict
from auditor.models import Resource

# --- S3 -------------------------------------------------------------------------------------

_LEGACY = "legacy inline block: the split aws_s3_bucket_* resources are compared on their own"
_PER_BUCKET = "needs one more per-bucket call; not compared"


def _bucket_id(attributes: Mapping[str, Any]) -> str | None:
    value = attributes.get("bucket") or attributes.get("id")
    return str(value) if value else None


BUCKET = TypeSpec(
    type="aws_s3_bucket", partially_read=True,
    service="s3",
    compared=("bucket",),
    tags=True,
    optional_live=("tags",),
    state_id=_bucket_id,
    ignored={
        "id": "the bucket name",
        "arn": "derived from the name",
        "region": "a bucket is listed only in its own region",
        "bucket_domain_name": "derived from the name", "bucket_regional_domain_name": "derived from the name",
        "hosted_zone_id": "fixed per region", "website_domain": "computed", "website_endpoint": "computed",
        "bucket_prefix": "create-time option", "force_destroy": "provider-only delete option",
        "timeouts": "provider-only",
        "versioning": _LEGACY, "server_side_encryption_configuration": _LEGACY, "policy": _LEGACY,
        "acl": _LEGACY, "grant": _LEGACY, "cors_rule": _LEGACY, "lifecycle_rule": _LEGACY,
        "logging": _LEGACY, "object_lock_configuration": _LEGACY, "replication_configuration": _LEGACY,
        "website": _LEGACY, "acceleration_status": _LEGACY, "request_payer": _LEGACY,
        "object_lock_enabled": _PER_BUCKET,
    },
    notes="ListBuckets once (region from BucketRegion, GetBucketLocation only when it is missing); "
          "GetBucketTagging only for buckets a state holds. Unmanaged buckets carry name and ARN.",
)


def _split_spec(tf_type: str, compared: tuple[str, ...], *, ignored: Mapping[str, str] | None = None,
                set_paths: tuple[str, ...] = (), json_attributes: tuple[str, ...] = ()) -> TypeSpec:
    """A split S3 configuration resource: matched on the bucket name, read only for buckets in state."""
    return TypeSpec(type=tf_type, service="s3", compared=("bucket", *compared), state_id=_bucket_id,
                    ignored={"id": "the bucket name", **(ignored or {})}, set_paths=set_paths,
                    json_attributes=json_attributes, report_unmanaged=False, partially_read=True,
                    notes="Read only for buckets whose configuration a state holds (one call per bucket); "
                          "configurations made outside Terraform on other buckets are not detected.")


_OWNER = {"expected_bucket_owner": "provider-only request option"}
VERSIONING = _split_spec("aws_s3_bucket_versioning", ("versioning_configuration",),
                         ignored={**_OWNER, "mfa": "write-only MFA token"})
ENCRYPTION = _split_spec("aws_s3_bucket_server_side_encryption_configuration", ("rule",),
                         set_paths=("rule",), ignored=_OWNER)
PUBLIC_ACCESS_BLOCK = _split_spec("aws_s3_bucket_public_access_block",
                                  ("block_public_acls", "block_public_policy", "ignore_public_acls",
                                   "restrict_public_buckets"))
BUCKET_POLICY = _split_spec("aws_s3_bucket_policy", ("policy",), json_attributes=("policy",))

_UNSET_WHEN_ZERO = {
    # (block, attribute): values the provider stores for "not set" (0/false), which AWS leaves out
    ("expiration", "days"), ("expiration", "expired_object_delete_marker"),
    ("filter", "object_size_greater_than"), ("filter", "object_size_less_than"),
    ("and", "object_size_greater_than"), ("and", "object_size_less_than"),
    ("noncurrent_version_expiration", "newer_noncurrent_versions"),
    ("noncurrent_version_transition", "newer_noncurrent_versions"),
}


def _without_unset(value: Any, block: str = "") -> Any:
    """Lifecycle rules with the provider's legacy 0/false placeholders dropped (idempotent)."""
    if isinstance(value, Mapping):
        return {k: None if (block, k) in _UNSET_WHEN_ZERO and v in (0, False) else _without_unset(v, k)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_without_unset(v, block) for v in value]
    return value


LIFECYCLE = TypeSpec(
    type="aws_s3_bucket_lifecycle_configuration", service="s3", state_id=_bucket_id, report_unmanaged=False,
    partially_read=True,
    compared=("bucket", "rule", "transition_default_minimum_object_size"),
    set_paths=("rule.*.transition", "rule.*.noncurrent_version_transition"),
    optional_live=("transition_default_minimum_object_size",),
    normalizers={"rule": _without_unset},
    ignored={"id": "the bucket name", **_OWNER, "timeouts": "provider-only"},
    notes="GetBucketLifecycleConfiguration only for buckets whose lifecycle a state holds. Expiration days, "
          "object-size filters and newer_noncurrent_versions of 0 and expired_object_delete_marker false "
          "are the provider's placeholders for unset values (AWS leaves them out): compared as unset.",
)

# The "not configured" answers: the configuration is absent. Any other error propagates.
_ABSENT = {
    "get_bucket_versioning": None,
    "get_bucket_encryption": "ServerSideEncryptionConfigurationNotFoundError",
    "get_public_access_block": "NoSuchPublicAccessBlockConfiguration",
    "get_bucket_policy": "NoSuchBucketPolicy",
    "get_bucket_tagging": "NoSuchTagSet",
    "get_bucket_lifecycle_configuration": "NoSuchLifecycleConfiguration",
}


def _location_region(constraint: str | None) -> str:
    """GetBucketLocation's LocationConstraint -> region (null is us-east-1, legacy EU is eu-west-1)."""
    if not constraint:
        return "us-east-1"
    return "eu-west-1" if constraint == "EU" else constraint


def bucket_regions(ctx: CollectContext) -> dict[str, str]:
    """Every bucket of the account -> its region (ListBuckets once per audit region)."""

    def fetch() -> dict[str, str]:
        s3 = ctx.client("s3")
        regions: dict[str, str] = {}
        # a page size makes S3 include BucketRegion in each entry
        for bucket in paginate(s3, "list_buckets", "Buckets", PaginationConfig={"PageSize": 1000}):
            name = bucket["Name"]
            region = bucket.get("BucketRegion")
            if not region:
                region = _location_region(s3.get_bucket_location(Bucket=name).get("LocationConstraint"))
            regions[name] = region
        return regions

    return dict(ctx.shared("s3.list_buckets", fetch))


def bucket_config(ctx: CollectContext, operation: str, bucket: str, region: str) -> dict[str, Any] | None:
    """One per-bucket Get* answer, fetched once per audit region; None when S3 says it is not configured."""

    def fetch() -> dict[str, Any] | None:
        call: Callable[..., dict[str, Any]] = getattr(ctx.aws.client("s3", region), operation)
        try:
            return call(Bucket=bucket)
        except botocore.exceptions.ClientError as exc:
            if _ABSENT[operation] and error_code(exc) == _ABSENT[operation]:
                return None
            raise

    answer: dict[str, Any] | None = ctx.shared(f"s3.{operation}:{bucket}", fetch)
    return answer


@collector(BUCKET)
def collect_buckets(ctx: CollectContext) -> Iterator[Resource]:
    wanted = ctx.wanted.get(BUCKET.type, frozenset())
    for name, region in sorted(bucket_regions(ctx).items()):
        if region != ctx.region:
            continue
        attrs: dict[str, Any] = {"id": name, "bucket": name, "arn": f"arn:aws:s3:::{name}", "region": region}
        if name in wanted:
            tagging = bucket_config(ctx, "get_bucket_tagging", name, region)
            attrs["tags"] = tags_dict(tagging.get("TagSet") if tagging else None)
            attrs["tags_all"] = dict(attrs["tags"])
        yield ctx.resource(BUCKET, name, attrs)


def versioning_attributes(bucket: str, answer: Mapping[str, Any]) -> dict[str, Any]:
    """GetBucketVersioning -> aws_s3_bucket_versioning (never-enabled reads as the provider's Disabled)."""
    return {"id": bucket, "bucket": bucket, "expected_bucket_owner": "",
            "versioning_configuration": [{"status": answer.get("Status") or "Disabled",
                                          "mfa_delete": answer.get("MFADelete", "")}]}


def encryption_attributes(bucket: str, answer: Mapping[str, Any]) -> dict[str, Any]:
    """GetBucketEncryption -> aws_s3_bucket_server_side_encryption_configuration."""
    rules = []
    for rule in (answer.get("ServerSideEncryptionConfiguration") or {}).get("Rules", []):
        default = rule.get("ApplyServerSideEncryptionByDefault")
        rules.append({
            "apply_server_side_encryption_by_default": [{
                "sse_algorithm": default.get("SSEAlgorithm", ""),
                "kms_master_key_id": default.get("KMSMasterKeyID", ""),
            }] if default else [],
            "bucket_key_enabled": bool(rule.get("BucketKeyEnabled", False)),
        })
    return {"id": bucket, "bucket": bucket, "expected_bucket_owner": "", "rule": rules}


def public_access_block_attributes(bucket: str, answer: Mapping[str, Any]) -> dict[str, Any]:
    """GetPublicAccessBlock -> aws_s3_bucket_public_access_block."""
    conf = answer.get("PublicAccessBlockConfiguration") or {}
    return {"id": bucket, "bucket": bucket,
            "block_public_acls": bool(conf.get("BlockPublicAcls", False)),
            "block_public_policy": bool(conf.get("BlockPublicPolicy", False)),
            "ignore_public_acls": bool(conf.get("IgnorePublicAcls", False)),
            "restrict_public_buckets": bool(conf.get("RestrictPublicBuckets", False))}


def policy_attributes(bucket: str, answer: Mapping[str, Any]) -> dict[str, Any]:
    """GetBucketPolicy -> aws_s3_bucket_policy."""
    return {"id": bucket, "bucket": bucket, "policy": answer.get("Policy", "")}


def _rfc3339_date(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if hasattr(value, "strftime") else str(value)


def _block(answer: Mapping[str, Any] | None, fields: Mapping[str, str]) -> list[dict[str, Any]]:
    """An optional AWS structure as a one-element provider block (`fields`: AWS key -> attribute), or []."""
    if answer is None:
        return []
    return [{attr: answer.get(key) for key, attr in fields.items()}]


def _lifecycle_filter(answer: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    if answer is None:
        return []
    sizes = {"ObjectSizeGreaterThan": "object_size_greater_than", "ObjectSizeLessThan": "object_size_less_than"}
    block: dict[str, Any] = {attr: answer.get(key) for key, attr in sizes.items()}
    block["prefix"] = answer.get("Prefix", "")
    tag = answer.get("Tag")
    block["tag"] = [{"key": tag["Key"], "value": tag["Value"]}] if tag else []
    both = answer.get("And")
    block["and"] = [] if both is None else [{
        **{attr: both.get(key) for key, attr in sizes.items()}, "prefix": both.get("Prefix", ""),
        "tags": tags_dict(both.get("Tags"))}]
    return [block]


def _lifecycle_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    expiration = rule.get("Expiration")
    transitions = [{"date": _rfc3339_date(t.get("Date")), "days": t.get("Days"),
                    "storage_class": t.get("StorageClass", "")} for t in rule.get("Transitions") or []]
    noncurrent = [{"newer_noncurrent_versions": t.get("NewerNoncurrentVersions"),
                   "noncurrent_days": t.get("NoncurrentDays"), "storage_class": t.get("StorageClass", "")}
                  for t in rule.get("NoncurrentVersionTransitions") or []]
    return {
        "id": rule.get("ID", ""),
        "status": rule.get("Status", ""),
        "prefix": rule.get("Prefix", ""),
        "filter": _lifecycle_filter(rule.get("Filter")),
        "expiration": [] if expiration is None else [{
            "date": _rfc3339_date(expiration.get("Date")), "days": expiration.get("Days"),
            "expired_object_delete_marker": bool(expiration.get("ExpiredObjectDeleteMarker", False))}],
        "abort_incomplete_multipart_upload": _block(rule.get("AbortIncompleteMultipartUpload"),
                                                    {"DaysAfterInitiation": "days_after_initiation"}),
        "noncurrent_version_expiration": _block(rule.get("NoncurrentVersionExpiration"), {
            "NewerNoncurrentVersions": "newer_noncurrent_versions", "NoncurrentDays": "noncurrent_days"}),
        "noncurrent_version_transition": noncurrent,
        "transition": transitions,
    }


def lifecycle_attributes(bucket: str, answer: Mapping[str, Any]) -> dict[str, Any]:
    """GetBucketLifecycleConfiguration -> aws_s3_bucket_lifecycle_configuration."""
    attrs: dict[str, Any] = {"id": bucket, "bucket": bucket, "expected_bucket_owner": "",
                             "rule": [_lifecycle_rule(r) for r in answer.get("Rules") or []]}
    if answer.get("TransitionDefaultMinimumObjectSize"):
        attrs["transition_default_minimum_object_size"] = answer["TransitionDefaultMinimumObjectSize"]
    return attrs


def _split_collector(spec: TypeSpec, operation: str,
                     convert: Callable[[str, Mapping[str, Any]], dict[str, Any]]) -> CollectFn:
    """Register the collector of one split type: its Get* call for each wanted bucket that exists.

    Split resources carry no region in state, so a wanted bucket is read wherever it lives.
    """

    @collector(spec)
    def collect(ctx: CollectContext) -> Iterator[Resource]:
        wanted = ctx.wanted.get(spec.type, frozenset())
        if not wanted:
            return
        regions = bucket_regions(ctx)
        for bucket in sorted(wanted & regions.keys()):  # a gone bucket: its configuration is missing
            answer = bucket_config(ctx, operation, bucket, regions[bucket])
            if answer is not None:
                yield ctx.resource(spec, bucket, convert(bucket, answer))

    return collect


collect_versioning = _split_collector(VERSIONING, "get_bucket_versioning", versioning_attributes)
collect_encryption = _split_collector(ENCRYPTION, "get_bucket_encryption", encryption_attributes)
collect_public_access_blocks = _split_collector(PUBLIC_ACCESS_BLOCK, "get_public_access_block",
                                                public_access_block_attributes)
collect_bucket_policies = _split_collector(BUCKET_POLICY, "get_bucket_policy", policy_attributes)
collect_lifecycle_configurations = _split_collector(LIFECYCLE, "get_bucket_lifecycle_configuration",
                                                    lifecycle_attributes)

# --- DynamoDB -------------------------------------------------------------------------------

TABLE = TypeSpec(
    type="aws_dynamodb_table", partially_read=True,
    service="dynamodb",
    compared=("name", "hash_key", "range_key", "attribute", "billing_mode", "read_capacity", "write_capacity",
              "global_secondary_index", "local_secondary_index", "stream_enabled", "stream_view_type",
              "server_side_encryption", "deletion_protection_enabled", "table_class",
              "point_in_time_recovery", "ttl"),
    set_paths=("attribute", "global_secondary_index", "global_secondary_index.*.non_key_attributes",
               "local_secondary_index"),
    tags=True,
    optional_live=("point_in_time_recovery", "ttl", "tags"),
    ignored={
        "id": "the table name",
        "arn": "derived from the name",
        "stream_arn": "computed", "stream_label": "computed",
        "replica": "global-table replicas live in other regions",
        "on_demand_throughput": "AWS reports service defaults the state does not hold",
        "import_table": "create-time option", "restore_date_time": "create-time option",
        "restore_source_name": "create-time option", "restore_source_table_arn": "create-time option",
        "restore_to_latest_time": "create-time option",
        "timeouts": "provider-only",
    },
    notes="ListTables + DescribeTable per table (AWS has no batch form). DescribeContinuousBackups, "
          "DescribeTimeToLive and ListTagsOfResource only for tables a state holds; unmanaged tables "
          "carry no point_in_time_recovery, ttl or tags. An SSE key equal to alias/aws/dynamodb reads "
          "as \"\" as the provider stores it (one DescribeKey per region, only when needed).",
)

_DEFAULT_KEY = "alias/aws/dynamodb"


def _default_dynamodb_key(ctx: CollectContext) -> str | None:
    """ARN of the AWS-managed DynamoDB key of the region, None when it does not exist."""

    def fetch() -> str | None:
        try:
            return str(ctx.client("kms").describe_key(KeyId=_DEFAULT_KEY)["KeyMetadata"]["Arn"])
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) == "NotFoundException":
                return None
            raise

    key: str | None = ctx.shared("kms.default_dynamodb_key", fetch)
    return key


def _key(schema: list[Mapping[str, Any]], kind: str) -> str:
    return next((str(k["AttributeName"]) for k in schema if k.get("KeyType") == kind), "")


def _throughput(entry: Mapping[str, Any]) -> tuple[int, int]:
    tp = entry.get("ProvisionedThroughput") or {}
    return int(tp.get("ReadCapacityUnits", 0)), int(tp.get("WriteCapacityUnits", 0))


def table_attributes(table: Mapping[str, Any], default_key: str | None = None) -> dict[str, Any]:
    """DescribeTable's Table -> aws_dynamodb_table state attributes (without the per-table extras)."""
    read, write = _throughput(table)
    gsis = []
    for index in table.get("GlobalSecondaryIndexes") or []:
        projection = index.get("Projection") or {}
        i_read, i_write = _throughput(index)
        gsis.append({
            "name": index["IndexName"],
            "hash_key": _key(index.get("KeySchema", []), "HASH"),
            "range_key": _key(index.get("KeySchema", []), "RANGE"),
            "projection_type": projection.get("ProjectionType", ""),
            "non_key_attributes": list(projection.get("NonKeyAttributes") or []),
            "read_capacity": i_read,
            "write_capacity": i_write,
        })
    lsis = []
    for index in table.get("LocalSecondaryIndexes") or []:
        projection = index.get("Projection") or {}
        lsis.append({
            "name": index["IndexName"],
            "range_key": _key(index.get("KeySchema", []), "RANGE"),
            "projection_type": projection.get("ProjectionType", ""),
            "non_key_attributes": list(projection.get("NonKeyAttributes") or []),
        })
    sse = table.get("SSEDescription")
    stream = table.get("StreamSpecification") or {}
    stream_enabled = bool(stream.get("StreamEnabled", False))
    return {
        "id": table["TableName"],
        "name": table["TableName"],
        "arn": table.get("TableArn", ""),
        "hash_key": _key(table.get("KeySchema", []), "HASH"),
        "range_key": _key(table.get("KeySchema", []), "RANGE"),
        "attribute": [{"name": a["AttributeName"], "type": a["AttributeType"]}
                      for a in table.get("AttributeDefinitions", [])],
        "billing_mode": (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED"),
        "read_capacity": read,
        "write_capacity": write,
        "global_secondary_index": gsis,
        "local_secondary_index": lsis,
        "stream_enabled": stream_enabled,
        "stream_view_type": stream.get("StreamViewType", "") if stream_enabled else "",
        "stream_arn": table.get("LatestStreamArn", ""),
        "stream_label": table.get("LatestStreamLabel", ""),
        "server_side_encryption": [] if not sse else [{
            "enabled": sse.get("Status") == "ENABLED",
            "kms_key_arn": "" if sse.get("KMSMasterKeyArn") in (None, default_key)
            else sse["KMSMasterKeyArn"],
        }],
        "deletion_protection_enabled": bool(table.get("DeletionProtectionEnabled", False)),
        "table_class": (table.get("TableClassSummary") or {}).get("TableClass", "STANDARD"),
    }


def pitr_attribute(answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    """DescribeContinuousBackups -> point_in_time_recovery."""
    pitr = (answer.get("ContinuousBackupsDescription") or {}).get("PointInTimeRecoveryDescription") or {}
    return [{"enabled": pitr.get("PointInTimeRecoveryStatus") == "ENABLED",
             "recovery_period_in_days": int(pitr.get("RecoveryPeriodInDays", 0))}]


def ttl_attribute(answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    """DescribeTimeToLive -> ttl."""
    ttl = answer.get("TimeToLiveDescription") or {}
    return [{"attribute_name": ttl.get("AttributeName", ""),
             "enabled": ttl.get("TimeToLiveStatus") == "ENABLED"}]


def table_tags(ddb: Any, arn: str) -> dict[str, str]:
    """ListTagsOfResource over every page (it has no botocore paginator)."""
    tags: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"ResourceArn": arn}
    while True:
        answer = ddb.list_tags_of_resource(**kwargs)
        tags.extend(answer.get("Tags") or [])
        if not answer.get("NextToken"):
            return tags_dict(tags)
        kwargs["NextToken"] = answer["NextToken"]


@collector(TABLE)
def collect_tables(ctx: CollectContext) -> Iterator[Resource]:
    ddb = ctx.client("dynamodb")
    wanted = ctx.wanted.get(TABLE.type, frozenset())
    for name in paginate(ddb, "list_tables", "TableNames"):
        table = ddb.describe_table(TableName=name)["Table"]
        if name not in wanted:
            yield ctx.resource(TABLE, name, table_attributes(table))
            continue
        key_arn = (table.get("SSEDescription") or {}).get("KMSMasterKeyArn")
        attrs = table_attributes(table, _default_dynamodb_key(ctx) if key_arn else None)
        attrs["point_in_time_recovery"] = pitr_attribute(ddb.describe_continuous_backups(TableName=name))
        attrs["ttl"] = ttl_attribute(ddb.describe_time_to_live(TableName=name))
        attrs["tags"] = table_tags(ddb, table["TableArn"])
        attrs["tags_all"] = dict(attrs["tags"])
        yield ctx.resource(TABLE, name, attrs)
