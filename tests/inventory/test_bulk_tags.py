"""Tags read in bulk by the Tagging API's GetResources: every page of it, a resource it leaves out has no
tags, a denied GetResources falls back to each held resource's own tag call, any other error fails the type."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import botocore.exceptions
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from auditor.aws import Aws
from auditor.catalog import TypeSpec
from auditor.inventory import acm, dynamodb, kms, monitoring, sqs, storage
from auditor.inventory.base import CollectFn
from tests.inventory._platform import ACCOUNT, REGION, collect, context, deny_tagging, new_aws, spent_since

MOTO_TAGS = {"Source": "moto"}


@dataclass(frozen=True)
class Case:
    """A type whose tags come from GetResources: how to make a tagged one on moto (-> import id, ARN)."""

    spec: TypeSpec
    collect: CollectFn
    resource_type: str
    own_call: str
    make: Callable[[Aws, str], tuple[str, str]]


def _key(aws: Aws, _: str) -> tuple[str, str]:
    meta = aws.client("kms", REGION).create_key(Tags=[{"TagKey": "Source", "TagValue": "moto"}])["KeyMetadata"]
    return meta["KeyId"], meta["Arn"]


def _certificate(aws: Aws, name: str) -> tuple[str, str]:
    arn = aws.client("acm", REGION).request_certificate(
        DomainName=f"{name}.example.com", Tags=[{"Key": "Source", "Value": "moto"}])["CertificateArn"]
    return arn, arn


def _table(aws: Aws, name: str) -> tuple[str, str]:
    table = aws.client("dynamodb", REGION).create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST", AttributeDefinitions=[
            {"AttributeName": "id", "AttributeType": "S"}], KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        Tags=[{"Key": "Source", "Value": "moto"}])["TableDescription"]
    return name, table["TableArn"]


def _topic(aws: Aws, name: str) -> tuple[str, str]:
    arn = aws.client("sns", REGION).create_topic(Name=name, Tags=[{"Key": "Source", "Value": "moto"}])["TopicArn"]
    return arn, arn


def _queue(aws: Aws, name: str) -> tuple[str, str]:
    url = aws.client("sqs", REGION).create_queue(QueueName=name, tags=MOTO_TAGS)["QueueUrl"]
    return url, f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


def _bucket(aws: Aws, name: str) -> tuple[str, str]:
    s3 = aws.client("s3", REGION)
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": "Source", "Value": "moto"}]})
    return name, f"arn:aws:s3:::{name}"


CASES = [
    Case(kms.KEY, kms.collect_keys, "kms:key", "kms.ListResourceTags", _key),
    Case(acm.CERTIFICATE, acm.collect_certificates, "acm:certificate", "acm.ListTagsForCertificate", _certificate),
    Case(dynamodb.TABLE, dynamodb.collect_tables, "dynamodb:table", "dynamodb.ListTagsOfResource", _table),
    Case(monitoring.TOPIC, monitoring.collect_topics, "sns", "sns.ListTagsForResource", _topic),
    Case(sqs.QUEUE, sqs.collect_queues, "sqs", "sqs.ListQueueTags", _queue),
    Case(storage.BUCKET, storage.collect_buckets, "s3", "s3.GetBucketTagging", _bucket),
]
IDS = [case.spec.type for case in CASES]


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        yield new_aws()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_tags_come_from_every_page_of_get_resources(aws: Aws, case: Case) -> None:
    (listed, listed_arn), (unlisted, _) = case.make(aws, "one"), case.make(aws, "two")
    first = {"ResourceTypeFilters": [case.resource_type], "ResourcesPerPage": 100}
    before = aws.counter.snapshot()
    with Stubber(aws.client("resourcegroupstaggingapi", REGION)) as stub:
        stub.add_response("get_resources", {"ResourceTagMappingList": [
            {"ResourceARN": f"{listed_arn}-other", "Tags": [{"Key": "Source", "Value": "not-this-one"}]}],
            "PaginationToken": "page-2"}, first)
        stub.add_response("get_resources", {"ResourceTagMappingList": [
            {"ResourceARN": listed_arn, "Tags": [{"Key": "Source", "Value": "bulk"}]}]},
            {**first, "PaginationToken": "page-2"})
        found = collect(case.collect, context(aws, {case.spec.type: [listed, unlisted]}), case.spec)
        stub.assert_no_pending_responses()
    assert found[listed].attributes["tags"] == found[listed].attributes["tags_all"] == {"Source": "bulk"}
    assert found[unlisted].attributes["tags"] == {}  # GetResources leaves it out: it has no tags
    assert case.own_call not in spent_since(aws, before)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_moto_serves_the_tags_in_bulk(aws: Aws, case: Case) -> None:
    held, _ = case.make(aws, "held")
    before = aws.counter.snapshot()
    found = collect(case.collect, context(aws, {case.spec.type: [held]}), case.spec)
    spent = spent_since(aws, before)
    assert found[held].attributes["tags"] == MOTO_TAGS
    assert (spent.get("resource-groups-tagging-api.GetResources"), spent.get(case.own_call)) == (1, None)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_denied_get_resources_asks_each_held_resource(aws: Aws, case: Case) -> None:
    held, _ = case.make(aws, "held")
    case.make(aws, "other")
    deny_tagging(aws)
    before = aws.counter.snapshot()
    found = collect(case.collect, context(aws, {case.spec.type: [held]}), case.spec)
    assert found[held].attributes["tags"] == MOTO_TAGS
    assert spent_since(aws, before)[case.own_call] == 1  # the held one only


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_any_other_get_resources_error_fails_the_type(aws: Aws, case: Case) -> None:
    held, _ = case.make(aws, "held")
    with Stubber(aws.client("resourcegroupstaggingapi", REGION)) as stub:
        stub.add_client_error("get_resources", "InvalidParameterException", "bad filter", 400)
        with pytest.raises(botocore.exceptions.ClientError, match="InvalidParameterException"):
            collect(case.collect, context(aws, {case.spec.type: [held]}), case.spec)
