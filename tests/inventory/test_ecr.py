"""ECR repository, lifecycle-policy and pull-through-cache collectors, against moto in-process and stubs."""

from __future__ import annotations

import json
from collections.abc import Iterator

import botocore.exceptions
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from auditor.aws import Aws
from auditor.diff import attribute_changes
from auditor.inventory import ecr
from tests.inventory._platform import (
    ACCOUNT,
    REGION,
    calls,
    collect,
    compared,
    context,
    new_aws,
    paged,
    spent_since,
)

POLICY = {"rules": [{
    "rulePriority": 1, "description": "keep 30", "action": {"type": "expire"},
    "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 30}}]}


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        yield new_aws()


def _repo(aws: Aws, name: str, **kwargs: object) -> dict[str, str]:
    return dict(aws.client("ecr", REGION).create_repository(repositoryName=name, **kwargs)["repository"])


def test_repository_in_provider_shape(aws: Aws) -> None:
    key = aws.client("kms", REGION).create_key()["KeyMetadata"]["Arn"]
    _repo(aws, "digitallync-core", imageTagMutability="IMMUTABLE",
          imageScanningConfiguration={"scanOnPush": True},
          encryptionConfiguration={"encryptionType": "KMS", "kmsKey": key},
          tags=[{"Key": "Env", "Value": "prod"}])

    ctx = context(aws, {"aws_ecr_repository": ["digitallync-core"]})
    live = collect(ecr.collect_repositories, ctx, ecr.REPOSITORY)["digitallync-core"]

    assert live.attributes == {
        "id": "digitallync-core", "name": "digitallync-core",
        "arn": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/digitallync-core",
        "registry_id": ACCOUNT,
        "repository_url": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/digitallync-core",
        "image_tag_mutability": "IMMUTABLE",
        "image_scanning_configuration": [{"scan_on_push": True}],
        "encryption_configuration": [{"encryption_type": "KMS", "kms_key": key}],
        "tags": {"Env": "prod"}, "tags_all": {"Env": "prod"},
    }


def test_unmanaged_repository_is_listed_without_tags_or_tag_calls(aws: Aws) -> None:
    _repo(aws, "scratch", tags=[{"Key": "Env", "Value": "dev"}])

    live = collect(ecr.collect_repositories, context(aws), ecr.REPOSITORY)["scratch"]

    assert compared(ecr.REPOSITORY, live.attributes) == {
        "name": "scratch", "image_tag_mutability": "MUTABLE",
        "image_scanning_configuration": [{"scan_on_push": False}],
        "encryption_configuration": [{"encryption_type": "AES256", "kms_key": ""}],
    }
    assert "tags" not in live.attributes
    assert calls(aws, "ecr") == {"ecr.CreateRepository": 1, "ecr.DescribeRepositories": 1}


def test_repository_drift_is_seen_and_tags_compared_only_when_read(aws: Aws) -> None:
    _repo(aws, "app", imageTagMutability="IMMUTABLE", tags=[{"Key": "Env", "Value": "prod"}])
    aws.client("ecr", REGION).put_image_tag_mutability(repositoryName="app", imageTagMutability="MUTABLE")
    state = {"name": "app", "image_tag_mutability": "IMMUTABLE", "tags_all": {"Env": "staging"},
             "image_scanning_configuration": [{"scan_on_push": False}],
             "encryption_configuration": [{"encryption_type": "AES256", "kms_key": ""}]}

    managed = collect(ecr.collect_repositories, context(aws, {"aws_ecr_repository": ["app"]}), ecr.REPOSITORY)
    unmanaged = collect(ecr.collect_repositories, context(aws), ecr.REPOSITORY)

    paths = [c.path for c in attribute_changes(ecr.REPOSITORY, state, managed["app"].attributes)]
    assert paths == ["image_tag_mutability", "tags.Env"]
    assert [c.path for c in attribute_changes(ecr.REPOSITORY, state, unmanaged["app"].attributes)] == [
        "image_tag_mutability"]


def test_lifecycle_policy_in_provider_shape(aws: Aws) -> None:
    _repo(aws, "app")
    text = json.dumps(POLICY)
    aws.client("ecr", REGION).put_lifecycle_policy(repositoryName="app", lifecyclePolicyText=text)

    ctx = context(aws, {"aws_ecr_lifecycle_policy": ["app"]})
    live = collect(ecr.collect_lifecycle_policies, ctx, ecr.LIFECYCLE_POLICY)

    assert live["app"].attributes == {"id": "app", "repository": "app", "registry_id": ACCOUNT,
                                      "policy": text}
    reordered = json.dumps(POLICY, sort_keys=True, separators=(",", ":"))
    assert attribute_changes(ecr.LIFECYCLE_POLICY, {"repository": "app", "policy": reordered},
                             live["app"].attributes) == []
    assert ecr.LIFECYCLE_POLICY.import_id({"id": "app", "repository": "app"}) == "app"


def test_deleted_lifecycle_policy_and_gone_repository_are_not_yielded(aws: Aws) -> None:
    client = aws.client("ecr", REGION)
    for name in ("kept", "cleared"):
        _repo(aws, name)
        client.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=json.dumps(POLICY))
    client.delete_lifecycle_policy(repositoryName="cleared")

    ctx = context(aws, {"aws_ecr_lifecycle_policy": ["kept", "cleared", "deleted-repo"]})
    found = collect(ecr.collect_lifecycle_policies, ctx, ecr.LIFECYCLE_POLICY)

    assert sorted(found) == ["kept"]
    # the repository that no longer exists costs no GetLifecyclePolicy call
    assert calls(aws, "ecr")["ecr.GetLifecyclePolicy"] == 2


def test_no_wanted_lifecycle_policy_costs_no_call(aws: Aws) -> None:
    _repo(aws, "app")
    assert list(ecr.collect_lifecycle_policies(context(aws))) == []
    assert "ecr.DescribeRepositories" not in calls(aws, "ecr")


@pytest.mark.parametrize("code", ["RepositoryNotFoundException", "AccessDeniedException", "ServerException"])
def test_other_lifecycle_errors_propagate(code: str) -> None:
    aws = new_aws()
    repo = {"repositoryName": "app", "repositoryArn": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/app"}
    with Stubber(aws.client("ecr", REGION)) as stub:
        stub.add_response("describe_repositories", {"repositories": [repo]})
        stub.add_client_error("get_lifecycle_policy", code, "no", expected_params={"repositoryName": "app"})
        with pytest.raises(botocore.exceptions.ClientError, match=code):
            list(ecr.collect_lifecycle_policies(context(aws, {"aws_ecr_lifecycle_policy": ["app"]})))


def test_describe_repositories_follows_every_page() -> None:
    pages = [[{"repositoryName": f"repo-{n}",
                "repositoryArn": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/repo-{n}"}] for n in (1, 2)]
    found = paged(new_aws(), "ecr", "describe_repositories", "repositories", pages, ecr.collect_repositories,
                  token="nextToken")
    assert [r.id for r in found] == ["repo-1", "repo-2"]


def test_calls_for_a_few_repositories(aws: Aws) -> None:
    client = aws.client("ecr", REGION)
    for n in range(5):
        _repo(aws, f"repo-{n}")
        client.put_lifecycle_policy(repositoryName=f"repo-{n}", lifecyclePolicyText=json.dumps(POLICY))
    before = aws.counter.snapshot()
    ctx = context(aws, {"aws_ecr_repository": ["repo-0", "repo-1"], "aws_ecr_lifecycle_policy": ["repo-0"]})

    repos = collect(ecr.collect_repositories, ctx, ecr.REPOSITORY)
    policies = collect(ecr.collect_lifecycle_policies, ctx, ecr.LIFECYCLE_POLICY)

    spent = spent_since(aws, before)
    assert (len(repos), len(policies)) == (5, 1)
    assert spent == {"ecr.DescribeRepositories": 1, "ecr.ListTagsForResource": 2, "ecr.GetLifecyclePolicy": 1}


# --- aws_ecr_pull_through_cache_rule ------------------------------------------------------------

RULE = ecr.PULL_THROUGH_CACHE_RULE
CREDENTIAL = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:ecr-pullthroughcache/docker-hub-AbCdEf"
# aws_ecr_pull_through_cache_rule.docker_hub as the provider writes it (hand-written from its schema)
RULE_STATE = {"id": "docker-hub", "ecr_repository_prefix": "docker-hub",
              "upstream_registry_url": "registry-1.docker.io", "credential_arn": CREDENTIAL, "custom_role_arn": "",
              "upstream_repository_prefix": "", "registry_id": ACCOUNT}


def test_pull_through_cache_rule_in_provider_shape() -> None:
    answer = {"ecrRepositoryPrefix": "docker-hub", "upstreamRegistryUrl": "registry-1.docker.io",
              "registryId": ACCOUNT, "credentialArn": CREDENTIAL, "upstreamRegistry": "docker-hub",
              "upstreamRepositoryPrefix": "ROOT"}
    live = ecr.pull_through_cache_rule_attributes(answer)
    assert live == {**RULE_STATE, "upstream_repository_prefix": "ROOT"}
    assert attribute_changes(RULE, RULE_STATE, live) == []  # ROOT is AWS's "no prefix"
    assert [c.path for c in attribute_changes(RULE, {**RULE_STATE, "upstream_repository_prefix": "library"},
                                              live)] == ["upstream_repository_prefix"]


def test_pull_through_cache_rules_round_trip_on_the_extended_moto(aws: Aws) -> None:
    from auditor.demo.motoserver import reference_stack_moto

    with reference_stack_moto():
        aws.client("ecr", REGION).create_pull_through_cache_rule(
            ecrRepositoryPrefix="docker-hub", upstreamRegistryUrl="registry-1.docker.io", credentialArn=CREDENTIAL)
        found = collect(ecr.collect_pull_through_cache_rules, context(aws), RULE)
    assert found["docker-hub"].attributes == RULE_STATE
    changed = {**RULE_STATE, "credential_arn": CREDENTIAL.replace("AbCdEf", "XyZxYz")}
    assert [c.path for c in attribute_changes(RULE, changed, found["docker-hub"].attributes)] == ["credential_arn"]


def test_pull_through_cache_rules_follow_every_page() -> None:
    pages = [[{"ecrRepositoryPrefix": p, "upstreamRegistryUrl": "registry-1.docker.io", "registryId": ACCOUNT}]
             for p in ("docker-hub", "quay")]
    found = paged(new_aws(), "ecr", "describe_pull_through_cache_rules", "pullThroughCacheRules", pages,
                  ecr.collect_pull_through_cache_rules, token="nextToken")
    assert [r.id for r in found] == ["docker-hub", "quay"]


def test_a_failed_rule_listing_propagates() -> None:
    aws = new_aws()
    with Stubber(aws.client("ecr", REGION)) as stub:
        stub.add_client_error("describe_pull_through_cache_rules", "AccessDeniedException", "no")
        with pytest.raises(botocore.exceptions.ClientError, match="AccessDeniedException"):
            list(ecr.collect_pull_through_cache_rules(context(aws)))


def test_the_embedded_aws_extension_behaves_like_ecr_and_is_undone_on_exit(aws: Aws) -> None:
    import os

    from moto import settings
    from moto.ecr.responses import ECRResponse

    from auditor.demo.motoserver import reference_stack_moto

    before = (hasattr(ECRResponse, "describe_pull_through_cache_rules"), settings.ACM_VALIDATION_WAIT,
              os.environ.get("MOTO_IAM_LOAD_MANAGED_POLICIES"))
    client = aws.client("ecr", REGION)
    with reference_stack_moto():
        assert (settings.ACM_VALIDATION_WAIT, os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"]) == (0, "true")
        client.create_pull_through_cache_rule(ecrRepositoryPrefix="quay", upstreamRegistryUrl="quay.io")
        for call, code in ((lambda: client.create_pull_through_cache_rule(
                ecrRepositoryPrefix="quay", upstreamRegistryUrl="quay.io"), "PullThroughCacheRuleAlreadyExists"),
                           (lambda: client.describe_pull_through_cache_rules(ecrRepositoryPrefixes=["nope"]),
                            "PullThroughCacheRuleNotFound")):
            with pytest.raises(botocore.exceptions.ClientError, match=code):
                call()
        assert client.delete_pull_through_cache_rule(ecrRepositoryPrefix="quay")["upstreamRegistryUrl"] == "quay.io"
        assert client.describe_pull_through_cache_rules()["pullThroughCacheRules"] == []
    assert (hasattr(ECRResponse, "describe_pull_through_cache_rules"), settings.ACM_VALIDATION_WAIT,
            os.environ.get("MOTO_IAM_LOAD_MANAGED_POLICIES")) == before
