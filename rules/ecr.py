"""ECR-01..08: image scanning, tag hygiene, lifecycle, encryption and access of ECR repositories, and
where ECS task definitions take their images from.

Registry-level settings have no resource of their own to hang a verdict on, so they are judged per
repository: ECR-01 accepts a registry scanning rule that covers the repository
(`aws_ecr_registry_scanning_configuration` in code/state; live, `RuleContext.registry_scanning`),
ECR-05 asks on each repository whether its registry has a Docker Hub pull-through cache rule, and
judges each `aws_ecr_pull_through_cache_rule` itself (its upstream credential).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from auditor.code.values import Ref, Template
from auditor.models import Origin, Resource, Status, Unresolved
from auditor.rules.containers import image_repository, judge_containers
from auditor.rules.engine import rule
from auditor.rules.links import configured_by, in_same_region, same_address
from auditor.rules.model import Peers, RuleContext, Verdict
from auditor.rules.policies import customer_managed_key, document, iam_match, principal_is_public, statements
from auditor.rules.read import as_bool, as_list, blocks, get, observed, show, value_or_default
from auditor.rules.verdicts import Tri, any_of, failed, judge, passed, t_any, unknown, unobserved, unresolved

REPOSITORY = "aws_ecr_repository"
TASK_DEFINITION = "aws_ecs_task_definition"
CACHE_RULE = "aws_ecr_pull_through_cache_rule"
REGISTRY_SCANNING = "aws_ecr_registry_scanning_configuration"
REPOSITORY_KEYS = ("name", "id", "arn")
AUTOMATIC_SCANS = ("SCAN_ON_PUSH", "CONTINUOUS_SCAN")


def _repository_name(repo: Resource) -> Any:
    name = get(repo, "name")
    return repo.id if name is None and repo.origin is not Origin.CODE else name


def _registry_filter(filter_: Mapping[str, Any], name: Any) -> Tri:
    pattern = filter_.get("filter")
    if isinstance(pattern, Unresolved):
        return None
    if not isinstance(pattern, str):
        return False
    if isinstance(name, Unresolved):
        return True if pattern == "*" else None
    return isinstance(name, str) and iam_match(pattern, name)


def _scan_rule_covers(scan_rule: Mapping[str, Any], name: Any) -> Tri:
    frequency = scan_rule.get("scan_frequency")
    if isinstance(frequency, Unresolved):
        return None
    if frequency not in AUTOMATIC_SCANS:
        return False
    filters = blocks(scan_rule, "repository_filter")
    if isinstance(filters, Unresolved):
        return None
    return t_any(_registry_filter(f, name) for f in filters)


def _live_scanning_rules(answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    """GetRegistryScanningConfiguration -> the provider's `rule` blocks."""
    config = answer.get("scanningConfiguration", answer)
    return [{"scan_frequency": r.get("scanFrequency"),
             "repository_filter": [{"filter": f.get("filter"), "filter_type": f.get("filterType")}
                                   for f in r.get("repositoryFilters") or []]}
            for r in (config.get("rules") or [])]


def _live_scanning_answer(ctx: RuleContext, repo: Resource) -> Mapping[str, Any] | None:
    """The registry scanning answer for the repository's region (one answer, or {region: answer})."""
    answer = ctx.registry_scanning
    if not isinstance(answer, Mapping):
        return None
    if "scanningConfiguration" in answer or "rules" in answer:
        return answer
    found = answer.get(repo.region or "")
    return found if isinstance(found, Mapping) else None


def _coverage(rules_: Sequence[Mapping[str, Any]] | Unresolved, name: Any, where: str) -> Verdict:
    if isinstance(rules_, Unresolved):
        return unresolved(f"the rules of {where}", rules_)
    covered = t_any(_scan_rule_covers(r, name) for r in rules_)
    if covered is True:
        return passed(f"{where} scans it automatically")
    if covered is None:
        return unknown(f"{where} may cover it, but its rules cannot be known statically")
    return failed(f"{where} has no scan-on-push or continuous rule whose filter matches it")


def _registry_scanning(repo: Resource, ctx: RuleContext) -> Verdict:
    name = _repository_name(repo)
    if repo.origin is Origin.LIVE:
        observed_configs = [c for c in ctx.of_type(REGISTRY_SCANNING) if in_same_region(c, repo)]
        if observed_configs:  # the live inventory read the registry's configuration (one per region)
            return any_of(_coverage(blocks(c, "rule"), name, "the registry scanning configuration")
                          for c in observed_configs)
        answer = _live_scanning_answer(ctx, repo)
        if answer is None:
            return unobserved("the registry scanning configuration (it may scan this repository)")
        return _coverage(_live_scanning_rules(answer), name, "the registry scanning configuration")
    configs = [c for c in ctx.of_type(REGISTRY_SCANNING) if in_same_region(c, repo)]
    if not configs:
        return failed(f"no {REGISTRY_SCANNING} scans it")
    return any_of(_coverage(blocks(c, "rule"), name, c.address or c.id) for c in configs)


@rule(
    id="ECR-01", title="Images are scanned (scan on push per repo or a registry scanning rule)", severity="high",
    resource_types=(REPOSITORY,),
    rationale="""
Scanning finds known vulnerabilities in an image before it runs. Either the repository scans on push,
or a registry-level scanning rule (basic or enhanced, on push or continuous) covers it: the registry
rule wins over the repository setting, so a repository with scan_on_push = false that a registry rule
covers passes.""",
    remediation="Set `image_scanning_configuration { scan_on_push = true }`, or add an "
                "`aws_ecr_registry_scanning_configuration` with a SCAN_ON_PUSH or CONTINUOUS_SCAN rule whose "
                "filter matches the repository.",
    terraform="""
resource "aws_ecr_repository" "app" {
  name                 = "app"
  image_tag_mutability = "IMMUTABLE"
  image_scanning_configuration {
    scan_on_push = true
  }
}
""",
    peers=Peers(checkov=("CKV_AWS_163",), trivy=("AVD-AWS-0030",), securityhub=("ECR.1",),
                aws_config=("ecr-private-image-scanning-enabled",),
                prowler=("ecr_registry_scan_images_on_push_enabled",)),
)
def images_scanned(res: Resource, ctx: RuleContext) -> Verdict:
    own = as_bool(value_or_default(res, "image_scanning_configuration.0.scan_on_push", False))
    if own is True:
        return passed("scan_on_push is on", True)
    if isinstance(own, Unresolved):
        repository = unresolved("scan_on_push", own)
    elif own is None:
        repository = unobserved("scan_on_push")
    else:
        repository = failed("scan_on_push is off", own)
    return any_of([repository, _registry_scanning(res, ctx)])


@rule(
    id="ECR-02", title="Tags are immutable", severity="medium", resource_types=(REPOSITORY,),
    rationale="""
With mutable tags anyone who can push can silently replace the image behind a tag that a task
definition or a deployment already uses; immutable tags make every tag name one image forever.""",
    remediation="Set `image_tag_mutability = \"IMMUTABLE\"` on the repository.",
    terraform="""
resource "aws_ecr_repository" "app" {
  name                 = "app"
  image_tag_mutability = "IMMUTABLE"
}
""",
    peers=Peers(checkov=("CKV_AWS_51",), trivy=("AVD-AWS-0031",), securityhub=("ECR.2",),
                aws_config=("ecr-private-tag-immutability-enabled",), prowler=("ecr_repositories_tag_immutability",)),
)
def tags_immutable(res: Resource, ctx: RuleContext) -> Verdict:
    mutability = value_or_default(res, "image_tag_mutability", "MUTABLE")
    verdict = judge(mutability, "image_tag_mutability", lambda m: m == "IMMUTABLE", "IMMUTABLE",
                    absent=unobserved("image_tag_mutability"))
    if mutability == "IMMUTABLE_WITH_EXCLUSION":
        return failed("image_tag_mutability is IMMUTABLE_WITH_EXCLUSION: tags matching its exclusion filters "
                      "stay mutable", mutability)
    return verdict


def _lifecycle_rules(policy: Resource) -> Verdict:
    found = document(policy, "policy")
    if isinstance(found, Unresolved):
        return unresolved("the lifecycle policy", found)
    items = found.get("rules") if isinstance(found, Mapping) else None
    if isinstance(items, Unresolved):
        return unresolved("the lifecycle policy rules", items)
    if not as_list(items):
        return failed("the lifecycle policy has no rules", items)
    count = len(as_list(items))
    return passed(f"a lifecycle policy with {count} rule{'s' if count != 1 else ''} expires old images", count)


@rule(
    id="ECR-03", title="Repo has a lifecycle policy", severity="medium", resource_types=(REPOSITORY,),
    rationale="""
Without a lifecycle policy every pushed image is kept forever: storage grows without bound and old,
vulnerable images stay available to run.""",
    remediation="Add an `aws_ecr_lifecycle_policy` for the repository that expires untagged and old images.",
    terraform="""
resource "aws_ecr_repository" "app" {
  name                 = "app"
  image_tag_mutability = "IMMUTABLE"
}

resource "aws_ecr_lifecycle_policy" "app" {
  repository = aws_ecr_repository.app.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the last 30 images"
      selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 30 }
      action       = { type = "expire" }
    }]
  })
}
""",
    peers=Peers(securityhub=("ECR.3",), aws_config=("ecr-private-lifecycle-policy-configured",),
                prowler=("ecr_repositories_lifecycle_policy_enabled",)),
)
def lifecycle_policy(res: Resource, ctx: RuleContext) -> Verdict:
    return configured_by(ctx, res, "aws_ecr_lifecycle_policy", field="repository", keys=REPOSITORY_KEYS,
                         judge_child=_lifecycle_rules,
                         absent=failed("no lifecycle policy: every image is kept forever"))


@rule(
    id="ECR-04", title="Repo is encrypted with a KMS CMK", severity="low", resource_types=(REPOSITORY,),
    rationale="""
ECR encrypts images with AES256 by default, or with the AWS-managed aws/ecr key for KMS without a
key: neither gives a key policy or key-use audit you control. A customer-managed key does. In state
and live the AWS-managed key shows as an ARN like any other, so an ARN that is not a known
customer-managed key of the same source is UNKNOWN.""",
    remediation="Set `encryption_configuration { encryption_type = \"KMS\", kms_key = <customer-managed key ARN> }` "
                "(this replaces the repository).",
    terraform="""
resource "aws_kms_key" "ecr" {
  description         = "ECR images"
  enable_key_rotation = true
}

resource "aws_ecr_repository" "app" {
  name                 = "app"
  image_tag_mutability = "IMMUTABLE"
  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.ecr.arn
  }
}
""",
    peers=Peers(checkov=("CKV_AWS_136",), trivy=("AVD-AWS-0033",), securityhub=("ECR.5",),
                aws_config=("ecr-repository-cmk-encryption-enabled",)),
)
def repository_cmk(res: Resource, ctx: RuleContext) -> Verdict:
    kind = value_or_default(res, "encryption_configuration.0.encryption_type", "AES256")
    verdict = judge(kind, "encryption_type", lambda k: k in ("KMS", "KMS_DSSE"), "KMS",
                    absent=unobserved("encryption_configuration"))
    if verdict.status is not Status.PASS:
        return verdict
    key = get(res, "encryption_configuration.0.kms_key")
    cmk = customer_managed_key(key, ctx, bare_key=True if res.origin is Origin.CODE else None)
    if cmk is True:
        return passed(f"encrypted with customer-managed KMS key {show(key)}", show(key))
    if cmk is False:
        return failed("encrypted with the AWS-managed key aws/ecr, not a customer-managed key", key)
    if isinstance(key, Unresolved):
        return unresolved("kms_key", key)
    return unknown(f"KMS key {key} is not a customer-managed key of this source: it may be the AWS-managed "
                   "aws/ecr key", key)


DOCKER_HUB = "registry-1.docker.io"
NEEDS_CREDENTIALS = (DOCKER_HUB, "ghcr.io", "registry.gitlab.com")
CREDENTIAL_PREFIX = "ecr-pullthroughcache/"


def _secret_name(credential: Any, ctx: RuleContext) -> Any:
    """The Secrets Manager secret name in a credential ARN, or of the `aws_secretsmanager_secret` a
    code reference points to; an Unresolved when unknown."""
    if isinstance(credential, Ref):
        secret = next((r for r in ctx.of_type("aws_secretsmanager_secret")
                       if same_address(r.address, credential.address)), None)
        name = get(secret, "name") if secret is not None and credential.attribute in ("arn", "id") else None
        return name if isinstance(name, str | Unresolved) else credential
    if isinstance(credential, Unresolved):
        return credential
    return str(credential).split(":secret:", 1)[-1]


def _credential(cache_rule: Resource, upstream: str, ctx: RuleContext) -> Verdict:
    credential = get(cache_rule, "credential_arn")
    if not credential:
        if upstream in NEEDS_CREDENTIALS or upstream.endswith(".azurecr.io"):
            return failed(f"{upstream} needs credentials: credential_arn is not set")
        return passed(f"caches {upstream} (no credentials needed)", upstream)
    name = _secret_name(credential, ctx)
    if isinstance(name, Unresolved):
        return unresolved("the credential secret name", name)
    if not name.startswith(CREDENTIAL_PREFIX):
        return failed(f"credential secret {name!r} does not start with {CREDENTIAL_PREFIX!r}, as ECR requires",
                      credential)
    return passed(f"caches {upstream} with credentials from secret {name!r}", upstream)


def _cache_rule_itself(res: Resource, ctx: RuleContext) -> Verdict:
    upstream = get(res, "upstream_registry_url")
    if isinstance(upstream, Unresolved):
        return unresolved("upstream_registry_url", upstream)
    if not isinstance(upstream, str) or not upstream:
        return failed("upstream_registry_url is not set")
    return _credential(res, upstream, ctx)


def _docker_hub_cache(repo: Resource, ctx: RuleContext) -> Verdict:
    cache_rules = [r for r in ctx.of_type(CACHE_RULE) if in_same_region(r, repo)]
    upstreams = [(r, get(r, "upstream_registry_url")) for r in cache_rules]
    docker = [r for r, u in upstreams if u == DOCKER_HUB]
    if docker:
        prefixes = ", ".join(show(get(r, "ecr_repository_prefix")) for r in docker)
        return passed(f"the registry caches Docker Hub through pull-through cache prefix {prefixes}", prefixes)
    unknown_upstreams = [(r, u) for r, u in upstreams if isinstance(u, Unresolved)]
    if unknown_upstreams:
        r, u = unknown_upstreams[0]
        return unresolved(f"whether {r.address or r.id} caches Docker Hub", u)
    if not observed(ctx, repo, CACHE_RULE):
        return unobserved("the registry's pull-through cache rules")
    return failed(f"the registry has no pull-through cache rule for Docker Hub ({DOCKER_HUB}): images pulled from "
                  "Docker Hub bypass ECR and its rate-limit shield")


@rule(
    id="ECR-05", title="Pull-through cache exists for Docker Hub/public upstreams", severity="medium",
    resource_types=(REPOSITORY, CACHE_RULE),
    rationale="""
A pull-through cache rule lets builds and tasks pull Docker Hub and other public images through ECR:
no Docker Hub rate limits, images scanned and kept in the account. It is a registry setting, judged
on each repository (does its registry cache Docker Hub?) and on each cache rule (ECR requires upstream
credentials in a Secrets Manager secret whose name starts with `ecr-pullthroughcache/`).""",
    remediation="Add an `aws_ecr_pull_through_cache_rule` with `upstream_registry_url = \"registry-1.docker.io\"` "
                "and `credential_arn` pointing to an `ecr-pullthroughcache/...` secret.",
    terraform="""
resource "aws_secretsmanager_secret" "docker_hub" {
  name = "ecr-pullthroughcache/docker-hub" # ECR requires this name prefix
}

resource "aws_ecr_pull_through_cache_rule" "docker_hub" {
  ecr_repository_prefix = "docker-hub"
  upstream_registry_url = "registry-1.docker.io"
  credential_arn        = aws_secretsmanager_secret.docker_hub.arn
}

resource "aws_ecr_repository" "app" {
  name                 = "app"
  image_tag_mutability = "IMMUTABLE"
}
""",
    peers=Peers(),
)
def pull_through_cache(res: Resource, ctx: RuleContext) -> Verdict:
    if res.type == CACHE_RULE:
        return _cache_rule_itself(res, ctx)
    return _docker_hub_cache(res, ctx)


# --- task definition images (ECR-06, ECR-07) ---------------------------------------------------

ECR_IMAGE = re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/")


def _prefixes(text: str) -> str:
    return "(?:" + "|".join(re.escape(text[:i]) for i in range(len(text) + 1)) + ")"


# Texts that are the beginning of an ECR image reference (the rest still unknown).
ECR_BEGINNING = re.compile(
    r"\d{0,12}"
    rf"|\d{{12}}{_prefixes('.dkr.ecr.')}"
    r"|\d{12}\.dkr\.ecr\.[a-z0-9-]+"
    rf"|\d{{12}}\.dkr\.ecr\.[a-z0-9-]+{_prefixes('.amazonaws.com')}"
    rf"|\d{{12}}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com{_prefixes('.cn')}")


def _image_from_ecr(image: Any, ctx: RuleContext) -> Verdict:
    if isinstance(image, str):
        if ECR_IMAGE.match(image):
            return passed(f"{image} is in ECR", image)
        return failed(f"{image} is not an ECR image (<account>.dkr.ecr.<region>.amazonaws.com/...)", image)
    repo = image_repository(ctx, image)
    if repo is not None:
        name = repo if isinstance(repo, str) else (repo.address or repo.id)
        return passed(f"{show(image)} comes from ECR repository {name}", show(image))
    if isinstance(image, Template):
        prefix = image.literal_prefix
        if ECR_IMAGE.match(prefix):
            return passed(f"{show(image)} is in ECR", show(image))
        if not ECR_BEGINNING.fullmatch(prefix):
            return failed(f"{show(image)} is not an ECR image (<account>.dkr.ecr.<region>.amazonaws.com/...)",
                          show(image))
    if isinstance(image, Unresolved):
        return unresolved("the image registry", image)
    return failed(f"the image is {show(image)}, not an ECR image reference")


def _image_tag(image: Any) -> Verdict:
    if isinstance(image, str):
        return _literal_tag(image)
    last = image.parts[-1] if isinstance(image, Template) else image
    if isinstance(last, Ref) and last.attribute == "repository_url":
        return failed(f"{show(image)} has no tag: it resolves to :latest", show(image))
    if isinstance(image, Template):
        return _template_tag(image)
    if isinstance(image, Unresolved):
        return unresolved("the image tag", image)
    return failed(f"the image is {show(image)}, not an image reference")


def _literal_tag(image: str) -> Verdict:
    name, _, digest = image.partition("@")
    if digest:
        return _digest(image, digest)
    last = name.rsplit("/", 1)[-1]
    if ":" not in last:
        return failed(f"{image} has no tag: it resolves to :latest", image)
    return _tag(image, last.rsplit(":", 1)[1])


def _digest(text: str, digest: str) -> Verdict:
    """`digest` is the known text after `@` (the rest may be unknown: "" fits any digest)."""
    if digest.startswith("sha256:") or "sha256:".startswith(digest):
        return passed(f"{text} is pinned by digest", text)
    return failed(f"{text} has an invalid digest", text)


def _tag(text: str, tag: str) -> Verdict:
    if tag == "latest":
        return failed(f"{text} uses the :latest tag", text)
    return passed(f"{text} uses tag {tag!r} (pinning by @sha256 digest is preferred)", text)


def _template_tag(image: Template) -> Verdict:
    """A partly known image: a literal `@` pins a digest; the known text after the last unknown part
    decides the tag when it holds the last path segment's `:tag` or a `/` (then no tag)."""
    text = show(image)
    for literal in image.literals:
        if "@" in literal:
            return _digest(text, literal.rsplit("@", 1)[1])
    suffix = image.literal_suffix
    tail = suffix.rsplit("/", 1)[-1]
    if ":" in tail and tail.rsplit(":", 1)[1]:
        return _tag(text, tail.rsplit(":", 1)[1])
    if "/" in suffix and ":" not in tail:
        return failed(f"{text} has no tag: it resolves to :latest", text)
    return unresolved("the image tag", image)


@rule(
    id="ECR-06", title="ECS images come from ECR", severity="medium", resource_types=(TASK_DEFINITION,),
    rationale="""
Images pulled from Docker Hub or another public registry skip the account's scanning, immutability
and lifecycle controls and depend on an outside service's availability and rate limits. An image
whose registry part comes from a variable cannot be proven to be in ECR: UNKNOWN.""",
    remediation="Push the image to an ECR repository (or pull it through an ECR pull-through cache) and use "
                "`${aws_ecr_repository.app.repository_url}@<digest>` as the container image.",
    terraform="""
variable "image_digest" {
  type = string # sha256:<64 hex>, written by the release pipeline
}

resource "aws_ecr_repository" "app" {
  name                 = "app"
  image_tag_mutability = "IMMUTABLE"
}

resource "aws_ecs_task_definition" "app" {
  family = "app"
  container_definitions = jsonencode([{
    name  = "app"
    image = "${aws_ecr_repository.app.repository_url}@${var.image_digest}"
  }])
}
""",
    peers=Peers(),
)
def images_from_ecr(res: Resource, ctx: RuleContext) -> Verdict:
    return judge_containers(res, lambda container: _image_from_ecr(container.get("image"), ctx))


@rule(
    id="ECR-07", title="No :latest or untagged images (prefer @sha256:)", severity="medium",
    resource_types=(TASK_DEFINITION,),
    rationale="""
`:latest` (or no tag, which means latest) names whatever was pushed last: a task restart can run an
image nobody reviewed, and a rollback cannot return to the previous one. A fixed tag passes; a
`@sha256:` digest pins the exact image and is preferred.""",
    remediation="Reference the image by digest (`<repository_url>@sha256:...`) or at least by a fixed version tag.",
    terraform="""
locals {
  app_digest = "sha256:8f1c0c3b6a5e4d2f9a7b1c0e3d5f7a9b2c4e6f8a0b1c3d5e7f9a1b3c5d7e9f0a"
}

resource "aws_ecs_task_definition" "app" {
  family = "app"
  container_definitions = jsonencode([{
    name  = "app"
    image = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/app@${local.app_digest}"
  }])
}
""",
    peers=Peers(),
)
def images_pinned(res: Resource, ctx: RuleContext) -> Verdict:
    return judge_containers(res, lambda container: _image_tag(container.get("image")))


# --- repository policy (ECR-08) ----------------------------------------------------------------

CONSTRAINING_KEYS = frozenset({
    "aws:principalorgid", "aws:principalorgpaths", "aws:principalaccount", "aws:principalarn",
    "aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid", "aws:sourceorgpaths", "aws:sourcevpc",
    "aws:sourcevpce", "aws:sourceip",
})


def _constrained(condition: Any) -> Tri:
    """Whether a Condition limits who can use an Allow to a known account, organization or network."""
    if isinstance(condition, Unresolved):
        return None
    if not isinstance(condition, Mapping):
        return False
    results: list[Tri] = []
    for tests in condition.values():
        if isinstance(tests, Unresolved):
            results.append(None)
        elif isinstance(tests, Mapping):
            results.extend(str(k).lower() in CONSTRAINING_KEYS for k in tests)
    return t_any(results)


def _public_statement(statement: Mapping[str, Any]) -> Tri:
    effect = statement.get("Effect")
    if isinstance(effect, Unresolved):
        return None
    if effect != "Allow":
        return False
    if "NotPrincipal" in statement:
        return True
    public = principal_is_public(statement.get("Principal"))
    if public is False:
        return False
    constrained = _constrained(statement.get("Condition"))
    if constrained is True:
        return False
    return None if public is None or constrained is None else True


def _repository_policy(policy: Resource) -> Verdict:
    found = statements(document(policy, "policy"))
    if isinstance(found, Unresolved):
        return unresolved("the repository policy", found)
    public = [(i, _public_statement(s)) for i, s in enumerate(found)]
    opened = [str(found[i].get("Sid") or f"statement {i + 1}") for i, p in public if p is True]
    if opened:
        return failed(f"the repository policy allows anyone ({', '.join(opened)})", opened)
    if any(p is None for _, p in public):
        return unknown("the repository policy may allow anyone: parts of it cannot be known statically")
    return passed("the repository policy allows only named principals")


@rule(
    id="ECR-08", title="Repo policy is not public", severity="high", resource_types=(REPOSITORY,),
    rationale="""
A repository policy that allows Principal `*` (or every account) without a condition naming an
account, organization or network lets anyone pull, and with push actions replace, the images the
service runs. A repository without a policy is reachable only by the account's IAM principals.""",
    remediation="Name the accounts (or an organization with aws:PrincipalOrgID) in the repository policy instead "
                "of Principal \"*\".",
    terraform="""
resource "aws_ecr_repository" "app" {
  name                 = "app"
  image_tag_mutability = "IMMUTABLE"
}

resource "aws_ecr_repository_policy" "app" {
  repository = aws_ecr_repository.app.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "PullFromCiAccount"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::111122223333:root" }
      Action    = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    }]
  })
}
""",
    peers=Peers(checkov=("CKV_AWS_32",), trivy=("AVD-AWS-0032",),
                prowler=("ecr_repositories_not_publicly_accessible",)),
)
def repository_not_public(res: Resource, ctx: RuleContext) -> Verdict:
    return configured_by(ctx, res, "aws_ecr_repository_policy", field="repository", keys=REPOSITORY_KEYS,
                         judge_child=_repository_policy,
                         absent=passed("no repository policy: only the account's IAM principals can reach it"))

