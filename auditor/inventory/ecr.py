"""ECR: repositories, their lifecycle policies, and the registry's pull-through cache rules."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import botocore.exceptions

from auditor.aws import error_code
from auditor.catalog import Detail, Listing, TypeSpec
from auditor.inventory.base import CollectContext, collector, listed, moto_lacks, register, with_tags
from auditor.models import Resource

REPOSITORY = TypeSpec(
    type="aws_ecr_repository", partially_read=True,
    tags_per_resource=moto_lacks("ecr:repository"),
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
    listing=Listing("DescribeRepositories", "repositories", "repositoryName",
                    convert=lambda repo, details, _: with_tags(repository_attributes(repo), details),
                    details=(Detail("ListTagsForResource", lambda repo: {"resourceArn": repo["repositoryArn"]},
                                    "tags"),)),
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
    calls=("DescribeRepositories", "GetLifecyclePolicy"),
    notes="GetLifecyclePolicy is called only for repositories whose policy a state holds, so a "
          "lifecycle policy created outside Terraform is not detected (never reported unmanaged).",
)

_NO_POLICY = "LifecyclePolicyNotFoundException"


def _repositories(ctx: CollectContext) -> list[dict[str, Any]]:
    """Every repository of the region (the one paginated DescribeRepositories the repositories' collector makes)."""
    return listed(ctx, REPOSITORY)


def repository_attributes(repo: Mapping[str, Any]) -> dict[str, Any]:
    """DescribeRepositories item -> aws_ecr_repository state attributes (tags added by the collector)."""
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
    return attrs


collect_repositories = register(REPOSITORY)


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
    listing=Listing("DescribePullThroughCacheRules", "pullThroughCacheRules", "ecrRepositoryPrefix",
                    convert=lambda rule, _, __: pull_through_cache_rule_attributes(rule)),
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


collect_pull_through_cache_rules = register(PULL_THROUGH_CACHE_RULE)


# --- aws_ecr_repository_policy ------------------------------------------------------------------


def repository_policy_attributes(repo: Mapping[str, Any], details: Mapping[str, Any]) -> dict[str, Any] | None:
    """GetRepositoryPolicy's answer in aws_ecr_repository_policy state shape (None: the repository has none)."""
    answer = details.get("GetRepositoryPolicy")
    if answer is None:
        return None
    name = repo["repositoryName"]
    return {"id": name, "repository": answer.get("repositoryName", name),
            "registry_id": answer.get("registryId", repo.get("registryId", "")),
            "policy": answer.get("policyText", "")}


REPOSITORY_POLICY = TypeSpec(
    type="aws_ecr_repository_policy", partially_read=True,
    service="ecr",
    compared=("repository", "policy"),
    json_attributes=("policy",),
    state_id=lambda a: str(a.get("repository") or a.get("id") or "") or None,
    ignored={"id": "the repository name", "registry_id": "the account id"},
    report_unmanaged=False,
    notes="GetRepositoryPolicy for the repositories whose policy a state holds (the shared DescribeRepositories "
          "says which exist); a policy set outside Terraform on another repository is not detected.",
    listing=Listing("DescribeRepositories", "repositories", "repositoryName", held_only=True,
                    convert=lambda repo, details, _: repository_policy_attributes(repo, details),
                    details=(Detail("GetRepositoryPolicy", lambda repo: {"repositoryName": repo["repositoryName"]},
                                    absent=("RepositoryPolicyNotFoundException",)),)),
)
collect_repository_policies = register(REPOSITORY_POLICY)


# --- aws_ecr_registry_scanning_configuration ----------------------------------------------------


def registry_scanning_attributes(answer: Mapping[str, Any]) -> dict[str, Any]:
    """GetRegistryScanningConfiguration's answer in aws_ecr_registry_scanning_configuration state shape."""
    config = answer.get("scanningConfiguration") or {}
    registry = str(answer.get("registryId", ""))
    return {
        "id": registry,
        "registry_id": registry,
        "scan_type": config.get("scanType", "BASIC"),
        "rule": [{"scan_frequency": rule.get("scanFrequency", ""),
                  "repository_filter": [{"filter": f.get("filter", ""), "filter_type": f.get("filterType", "")}
                                        for f in rule.get("repositoryFilters") or []]}
                 for rule in config.get("rules") or []],
    }


def _basic_without_rules(res: Resource) -> bool:
    """AWS's own default (BASIC scanning, no rule): every registry has it, nobody made it."""
    return res.attributes.get("scan_type") == "BASIC" and not res.attributes.get("rule")


REGISTRY_SCANNING = TypeSpec(
    type="aws_ecr_registry_scanning_configuration",
    service="ecr",
    compared=("scan_type", "rule"),
    set_paths=("rule", "rule.*.repository_filter"),
    state_id=lambda a: str(a.get("registry_id") or a.get("id") or "") or None,
    calls=("GetRegistryScanningConfiguration",),
    aws_owned=_basic_without_rules,
    ignored={"id": "the registry (account) id", "registry_id": "the import id"},
    notes="GetRegistryScanningConfiguration once per region; the registry's default (BASIC, no rule) is "
          "AWS's, never unmanaged. It also feeds ECR-01 (scan on push through a registry rule).",
)


@collector(REGISTRY_SCANNING)
def collect_registry_scanning(ctx: CollectContext) -> Iterator[Resource]:
    attrs = registry_scanning_attributes(ctx.client("ecr").get_registry_scanning_configuration())
    yield ctx.resource(REGISTRY_SCANNING, attrs["id"] or ctx.account_id, attrs)


# --- aws_ecr_replication_configuration ----------------------------------------------------------


def replication_attributes(answer: Mapping[str, Any]) -> dict[str, Any]:
    """DescribeRegistry's replicationConfiguration in aws_ecr_replication_configuration state shape."""
    registry = str(answer.get("registryId", ""))
    rules = (answer.get("replicationConfiguration") or {}).get("rules") or []
    return {
        "id": registry,
        "registry_id": registry,
        "replication_configuration": [{"rule": [{
            "destination": [{"region": d.get("region", ""), "registry_id": d.get("registryId", "")}
                            for d in rule.get("destinations") or []],
            "repository_filter": [{"filter": f.get("filter", ""), "filter_type": f.get("filterType", "")}
                                  for f in rule.get("repositoryFilters") or []],
        } for rule in rules]}] if rules else [],
    }


REPLICATION = TypeSpec(
    type="aws_ecr_replication_configuration",
    service="ecr",
    compared=("replication_configuration",),
    state_id=lambda a: str(a.get("registry_id") or a.get("id") or "") or None,
    calls=("DescribeRegistry",),
    aws_owned=lambda r: not r.attributes.get("replication_configuration"),
    ignored={"id": "the registry (account) id", "registry_id": "the import id"},
    notes="DescribeRegistry once per region. A registry without replication rules is AWS's default, never "
          "unmanaged; rules (in order: AWS applies them in order) are compared with their destinations "
          "and filters.",
)


@collector(REPLICATION)
def collect_replication(ctx: CollectContext) -> Iterator[Resource]:
    attrs = replication_attributes(ctx.client("ecr").describe_registry())
    yield ctx.resource(REPLICATION, attrs["id"] or ctx.account_id, attrs)
