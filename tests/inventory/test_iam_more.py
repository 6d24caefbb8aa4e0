"""IAM inline role policies, customer managed policies and instance profiles (moto in-process, stubs)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from moto import mock_aws

from auditor.aws import Aws
from auditor.diff import attribute_changes, diff
from auditor.inventory import iam
from auditor.models import DriftKind, Inventory, Observation, ObservationStatus, Origin, Resource
from auditor.state.resources import StateResources
from tests.inventory._platform import ACCOUNT, REGION, collect, compared, context, new_aws, paged, spent_since

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
LOGS = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]}


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        yield new_aws()


# --- aws_iam_role_policy ------------------------------------------------------------------------


def test_inline_role_policies_of_held_roles_in_provider_shape(aws: Aws) -> None:
    client = aws.client("iam", REGION)
    for role in ("app-exec", "other"):
        client.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST)
        client.put_role_policy(RoleName=role, PolicyName="logs", PolicyDocument=json.dumps(LOGS))
    client.put_role_policy(RoleName="app-exec", PolicyName="added-by-hand", PolicyDocument=json.dumps(LOGS))
    before = aws.counter.snapshot()

    found = collect(iam.collect_role_policies, context(aws, {"aws_iam_role_policy": ["app-exec:logs",
                                                                                        "gone-role:logs"]}),
                    iam.ROLE_POLICY)

    assert sorted(found) == ["app-exec:added-by-hand", "app-exec:logs"]  # the other role is not read
    live = found["app-exec:logs"].attributes
    assert json.loads(live["policy"]) == LOGS
    # the shape hashicorp/aws 5.100 writes: id <role>:<name>, the policy as JSON text
    state = {"id": "app-exec:logs", "name": "logs", "name_prefix": "", "role": "app-exec",
             "policy": json.dumps(LOGS, separators=(",", ":"))}
    assert iam.ROLE_POLICY.import_id(state) == "app-exec:logs"
    assert compared(iam.ROLE_POLICY, live) == {"name": "logs", "role": "app-exec", "policy": live["policy"]}
    assert attribute_changes(iam.ROLE_POLICY, state, live) == []
    widened = {**LOGS, "Statement": [{**LOGS["Statement"][0], "Action": "logs:*"}]}
    changes = attribute_changes(iam.ROLE_POLICY, {**state, "policy": json.dumps(widened)}, live)
    assert [(c.path, c.state, c.live) for c in changes] == [
        ("policy.Statement[0].Action", "logs:*", ["logs:CreateLogStream", "logs:PutLogEvents"])]
    assert spent_since(aws, before) == {"iam.ListRolePolicies": 2, "iam.GetRolePolicy": 2}


def _state(*resources: Resource) -> StateResources:
    return StateResources(resources=resources, holders={r.key: ("s3://b/k",) for r in resources},
                          unsupported=(), unmatched=(), deposed_ids=frozenset())


def test_an_inline_policy_added_by_hand_is_unmanaged_unless_the_role_names_it() -> None:
    def live(name: str) -> Resource:
        return Resource("aws_iam_role_policy", f"app:{name}", iam.role_policy_attributes("app", name, LOGS),
                        Origin.LIVE)

    held = Resource("aws_iam_role_policy", "app:logs", dict(live("logs").attributes), Origin.STATE, address="a.b")
    inventory = Inventory((live("logs"), live("extra")), (Observation("aws_iam_role_policy", REGION,
                                                                       ObservationStatus.OBSERVED, 2),), 0)
    kinds = {d.id: d.kind for d in diff(_state(held), inventory)}
    assert kinds == {"app:logs": DriftKind.IN_SYNC, "app:extra": DriftKind.UNMANAGED}
    role = Resource("aws_iam_role", "app", {"name": "app", "inline_policy": [{"name": "extra", "policy": "{}"}]},
                    Origin.STATE)
    kinds = {d.id: d.kind for d in diff(_state(held, role), inventory) if d.type == "aws_iam_role_policy"}
    assert kinds == {"app:logs": DriftKind.IN_SYNC}


def test_list_role_policies_follows_every_page() -> None:
    aws = new_aws()
    from botocore.stub import Stubber

    with Stubber(aws.client("iam", REGION)) as stub:
        stub.add_response("list_role_policies", {"PolicyNames": ["a"], "IsTruncated": True, "Marker": "m2"},
                          {"RoleName": "app"})
        stub.add_response("list_role_policies", {"PolicyNames": ["b"], "IsTruncated": False},
                          {"RoleName": "app", "Marker": "m2"})
        for name in ("a", "b"):
            stub.add_response("get_role_policy", {"RoleName": "app", "PolicyName": name,
                                                  "PolicyDocument": "%7B%22Version%22%3A%222012-10-17%22%7D"},
                              {"RoleName": "app", "PolicyName": name})
        found = list(iam.collect_role_policies(context(aws, {"aws_iam_role_policy": ["app:a"]})))
        stub.assert_no_pending_responses()
    assert [(r.id, r.attributes["policy"]) for r in found] == [("app:a", '{"Version":"2012-10-17"}'),
                                                               ("app:b", '{"Version":"2012-10-17"}')]


# --- aws_iam_policy -----------------------------------------------------------------------------


def test_managed_policies_in_provider_shape(aws: Aws) -> None:
    client = aws.client("iam", REGION)
    arn = client.create_policy(PolicyName="deploy", Path="/ci/", Description="CI deploys",
                               PolicyDocument=json.dumps(LOGS), Tags=[{"Key": "Team", "Value": "platform"}]
                               )["Policy"]["Arn"]
    newer = {**LOGS, "Statement": [{**LOGS["Statement"][0], "Action": "s3:*"}]}
    client.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(newer),
                                 SetAsDefault=False)
    other = client.create_policy(PolicyName="scratch", PolicyDocument=json.dumps(LOGS))["Policy"]["Arn"]
    before = aws.counter.snapshot()

    found = collect(iam.collect_policies, context(aws, {"aws_iam_policy": [arn]}), iam.POLICY)

    live = found[arn].attributes
    state = {"id": arn, "arn": arn, "name": "deploy", "name_prefix": "", "path": "/ci/", "description": "CI deploys",
             "policy": json.dumps(LOGS), "policy_id": live["policy_id"], "attachment_count": 0,
             "tags": {"Team": "platform"}, "tags_all": {"Team": "platform"}}
    assert attribute_changes(iam.POLICY, state, live) == []  # the default version's document, not v2
    assert compared(iam.POLICY, live)["path"] == "/ci/"
    assert set(found[other].attributes) == {"id", "arn", "name", "path", "policy_id", "attachment_count"}
    changes = attribute_changes(iam.POLICY, {**state, "description": "old", "tags_all": {}}, live)
    assert [c.path for c in changes] == ["description", "tags.Team"]
    assert spent_since(aws, before) == {"iam.ListPolicies": 1, "iam.GetPolicy": 1, "iam.GetPolicyVersion": 1}
    assert not any(p.startswith("arn:aws:iam::aws:") for p in found)  # AWS managed policies are not listed


def test_list_policies_follows_every_page_and_asks_for_local_ones() -> None:
    pages = [[{"PolicyName": f"p{n}", "Arn": f"arn:aws:iam::{ACCOUNT}:policy/p{n}", "DefaultVersionId": "v1"}]
             for n in (1, 2)]
    found = paged(new_aws(), "iam", "list_policies", "Policies", pages, iam.collect_policies, token="Marker",
                  more={"IsTruncated": True}, params={"Scope": "Local"})
    assert [r.attributes["name"] for r in found] == ["p1", "p2"]


# --- aws_iam_instance_profile -------------------------------------------------------------------


def test_instance_profiles_in_provider_shape(aws: Aws) -> None:
    client = aws.client("iam", REGION)
    client.create_role(RoleName="ec2-app", AssumeRolePolicyDocument=TRUST)
    client.create_instance_profile(InstanceProfileName="app", Path="/app/", Tags=[{"Key": "Env", "Value": "prod"}])
    client.add_role_to_instance_profile(InstanceProfileName="app", RoleName="ec2-app")
    client.create_instance_profile(InstanceProfileName="bare")

    found = collect(iam.collect_instance_profiles, context(aws, {"aws_iam_instance_profile": ["app"]}),
                    iam.INSTANCE_PROFILE)

    live = found["app"].attributes
    assert compared(iam.INSTANCE_PROFILE, live) == {"name": "app", "path": "/app/", "role": "ec2-app"}
    assert live["tags"] == {"Env": "prod"} and "tags" not in found["bare"].attributes
    state = {"id": "app", "name": "app", "path": "/app/", "role": "ec2-app", "arn": live["arn"],
             "unique_id": live["unique_id"], "create_date": "2026-01-01T00:00:00Z",
             "tags": {"Env": "prod"}, "tags_all": {"Env": "prod"}}
    assert attribute_changes(iam.INSTANCE_PROFILE, state, live) == []
    assert [c.path for c in attribute_changes(iam.INSTANCE_PROFILE, {**state, "role": "ec2-old"}, live)] == ["role"]


def test_list_instance_profiles_follows_every_page() -> None:
    pages = [[{"InstanceProfileName": f"p{n}", "InstanceProfileId": "AIPAEXAMPLE00000001",
               "Arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/p{n}", "Path": "/", "Roles": [],
               "CreateDate": "2026-01-01T00:00:00Z"}]
             for n in (1, 2)]
    found = paged(new_aws(), "iam", "list_instance_profiles", "InstanceProfiles", pages,
                  iam.collect_instance_profiles, token="Marker", more={"IsTruncated": True})
    assert [r.id for r in found] == ["p1", "p2"]
    assert found[0].attributes["role"] == ""
