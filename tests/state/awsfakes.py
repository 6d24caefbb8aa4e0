"""Test kit for the state readers: v4 state bytes, a moto-backed Aws, Terraform-style locks, fakes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import botocore.exceptions
from moto import mock_aws

from auditor.aws import Aws, AwsSettings

REGION = "us-east-1"
BUCKET = "acme-tfstate"
TABLE = "acme-tf-locks"


LINEAGE = "5d1c9c3e-0000-4000-8000-000000000001"
LOCK_ID = "9f0c2f4e-1111-4222-8333-444455556666"


def state_bytes(serial: int = 1, vpc_id: str = "vpc-0a1b2c3d", lineage: str = LINEAGE) -> bytes:
    """A valid Terraform v4 state holding one VPC."""
    state = {
        "version": 4,
        "terraform_version": "1.9.5",
        "serial": serial,
        "lineage": lineage,
        "outputs": {},
        "resources": [
            {
                "mode": "managed",
                "type": "aws_vpc",
                "name": "main",
                "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
                "instances": [
                    {"schema_version": 1, "sensitive_attributes": [],
                     "attributes": {"id": vpc_id, "cidr_block": "10.0.0.0/16", "tags": {}}}
                ],
            }
        ],
        "check_results": None,
    }
    return json.dumps(state, indent=2).encode()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@contextmanager
def mocked_aws() -> Iterator[Aws]:
    """An Aws on moto (in-process) with no retries."""
    with mock_aws():
        yield Aws(AwsSettings(region=REGION, max_attempts=1))


def make_bucket(aws: Aws, bucket: str = BUCKET) -> None:
    aws.client("s3").create_bucket(Bucket=bucket)


def make_table(aws: Aws, table: str = TABLE) -> None:
    aws.client("dynamodb").create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
    )


def put_state(aws: Aws, key: str, data: bytes | None = None, *, bucket: str = BUCKET,
              table: str | None = None) -> bytes:
    """Upload a state like Terraform does: the object, then (with a lock table) its md5 digest item."""
    data = state_bytes() if data is None else data
    aws.client("s3").put_object(Bucket=bucket, Key=key, Body=data)
    if table:
        set_digest(aws, f"{bucket}/{key}", md5(data), table=table)
    return data


def set_digest(aws: Aws, state_id: str, digest: str, *, table: str = TABLE) -> None:
    aws.client("dynamodb").put_item(TableName=table, Item={"LockID": {"S": f"{state_id}-md5"},
                                                           "Digest": {"S": digest}})


def lock_info(who: str = "ci@runner-7", operation: str = "OperationTypeApply",
              created: str = "2024-05-01T10:11:12.000000Z", lock_id: str = LOCK_ID,
              path: str = f"{BUCKET}/platform/terraform.tfstate") -> str:
    """Terraform's lock-info JSON."""
    return json.dumps({"ID": lock_id, "Operation": operation, "Info": "", "Who": who, "Version": "1.9.5",
                       "Created": created, "Path": path})


def hold_dynamodb_lock(aws: Aws, state_id: str, info: str | None = None, *, table: str = TABLE) -> None:
    aws.client("dynamodb").put_item(TableName=table, Item={"LockID": {"S": state_id},
                                                           "Info": {"S": info or lock_info()}})


def release_dynamodb_lock(aws: Aws, state_id: str, *, table: str = TABLE) -> None:
    aws.client("dynamodb").delete_item(TableName=table, Key={"LockID": {"S": state_id}})


def hold_lockfile(aws: Aws, key: str, info: str | None = None, *, bucket: str = BUCKET) -> None:
    aws.client("s3").put_object(Bucket=bucket, Key=f"{key}.tflock", Body=(info or lock_info()).encode(),
                                IfNoneMatch="*")


def client_error(code: str, status: int, operation: str, *, message: str = "",
                 headers: dict[str, str] | None = None) -> botocore.exceptions.ClientError:
    response: Any = {"Error": {"Code": code, "Message": message},
                     "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": headers or {}}}
    return botocore.exceptions.ClientError(response, operation)


def fail(client: Any, method: str, error: BaseException, *,
         when: Callable[[dict[str, Any]], bool] = lambda params: True) -> list[dict[str, Any]]:
    """Make `client.<method>` raise `error` for calls where `when(params)`; returns those calls' params."""
    real = getattr(client, method)
    failed: list[dict[str, Any]] = []

    def wrapper(**params: Any) -> Any:
        if when(params):
            failed.append(params)
            raise error
        return real(**params)

    setattr(client, method, wrapper)
    return failed


def calls_since(aws: Aws, before: dict[str, int]) -> dict[str, int]:
    """API requests sent since the `aws.counter.snapshot()` taken as `before`."""
    after = aws.counter.snapshot()
    return {op: n - before.get(op, 0) for op, n in after.items() if n != before.get(op, 0)}


class FakeClock:
    """A monotonic clock that only moves when `sleep` is called; `on_sleep(n)` runs after the n-th sleep."""

    def __init__(self, on_sleep: Callable[[int], None] | None = None) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._on_sleep = on_sleep

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self._on_sleep:
            self._on_sleep(len(self.sleeps))
