"""SSM parameters and Secrets Manager secrets: their settings, never their values.

A parameter's value is compared by its version alone (`version`: AWS bumps it on every PutParameter), so
no value is ever read: DescribeParameters carries everything compared. A secret's value is not read at
all (Terraform holds it in aws_secretsmanager_secret_version, not audited).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.catalog import BulkTags, Detail, Listing, StateView, TypeSpec
from auditor.inventory.base import CollectContext, register, tags_dict, with_tags
from auditor.models import Resource

_NEVER_READ = "the value is never read: compared by `version` (AWS bumps it on every change)"


def parameter_attributes(parameter: Mapping[str, Any], details: Mapping[str, Any]) -> dict[str, Any]:
    """A DescribeParameters item (+ its tags when read) in aws_ssm_parameter state shape, without the value."""
    attrs: dict[str, Any] = {
        "id": parameter["Name"],
        "name": parameter["Name"],
        "arn": parameter.get("ARN", ""),
        "type": parameter.get("Type", ""),
        "description": parameter.get("Description", ""),
        "tier": parameter.get("Tier", "Standard"),
        "data_type": parameter.get("DataType", "text"),
        "allowed_pattern": parameter.get("AllowedPattern", ""),
        "key_id": parameter.get("KeyId", "") if parameter.get("Type") == "SecureString" else "",
        "version": parameter.get("Version", 0),
    }
    return with_tags(attrs, details, "ListTagsForResource")


def _parameter_arn(parameter: Mapping[str, Any], ctx: CollectContext) -> str:
    """The parameter's ARN (DescribeParameters gives it; built from the name where it does not, as moto)."""
    name = str(parameter["Name"])
    return str(parameter.get("ARN") or f"arn:aws:ssm:{ctx.region}:{ctx.account_id}:parameter/{name.lstrip('/')}")


PARAMETER = TypeSpec(
    type="aws_ssm_parameter",
    service="ssm",
    compared=("name", "type", "description", "tier", "data_type", "allowed_pattern", "key_id", "version"),
    optional_live=("tags",),
    tags=True,
    ignored={
        "id": "the parameter name",
        "arn": "derived from the name",
        "value": _NEVER_READ,
        "insecure_value": _NEVER_READ,
        "value_wo": "write-only",
        "value_wo_version": "write-only trigger",
        "has_value_wo": "provider-only flag",
        "overwrite": "provider-only flag",
    },
    notes="One paginated DescribeParameters (no value is ever fetched: GetParameter is not called); the "
          "tags of held parameters from one paginated tag:GetResources (ssm:parameter), or ListTagsForResource "
          "per held parameter where that is denied. A value changed outside Terraform shows as "
          "`version`. key_id is compared for SecureString parameters only (AWS reports none otherwise).",
    listing=Listing("DescribeParameters", "Parameters", "Name", params={"PaginationConfig": {"PageSize": 50}},
                    convert=lambda parameter, details, _: parameter_attributes(parameter, details),
                    details=(Detail("ListTagsForResource", lambda p: {"ResourceType": "Parameter",
                                                                      "ResourceId": p["Name"]}, "TagList",
                                    bulk_tags=BulkTags("ssm:parameter", _parameter_arn)),)),
)
collect_parameters = register(PARAMETER)


def secret_attributes(secret: Mapping[str, Any]) -> dict[str, Any]:
    """A ListSecrets item in aws_secretsmanager_secret state shape (ListSecrets carries the tags)."""
    tags = tags_dict(secret.get("Tags"))
    return {
        "id": secret["ARN"],
        "arn": secret["ARN"],
        "name": secret.get("Name", ""),
        "description": secret.get("Description", ""),
        "kms_key_id": secret.get("KmsKeyId", ""),
        "replica": [{"region": r.get("Region", ""), "kms_key_id": r.get("KmsKeyId", "")}
                    for r in secret.get("ReplicationStatus") or []],
        "tags": tags,
        "tags_all": dict(tags),
        "_owning_service": secret.get("OwningService", ""),
    }


def _replicas(value: Any) -> Any:
    """Only each replica's region and key are compared (status fields are computed)."""
    if not isinstance(value, list):
        return value
    return [{"region": r.get("region"), "kms_key_id": r.get("kms_key_id") or ""} for r in value if isinstance(r, dict)]


def _stack_input(live: Resource, view: StateView) -> bool:
    """`covered`: a state's pull-through cache rule names this secret as its credential, an input the stack
    requires to exist first (ECR reads it under ecr-pullthroughcache/): known to the stack, not unmanaged."""
    return any(r.attributes.get("credential_arn") == live.id for r in view.get("aws_ecr_pull_through_cache_rule", ()))


SECRET = TypeSpec(
    type="aws_secretsmanager_secret",
    service="secretsmanager",
    compared=("name", "description", "kms_key_id", "replica"),
    set_paths=("replica",),
    normalizers={"replica": _replicas},
    tags=True,
    ignored={
        "id": "the secret ARN",
        "arn": "the import id",
        "policy": "needs GetResourcePolicy per secret; not compared",
        "name_prefix": "create-time option",
        "recovery_window_in_days": "delete-time option",
        "force_overwrite_replica_secret": "provider-only flag",
    },
    notes="One paginated ListSecrets carries everything compared, tags included; the secret value is never "
          "read. A secret scheduled for deletion is still listed, as AWS keeps it until then. Secrets a service "
          "owns (OwningService: RDS, ...) are AWS's; a secret a state's pull-through cache rule names as its "
          "credential is the stack's input: neither is reported unmanaged.",
    aws_owned=lambda r: bool(r.attributes.get("_owning_service")),
    covered=_stack_input,
    listing=Listing("ListSecrets", "SecretList", "ARN", convert=lambda secret, _, __: secret_attributes(secret)),
)
collect_secrets = register(SECRET)
