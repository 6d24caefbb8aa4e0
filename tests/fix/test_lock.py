"""The fix takes Terraform's lock exactly as Terraform does, refuses a held one without touching it,
and releases only what it took — also on an error and on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from typing import Any

import pytest

from auditor.aws import Aws
from auditor.fix.lock import LockRefused, Terminated, holding, release, take
from auditor.fix.model import PlannedState
from auditor.state.model import LockMechanism
from auditor.state.sources import ResolvedState
from tests.state.awsfakes import (
    BUCKET,
    TABLE,
    hold_dynamodb_lock,
    hold_lockfile,
    lock_info,
    make_bucket,
    make_table,
    mocked_aws,
    put_state,
)

KEY = "platform/terraform.tfstate"
LOCK_ID = f"{BUCKET}/{KEY}"


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mocked_aws() as aws:
        make_bucket(aws)
        make_table(aws)
        put_state(aws, KEY, table=TABLE)
        yield aws


def planned(lockfile: bool = True, table: str | None = TABLE) -> PlannedState:
    return PlannedState(uri=f"s3://{BUCKET}/{KEY}", serial=1, lineage="l", lock_table=table, use_lockfile=lockfile,
                        region=None)


def state(lockfile: bool = True, table: str | None = TABLE) -> ResolvedState:
    return ResolvedState(uri=f"s3://{BUCKET}/{KEY}", bucket=BUCKET, key=KEY, workspace="default", lock_table=table,
                         use_lockfile=lockfile)


def item(aws: Aws) -> dict[str, Any] | None:
    return aws.client("dynamodb").get_item(TableName=TABLE, Key={"LockID": {"S": LOCK_ID}},
                                           ConsistentRead=True).get("Item")


def lockfile(aws: Aws) -> bytes | None:
    try:
        return bytes(aws.client("s3").get_object(Bucket=BUCKET, Key=KEY + ".tflock")["Body"].read())
    except aws.client("s3").exceptions.NoSuchKey:
        return None


def test_both_locks_carry_terraforms_lock_info(aws: Aws) -> None:
    with holding(aws, [planned()], "audit --fix") as held:
        (lock,) = held
        assert lock.mechanisms == (LockMechanism.LOCKFILE, LockMechanism.DYNAMODB)
        stored = item(aws)
        assert stored is not None and set(stored) == {"LockID", "Info"}
        info = json.loads(stored["Info"]["S"])
        assert list(info) == ["ID", "Operation", "Info", "Who", "Version", "Created", "Path"]
        assert info["ID"] == lock.id and info["Operation"] == "OperationTypeApply"
        assert info["Info"].startswith("auditor ") and "audit --fix" in info["Info"]
        assert "@" in info["Who"] and info["Path"] == LOCK_ID and info["Created"].endswith("Z")
        assert json.loads(lockfile(aws) or b"{}") == info
    assert item(aws) is None and lockfile(aws) is None


@pytest.mark.parametrize("where", ["dynamodb", "lockfile"])
def test_a_lock_held_by_terraform_is_refused_and_left_byte_identical(aws: Aws, where: str) -> None:
    theirs = lock_info(who="ci@runner-7", path=LOCK_ID)
    if where == "dynamodb":
        hold_dynamodb_lock(aws, LOCK_ID, theirs)
    else:
        hold_lockfile(aws, KEY, theirs)
    before_item, before_file = item(aws), lockfile(aws)
    with pytest.raises(LockRefused, match=r"locked by ci@runner-7 \(OperationTypeApply\)") as refused, \
            holding(aws, [planned()], "audit --fix"):
        pytest.fail("the block must not run")
    assert "nothing was changed" in str(refused.value)
    assert item(aws) == before_item and lockfile(aws) == before_file


def test_refusing_the_second_state_releases_the_first(aws: Aws) -> None:
    other = "other/terraform.tfstate"
    put_state(aws, other, table=TABLE)
    hold_dynamodb_lock(aws, f"{BUCKET}/{other}", lock_info(path=f"{BUCKET}/{other}"))
    second = PlannedState(uri=f"s3://{BUCKET}/{other}", serial=1, lineage="l", lock_table=TABLE,
                          use_lockfile=False, region=None)
    with pytest.raises(LockRefused), holding(aws, [second, planned()], "audit --fix"):
        pass
    assert item(aws) is None and lockfile(aws) is None  # ours (taken first, by URI order) released


def test_release_never_deletes_a_lock_that_is_not_ours(aws: Aws) -> None:
    lock = take(aws, state(), "audit --fix")
    # someone force-unlocks and Terraform locks again
    aws.client("dynamodb").delete_item(TableName=TABLE, Key={"LockID": {"S": LOCK_ID}})
    aws.client("s3").delete_object(Bucket=BUCKET, Key=KEY + ".tflock")
    theirs = lock_info(path=LOCK_ID)
    hold_dynamodb_lock(aws, LOCK_ID, theirs)
    hold_lockfile(aws, KEY, theirs)
    assert release(aws, lock) == []
    assert item(aws) == {"LockID": {"S": LOCK_ID}, "Info": {"S": theirs}}
    assert lockfile(aws) == theirs.encode()


def test_locks_are_released_when_the_fix_fails(aws: Aws) -> None:
    with pytest.raises(RuntimeError), holding(aws, [planned()], "audit --fix"):
        assert item(aws) is not None
        raise RuntimeError("boom")
    assert item(aws) is None and lockfile(aws) is None


def test_locks_are_released_on_sigterm(aws: Aws) -> None:
    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated), holding(aws, [planned()], "audit --fix"):
        os.kill(os.getpid(), signal.SIGTERM)
        pytest.fail("SIGTERM must interrupt the block")
    assert item(aws) is None and lockfile(aws) is None
    assert signal.getsignal(signal.SIGTERM) == previous


def test_only_the_configured_mechanisms_are_taken(aws: Aws) -> None:
    with holding(aws, [planned(lockfile=False)], "audit --fix") as held:
        assert held[0].mechanisms == (LockMechanism.DYNAMODB,)
        assert lockfile(aws) is None
    with holding(aws, [planned(table=None)], "audit --fix") as held:
        assert held[0].mechanisms == (LockMechanism.LOCKFILE,)
        assert item(aws) is None


def test_a_backend_without_any_lock_is_refused(aws: Aws) -> None:
    with pytest.raises(LockRefused, match="has no lock"), holding(aws, [planned(lockfile=False, table=None)], "x"):
        pass


def test_a_local_state_is_refused() -> None:
    local = PlannedState(uri="terraform.tfstate", serial=1, lineage="l", lock_table=None, use_lockfile=False,
                         region=None)
    with pytest.raises(LockRefused, match="only states in an S3 backend"), holding(None, [local], "x"):  # type: ignore[arg-type]
        pass
