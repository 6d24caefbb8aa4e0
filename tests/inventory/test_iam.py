"""IAM role and role-policy-attachment collectors, against moto in-process and botocore stubs."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime

import botocore.exceptions
import pytest
from botocore.stub import Stubber
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


# --- aws_iam_role_policy_attachment -------------------------------------------------------------

ATTACHMENT = iam.ROLE_POLICY_ATTACHMENT


def _policy(aws: Aws, name: str) -> str:
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}
    return str(aws.client("iam", REGION).create_policy(PolicyName=name, PolicyDocument=json.dumps(document))[
        "Policy"]["Arn"])


def test_attachment_import_id_is_role_slash_policy_arn() -> None:
    state = {"id": "app-20240501100000000000000001", "role": "app",
             "policy_arn": "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"}
    assert ATTACHMENT.import_id(state) == (
        "app/arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")
    assert ATTACHMENT.import_id({"id": "app-2024", "role": "app"}) is None


def test_attachments_of_wanted_roles_in_provider_shape(aws: Aws) -> None:
    _role(aws, "app")
    _role(aws, "other")
    logs, extra = _policy(aws, "logs"), _policy(aws, "extra")
    client = aws.client("iam", REGION)
    for role, policy in (("app", logs), ("app", extra), ("other", logs)):
        client.attach_role_policy(RoleName=role, PolicyArn=policy)
    before = aws.counter.snapshot()

    found = collect(iam.collect_role_policy_attachments, context(aws, {ATTACHMENT.type: [f"app/{logs}"]}),
                    ATTACHMENT)

    assert found[f"app/{logs}"].attributes == {"id": f"app/{logs}", "role": "app", "policy_arn": logs}
    assert set(found) == {f"app/{logs}", f"app/{extra}"}  # every policy of a role a state names
    assert spent_since(aws, before) == {"iam.ListAttachedRolePolicies": 1}  # the other role is not read
    state = {"id": "app-20240501100000000000000001", "role": "app", "policy_arn": logs}
    assert attribute_changes(ATTACHMENT, state, found[f"app/{logs}"].attributes) == []


def test_a_detached_policy_or_a_gone_role_leaves_the_attachment_missing(aws: Aws) -> None:
    _role(aws, "app")
    logs = _policy(aws, "logs")
    wanted = {ATTACHMENT.type: [f"app/{logs}", f"gone/{logs}"]}
    assert set(collect(iam.collect_role_policy_attachments, context(aws, wanted), ATTACHMENT)) == set()
    aws.client("iam", REGION).attach_role_policy(RoleName="app", PolicyArn=logs)
    assert set(collect(iam.collect_role_policy_attachments, context(aws, wanted), ATTACHMENT)) == {f"app/{logs}"}


def test_no_attachment_in_state_costs_no_call(aws: Aws) -> None:
    _role(aws, "app")
    before = aws.counter.snapshot()
    assert list(iam.collect_role_policy_attachments(context(aws))) == []
    assert spent_since(aws, before) == {}


def test_attached_policies_follow_every_page() -> None:
    pages = [[{"PolicyName": f"p{n}", "PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/p{n}"}] for n in (1, 2)]
    aws = new_aws()
    with Stubber(aws.client("iam", REGION)) as stub:
        for number, page in enumerate(pages):
            answer: dict[str, object] = {"AttachedPolicies": page}
            expected: dict[str, object] = {"RoleName": "app"}
            if number == 0:
                answer.update({"IsTruncated": True, "Marker": "page-2"})
            else:
                expected["Marker"] = "page-2"
            stub.add_response("list_attached_role_policies", answer, expected)
        found = list(iam.collect_role_policy_attachments(
            context(aws, {ATTACHMENT.type: [f"app/arn:aws:iam::{ACCOUNT}:policy/p2"]})))
        stub.assert_no_pending_responses()
    assert [r.id for r in found] == [f"app/arn:aws:iam::{ACCOUNT}:policy/p{n}" for n in (1, 2)]


def test_other_errors_reading_attachments_propagate() -> None:
    aws = new_aws()
    with Stubber(aws.client("iam", REGION)) as stub:
        stub.add_client_error("list_attached_role_policies", "AccessDenied", "not allowed")
        with pytest.raises(botocore.exceptions.ClientError, match="AccessDenied"):
            list(iam.collect_role_policy_attachments(context(aws, {ATTACHMENT.type: ["app/arn:x"]})))
