"""Reading states: locks, digest, waits, failures, local files, assume-role, API call budget."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest
from moto import mock_aws

from auditor.aws import Aws, AwsSettings
from auditor.errors import DigestMismatchError, StateLockedError
from auditor.state.backend import ReadOptions, collect_hashed, load_states, parse_lock_info, read_s3
from auditor.state.model import DigestStatus, LoadedState, LockMechanism, StateFailure, StateRequest
from auditor.state.sources import ResolvedState
from tests.state.awsfakes import (
    BUCKET,
    TABLE,
    FakeClock,
    calls_since,
    client_error,
    fail,
    hold_dynamodb_lock,
    hold_lockfile,
    lock_info,
    make_bucket,
    make_table,
    md5,
    mocked_aws,
    put_state,
    release_dynamodb_lock,
    set_digest,
    state_bytes,
)

KEY = "platform/terraform.tfstate"
URI = f"s3://{BUCKET}/{KEY}"
STATE_ID = f"{BUCKET}/{KEY}"


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mocked_aws() as aws:
        make_bucket(aws)
        make_table(aws)
        yield aws


def load_one(aws: Aws, request: StateRequest, **kwargs: Any) -> LoadedState:
    loaded, failures = load_states(aws, [request], **kwargs)
    assert failures == []
    assert len(loaded) == 1
    return loaded[0]


def load_failure(aws: Aws, request: StateRequest, **kwargs: Any) -> StateFailure:
    loaded, failures = load_states(aws, [request], **kwargs)
    assert loaded == []
    assert len(failures) == 1
    assert "\n" not in failures[0].error
    return failures[0]


def locked_request() -> StateRequest:
    return StateRequest(uri=URI, lock_table=TABLE)


def resolved(lock_table: str | None = TABLE) -> ResolvedState:
    return ResolvedState(uri=URI, bucket=BUCKET, key=KEY, workspace="default", lock_table=lock_table)


def test_reads_and_verifies_a_state(aws: Aws) -> None:
    data = put_state(aws, KEY, table=TABLE)
    state = load_one(aws, locked_request())
    assert state.uri == URI and state.workspace == "default"
    assert state.document.serial == 1 and state.document.source == URI
    assert [i.attributes["id"] for i in state.document.managed] == ["vpc-0a1b2c3d"]
    assert state.digest is not None
    assert (state.digest.status, state.digest.actual, state.digest.expected) == (
        DigestStatus.VERIFIED, md5(data), md5(data))
    assert state.lock.checked == (LockMechanism.DYNAMODB, LockMechanism.LOCKFILE)
    assert not state.lock.is_held and state.lock.errors == ()
    assert state.size_bytes == len(data)
    assert state.warnings == ()


def test_never_writes_or_locks(aws: Aws) -> None:
    put_state(aws, KEY, table=TABLE)
    hold_dynamodb_lock(aws, STATE_ID)
    before = aws.counter.snapshot()
    load_one(aws, locked_request())
    assert set(calls_since(aws, before)) == {"s3.GetObject", "dynamodb.GetItem"}


def test_dynamodb_lock_is_reported_and_the_state_still_read(aws: Aws) -> None:
    put_state(aws, KEY, table=TABLE)
    hold_dynamodb_lock(aws, STATE_ID)
    state = load_one(aws, locked_request())
    (held,) = state.lock.held
    assert held.mechanism is LockMechanism.DYNAMODB
    assert (held.who, held.operation, held.created, held.version, held.path) == (
        "ci@runner-7", "OperationTypeApply", "2024-05-01T10:11:12.000000Z", "1.9.5", STATE_ID)
    assert held.id == "9f0c2f4e-1111-4222-8333-444455556666"
    assert state.digest is not None and state.digest.status is DigestStatus.VERIFIED
    assert any("locked by ci@runner-7 (OperationTypeApply)" in w for w in state.warnings)


def test_lockfile_is_reported(aws: Aws) -> None:
    put_state(aws, KEY)
    hold_lockfile(aws, KEY, lock_info(who="dev@laptop", operation="OperationTypePlan"))
    state = load_one(aws, StateRequest(uri=URI))
    (held,) = state.lock.held
    assert (held.mechanism, held.who, held.operation) == (
        LockMechanism.LOCKFILE, "dev@laptop", "OperationTypePlan")
    assert state.lock.checked == (LockMechanism.LOCKFILE,)
    assert state.digest is not None and state.digest.status is DigestStatus.NOT_CHECKED


def test_use_lockfile_false_skips_the_lock_object(aws: Aws) -> None:
    put_state(aws, KEY)
    hold_lockfile(aws, KEY)
    state = load_one(aws, StateRequest(uri=URI, use_lockfile=False))
    assert state.lock.checked == () and not state.lock.is_held


def test_both_mechanisms_held_during_a_migration(aws: Aws) -> None:
    put_state(aws, KEY, table=TABLE)
    hold_lockfile(aws, KEY)
    hold_dynamodb_lock(aws, STATE_ID)
    state = load_one(aws, locked_request())
    assert [h.mechanism for h in state.lock.held] == [LockMechanism.DYNAMODB, LockMechanism.LOCKFILE]


def test_wait_for_lock_until_released(aws: Aws) -> None:
    put_state(aws, KEY, table=TABLE)
    hold_dynamodb_lock(aws, STATE_ID)

    def release_after_third_poll(sleeps: int) -> None:
        if sleeps == 3:
            release_dynamodb_lock(aws, STATE_ID)

    clock = FakeClock(on_sleep=release_after_third_poll)
    state = load_one(aws, locked_request(), wait_for_lock=60, clock=clock, sleep=clock.sleep)
    assert clock.sleeps == [2.0, 2.0, 2.0]
    assert not state.lock.is_held
    assert state.warnings == ()


def test_wait_for_lock_times_out(aws: Aws) -> None:
    put_state(aws, KEY, table=TABLE)
    hold_dynamodb_lock(aws, STATE_ID)
    clock = FakeClock()
    options = ReadOptions(wait_for_lock=5, clock=clock, sleep=clock.sleep)
    with pytest.raises(StateLockedError) as caught:
        read_s3(aws, resolved(), options)
    assert clock.sleeps == [2.0, 2.0, 1.0]
    text = str(caught.value)
    assert text.startswith(
        f"{URI}: state is still locked by ci@runner-7 (OperationTypeApply) since 2024-05-01T10:11:12")
    assert "--wait-for-lock" in text


def test_wait_for_lock_timeout_is_a_failure_of_that_state_only(aws: Aws) -> None:
    put_state(aws, KEY, table=TABLE)
    put_state(aws, "other/terraform.tfstate", table=TABLE)
    hold_lockfile(aws, KEY)
    clock = FakeClock()
    loaded, failures = load_states(aws, [locked_request(), StateRequest(uri=f"s3://{BUCKET}/other/terraform.tfstate",
                                                                        lock_table=TABLE)],
                                   wait_for_lock=3, clock=clock, sleep=clock.sleep, max_workers=1)
    assert [s.uri for s in loaded] == [f"s3://{BUCKET}/other/terraform.tfstate"]
    assert [(f.uri, f.workspace) for f in failures] == [(URI, "default")]
    assert "locked by ci@runner-7" in failures[0].error


def test_digest_mismatch_after_retries(aws: Aws) -> None:
    data = put_state(aws, KEY, table=TABLE)
    set_digest(aws, STATE_ID, "0" * 32)
    clock = FakeClock()
    before = aws.counter.snapshot()
    with pytest.raises(DigestMismatchError) as caught:
        read_s3(aws, resolved(), ReadOptions(clock=clock, sleep=clock.sleep))
    assert clock.sleeps == [2.0] * 5  # every 2 s, until 10 s have passed
    calls = calls_since(aws, before)
    assert calls["s3.GetObject"] == 1 + 6  # the lock object, then the state 6 times
    assert calls["dynamodb.GetItem"] == 1 + 6
    text = str(caught.value)
    assert "state data in S3 does not have the expected content" in text
    assert f"calculated checksum {md5(data)}" in text and f"DynamoDB digest {'0' * 32}" in text


def test_digest_retry_timing_is_configurable(aws: Aws) -> None:
    put_state(aws, KEY, table=TABLE)
    set_digest(aws, STATE_ID, "0" * 32)
    clock = FakeClock()
    failure = load_failure(aws, locked_request(), digest_retry_seconds=3, digest_retry_interval=1,
                           clock=clock, sleep=clock.sleep)
    assert clock.sleeps == [1.0, 1.0, 1.0]
    assert "does not have the expected content" in failure.error


def test_digest_mismatch_clears_on_a_retry(aws: Aws) -> None:
    data = put_state(aws, KEY, table=TABLE)
    set_digest(aws, STATE_ID, md5(b"the previous state"))

    def upload_finishes(sleeps: int) -> None:
        if sleeps == 2:
            set_digest(aws, STATE_ID, md5(data))

    clock = FakeClock(on_sleep=upload_finishes)
    state = load_one(aws, locked_request(), clock=clock, sleep=clock.sleep)
    assert clock.sleeps == [2.0, 2.0]
    assert state.digest is not None and state.digest.status is DigestStatus.VERIFIED


def test_missing_digest_is_a_warning(aws: Aws) -> None:
    put_state(aws, KEY)  # no digest item
    state = load_one(aws, locked_request())
    assert state.digest is not None and state.digest.status is DigestStatus.MISSING
    assert state.digest.expected is None
    assert any(f"{STATE_ID}-md5" in w for w in state.warnings)


def test_no_lock_table_means_digest_not_checked(aws: Aws) -> None:
    data = put_state(aws, KEY)
    before = aws.counter.snapshot()
    state = load_one(aws, StateRequest(uri=URI))
    assert state.digest is not None
    assert (state.digest.status, state.digest.actual) == (DigestStatus.NOT_CHECKED, md5(data))
    assert calls_since(aws, before) == {"s3.GetObject": 2}


def test_access_denied_on_the_lock_table_is_noted_not_fatal(aws: Aws) -> None:
    put_state(aws, KEY, table=TABLE)
    denied = client_error("AccessDeniedException", 400, "GetItem", message="not authorized")
    fail(aws.client("dynamodb"), "get_item", denied)
    state = load_one(aws, locked_request())
    assert len(state.lock.errors) == 1 and "AccessDeniedException" in state.lock.errors[0]
    assert state.digest is not None and state.digest.status is DigestStatus.UNREADABLE
    assert len(state.warnings) == 2


def test_missing_lock_table_is_noted(aws: Aws) -> None:
    put_state(aws, KEY)
    state = load_one(aws, StateRequest(uri=URI, lock_table="no-such-table"))
    assert "ResourceNotFoundException" in state.lock.errors[0]
    assert state.digest is not None and state.digest.status is DigestStatus.UNREADABLE


def test_access_denied_on_the_lock_object_is_noted(aws: Aws) -> None:
    put_state(aws, KEY)
    fail(aws.client("s3"), "get_object", client_error("AccessDenied", 403, "GetObject"),
         when=lambda p: p["Key"].endswith(".tflock"))
    state = load_one(aws, StateRequest(uri=URI))
    assert state.lock.errors == (f"s3://{BUCKET}/{KEY}.tflock: AccessDenied on GetObject",)


def test_one_unreadable_state_among_several(aws: Aws) -> None:
    for name in ("a", "b", "c"):
        put_state(aws, f"{name}/terraform.tfstate", table=TABLE)
    aws.client("s3").put_object(Bucket=BUCKET, Key="b/terraform.tfstate", Body=b'{"version": 4, "serial"')
    set_digest(aws, f"{BUCKET}/b/terraform.tfstate", md5(b'{"version": 4, "serial"'))
    requests = [StateRequest(uri=f"s3://{BUCKET}/*/terraform.tfstate", lock_table=TABLE),
                StateRequest(uri=f"s3://{BUCKET}/missing/terraform.tfstate"),
                StateRequest(uri="s3://no-such-bucket/**/x.tfstate")]
    loaded, failures = load_states(aws, requests)
    assert [s.uri for s in loaded] == [f"s3://{BUCKET}/a/terraform.tfstate", f"s3://{BUCKET}/c/terraform.tfstate"]
    assert [f.uri for f in failures] == ["s3://no-such-bucket/**/x.tfstate", f"s3://{BUCKET}/b/terraform.tfstate",
                                         f"s3://{BUCKET}/missing/terraform.tfstate"]
    assert all(f.error.startswith(f.uri + ": ") and "\n" not in f.error for f in failures)


def test_missing_bucket(aws: Aws) -> None:
    failure = load_failure(aws, StateRequest(uri="s3://no-such-bucket/platform/terraform.tfstate"))
    assert failure.error.startswith(
        "s3://no-such-bucket/platform/terraform.tfstate: bucket no-such-bucket does not exist — ")


def test_missing_key(aws: Aws) -> None:
    failure = load_failure(aws, StateRequest(uri=URI))
    assert failure.error == f"{URI}: no state object at this key — check the key (the backend block's `key`)"


def test_missing_workspace_state_hints_at_listing(aws: Aws) -> None:
    failure = load_failure(aws, StateRequest(uri=URI, workspaces=("blue",)))
    assert failure.uri == f"s3://{BUCKET}/env:/blue/{KEY}" and failure.workspace == "blue"
    assert "--workspace '*'" in failure.error


def test_access_denied(aws: Aws) -> None:
    put_state(aws, KEY)
    denied = client_error("AccessDenied", 403, "GetObject", message="Access Denied")
    fail(aws.client("s3"), "get_object", denied, when=lambda p: p["Key"] == KEY)
    failure = load_failure(aws, StateRequest(uri=URI))
    assert failure.error.startswith(f"{URI}: access denied (AccessDenied on GetObject: Access Denied)")
    assert "s3:GetObject" in failure.error


def test_wrong_region_asks_the_bucket_for_its_region(aws: Aws) -> None:
    aws.client("s3", "eu-west-1").create_bucket(
        Bucket="eu-states", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    fail(aws.client("s3"), "get_object", client_error("PermanentRedirect", 301, "GetObject"),
         when=lambda p: p["Bucket"] == "eu-states")
    failure = load_failure(aws, StateRequest(uri="s3://eu-states/platform/terraform.tfstate"))
    assert failure.error == ("s3://eu-states/platform/terraform.tfstate: bucket eu-states is in eu-west-1 — "
                             "pass --state-region eu-west-1")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (botocore.exceptions.EndpointConnectionError(endpoint_url="https://s3.example"),
         "cannot reach the S3 endpoint"),
        (botocore.exceptions.NoCredentialsError(), "no AWS credentials found — set AWS_PROFILE"),
    ],
)
def test_connection_and_credential_errors(aws: Aws, error: Exception, expected: str) -> None:
    put_state(aws, KEY)
    fail(aws.client("s3"), "get_object", error)
    failure = load_failure(aws, StateRequest(uri=URI))
    assert failure.error.startswith(f"{URI}: ") and expected in failure.error


def test_truncated_state_is_a_parse_failure(aws: Aws) -> None:
    aws.client("s3").put_object(Bucket=BUCKET, Key=KEY, Body=state_bytes()[:100])
    failure = load_failure(aws, StateRequest(uri=URI))
    assert failure.error.startswith(f"{URI}: ")


def test_local_file(tmp_path: Path, aws: Aws) -> None:
    path = tmp_path / "terraform.tfstate"
    data = state_bytes(serial=7)
    path.write_bytes(data)
    before = aws.counter.snapshot()
    state = load_one(aws, StateRequest(uri=str(path)))
    assert (state.uri, state.workspace, state.document.serial) == (str(path), "default", 7)
    assert state.digest is not None and state.digest.status is DigestStatus.NOT_CHECKED
    assert state.digest.actual == md5(data)
    assert state.lock.checked == () and state.size_bytes == len(data)
    assert calls_since(aws, before) == {}


def test_local_file_errors(tmp_path: Path, aws: Aws) -> None:
    assert load_failure(aws, StateRequest(uri=str(tmp_path / "nope.tfstate"))).error.endswith(
        "no such file — check the path")
    assert "is a directory" in load_failure(aws, StateRequest(uri=str(tmp_path))).error


def test_role_arn_assumes_the_role_once_per_role(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    put_state(aws, "a/terraform.tfstate")
    put_state(aws, "b/terraform.tfstate")
    assumed: list[str] = []
    real_assume = Aws.assume

    def spy(self: Aws, role_arn: str, session_name: str = "auditor", external_id: str | None = None) -> Aws:
        assumed.append(role_arn)
        return real_assume(self, role_arn, session_name, external_id)

    monkeypatch.setattr(Aws, "assume", spy)
    role = "arn:aws:iam::123456789012:role/state-reader"
    before = aws.counter.snapshot()
    requests = [StateRequest(uri=f"s3://{BUCKET}/{name}/terraform.tfstate", role_arn=role) for name in "ab"]
    loaded, failures = load_states(aws, requests)
    assert failures == [] and len(loaded) == 2
    assert assumed == [role]
    assert calls_since(aws, before) == {"sts.AssumeRole": 1, "s3.GetObject": 4}


def test_failed_assume_role_is_a_failure_of_that_request(aws: Aws) -> None:
    fail(aws.client("sts"), "assume_role", client_error("AccessDenied", 403, "AssumeRole"))
    failure = load_failure(aws, StateRequest(uri=URI, role_arn="arn:aws:iam::123456789012:role/nope"))
    assert failure.uri == URI and "cannot assume role" in failure.error


@pytest.mark.parametrize("count", [1, 6])
def test_api_call_budget(aws: Aws, count: int) -> None:
    for i in range(count):
        put_state(aws, f"stacks/s{i}/terraform.tfstate", table=TABLE)
    explicit = [StateRequest(uri=f"s3://{BUCKET}/stacks/s{i}/terraform.tfstate", lock_table=TABLE)
                for i in range(count)]
    before = aws.counter.snapshot()
    loaded, failures = load_states(aws, explicit)
    assert failures == [] and len(loaded) == count
    # per state: lock item + lock object + state object + digest item
    assert calls_since(aws, before) == {"dynamodb.GetItem": 2 * count, "s3.GetObject": 2 * count}

    before = aws.counter.snapshot()
    glob = StateRequest(uri=f"s3://{BUCKET}/stacks/*/terraform.tfstate", lock_table=TABLE)
    loaded, _ = load_states(aws, [glob])
    assert len(loaded) == count
    assert calls_since(aws, before) == {"s3.ListObjectsV2": 1, "dynamodb.GetItem": 2 * count,
                                        "s3.GetObject": 2 * count}


def test_overlapping_requests_read_a_state_once(aws: Aws) -> None:
    put_state(aws, KEY)
    before = aws.counter.snapshot()
    loaded, failures = load_states(aws, [StateRequest(uri=URI), StateRequest(uri=f"s3://{BUCKET}/*/terraform.tfstate")])
    assert failures == [] and [s.uri for s in loaded] == [URI]
    assert calls_since(aws, before) == {"s3.ListObjectsV2": 1, "s3.GetObject": 2}


def test_workspaces_are_read_with_their_names(aws: Aws) -> None:
    put_state(aws, KEY, state_bytes(serial=1))
    put_state(aws, f"env:/blue/{KEY}", state_bytes(serial=2))
    loaded = load_states(aws, [StateRequest(uri=URI, workspaces=("*",))])[0]
    assert [(s.workspace, s.document.serial) for s in loaded] == [("default", 1), ("blue", 2)]


def test_big_state_streams_in_chunks(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("auditor.state.backend.CHUNK_SIZE", 1000)
    data = state_bytes(vpc_id="vpc-" + "f" * 20_000)
    put_state(aws, KEY, data, table=TABLE)
    state = load_one(aws, locked_request())
    assert state.size_bytes == len(data)
    assert state.digest is not None and state.digest.status is DigestStatus.VERIFIED


@pytest.mark.parametrize(
    ("raw", "who", "info"),
    [
        (lock_info(), "ci@runner-7", None),
        ("not json", None, "unreadable lock info"),
        ('["a list"]', None, "unreadable lock info"),
        (None, None, None),
    ],
)
def test_parse_lock_info(raw: str | None, who: str | None, info: str | None) -> None:
    parsed = parse_lock_info(LockMechanism.DYNAMODB, raw)
    assert (parsed.who, parsed.info, parsed.mechanism) == (who, info, LockMechanism.DYNAMODB)


@pytest.mark.parametrize("size_hint", [0, 5, 26, 40])
def test_collect_hashed_whatever_the_announced_size(size_hint: int) -> None:
    chunks = [b"abcdefghij", b"klmnopqrst", b"uvwxyz"]
    data, digest = collect_hashed(iter(chunks), size_hint)
    assert data == b"abcdefghijklmnopqrstuvwxyz"
    assert digest == md5(data)


def test_no_region_for_the_lock_table_is_a_one_line_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with mock_aws():
        failure = load_failure(Aws(AwsSettings(max_attempts=1)), locked_request())
    assert failure.error.startswith(f"{URI}: NoRegionError")
    assert failure.error.endswith("— pass --state-region or set AWS_REGION")
