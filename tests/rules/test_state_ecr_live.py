"""STATE and ECR rules on live resources (moto in-process, read by the real collectors), on state
resources (driftctl's real states), and on the live `terraform_backend` pseudo-resource."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from auditor.aws import Aws, AwsSettings
from auditor.inventory.ecr import pull_through_cache_rule_attributes
from auditor.inventory.runner import collect_inventory
from auditor.models import Finding, Inventory, Origin, Resource, Status
from auditor.rules.backend import BACKEND_TYPE, backend_resource
from auditor.rules.engine import evaluate
from auditor.rules.read import live_read_from
from auditor.rules.settings import RuleSettings
from auditor.state.model import LoadedState
from auditor.state.parse import parse_state
from auditor.state.resources import to_resources
from tests.rules.support import builtin_pack

ACCOUNT = "123456789012"
REGION = "eu-west-1"
GOOD, BAD, BARE, UNMANAGED = "tfstate-good", "tfstate-bad", "tfstate-bare", "tfstate-unmanaged"
S3_SPLIT = ("aws_s3_bucket_versioning", "aws_s3_bucket_server_side_encryption_configuration",
            "aws_s3_bucket_public_access_block", "aws_s3_bucket_policy")
TYPES = ("aws_s3_bucket", *S3_SPLIT, "aws_dynamodb_table", "aws_kms_key", "aws_ecr_repository",
         "aws_ecr_lifecycle_policy", "aws_ecr_pull_through_cache_rule", "aws_ecs_task_definition")
LISTED = ("aws_kms_key", "aws_ecr_pull_through_cache_rule")


def _status(findings: list[Finding], rule_id: str) -> dict[str, Status]:
    return {f.resource_id: f.status for f in findings if f.rule_id == rule_id}


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        yield Aws(AwsSettings(region=REGION))


def _tls_policy(bucket: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})


def _seed_buckets(aws: Aws, key_arn: str) -> None:
    s3 = aws.client("s3", REGION)
    for name in (GOOD, BAD, BARE, UNMANAGED):
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=GOOD, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(Bucket=GOOD, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}}]})
    s3.put_public_access_block(Bucket=GOOD, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3.put_bucket_policy(Bucket=GOOD, Policy=_tls_policy(GOOD))
    s3.put_bucket_versioning(Bucket=BAD, VersioningConfiguration={"Status": "Suspended"})
    s3.put_bucket_encryption(Bucket=BAD, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    s3.put_public_access_block(Bucket=BAD, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": False, "BlockPublicPolicy": True, "RestrictPublicBuckets": False})
    s3.put_bucket_policy(Bucket=BAD, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BAD}/*"}]}))


def _lock_table(aws: Aws, name: str, *, key_type: str = "S", key_arn: str | None = None,
                pitr: bool = False, hash_key: str = "LockID") -> None:
    ddb = aws.client("dynamodb", REGION)
    extra: dict[str, Any] = {}
    if key_arn:
        extra["SSESpecification"] = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key_arn}
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": hash_key, "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": hash_key, "AttributeType": key_type}],
                     BillingMode="PAY_PER_REQUEST", **extra)
    if pitr:
        ddb.update_continuous_backups(TableName=name,
                                      PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})


def _seed_ecr(aws: Aws, key_arn: str) -> None:
    ecr = aws.client("ecr", REGION)
    ecr.create_repository(repositoryName="app-good", imageTagMutability="IMMUTABLE",
                          imageScanningConfiguration={"scanOnPush": True},
                          encryptionConfiguration={"encryptionType": "KMS", "kmsKey": key_arn})
    ecr.put_lifecycle_policy(repositoryName="app-good", lifecyclePolicyText=json.dumps({"rules": [{
        "rulePriority": 1, "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 30},
        "action": {"type": "expire"}}]}))
    ecr.create_repository(repositoryName="app-bad")
    ecr.create_repository(repositoryName="scanned-by-registry", imageScanningConfiguration={"scanOnPush": False})
    ecr.put_registry_scanning_configuration(scanType="BASIC", rules=[{
        "scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "scanned-*", "filterType": "WILDCARD"}]}])


def _seed_tasks(aws: Aws) -> None:
    ecs = aws.client("ecs", REGION)
    for family, image in (("from-ecr", f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/app-good@sha256:{'a' * 64}"),
                          ("from-hub", "nginx:latest"), ("unmanaged", "nginx:1.25")):
        ecs.register_task_definition(family=family, containerDefinitions=[
            {"name": "web", "image": image, "memory": 512, "essential": True}])


def _deny_pull_through_cache_rules(aws: Aws) -> None:
    """DescribePullThroughCacheRules answers AccessDenied, whatever this process's moto implements (a session
    moto server's extension implements it, stock moto answers 500): the listing fails, deterministically."""
    def denied(**_: object) -> tuple[AWSResponse, dict[str, object]]:
        return AWSResponse("", 403, {}, None), {
            "Error": {"Code": "AccessDeniedException", "Message": "not allowed"},
            "ResponseMetadata": {"HTTPStatusCode": 403}}

    aws.client("ecr", REGION).meta.events.register("before-call.ecr.DescribePullThroughCacheRules", denied)


def _live(aws: Aws, wanted: Mapping[str, frozenset[str]]) -> tuple[Inventory, dict[str, frozenset[str]]]:
    _deny_pull_through_cache_rules(aws)
    inventory = collect_inventory(aws, [REGION], TYPES, ACCOUNT, {REGION: wanted}, workers=1)
    return inventory, live_read_from(inventory, {REGION: wanted}, LISTED)


@pytest.fixture
def live(aws: Aws) -> tuple[list[Finding], dict[str, frozenset[str]]]:
    kms = aws.client("kms", REGION)
    key_arn = kms.create_key(Description="state")["KeyMetadata"]["Arn"]
    _seed_buckets(aws, key_arn)
    _lock_table(aws, "locks-good", key_arn=key_arn, pitr=True)
    _lock_table(aws, "locks-bad", key_type="N")
    _lock_table(aws, "locks-unmanaged")
    _lock_table(aws, "GameScores", hash_key="UserId")
    _seed_ecr(aws, key_arn)
    _seed_tasks(aws)
    managed = frozenset({GOOD, BAD, BARE})
    wanted = {**{t: managed for t in S3_SPLIT}, "aws_s3_bucket": managed,
              "aws_dynamodb_table": frozenset({"locks-good", "locks-bad", "GameScores"}),
              "aws_ecr_repository": frozenset({"app-good", "app-bad", "scanned-by-registry"}),
              "aws_ecr_lifecycle_policy": frozenset({"app-good", "app-bad"}),
              "aws_ecs_task_definition": frozenset({"from-ecr", "from-hub"})}
    inventory, live_read = _live(aws, wanted)
    scanning = aws.client("ecr", REGION).get_registry_scanning_configuration()
    findings = evaluate(builtin_pack(), inventory.resources, live_read=live_read,
                        registry_scanning={REGION: scanning})
    return findings, live_read


def test_live_buckets(live: tuple[list[Finding], dict[str, frozenset[str]]]) -> None:
    findings, _ = live
    for rule_id in ("STATE-04", "STATE-05", "STATE-06", "STATE-07"):
        got = _status(findings, rule_id)
        assert got[GOOD] is Status.PASS, rule_id
        assert got[BAD] is Status.FAIL, rule_id
        # asked about and not configured: absent, not unobserved
        assert got[UNMANAGED] is Status.UNKNOWN, rule_id  # never asked about: missing evidence
    bare = {r: _status(findings, r)[BARE] for r in ("STATE-04", "STATE-05", "STATE-06", "STATE-07")}
    assert bare["STATE-04"] is Status.FAIL  # GetBucketVersioning answers "never enabled"
    assert bare["STATE-06"] is Status.FAIL and bare["STATE-07"] is Status.FAIL
    assert bare["STATE-05"] is Status.FAIL  # none, or S3's default AES256: not KMS either way


def test_live_lock_tables(live: tuple[list[Finding], dict[str, frozenset[str]]]) -> None:
    findings, _ = live
    expected = {
        "STATE-08": {"locks-good": Status.PASS, "locks-bad": Status.FAIL, "locks-unmanaged": Status.PASS},
        "STATE-09": {"locks-good": Status.PASS, "locks-bad": Status.FAIL, "locks-unmanaged": Status.UNKNOWN},
        "STATE-10": {"locks-good": Status.PASS, "locks-bad": Status.FAIL, "locks-unmanaged": Status.FAIL},
    }
    for rule_id, wanted in expected.items():
        got = _status(findings, rule_id)
        assert {k: got[k] for k in wanted} == wanted, rule_id
        assert got["GameScores"] is Status.NOT_APPLICABLE


def test_live_repositories(live: tuple[list[Finding], dict[str, frozenset[str]]]) -> None:
    findings, live_read = live
    assert _status(findings, "ECR-01") == {"app-good": Status.PASS, "app-bad": Status.FAIL,
                                           "scanned-by-registry": Status.PASS}
    assert _status(findings, "ECR-02")["app-good"] is Status.PASS
    assert _status(findings, "ECR-02")["app-bad"] is Status.FAIL
    assert _status(findings, "ECR-03") == {"app-good": Status.PASS, "app-bad": Status.FAIL,
                                           "scanned-by-registry": Status.UNKNOWN}
    assert _status(findings, "ECR-04") == {"app-good": Status.PASS, "app-bad": Status.FAIL,
                                           "scanned-by-registry": Status.FAIL}
    # the pull-through cache rules could not be listed: the type is unobserved, so ECR-05 is unknown
    assert "aws_ecr_pull_through_cache_rule" not in live_read
    assert set(_status(findings, "ECR-05").values()) == {Status.UNKNOWN}
    # no collector reads repository policies: unknown, never "no policy"
    assert set(_status(findings, "ECR-08").values()) == {Status.UNKNOWN}


def test_live_task_definitions(live: tuple[list[Finding], dict[str, frozenset[str]]]) -> None:
    findings, _ = live
    assert _status(findings, "ECR-06") == {"from-ecr": Status.PASS, "from-hub": Status.FAIL,
                                           "unmanaged": Status.UNKNOWN}
    assert _status(findings, "ECR-07") == {"from-ecr": Status.PASS, "from-hub": Status.FAIL,
                                           "unmanaged": Status.UNKNOWN}


def test_live_registry_scanning_not_observed(aws: Aws) -> None:
    aws.client("ecr", REGION).create_repository(repositoryName="plain")
    inventory, live_read = _live(aws, {})
    findings = evaluate(builtin_pack(), inventory.resources, live_read=live_read)
    verdict = next(f for f in findings if f.rule_id == "ECR-01")
    assert verdict.status is Status.UNKNOWN
    assert "registry scanning configuration" in verdict.message


def test_live_pull_through_cache_rules() -> None:
    """The collector's converter output, as DescribePullThroughCacheRules gives it (moto lacks the call)."""
    def cache_rule(prefix: str, url: str, secret: str = "") -> Resource:
        attrs = pull_through_cache_rule_attributes({"ecrRepositoryPrefix": prefix, "upstreamRegistryUrl": url,
                                                    "credentialArn": secret, "registryId": ACCOUNT})
        return Resource("aws_ecr_pull_through_cache_rule", prefix, attrs, Origin.LIVE, REGION)

    repo = Resource("aws_ecr_repository", "app", {"id": "app", "name": "app"}, Origin.LIVE, REGION)
    listed = {"aws_ecr_pull_through_cache_rule": frozenset({"*"})}
    secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:ecr-pullthroughcache/hub-AbCdEf"
    hub = cache_rule("docker-hub", "registry-1.docker.io", secret)
    findings = evaluate(builtin_pack(), [repo, hub], live_read=listed)
    assert _status(findings, "ECR-05") == {"app": Status.PASS, "docker-hub": Status.PASS}
    findings = evaluate(builtin_pack(), [repo, cache_rule("quay", "quay.io")], live_read=listed)
    assert _status(findings, "ECR-05") == {"app": Status.FAIL, "quay": Status.PASS}
    findings = evaluate(builtin_pack(), [repo], live_read={})
    assert _status(findings, "ECR-05") == {"app": Status.UNKNOWN}


# --- state resources (driftctl's real states) ---------------------------------------------------


def _state_resources(shared_fixtures: Path, *names: str) -> list[Resource]:
    loaded = []
    for name in names:
        path = shared_fixtures / "driftctl" / "state" / f"{name}.tfstate.json"
        loaded.append(LoadedState(uri=str(path), workspace="default", document=parse_state(path.read_bytes(),
                                                                                            str(path))))
    found = to_resources(loaded, "eu-west-3")
    return [*found.resources, *found.unsupported]


def test_state_buckets(shared_fixtures: Path) -> None:
    # driftctl's fixture buckets hold no state: judge them as the peers judge every bucket
    findings = evaluate(builtin_pack(), _state_resources(shared_fixtures, "aws_s3_full"),
                        RuleSettings(bucket_scope="all"))
    for rule_id in ("STATE-04", "STATE-05", "STATE-06", "STATE-07"):
        got = _status(findings, rule_id)
        assert set(got) == {"bucket-martin-test-drift", "bucket-martin-test-drift2", "bucket-martin-test-drift3"}
        assert set(got.values()) == {Status.FAIL}, rule_id
    messages = {f.message for f in findings if f.rule_id == "STATE-07"}
    assert all("no Deny" in m for m in messages)  # public-read policies joined by bucket name


def test_state_repositories(shared_fixtures: Path) -> None:
    findings = evaluate(builtin_pack(), _state_resources(shared_fixtures, "aws_ecr_repository",
                                                         "aws_ecr_repository_policy"))
    assert _status(findings, "ECR-01") == {"bar": Status.PASS}
    assert _status(findings, "ECR-02") == {"bar": Status.FAIL}
    assert _status(findings, "ECR-03") == {"bar": Status.FAIL}
    assert _status(findings, "ECR-04") == {"bar": Status.FAIL}
    assert _status(findings, "ECR-08") == {"bar": Status.FAIL}  # Principal "*" without a condition


def test_state_tables_are_not_lock_tables(shared_fixtures: Path) -> None:
    findings = evaluate(builtin_pack(), _state_resources(shared_fixtures, "aws_dynamodb_table"))
    for rule_id in ("STATE-08", "STATE-09", "STATE-10"):
        assert set(_status(findings, rule_id).values()) == {Status.NOT_APPLICABLE}
    backend = backend_resource({"type": "s3", "bucket": "b", "key": "k", "dynamodb_table": "GameScores"},
                               origin=Origin.STATE)
    findings = evaluate(builtin_pack(), [*_state_resources(shared_fixtures, "aws_dynamodb_table"), backend])
    assert _status(findings, "STATE-08")["GameScores"] is Status.FAIL  # named by the backend, hash key UserId


# --- the live terraform_backend pseudo-resource -------------------------------------------------


def _backend(**attrs: Any) -> Resource:
    return backend_resource({"type": "s3", "bucket": "example-tfstate", "key": "prod/terraform.tfstate",
                             "region": REGION, **attrs}, origin=Origin.LIVE)


@pytest.mark.parametrize(("attrs", "rule_id", "status"), [
    ({"_sse": "aws:kms", "_sse_kms_key_id": "arn:aws:kms:eu-west-1:1:key/a"}, "STATE-03", Status.PASS),
    ({"encrypt": False, "_sse": "AES256"}, "STATE-03", Status.PASS),  # the object itself is the evidence
    ({"encrypt": True, "_sse": ""}, "STATE-03", Status.FAIL),
    ({"encrypt": True, "kms_key_id": "arn:aws:kms:eu-west-1:1:key/a", "_sse": "AES256"}, "STATE-03", Status.FAIL),
    ({"kms_key_id": "arn:aws:kms:eu-west-1:1:key/a", "_sse": "aws:kms",
      "_sse_kms_key_id": "arn:aws:kms:eu-west-1:1:key/b"}, "STATE-03", Status.FAIL),
    ({"dynamodb_table": "locks", "_lock_mechanisms_seen": ["dynamodb"]}, "STATE-02", Status.PASS),
    ({"dynamodb_table": "locks", "_lock_mechanisms_seen": []}, "STATE-02", Status.FAIL),
    ({"use_lockfile": True, "_lock_mechanisms_seen": []}, "STATE-02", Status.PASS),
    ({}, "STATE-02", Status.FAIL),
    ({}, "STATE-01", Status.PASS),
])
def test_live_backend(attrs: dict[str, Any], rule_id: str, status: Status) -> None:
    findings = evaluate(builtin_pack(), [_backend(**attrs)])
    got = [f for f in findings if f.rule_id == rule_id]
    assert [f.status for f in got] == [status], got[0].message
    assert got[0].resource_type == BACKEND_TYPE
