"""Read Terraform states from the S3 backend (or local files) without ever taking a lock or writing.

For each resolved state: look at the locks Terraform may hold (DynamoDB item and/or S3
`<key>.tflock`), optionally wait for them to be released, stream the object while hashing it,
check the md5 against the backend's `<bucket>/<key>-md5` digest item (retrying a mismatch the
way Terraform does), then parse. States are read concurrently; one that fails becomes a
StateFailure with a one-line reason and the others are still read.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.exceptions

from auditor.aws import AWS_ERRORS, Aws, RetryPolicy, describe_error, error_code
from auditor.errors import AuditError, DigestMismatchError, StateError, StateLockedError
from auditor.state.model import (
    DigestCheck,
    DigestStatus,
    LoadedState,
    LockInfo,
    LockMechanism,
    LockStatus,
    StateDocument,
    StateFailure,
    StateRequest,
)
from auditor.state.parse import parse_state
from auditor.state.sources import LOCKFILE_SUFFIX, ResolvedState, one_line, resolve, s3_error

CHUNK_SIZE = 1024 * 1024
LOCK_POLL_INTERVAL = 2.0
_NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_AWS_ERRORS = AWS_ERRORS


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How every state of one load_states call is read (timing seams injectable for tests)."""

    wait_for_lock: float = 0.0
    secret_names: frozenset[str] | None = None
    digest_retry_seconds: float = 10.0
    digest_retry_interval: float = 2.0
    lock_poll_interval: float = LOCK_POLL_INTERVAL
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True, slots=True)
class _Job:
    aws: Aws
    state: ResolvedState


def load_states(aws: Aws, requests: Iterable[StateRequest], *, wait_for_lock: float = 0.0,
                max_workers: int = 8, secret_names: Iterable[str] | None = None,
                digest_retry_seconds: float = 10.0, digest_retry_interval: float = 2.0,
                lock_poll_interval: float = LOCK_POLL_INTERVAL,
                clock: Callable[[], float] = time.monotonic,
                sleep: Callable[[float], None] = time.sleep) -> tuple[list[LoadedState], list[StateFailure]]:
    """Resolve every request, read every state (bounded thread pool); failures are returned, not raised."""
    options = ReadOptions(wait_for_lock=max(0.0, wait_for_lock),
                          secret_names=frozenset(secret_names) if secret_names is not None else None,
                          digest_retry_seconds=digest_retry_seconds,
                          digest_retry_interval=digest_retry_interval,
                          lock_poll_interval=lock_poll_interval, clock=clock, sleep=sleep)
    sessions = _Sessions(aws)
    wanted = list(requests)
    loaded: list[LoadedState] = []
    failures: list[StateFailure] = []
    with ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix="state") as pool:
        jobs: dict[str, _Job] = {}  # by object URI: overlapping requests read a state once
        for request, outcome in zip(wanted, pool.map(lambda r: _resolve_request(sessions, r), wanted),
                                    strict=True):
            if isinstance(outcome, AuditError):
                failures.append(StateFailure(uri=request.uri, workspace=",".join(request.workspaces),
                                             error=one_line(str(outcome))))
            else:
                for job in outcome:
                    jobs.setdefault(job.state.uri, job)
        for job, result in zip(jobs.values(), pool.map(lambda j: _read_job(j, options), jobs.values()),
                               strict=True):
            if isinstance(result, LoadedState):
                loaded.append(result)
            else:
                failures.append(StateFailure(uri=job.state.uri, workspace=job.state.workspace,
                                             error=one_line(str(result))))
    return loaded, failures


class _Sessions:
    """One assumed-role Aws per role ARN, shared by every request that names it."""

    def __init__(self, aws: Aws) -> None:
        self._aws = aws
        self._assumed: dict[str, Aws] = {}
        self._lock = threading.Lock()

    def for_role(self, role_arn: str | None) -> Aws:
        if not role_arn:
            return self._aws
        with self._lock:
            if role_arn not in self._assumed:
                self._assumed[role_arn] = self._aws.assume(role_arn, session_name="auditor-state")
            return self._assumed[role_arn]


def _resolve_request(sessions: _Sessions, request: StateRequest) -> list[_Job] | AuditError:
    try:
        aws = sessions.for_role(request.role_arn if request.is_s3 else None)
        return [_Job(aws, state) for state in resolve(aws, request)]
    except AuditError as exc:
        return exc
    except _AWS_ERRORS as exc:
        return _aws_failure(request.uri, exc)


def _read_job(job: _Job, options: ReadOptions) -> LoadedState | AuditError:
    try:
        if job.state.is_local:
            return read_local(job.state, options)
        return read_s3(job.aws, job.state, options)
    except AuditError as exc:
        return exc
    except _AWS_ERRORS as exc:
        return _aws_failure(job.state.uri, exc)


def _aws_failure(uri: str, exc: Exception) -> StateError:
    """An AWS error not tied to one S3 call (e.g. no region configured for a client)."""
    no_region = isinstance(exc, botocore.exceptions.NoRegionError)
    hint = "pass --state-region or set AWS_REGION" if no_region else None
    return StateError(uri, describe_error(exc), hint)


# --- one S3 state -----------------------------------------------------------------------------


def read_s3(aws: Aws, state: ResolvedState, options: ReadOptions) -> LoadedState:
    """Locks, streamed read with md5, digest check, parse. Never locks, never writes."""
    s3 = aws.client("s3", state.region)
    dynamodb = aws.client("dynamodb", state.region) if state.lock_table else None
    lock = _await_locks(s3, dynamodb, state, options, aws.retry)
    data, digest, encryption, warnings = _read_verified(s3, dynamodb, state, options, aws.retry)
    if lock.is_held:
        warnings.append(f"state is {_describe_held(lock)}: read anyway, an operation may be in progress")
    warnings.extend(f"lock not checked: {error}" for error in lock.errors)
    document = _parse(data, state.uri, options)
    return LoadedState(uri=state.uri, workspace=state.workspace, document=document, lock=lock, digest=digest,
                       size_bytes=len(data), warnings=tuple(warnings), encryption=encryption,
                       lock_table=state.lock_table)


def _parse(data: bytes, source: str, options: ReadOptions) -> StateDocument:
    return parse_state(data, source, secret_names=options.secret_names)


def _await_locks(s3: Any, dynamodb: Any, state: ResolvedState, options: ReadOptions, retry: RetryPolicy) -> LockStatus:
    """The lock status; with wait_for_lock, poll until released or raise StateLockedError."""
    status = check_locks(s3, dynamodb, state, retry)
    if status.errors and not status.is_held and options.wait_for_lock > 0:
        reason = "; ".join(status.errors)
        raise StateLockedError(state.uri, f"cannot wait for the lock: its status is unknown ({reason})",
                               "grant read access to the lock (dynamodb:GetItem on the table, s3:GetObject on "
                               "the .tflock object), or drop --wait-for-lock")
    if not status.is_held or options.wait_for_lock <= 0:
        return status
    deadline = options.clock() + options.wait_for_lock
    while status.is_held:
        remaining = deadline - options.clock()
        if remaining <= 0:
            raise StateLockedError(state.uri, f"state is still {_describe_held(status)}",
                                   f"waited {options.wait_for_lock:g}s; retry later or pass a longer "
                                   "--wait-for-lock")
        options.sleep(min(options.lock_poll_interval, remaining))
        status = check_locks(s3, dynamodb, state, retry)
    return status


def _describe_held(status: LockStatus) -> str:
    return "; ".join(info.describe() for info in status.held)


def check_locks(s3: Any, dynamodb: Any, state: ResolvedState, retry: RetryPolicy | None = None) -> LockStatus:
    """Look (read-only) at the DynamoDB lock item and the `.tflock` object; errors are noted, not fatal."""
    retry = retry or RetryPolicy()  # the caller's Aws.retry when it has one: one budget per audit
    checked: list[LockMechanism] = []
    held: list[LockInfo] = []
    errors: list[str] = []
    if dynamodb is not None and state.lock_table:
        checked.append(LockMechanism.DYNAMODB)
        try:
            item = _get_item(dynamodb, state.lock_table, f"{state.bucket}/{state.key}")
        except _AWS_ERRORS as exc:
            errors.append(f"DynamoDB table {state.lock_table}: {describe_error(exc)}")
        else:
            if item is not None:
                held.append(parse_lock_info(LockMechanism.DYNAMODB, item.get("Info", {}).get("S")))
    if state.use_lockfile:
        checked.append(LockMechanism.LOCKFILE)
        lock_key = state.key + LOCKFILE_SUFFIX
        try:
            body = retry.call(lambda: _get_small_object(s3, str(state.bucket), lock_key))
        except _AWS_ERRORS as exc:
            if error_code(exc) not in _NOT_FOUND_CODES:
                errors.append(f"s3://{state.bucket}/{lock_key}: {describe_error(exc)}")
        else:
            held.append(parse_lock_info(LockMechanism.LOCKFILE, body.decode("utf-8", errors="replace")))
    return LockStatus(checked=tuple(checked), held=tuple(held), errors=tuple(errors))


def parse_lock_info(mechanism: LockMechanism, raw: str | None) -> LockInfo:
    """Terraform's lock-info JSON (ID, Operation, Info, Who, Version, Created, Path) as a LockInfo."""
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return LockInfo(mechanism=mechanism, id=None, operation=None, who=None, created=None,
                        info="unreadable lock info")

    def field(name: str) -> str | None:
        value = data.get(name)
        return str(value) if value not in (None, "") else None

    return LockInfo(mechanism=mechanism, id=field("ID"), operation=field("Operation"),
                    who=field("Who"), created=field("Created"), version=field("Version"),
                    path=field("Path"), info=field("Info"))


def _get_item(dynamodb: Any, table: str, lock_id: str) -> dict[str, Any] | None:
    response = dynamodb.get_item(TableName=table, Key={"LockID": {"S": lock_id}}, ConsistentRead=True)
    item = response.get("Item")
    return dict(item) if item else None


def _get_small_object(s3: Any, bucket: str, key: str) -> bytes:
    response = s3.get_object(Bucket=bucket, Key=key)
    with closing(response["Body"]) as body:
        return bytes(body.read())


def _read_verified(s3: Any, dynamodb: Any, state: ResolvedState, options: ReadOptions,
                   retry: RetryPolicy) -> tuple[bytes, DigestCheck, dict[str, str], list[str]]:
    """The object's bytes, digest verdict and encryption; a mismatch is re-read every interval until the deadline."""
    deadline = options.clock() + options.digest_retry_seconds
    while True:
        data, actual, encryption = _fetch(s3, state, retry)
        if dynamodb is None or not state.lock_table:
            return data, DigestCheck(DigestStatus.NOT_CHECKED, actual), encryption, []
        digest_id = f"{state.bucket}/{state.key}-md5"
        try:
            item = _get_item(dynamodb, state.lock_table, digest_id)
        except _AWS_ERRORS as exc:
            return data, DigestCheck(DigestStatus.UNREADABLE, actual), encryption, [
                f"md5 digest not checked: {describe_error(exc)}"]
        expected = str(item.get("Digest", {}).get("S", "")) if item else ""
        if not expected:
            return data, DigestCheck(DigestStatus.MISSING, actual), encryption, [
                f"no md5 digest item {digest_id} in {state.lock_table}: the state could not be verified"]
        if expected.lower() == actual:
            return data, DigestCheck(DigestStatus.VERIFIED, actual, expected), encryption, []
        del data  # never hold two copies across a retry
        if options.clock() >= deadline:
            raise DigestMismatchError(
                state.uri,
                f"state data in S3 does not have the expected content: calculated checksum {actual}, "
                f"DynamoDB digest {expected}",
                "an apply may be writing it (retry later); if the state was edited by hand, fix the "
                f"digest item {digest_id}",
            )
        options.sleep(options.digest_retry_interval)


def _fetch(s3: Any, state: ResolvedState, retry: RetryPolicy) -> tuple[bytes, str, dict[str, str]]:
    """GetObject streamed in chunks, hashed as it arrives; also how S3 says the object is encrypted.
    A body cut short is read again from the start (under the audit's retry policy)."""
    bucket = str(state.bucket)

    def get() -> tuple[bytes, str, dict[str, str]]:
        response = s3.get_object(Bucket=bucket, Key=state.key)
        encryption = {k: str(response[k]) for k in ("ServerSideEncryption", "SSEKMSKeyId") if response.get(k)}
        with closing(response["Body"]) as body:
            data, md5 = collect_hashed(body.iter_chunks(CHUNK_SIZE), int(response.get("ContentLength") or 0))
            return data, md5, encryption

    try:
        return retry.call(get)
    except _AWS_ERRORS as exc:
        raise s3_error(exc, uri=state.uri, bucket=bucket, key=state.key, client=s3,
                       workspace=state.workspace) from None


def collect_hashed(chunks: Iterable[bytes], size_hint: int) -> tuple[bytes, str]:
    """Chunks into one buffer while hashing them, without ever holding two copies of the state.

    The BytesIO is grown to the announced size once, written in place, and `getvalue()` hands
    its buffer over as the bytes object (CPython does not copy when sizes agree).
    """
    md5 = hashlib.md5(usedforsecurity=False)
    buffer = io.BytesIO()
    if size_hint > 0:
        buffer.seek(size_hint - 1)
        buffer.write(b"\0")
        buffer.seek(0)
    for chunk in chunks:
        md5.update(chunk)
        buffer.write(chunk)
    buffer.truncate()  # fewer bytes than announced: drop the unused tail
    return buffer.getvalue(), md5.hexdigest()


# --- local files ------------------------------------------------------------------------------


def read_local(state: ResolvedState, options: ReadOptions) -> LoadedState:
    """A state file on disk: no lock and no digest to check."""
    path = Path(state.key)
    try:
        with path.open("rb") as handle:
            data, actual = collect_hashed(iter(lambda: handle.read(CHUNK_SIZE), b""), path.stat().st_size)
    except FileNotFoundError:
        raise StateError(state.uri, "no such file", _local_hint(state)) from None
    except IsADirectoryError:
        raise StateError(state.uri, "is a directory",
                         "pass the .tfstate file, or --backend-dir for a folder of .tf files") from None
    except OSError as exc:
        raise StateError(state.uri, f"cannot read: {exc.strerror or exc}") from None
    document = _parse(data, state.uri, options)
    return LoadedState(uri=state.uri, workspace=state.workspace, document=document, lock=LockStatus(),
                       digest=DigestCheck(DigestStatus.NOT_CHECKED, actual), size_bytes=len(data))


def _local_hint(state: ResolvedState) -> str:
    if state.workspace != "default":
        return f"workspace {state.workspace} has no local state (terraform.tfstate.d/{state.workspace}/)"
    return "check the path"
