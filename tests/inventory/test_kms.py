"""KMS key collector, against moto in-process and botocore stubs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber
from moto import mock_aws

from auditor.aws import Aws
from auditor.diff import attribute_changes
from auditor.inventory import kms
from tests.inventory._platform import ACCOUNT, REGION, collect, context, deny_tagging, new_aws, spent_since

KEY = kms.KEY
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/"
ARN_K1 = f"{KEY_ARN}k1"
TAGS = [{"TagKey": "Project", "TagValue": "digitallync"}]


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        yield new_aws()


def _key(aws: Aws, description: str, *, rotate: bool = True) -> str:
    client = aws.client("kms", REGION)
    key_id = str(client.create_key(Description=description, KeyUsage="ENCRYPT_DECRYPT", Tags=TAGS)[
        "KeyMetadata"]["KeyId"])  # the provider sends its key_usage default
    if rotate:
        client.enable_key_rotation(KeyId=key_id)
    return key_id


def _state(key_id: str, **changes: Any) -> dict[str, Any]:
    """aws_kms_key as the provider writes it for `description = "ecr"`, rotation on (hand-written)."""
    return {
        "id": key_id, "key_id": key_id, "arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}",
        "description": "ecr", "key_usage": "ENCRYPT_DECRYPT", "customer_master_key_spec": "SYMMETRIC_DEFAULT",
        "is_enabled": True, "enable_key_rotation": True, "rotation_period_in_days": 365, "multi_region": False,
        "custom_key_store_id": "", "xks_key_id": "", "policy": "{}", "deletion_window_in_days": 30,
        "bypass_policy_lockout_safety_check": False, "timeouts": None,
        "tags": {"Project": "digitallync"}, "tags_all": {"Project": "digitallync"}, **changes,
    }


def test_managed_key_in_provider_shape(aws: Aws) -> None:
    key_id = _key(aws, "ecr")
    live = collect(kms.collect_keys, context(aws, {KEY.type: [key_id]}), KEY)[key_id]
    assert live.attributes == {
        "id": key_id, "key_id": key_id, "arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}",
        "description": "ecr", "key_usage": "ENCRYPT_DECRYPT", "customer_master_key_spec": "SYMMETRIC_DEFAULT",
        "is_enabled": True, "enable_key_rotation": True, "multi_region": False, "custom_key_store_id": "",
        "xks_key_id": "", "tags": {"Project": "digitallync"}, "tags_all": {"Project": "digitallync"},
        "_aws_managed": False,
    }  # moto does not answer RotationPeriodInDays (optional_live)
    assert attribute_changes(KEY, _state(key_id), live.attributes) == []


def test_rotation_switched_off_and_key_disabled_are_drift(aws: Aws) -> None:
    key_id = _key(aws, "ecr")
    client = aws.client("kms", REGION)
    client.disable_key_rotation(KeyId=key_id)
    client.disable_key(KeyId=key_id)
    live = collect(kms.collect_keys, context(aws, {KEY.type: [key_id]}), KEY)[key_id]
    assert [c.path for c in attribute_changes(KEY, _state(key_id), live.attributes)] == [
        "enable_key_rotation", "is_enabled"]


def test_rotation_period_is_compared_when_aws_reports_it() -> None:
    meta = {"KeyId": "k1", "Arn": ARN_K1, "Description": "ecr",
            "KeyUsage": "ENCRYPT_DECRYPT", "KeySpec": "SYMMETRIC_DEFAULT", "Enabled": True, "Origin": "AWS_KMS",
            "KeyManager": "CUSTOMER", "MultiRegion": False}
    live = kms.key_attributes(meta, {"KeyRotationEnabled": True, "RotationPeriodInDays": 90}, {})
    assert [c.path for c in attribute_changes(KEY, _state("k1", tags_all={}), live)] == ["rotation_period_in_days"]


def test_key_pending_deletion_is_gone_and_costs_no_rotation_call(aws: Aws) -> None:
    key_id = _key(aws, "ecr")
    aws.client("kms", REGION).schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    before = aws.counter.snapshot()
    assert collect(kms.collect_keys, context(aws, {KEY.type: [key_id]}), KEY) == {}
    assert spent_since(aws, before) == {"kms.ListKeys": 1, "kms.DescribeKey": 1}


def test_unmanaged_keys_carry_only_ids_and_aws_managed_keys_are_aws_owned(aws: Aws) -> None:
    managed, stray = _key(aws, "ecr"), _key(aws, "someone's", rotate=False)
    client = aws.client("kms", REGION)
    aws_key = client.describe_key(KeyId="alias/aws/dynamodb")["KeyMetadata"]["KeyId"]  # moto makes it on demand
    client.create_alias(AliasName="alias/stray", TargetKeyId=stray)
    before = aws.counter.snapshot()

    found = collect(kms.collect_keys, context(aws, {KEY.type: [managed]}), KEY)

    assert set(found) == {managed, stray, aws_key}
    assert found[stray].attributes == {"id": stray, "key_id": stray, "_aws_managed": False,
                                       "arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{stray}"}
    assert KEY.aws_owned is not None
    assert {k: KEY.aws_owned(r) for k, r in found.items()} == {managed: False, stray: False, aws_key: True}
    assert spent_since(aws, before) == {"kms.ListKeys": 1, "kms.ListAliases": 1, "kms.DescribeKey": 1,
                                        "kms.GetKeyRotationStatus": 1,
                                        "resource-groups-tagging-api.GetResources": 1}  # tags in bulk


def test_no_alias_call_when_every_key_is_held(aws: Aws) -> None:
    key_id = _key(aws, "ecr")
    before = aws.counter.snapshot()
    collect(kms.collect_keys, context(aws, {KEY.type: [key_id]}), KEY)
    assert "kms.ListAliases" not in spent_since(aws, before)


def test_keys_without_rotation_status_are_not_asked_for_it() -> None:
    aws = new_aws()
    deny_tagging(aws)
    meta = {"KeyId": "k1", "Arn": ARN_K1, "KeyUsage": "SIGN_VERIFY",
            "KeySpec": "RSA_2048", "Enabled": True, "Origin": "AWS_KMS", "KeyManager": "CUSTOMER"}
    with Stubber(aws.client("kms", REGION)) as stub:
        stub.add_response("list_keys", {"Keys": [{"KeyId": "k1", "KeyArn": meta["Arn"]}]}, {})
        stub.add_response("describe_key", {"KeyMetadata": meta}, {"KeyId": "k1"})
        stub.add_response("list_resource_tags", {"Tags": []}, {"KeyId": ARN_K1})
        [found] = list(kms.collect_keys(context(aws, {KEY.type: ["k1"]})))
        stub.assert_no_pending_responses()
    assert found.attributes["enable_key_rotation"] is False
    assert found.attributes["customer_master_key_spec"] == "RSA_2048"


def _pages(stub: Stubber, operation: str, key: str, pages: list[list[dict[str, Any]]],
           params: dict[str, Any] | None = None) -> None:
    """Stub `operation` to answer `pages` in turn, KMS style (Truncated + NextMarker -> Marker)."""
    for number, page in enumerate(pages):
        answer: dict[str, Any] = {key: page}
        if number < len(pages) - 1:
            answer.update({"Truncated": True, "NextMarker": f"page-{number + 2}"})
        stub.add_response(operation, answer, {**(params or {}), **({"Marker": f"page-{number + 1}"} if number else {})})


def test_keys_and_aliases_follow_every_page() -> None:
    aws = new_aws()
    with Stubber(aws.client("kms", REGION)) as stub:
        _pages(stub, "list_keys", "Keys", [[{"KeyId": f"k{n}", "KeyArn": f"{KEY_ARN}k{n}"}] for n in (1, 2)])
        _pages(stub, "list_aliases", "Aliases",
               [[{"AliasName": f"alias/aws/s{n}", "TargetKeyId": f"k{n}"}] for n in (1, 2)])
        found = list(kms.collect_keys(context(aws)))
        stub.assert_no_pending_responses()
    assert [r.id for r in found] == ["k1", "k2"]
    assert all(r.attributes["_aws_managed"] for r in found)


def test_resource_tags_follow_every_page() -> None:
    aws = new_aws()
    deny_tagging(aws)  # ListResourceTags is the fallback
    meta = {"KeyId": "k1", "Arn": ARN_K1, "KeySpec": "SYMMETRIC_DEFAULT", "Origin": "AWS_KMS"}
    with Stubber(aws.client("kms", REGION)) as stub:
        stub.add_response("list_keys", {"Keys": [{"KeyId": "k1", "KeyArn": ARN_K1}]}, {})
        stub.add_response("describe_key", {"KeyMetadata": meta}, {"KeyId": "k1"})
        stub.add_response("get_key_rotation_status", {"KeyRotationEnabled": True}, {"KeyId": "k1"})
        _pages(stub, "list_resource_tags", "Tags", [[{"TagKey": f"k{n}", "TagValue": f"v{n}"}] for n in (1, 2)],
               {"KeyId": ARN_K1})
        [found] = list(kms.collect_keys(context(aws, {KEY.type: ["k1"]})))
        stub.assert_no_pending_responses()
    assert found.attributes["tags"] == {"k1": "v1", "k2": "v2"}
