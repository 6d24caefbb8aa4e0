"""Terraform's state lock, taken and released exactly as Terraform's S3 backend does.

- S3-native (`use_lockfile`): the object `<key>.tflock`, written with `If-None-Match: *`, body the
  lock-info JSON; taken first.
- DynamoDB (`dynamodb_table`): the item `{LockID: "<bucket>/<key>", Info: <lock-info JSON>}`, put with
  `attribute_not_exists(LockID)`.

The lock-info JSON has Terraform's keys (ID, Operation, Info, Who, Version, Created, Path). A lock
someone else holds is never touched: the fix is refused, naming the holder. Release compares the ID
and deletes only what this process wrote (the DynamoDB delete is conditional on the exact Info).
"""

from __future__ import annotations

import getpass
import json
import signal
import socket
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import Any

import botocore.exceptions

from auditor import __version__
from auditor.aws import Aws, describe_error, error_code
from auditor.errors import AuditError
from auditor.fix.model import PlannedState
from auditor.state.backend import check_locks, parse_lock_info
from auditor.state.model import LockInfo, LockMechanism
from auditor.state.sources import LOCKFILE_SUFFIX, ResolvedState

OPERATION = "OperationTypeApply"
LOCK_PERMISSIONS = ("dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "kms:GenerateDataKey",
                    "s3:DeleteObject", "s3:GetObject", "s3:PutObject")
"""Taking, inspecting and releasing both locks (GenerateDataKey: a lock file in an SSE-KMS bucket)."""
_AWS_ERRORS = (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)


class LockRefused(AuditError):
    """The state is locked by someone else (or the lock could not be taken): nothing was changed."""


class LockReleaseError(AuditError):
    """A lock this process took could not be released."""


@dataclass(frozen=True, slots=True)
class HeldLock:
    """A lock this process took on one state."""

    state: ResolvedState
    id: str
    info: str  # the lock-info JSON exactly as written
    mechanisms: tuple[LockMechanism, ...]

    @property
    def lock_id(self) -> str:
        return f"{self.state.bucket}/{self.state.key}"


def resolved(state: PlannedState) -> ResolvedState:
    """The S3 object behind a planned state (`s3://bucket/key`)."""
    if not state.uri.startswith("s3://"):
        raise LockRefused(f"{state.uri}: only states in an S3 backend can be locked for a fix",
                          "run `terraform apply` for resources of a local state")
    bucket, _, key = state.uri[len("s3://"):].partition("/")
    return ResolvedState(uri=state.uri, bucket=bucket, key=key, workspace="default", lock_table=state.lock_table,
                         region=state.region, use_lockfile=state.use_lockfile)


def lock_info(state: ResolvedState, command: str, now: datetime | None = None) -> dict[str, str]:
    """Terraform's lock-info document, naming the auditor in Info."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return {
        "ID": str(uuid.uuid4()),
        "Operation": OPERATION,
        "Info": f"auditor {__version__}: {command}",
        "Who": f"{_user()}@{socket.gethostname()}",
        "Version": __version__,
        "Created": moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "Path": f"{state.bucket}/{state.key}",
    }


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"


def take(aws: Aws, state: ResolvedState, command: str) -> HeldLock:
    """Take the state's locks (lock file first, then DynamoDB, as Terraform does) or raise LockRefused."""
    s3 = aws.client("s3", state.region)
    info = lock_info(state, command)
    body = json.dumps(info)
    taken: list[LockMechanism] = []
    lock = HeldLock(state, info["ID"], body, ())
    try:
        if state.use_lockfile:
            try:
                s3.put_object(Bucket=state.bucket, Key=state.key + LOCKFILE_SUFFIX, Body=body.encode(),
                              ContentType="application/json", IfNoneMatch="*")
            except _AWS_ERRORS as exc:
                if error_code(exc) in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                    raise LockRefused(*_held(aws, state, LockMechanism.LOCKFILE)) from None
                raise LockRefused(f"{state.uri}: cannot take the lock file: {describe_error(exc)}") from None
            taken.append(LockMechanism.LOCKFILE)
        if state.lock_table:
            try:
                aws.client("dynamodb", state.region).put_item(
                    TableName=state.lock_table,
                    Item={"LockID": {"S": lock.lock_id}, "Info": {"S": body}},
                    ConditionExpression="attribute_not_exists(LockID)")
            except _AWS_ERRORS as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    raise LockRefused(*_held(aws, state, LockMechanism.DYNAMODB)) from None
                raise LockRefused(f"{state.uri}: cannot take the DynamoDB lock: {describe_error(exc)}") from None
            taken.append(LockMechanism.DYNAMODB)
    except BaseException:
        release(aws, HeldLock(state, lock.id, body, tuple(taken)))
        raise
    if not taken:
        raise LockRefused(f"{state.uri}: the backend has no lock (no DynamoDB table, no lock file)",
                          "configure lock_table or use_lockfile so a fix cannot race a terraform apply")
    return HeldLock(state, lock.id, body, tuple(taken))


def _held(aws: Aws, state: ResolvedState, mechanism: LockMechanism) -> tuple[str, str]:
    """(message, hint) naming whoever holds the lock."""
    status = check_locks(aws.client("s3", state.region),
                         aws.client("dynamodb", state.region) if state.lock_table else None, state)
    holders = [h for h in status.held if h.mechanism is mechanism] or list(status.held)
    who = "; ".join(h.describe() for h in holders) if holders else f"locked ({mechanism.value})"
    return f"{state.uri}: state is {who}", "nothing was changed; retry when that operation has finished"


def release(aws: Aws, lock: HeldLock) -> list[str]:
    """Delete what this process wrote (DynamoDB first, then the lock file); returns the problems, if any.

    A lock whose ID is no longer ours is left alone (someone force-unlocked and re-locked)."""
    problems: list[str] = []
    state = lock.state
    if LockMechanism.DYNAMODB in lock.mechanisms:
        try:
            aws.client("dynamodb", state.region).delete_item(
                TableName=state.lock_table, Key={"LockID": {"S": lock.lock_id}},
                ConditionExpression="Info = :info", ExpressionAttributeValues={":info": {"S": lock.info}})
        except _AWS_ERRORS as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                problems.append(f"DynamoDB lock {lock.lock_id}: {describe_error(exc)}")
    if LockMechanism.LOCKFILE in lock.mechanisms:
        s3 = aws.client("s3", state.region)
        key = state.key + LOCKFILE_SUFFIX
        try:
            current = _lockfile(s3, str(state.bucket), key)
            if current is not None and current.id == lock.id:
                s3.delete_object(Bucket=state.bucket, Key=key)
        except _AWS_ERRORS as exc:
            problems.append(f"s3://{state.bucket}/{key}: {describe_error(exc)}")
    return [f"{p} (lock id {lock.id}: `terraform force-unlock {lock.id}` once nothing runs)" for p in problems]


def _lockfile(s3: Any, bucket: str, key: str) -> LockInfo | None:
    try:
        answer = s3.get_object(Bucket=bucket, Key=key)
    except _AWS_ERRORS as exc:
        if error_code(exc) in ("NoSuchKey", "404", "NotFound"):
            return None
        raise
    return parse_lock_info(LockMechanism.LOCKFILE, answer["Body"].read().decode("utf-8", errors="replace"))


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so every `finally` (lock release) runs."""


@contextmanager
def holding(aws: Aws, states: Sequence[PlannedState], command: str) -> Iterator[tuple[HeldLock, ...]]:
    """Take the lock of every state (sorted by URI), hold them for the block, release them in `finally`,
    also on SIGINT/SIGTERM. A refusal releases what was taken first and changes nothing."""
    held: list[HeldLock] = []
    previous = _on_sigterm()
    try:
        for state in sorted(states, key=lambda s: s.uri):
            held.append(take(aws, resolved(state), command))
        yield tuple(held)
    finally:
        problems = [p for lock in reversed(held) for p in release(aws, lock)]
        _restore(previous)
        if problems:
            raise LockReleaseError("lock not released: " + "; ".join(problems))


def _on_sigterm() -> Any:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise Terminated()

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: the caller's own handling stays
        return None


def _restore(previous: Any) -> None:
    if previous is not None:
        with suppress(ValueError):
            signal.signal(signal.SIGTERM, previous)
