"""ECR: repositories, their lifecycle policies, and the registry's pull-through cache rules."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import botocore.exceptions

from auditor.aws import error_code
from auditor.catalog import TypeSpec
from auditor.inventory.base import CollectContext, collector, paginate, tags_dict
from auditor.models import Resource

REPOSITORY = TypeSpec(
    type="aws_ecr_repository", partially_read=True,
    service="ecr",
    compared=("name", "image_tag_mutability", "image_scanning_configuration", "encryption_configuration"),
    tags=True,
    optional_live=("tags",),
    ignored={
        "id": "the repository name",
        "arn": "derived from the name",
        "registry_id": "the account id",
        "repository_url": "derived from the account, region and name",
        "force_delete": "provider-only delete option",
        "timeouts": "provider-only",
    },
    notes="Tags need ListTagsForResource per repository: read only for repositories a state holds, "
          "so tags are compared for managed repositories and absent on unmanaged ones.",
)

LIFECYCLE_POLICY = TypeSpec(
    type="aws_ecr_lifecycle_policy", partially_read=True,
    service="ecr",
    compared=("repository", "policy"),
    json_attributes=("policy",),
    state_id=lambda a: str(a.get("repository") or a.get("id") or "") or None,
    ignored={
        "id": "the repository name",
        "registry_id": "the account id",
    },
    report_unmanaged=False,
    notes="GetLifecyclePolicy is called only for repositories whose policy a state holds, so a "
          "lifecycle policy created outside Terraform is not detected (never reported unmanaged).",
)

_NO_POLICY = "LifecyclePolicyNotFoundException"


def _repositories(ctx: CollectContext) -> list[dict[str, Any]]:
    """Every repository of the region (one paginated DescribeRepositories, shared by both types)."""
    return ctx.shared("ecr.describe_repositories",
                      lambda: list(paginate(ctx.client("ecr"), "describe_repositories", "repositories")))


def repository_attributes(repo: Mapping[str, Any], tags: dict[str, str] | None) -> dict[str, Any]:
    """DescribeRepositories item (+ tags when read) -> aws_ecr_repository state attributes."""
    encryption = repo.get("encryptionConfiguration") or {}
    scanning = repo.get("imageScanningConfiguration") or {}
    attrs: dict[str, Any] = {
        "id": repo["repositoryName"],
        "name": repo["repositoryName"],
        "arn": repo.get("repositoryArn", ""),
        "registry_id": repo.get("registryId", ""),
        "repository_url": repo.get("repositoryUri", ""),
        "image_tag_mutability": repo.get("imageTagMutability", "MUTABLE"),
        "image_scanning_configuration": [{"scan_on_push": bool(scanning.get("scanOnPush", False))}],
        "encryption_configuration": [{"encryption_type": encryption.get("encryptionType", "AES256"),
                                      "kms_key": encryption.get("kmsKey", "")}],
    }
    if tags is not None:
        attrs["tags"] = tags
        attrs["tags_all"] = dict(tags)
    return attrs


@collector(REPOSITORY)
def collect_repositories(ctx: CollectContext) -> Iterator[Resource]:
    ecr = ctx.client("ecr")
    wanted = ctx.wanted.get(REPOSITORY.type, frozenset())
    for repo in _repositories(ctx):
        name = repo["repositoryName"]
        tags = None
        if name in wanted:
            answer = ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"])
            tags = tags_dict(answer.get("tags"))
        yield ctx.resource(REPOSITORY, name, repository_attributes(repo, tags))


@collector(LIFECYCLE_POLICY)
def collect_lifecycle_policies(ctx: CollectContext) -> Iterator[Resource]:
    wanted = ctx.wanted.get(LIFECYCLE_POLICY.type, frozenset())
    if not wanted:
        return
    ecr = ctx.client("ecr")
    existing = {r["repositoryName"] for r in _repositories(ctx)}
    for name in sorted(wanted & existing):  # a gone repository has no policy: reported missing
        try:
            answer = ecr.get_lifecycle_policy(repositoryName=name)
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) == _NO_POLICY:
                continue
            raise
        yield ctx.resource(LIFECYCLE_POLICY, name, {
            "id": name,
            "repository": answer.get("repositoryName", name),
            "registry_id": answer.get("registryId", ""),
            "policy": answer.get("lifecyclePolicyText", ""),
        })


# --- aws_ecr_pull_through_cache_rule ------------------------------------------------------------


def _upstream_prefix(value: Any) -> Any:
    """AWS reports ROOT, its default (match any upstream repository), for a rule created without one."""
    return None if value in (None, "", "ROOT") else value


PULL_THROUGH_CACHE_RULE = TypeSpec(
    type="aws_ecr_pull_through_cache_rule",
    service="ecr",
    compared=("ecr_repository_prefix", "upstream_registry_url", "credential_arn", "custom_role_arn",
              "upstream_repository_prefix"),
    normalizers={"upstream_repository_prefix": _upstream_prefix},
    ignored={"id": "the repository prefix", "registry_id": "the account id"},
    notes="DescribePullThroughCacheRules (paginated) once per region. moto does not implement it (the demo's "
          "embedded server adds it, see auditor.demo.motoserver); against plain moto the type is unknown.",
)


def pull_through_cache_rule_attributes(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A DescribePullThroughCacheRules item in aws_ecr_pull_through_cache_rule state shape."""
    return {
        "id": rule["ecrRepositoryPrefix"],
        "ecr_repository_prefix": rule["ecrRepositoryPrefix"],
        "upstream_registry_url": rule.get("upstreamRegistryUrl", ""),
        "credential_arn": rule.get("credentialArn", ""),
        "custom_role_arn": rule.get("customRoleArn", ""),
        "upstream_repository_prefix": rule.get("upstreamRepositoryPrefix", ""),
        "registry_id": rule.get("registryId", ""),
    }


@collector(PULL_THROUGH_CACHE_RULE)
def collect_pull_through_cache_rules(ctx: CollectContext) -> Iterator[Resource]:
    for rule in paginate(ctx.client("ecr"), "describe_pull_through_cache_rules", "pullThroughCacheRules"):
        attrs = pull_through_cache_rule_attributes(rule)
        yield ctx.resource(PULL_THROUGH_CACHE_RULE, attrs["id"], attrs)
