"""IAM role collector, against moto in-process and botocore stubs."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from moto import mock_aws

from auditor.aws import Aws
from auditor.diff import attribute_changes
from auditor.inventory import iam
from auditor.models import Origin, Resource
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

TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
BOUNDARY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        yield new_aws()


def _role(aws: Aws, name: str, **kwargs: object) -> dict[str, object]:
    client = aws.client("iam", REGION)
    role = client.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST), **kwargs)["Role"]
    return dict(role)


def test_managed_role_in_provider_shape(aws: Aws) -> None:
    role = _role(aws, "ecs-execution", Path="/app/", Description="pulls images", MaxSessionDuration=7200,
                 PermissionsBoundary=BOUNDARY, Tags=[{"Key": "Env", "Value": "prod"}])

    ctx = context(aws, {"aws_iam_role": ["ecs-execution"]})
    live = collect(iam.collect_roles, ctx, iam.ROLE)["ecs-execution"]

    attrs = dict(live.attributes)
    assert json.loads(attrs.pop("assume_role_policy")) == TRUST
    assert attrs == {
        "id": "ecs-execution", "name": "ecs-execution",
        "arn": f"arn:aws:iam::{ACCOUNT}:role/app/ecs-execution",
        "path": "/app/", "unique_id": role["RoleId"], "create_date": attrs["create_date"],
        "description": "pulls images", "max_session_duration": 7200, "permissions_boundary": BOUNDARY,
        "tags": {"Env": "prod"}, "tags_all": {"Env": "prod"},
    }
    assert datetime.strptime(attrs["create_date"], "%Y-%m-%dT%H:%M:%SZ")


def test_trust_policy_compares_as_a_document(aws: Aws) -> None:
    _role(aws, "app")
    live = collect(iam.collect_roles, context(aws, {"aws_iam_role": ["app"]}), iam.ROLE)["app"]
    terraform_text = json.dumps(TRUST, sort_keys=True, separators=(",", ":"))
    state = {**compared(iam.ROLE, live.attributes), "assume_role_policy": terraform_text,
             "permissions_boundary": "", "tags_all": {}}
    assert attribute_changes(iam.ROLE, state, live.attributes) == []

    widened = json.loads(json.dumps(TRUST))
    widened["Statement"][0]["Principal"] = {"Service": "ec2.amazonaws.com"}
    aws.client("iam", REGION).update_assume_role_policy(RoleName="app", PolicyDocument=json.dumps(widened))
    live = collect(iam.collect_roles, context(aws, {"aws_iam_role": ["app"]}), iam.ROLE)["app"]
    assert [c.path for c in attribute_changes(iam.ROLE, state, live.attributes)] == [
        "assume_role_policy.Statement[0].Principal.Service"]


def test_unmanaged_role_skips_get_role_and_its_fields(aws: Aws) -> None:
    _role(aws, "scratch", PermissionsBoundary=BOUNDARY, Tags=[{"Key": "Env", "Value": "dev"}])

    live = collect(iam.collect_roles, context(aws), iam.ROLE)["scratch"]

    assert "tags" not in live.attributes and "permissions_boundary" not in live.attributes
    assert calls(aws, "iam") == {"iam.CreateRole": 1, "iam.ListRoles": 1}
    state = {**compared(iam.ROLE, live.attributes), "permissions_boundary": "", "tags_all": {"Env": "prod"}}
    assert attribute_changes(iam.ROLE, state, live.attributes) == []  # not read, so not compared


def test_roles_created_by_aws_are_aws_owned(aws: Aws) -> None:
    linked = aws.client("iam", REGION).create_service_linked_role(AWSServiceName="ecs.amazonaws.com")["Role"]
    _role(aws, "console-made", Path="/service-role/")
    _role(aws, "mine")

    assert iam.ROLE.aws_owned is not None
    roles = collect(iam.collect_roles, context(aws), iam.ROLE)
    owned = {rid: iam.ROLE.aws_owned(r) for rid, r in roles.items()}

    assert linked["Path"].startswith("/aws-service-role/")
    assert owned == {linked["RoleName"]: True, "console-made": True, "mine": False}
    sso = Resource("aws_iam_role", "sso", {"path": "/aws-reserved/sso.amazonaws.com/"}, Origin.LIVE)
    assert iam.ROLE.aws_owned(sso)


def test_policy_text_accepts_decoded_and_url_encoded_documents() -> None:
    encoded = urllib.parse.quote(json.dumps(TRUST))
    assert json.loads(iam.policy_text(encoded)) == TRUST
    assert json.loads(iam.policy_text(TRUST)) == TRUST
    assert iam.policy_text('{"Version":"2012-10-17"}') == '{"Version":"2012-10-17"}'


def test_list_roles_follows_every_page() -> None:
    created = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    pages = [[{"RoleName": f"role-{n}", "Path": "/", "RoleId": f"AROA{n}XXXXXXXXXXXXXX",
               "Arn": f"arn:aws:iam::{ACCOUNT}:role/role-{n}", "CreateDate": created,
               "AssumeRolePolicyDocument": urllib.parse.quote(json.dumps(TRUST))}] for n in (1, 2)]
    found = paged(new_aws(), "iam", "list_roles", "Roles", pages, iam.collect_roles,
                  token="Marker", more={"IsTruncated": True})
    assert [r.id for r in found] == ["role-1", "role-2"]
    assert json.loads(found[0].attributes["assume_role_policy"]) == TRUST
    assert found[0].attributes["create_date"] == "2024-05-01T10:00:00Z"


def test_calls_for_a_few_roles(aws: Aws) -> None:
    for n in range(6):
        _role(aws, f"role-{n}")
    before = aws.counter.snapshot()

    found = collect(iam.collect_roles, context(aws, {"aws_iam_role": ["role-0", "role-3"]}), iam.ROLE)

    spent = spent_since(aws, before)
    assert len(found) == 6
    assert spent == {"iam.ListRoles": 1, "iam.GetRole": 2}
