"""S3: buckets and their split configuration resources (DynamoDB tables are in dynamodb.py)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import botocore.exceptions

from auditor.aws import error_code
from auditor.catalog import TypeSpec
from auditor.inventory.base import (
    CollectContext,
    CollectFn,
    arn_partition,
    collector,
    held_tags,
    paginate,
    tags_dict,
)
from auditor.models import Resource

# --- S3 -------------------------------------------------------------------------------------

_LEGACY = "legacy inline block: the split aws_s3_bucket_* resources are compared on their own"
_PER_BUCKET = "needs one more per-bucket call; not compared"


def _bucket_id(attributes: Mapping[str, Any]) -> str | None:
    value = attributes.get("bucket") or attributes.get("id")
    return str(value) if value else None


BUCKET = TypeSpec(
    type="aws_s3_bucket", partially_read=True,
    calls=("ListBuckets", "GetBucketLocation", "GetBucketTagging", "resourcegroupstaggingapi:GetResources"),
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
          "tags only for buckets a state holds: from one paginated Tagging API GetResources per region (`s3`: "
          "a bucket ARN names no resource type), or GetBucketTagging per held bucket where that is denied. "
          "Unmanaged buckets carry name and ARN.",
)


def _split_spec(tf_type: str, operation: str, compared: tuple[str, ...], *,
                ignored: Mapping[str, str] | None = None, set_paths: tuple[str, ...] = (),
                json_attributes: tuple[str, ...] = ()) -> TypeSpec:
    """A split S3 configuration resource: matched on the bucket name, read only for buckets in state."""
    return TypeSpec(type=tf_type, service="s3", compared=("bucket", *compared), state_id=_bucket_id,
                    calls=("ListBuckets", "GetBucketLocation", operation),
                    ignored={"id": "the bucket name", **(ignored or {})}, set_paths=set_paths,
                    json_attributes=json_attributes, report_unmanaged=False, partially_read=True,
                    notes="Read only for buckets whose configuration a state holds (one call per bucket); "
                          "configurations made outside Terraform on other buckets are not detected.")


_OWNER = {"expected_bucket_owner": "provider-only request option"}
VERSIONING = _split_spec("aws_s3_bucket_versioning", "GetBucketVersioning", ("versioning_configuration",),
                         ignored={**_OWNER, "mfa": "write-only MFA token"})
ENCRYPTION = _split_spec("aws_s3_bucket_server_side_encryption_configuration", "GetBucketEncryption", ("rule",),
                         set_paths=("rule",), ignored=_OWNER)
PUBLIC_ACCESS_BLOCK = _split_spec("aws_s3_bucket_public_access_block", "GetPublicAccessBlock",
                                  ("block_public_acls", "block_public_policy", "ignore_public_acls",
                                   "restrict_public_buckets"))
BUCKET_POLICY = _split_spec("aws_s3_bucket_policy", "GetBucketPolicy", ("policy",), json_attributes=("policy",))

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
    calls=("ListBuckets", "GetBucketLocation", "GetBucketLifecycleConfiguration"),
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
    "get_bucket_ownership_controls": "OwnershipControlsNotFoundError",
    "get_bucket_logging": None,
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


def _bucket_tagging(ctx: CollectContext, region: str, arn: str) -> dict[str, str]:
    """GetBucketTagging of the bucket with this ARN (no tag set: no tags)."""
    tagging = bucket_config(ctx, "get_bucket_tagging", arn.rsplit(":", 1)[-1], region)
    return tags_dict(tagging.get("TagSet") if tagging else None)


@collector(BUCKET)
def collect_buckets(ctx: CollectContext) -> Iterator[Resource]:
    wanted = ctx.wanted.get(BUCKET.type, frozenset())
    for name, region in sorted(bucket_regions(ctx).items()):
        if region != ctx.region:
            continue
        arn = f"arn:{arn_partition(region)}:s3:::{name}"
        attrs: dict[str, Any] = {"id": name, "bucket": name, "arn": arn, "region": region}
        if name in wanted:
            attrs["tags"] = held_tags(ctx, "s3", arn, functools.partial(_bucket_tagging, ctx, region))
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
                     convert: Callable[[str, Mapping[str, Any]], dict[str, Any] | None]) -> CollectFn:
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
            attrs = convert(bucket, answer) if answer is not None else None
            if attrs is not None:  # None: the bucket has no such configuration (missing)
                yield ctx.resource(spec, bucket, attrs)

    return collect


collect_versioning = _split_collector(VERSIONING, "get_bucket_versioning", versioning_attributes)
collect_encryption = _split_collector(ENCRYPTION, "get_bucket_encryption", encryption_attributes)
collect_public_access_blocks = _split_collector(PUBLIC_ACCESS_BLOCK, "get_public_access_block",
                                                public_access_block_attributes)
collect_bucket_policies = _split_collector(BUCKET_POLICY, "get_bucket_policy", policy_attributes)
collect_lifecycle_configurations = _split_collector(LIFECYCLE, "get_bucket_lifecycle_configuration",
                                                    lifecycle_attributes)

OWNERSHIP_CONTROLS = _split_spec("aws_s3_bucket_ownership_controls", "GetBucketOwnershipControls", ("rule",))
LOGGING = _split_spec("aws_s3_bucket_logging", "GetBucketLogging",
                      ("target_bucket", "target_prefix", "target_grant", "target_object_key_format"),
                      set_paths=("target_grant",), ignored={**_OWNER})


def ownership_controls_attributes(bucket: str, answer: Mapping[str, Any]) -> dict[str, Any]:
    """GetBucketOwnershipControls -> aws_s3_bucket_ownership_controls (the provider keeps the first rule)."""
    rules = (answer.get("OwnershipControls") or {}).get("Rules") or []
    return {"id": bucket, "bucket": bucket,
            "rule": [{"object_ownership": rules[0].get("ObjectOwnership", "")}] if rules else []}


def logging_attributes(bucket: str, answer: Mapping[str, Any]) -> dict[str, Any] | None:
    """GetBucketLogging -> aws_s3_bucket_logging; None when logging is off (the resource is gone)."""
    enabled = answer.get("LoggingEnabled")
    if not enabled:
        return None
    key_format = enabled.get("TargetObjectKeyFormat") or {}
    partitioned = key_format.get("PartitionedPrefix")
    return {
        "id": bucket, "bucket": bucket, "expected_bucket_owner": "",
        "target_bucket": enabled.get("TargetBucket", ""),
        "target_prefix": enabled.get("TargetPrefix", ""),
        "target_grant": [{"permission": g.get("Permission", ""), "grantee": [{
            "type": (g.get("Grantee") or {}).get("Type", ""), "id": (g.get("Grantee") or {}).get("ID", ""),
            "uri": (g.get("Grantee") or {}).get("URI", ""),
            "email_address": (g.get("Grantee") or {}).get("EmailAddress", ""),
            "display_name": (g.get("Grantee") or {}).get("DisplayName", "")}]}
            for g in enabled.get("TargetGrants") or []],
        "target_object_key_format": [{
            "partitioned_prefix": [{"partition_date_source": partitioned.get("PartitionDateSource", "")}]
            if partitioned else [],
            "simple_prefix": [{}] if "SimplePrefix" in key_format else [],
        }] if key_format else [],
    }


collect_ownership_controls = _split_collector(OWNERSHIP_CONTROLS, "get_bucket_ownership_controls",
                                              ownership_controls_attributes)
collect_logging = _split_collector(LOGGING, "get_bucket_logging", logging_attributes)
