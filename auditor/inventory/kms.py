"""KMS customer-managed keys.

Calls per region: ListKeys (paginated) once; ListAliases (paginated) once when some key is not
held by a state, to tell AWS-managed keys (`alias/aws/...`) apart; DescribeKey,
GetKeyRotationStatus only for keys a state holds; their tags from one paginated Tagging API GetResources
(kms:key), or ListResourceTags per held key where that is denied. Unmanaged keys therefore carry only
their id and ARN.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from auditor.catalog import Listing, TypeSpec
from auditor.inventory.base import CollectContext, collector, held_tags, listed, paginate, register, tags_dict
from auditor.models import Resource

_AWS_ALIAS_PREFIX = "alias/aws/"

KEY = TypeSpec(
    type="aws_kms_key", partially_read=True,
    calls=("ListKeys", "ListAliases", "DescribeKey", "GetKeyRotationStatus", "ListResourceTags",
           "resourcegroupstaggingapi:GetResources"),
    service="kms",
    compared=("description", "key_usage", "customer_master_key_spec", "is_enabled", "enable_key_rotation",
              "rotation_period_in_days", "multi_region", "custom_key_store_id", "xks_key_id"),
    tags=True,
    optional_live=("rotation_period_in_days",),
    ignored={
        "id": "the key id",
        "key_id": "equal to the id",
        "arn": "derived from the id",
        "policy": "needs GetKeyPolicy per key; not compared",
        "deletion_window_in_days": "delete-time option",
        "bypass_policy_lockout_safety_check": "provider-only flag",
        "timeouts": "provider-only",
    },
    aws_owned=lambda r: bool(r.attributes.get("_aws_managed")),
    notes="Keys with an alias/aws/... alias (or KeyManager AWS) are AWS-managed and never unmanaged. A key "
          "pending deletion is gone, as the provider reads it. The rotation status is read only for "
          "symmetric keys with KMS key material (AWS has none for the others); moto does not return "
          "RotationPeriodInDays (optional_live).",
)


def _rotates(meta: Mapping[str, Any]) -> bool:
    """Whether AWS keeps a rotation status for the key (symmetric, KMS-generated material)."""
    return meta.get("KeySpec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT" and meta.get("Origin") == "AWS_KMS"


def key_attributes(meta: Mapping[str, Any], rotation: Mapping[str, Any] | None,
                   tags: Mapping[str, str]) -> dict[str, Any]:
    """DescribeKey's KeyMetadata (+ GetKeyRotationStatus when it applies, + tags) -> aws_kms_key attributes."""
    attrs: dict[str, Any] = {
        "id": meta["KeyId"],
        "key_id": meta["KeyId"],
        "arn": meta.get("Arn", ""),
        "description": meta.get("Description", ""),
        "key_usage": meta.get("KeyUsage", ""),
        "customer_master_key_spec": meta.get("KeySpec") or meta.get("CustomerMasterKeySpec", ""),
        "is_enabled": bool(meta.get("Enabled", False)),
        "enable_key_rotation": bool((rotation or {}).get("KeyRotationEnabled", False)),
        "multi_region": bool(meta.get("MultiRegion", False)),
        "custom_key_store_id": meta.get("CustomKeyStoreId", ""),
        "xks_key_id": (meta.get("XksKeyConfiguration") or {}).get("Id", ""),
        "tags": dict(tags),
        "tags_all": dict(tags),
        "_aws_managed": meta.get("KeyManager") == "AWS",
    }
    if rotation and "RotationPeriodInDays" in rotation:
        attrs["rotation_period_in_days"] = int(rotation["RotationPeriodInDays"])
    return attrs


def _aws_managed_key_ids(ctx: CollectContext) -> frozenset[str]:
    """Keys with an alias/aws/... alias (from the ListAliases aws_kms_alias lists too, made once)."""
    return frozenset(str(a["TargetKeyId"]) for a in listed(ctx, ALIAS)
                     if str(a.get("AliasName", "")).startswith(_AWS_ALIAS_PREFIX) and a.get("TargetKeyId"))


@collector(KEY)
def collect_keys(ctx: CollectContext) -> Iterator[Resource]:
    kms = ctx.client("kms")
    wanted = ctx.wanted.get(KEY.type, frozenset())
    keys = list(paginate(kms, "list_keys", "Keys"))
    aws_managed = _aws_managed_key_ids(ctx) if any(k["KeyId"] not in wanted for k in keys) else frozenset()
    for key in keys:
        key_id = key["KeyId"]
        if key_id not in wanted:
            yield ctx.resource(KEY, key_id, {"id": key_id, "key_id": key_id, "arn": key.get("KeyArn", ""),
                                             "_aws_managed": key_id in aws_managed})
            continue
        meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
        if meta.get("KeyState") == "PendingDeletion":
            continue
        rotation = kms.get_key_rotation_status(KeyId=key_id) if _rotates(meta) else None
        tags = held_tags(ctx, "kms:key", meta.get("Arn") or key.get("KeyArn", ""), lambda arn: tags_dict(
            paginate(kms, "list_resource_tags", "Tags", KeyId=arn), "TagKey", "TagValue"))
        yield ctx.resource(KEY, key_id, key_attributes(meta, rotation, tags))


# --- aws_kms_alias ------------------------------------------------------------------------------


def alias_attributes(alias: Mapping[str, Any]) -> dict[str, Any]:
    """A ListAliases item in aws_kms_alias state shape."""
    arn = str(alias.get("AliasArn", ""))
    key_id = str(alias.get("TargetKeyId", ""))
    return {"id": alias["AliasName"], "name": alias["AliasName"], "arn": arn, "target_key_id": key_id,
            "target_key_arn": f"{arn.split(':alias/', 1)[0]}:key/{key_id}" if arn and key_id else ""}


ALIAS = TypeSpec(
    type="aws_kms_alias",
    service="kms",
    compared=("name", "target_key_arn"),
    aws_owned=lambda r: str(r.id).startswith(_AWS_ALIAS_PREFIX),
    ignored={
        "id": "the alias name",
        "arn": "derived from the name",
        "target_key_id": "the state holds the id, ARN or alias the configuration gave; compared as target_key_arn",
        "name_prefix": "create-time option",
    },
    notes="One paginated ListAliases (shared with aws_kms_key's). Aliases of AWS managed keys (alias/aws/...) "
          "are AWS's, never unmanaged; an alias without a target is not listed by the provider either.",
    listing=Listing("ListAliases", "Aliases", "AliasName", skip=lambda alias: not alias.get("TargetKeyId"),
                    convert=lambda alias, _, __: alias_attributes(alias)),
)
collect_aliases = register(ALIAS)
