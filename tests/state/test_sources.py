"""Resolving state requests: S3 globs, workspaces, local files, one-line errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.stub import Stubber

from auditor.aws import Aws, AwsSettings
from auditor.errors import StateError
from auditor.state.model import StateRequest
from auditor.state.sources import (
    ResolvedState,
    glob_regex,
    resolve,
    split_workspace_key,
    workspace_key,
)
from tests.state.awsfakes import (
    BUCKET,
    REGION,
    calls_since,
    client_error,
    fail,
    make_bucket,
    mocked_aws,
    put_state,
)

SERVICES = [f"svc{i:02d}" for i in range(60)]


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mocked_aws() as aws:
        make_bucket(aws)
        yield aws


@pytest.fixture
def big_bucket(aws: Aws) -> Aws:
    """240+ objects: 120 real states, 120 app states, and decoys no glob may match."""
    s3 = aws.client("s3")
    for svc in SERVICES:
        for env in ("prod", "staging"):
            s3.put_object(Bucket=BUCKET, Key=f"platform/{svc}/{env}/terraform.tfstate", Body=b"{}")
    for i in range(120):
        s3.put_object(Bucket=BUCKET, Key=f"apps/app{i:03d}.tfstate", Body=b"{}")
    decoys = [
        "platform/svc01/prod/terraform.tfstate.tflock",
        "platform/svc01/prod/terraform.tfstate-md5",
        "platform/svc02/prod/terraform.tfstate.backup",
        "env:/staging/platform/svc01/prod/terraform.tfstate",
        "env:/staging/platform/svc01/prod/terraform.tfstate.tflock",
        "env:/dev/apps/app001.tfstate",
        "platform/svc01/prod/nested/deep/terraform.tfstate",
        "platform/",
    ]
    for key in decoys:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"{}")
    return aws


def keys(resolved: list[ResolvedState]) -> list[str]:
    return [r.key for r in resolved]


def test_single_star_matches_within_one_segment(big_bucket: Aws) -> None:
    found = resolve(big_bucket, StateRequest(uri=f"s3://{BUCKET}/platform/*/prod/terraform.tfstate"))
    assert keys(found) == [f"platform/{svc}/prod/terraform.tfstate" for svc in SERVICES]
    assert {r.workspace for r in found} == {"default"}
    assert found[0].uri == f"s3://{BUCKET}/platform/svc00/prod/terraform.tfstate"
    assert found[0].bucket == BUCKET


def test_double_star_matches_any_depth_but_no_lock_digest_or_workspace_copies(big_bucket: Aws) -> None:
    found = resolve(big_bucket, StateRequest(uri=f"s3://{BUCKET}/platform/**/terraform.tfstate"))
    states = [f"platform/{svc}/{env}/terraform.tfstate" for svc in SERVICES for env in ("prod", "staging")]
    expected = sorted([*states, "platform/svc01/prod/nested/deep/terraform.tfstate"])
    assert keys(found) == expected
    assert len(found) == 121


def test_double_star_from_the_bucket_root(big_bucket: Aws) -> None:
    found = resolve(big_bucket, StateRequest(uri=f"s3://{BUCKET}/**/*.tfstate"))
    assert len(found) == 241  # 120 platform + 1 nested + 120 apps
    assert not [k for k in keys(found) if k.startswith("env:/") or not k.endswith(".tfstate")]


def test_glob_reads_workspace_copies_only_when_the_pattern_names_them(big_bucket: Aws) -> None:
    found = resolve(big_bucket, StateRequest(uri=f"s3://{BUCKET}/env:/*/platform/**/terraform.tfstate"))
    assert [(r.key, r.workspace) for r in found] == [
        ("env:/staging/platform/svc01/prod/terraform.tfstate", "staging")]


def test_glob_with_a_named_workspace_reads_only_that_workspace(big_bucket: Aws) -> None:
    found = resolve(big_bucket, StateRequest(uri=f"s3://{BUCKET}/apps/*.tfstate", workspaces=("dev",)))
    assert [(r.key, r.workspace) for r in found] == [("env:/dev/apps/app001.tfstate", "dev")]


def test_glob_with_all_workspaces(big_bucket: Aws) -> None:
    found = resolve(big_bucket, StateRequest(uri=f"s3://{BUCKET}/platform/svc01/*/terraform.tfstate",
                                             workspaces=("*",)))
    assert [(r.key, r.workspace) for r in found] == [
        ("platform/svc01/prod/terraform.tfstate", "default"),
        ("env:/staging/platform/svc01/prod/terraform.tfstate", "staging"),
        ("platform/svc01/staging/terraform.tfstate", "default"),
    ]


def test_glob_matching_nothing_is_a_one_line_error(big_bucket: Aws) -> None:
    with pytest.raises(StateError) as caught:
        resolve(big_bucket, StateRequest(uri=f"s3://{BUCKET}/nowhere/**/terraform.tfstate"))
    text = str(caught.value)
    assert text.startswith(f"s3://{BUCKET}/nowhere/**/terraform.tfstate: matches no state object")
    assert "--workspace" in text and "\n" not in text


def test_listing_follows_continuation_tokens() -> None:
    aws = Aws(AwsSettings(region=REGION, max_attempts=1))
    client = aws.client("s3")
    pages = [[f"stacks/s{page}{i:02d}/terraform.tfstate" for i in range(3)] for page in range(3)]
    with Stubber(client) as stub:
        for number, page in enumerate(pages):
            expected = {"Bucket": BUCKET, "Prefix": "stacks/"}
            if number:
                expected["ContinuationToken"] = f"token-{number}"
            response: dict[str, object] = {"Contents": [{"Key": k} for k in page], "KeyCount": len(page),
                                           "IsTruncated": number < len(pages) - 1}
            if number < len(pages) - 1:
                response["NextContinuationToken"] = f"token-{number + 1}"
            stub.add_response("list_objects_v2", response, expected)
        found = resolve(aws, StateRequest(uri=f"s3://{BUCKET}/stacks/*/terraform.tfstate"))
        stub.assert_no_pending_responses()
    assert keys(found) == [k for page in pages for k in page]


@pytest.fixture
def workspaces_bucket(aws: Aws) -> Aws:
    s3 = aws.client("s3")
    for key in (
        "env:/staging/platform/terraform.tfstate",
        "env:/dev/platform/terraform.tfstate",
        "env:/qa/platform/terraform.tfstate.tflock",  # a lock, not a state
        "env:/other/platform/terraform.tfstate/extra",  # path after the name is not the key
        "env:/x/other/terraform.tfstate",
        "env:/deep/er/platform/terraform.tfstate",
        "env:/default/platform/terraform.tfstate",  # Terraform never lists `default` from the prefix
        "workspaces/blue/platform/terraform.tfstate",
    ):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"{}")
    return aws


def test_all_workspaces_listed_like_terraform(workspaces_bucket: Aws) -> None:
    request = StateRequest(uri=f"s3://{BUCKET}/platform/terraform.tfstate", workspaces=("*",))
    before = workspaces_bucket.counter.snapshot()
    found = resolve(workspaces_bucket, request)
    assert [(r.workspace, r.key) for r in found] == [
        ("default", "platform/terraform.tfstate"),  # default always exists, even with no object yet
        ("dev", "env:/dev/platform/terraform.tfstate"),
        ("staging", "env:/staging/platform/terraform.tfstate"),
    ]
    assert calls_since(workspaces_bucket, before) == {"s3.ListObjectsV2": 1}


def test_custom_workspace_key_prefix(workspaces_bucket: Aws) -> None:
    request = StateRequest(uri=f"s3://{BUCKET}/platform/terraform.tfstate", workspaces=("*",),
                           workspace_key_prefix="workspaces")
    found = resolve(workspaces_bucket, request)
    assert [(r.workspace, r.key) for r in found] == [
        ("default", "platform/terraform.tfstate"), ("blue", "workspaces/blue/platform/terraform.tfstate")]


def test_empty_workspace_key_prefix(workspaces_bucket: Aws) -> None:
    put_state(workspaces_bucket, "green/platform/terraform.tfstate")
    request = StateRequest(uri=f"s3://{BUCKET}/platform/terraform.tfstate", workspaces=("*",),
                           workspace_key_prefix="")
    found = resolve(workspaces_bucket, request)
    assert [(r.workspace, r.key) for r in found] == [
        ("default", "platform/terraform.tfstate"), ("green", "green/platform/terraform.tfstate")]


def test_named_workspaces_need_no_listing(aws: Aws) -> None:
    request = StateRequest(uri=f"s3://{BUCKET}/platform/terraform.tfstate", workspaces=("default", "prod"),
                           lock_table="locks", region="eu-west-1", use_lockfile=False)
    before = aws.counter.snapshot()
    found = resolve(aws, request)
    assert found == [
        ResolvedState(uri=f"s3://{BUCKET}/platform/terraform.tfstate", bucket=BUCKET,
                      key="platform/terraform.tfstate", workspace="default", lock_table="locks",
                      region="eu-west-1", use_lockfile=False),
        ResolvedState(uri=f"s3://{BUCKET}/env:/prod/platform/terraform.tfstate", bucket=BUCKET,
                      key="env:/prod/platform/terraform.tfstate", workspace="prod", lock_table="locks",
                      region="eu-west-1", use_lockfile=False),
    ]
    assert calls_since(aws, before) == {}


def test_explicit_workspace_object_key_reports_its_workspace(aws: Aws) -> None:
    put_state(aws, "env:/blue/platform/terraform.tfstate")
    found = resolve(aws, StateRequest(uri=f"s3://{BUCKET}/env:/*/platform/terraform.tfstate"))
    assert [(r.workspace, r.key) for r in found] == [("blue", "env:/blue/platform/terraform.tfstate")]
    direct = resolve(aws, StateRequest(uri=f"s3://{BUCKET}/env:/blue/platform/terraform.tfstate"))
    assert [(r.workspace, r.key) for r in direct] == [("blue", "env:/blue/platform/terraform.tfstate")]


@pytest.mark.parametrize("uri", ["s3://", f"s3://{BUCKET}", f"s3://{BUCKET}/", f"s3://{BUCKET}/dir/"])
def test_malformed_s3_uri(aws: Aws, uri: str) -> None:
    with pytest.raises(StateError, match="not a state object URI"):
        resolve(aws, StateRequest(uri=uri))


def test_no_workspace_requested(aws: Aws) -> None:
    with pytest.raises(StateError, match="no workspace requested"):
        resolve(aws, StateRequest(uri=f"s3://{BUCKET}/k", workspaces=()))


def test_listing_a_missing_bucket(aws: Aws) -> None:
    with pytest.raises(StateError) as caught:
        resolve(aws, StateRequest(uri="s3://no-such-bucket/**/terraform.tfstate"))
    assert str(caught.value).startswith(
        "s3://no-such-bucket/**/terraform.tfstate: bucket no-such-bucket does not exist — ")


def test_listing_access_denied(aws: Aws) -> None:
    denied = client_error("AccessDenied", 403, "ListObjectsV2", message="denied")
    fail(aws.client("s3"), "list_objects_v2", denied)
    with pytest.raises(StateError) as caught:
        resolve(aws, StateRequest(uri=f"s3://{BUCKET}/**/terraform.tfstate"))
    text = str(caught.value)
    assert "access denied" in text and "s3:ListBucket" in text and "\n" not in text


def test_listing_in_the_wrong_region_names_the_bucket_region(aws: Aws) -> None:
    error = client_error("PermanentRedirect", 301, "ListObjectsV2",
                         headers={"x-amz-bucket-region": "eu-west-1"})
    fail(aws.client("s3"), "list_objects_v2", error)
    with pytest.raises(StateError) as caught:
        resolve(aws, StateRequest(uri=f"s3://{BUCKET}/**/terraform.tfstate"))
    assert str(caught.value) == (f"s3://{BUCKET}/**/terraform.tfstate: bucket {BUCKET} is in eu-west-1 — "
                                 "pass --state-region eu-west-1")


@pytest.mark.parametrize(
    ("pattern", "key", "matches"),
    [
        ("a/*/c", "a/b/c", True),
        ("a/*/c", "a/b/x/c", False),
        ("a/**/c", "a/c", True),
        ("a/**/c", "a/b/x/c", True),
        ("a/**", "a/b/x/c", True),
        ("*.tfstate", "x.tfstate", True),
        ("*.tfstate", "x.tfstate.tflock", False),
        ("*.tfstate", "d/x.tfstate", False),
        ("a+b/(x)/*.tfstate", "a+b/(x)/y.tfstate", True),
        ("a?/*", "ab/y", False),
    ],
)
def test_glob_regex(pattern: str, key: str, matches: bool) -> None:
    assert (glob_regex(pattern).match(key) is not None) is matches


def test_workspace_key_layout() -> None:
    assert workspace_key("env:", "default", "k/t") == "k/t"
    assert workspace_key("env:", "blue", "k/t") == "env:/blue/k/t"
    assert workspace_key("", "blue", "k/t") == "blue/k/t"
    assert split_workspace_key("env:", "env:/blue/k/t") == ("blue", "k/t")
    assert split_workspace_key("env:", "env:/blue") is None
    assert split_workspace_key("env:", "other/blue/k") is None
    assert split_workspace_key("env:", "env:/default/k") is None


def test_local_path_and_file_uri(tmp_path: Path) -> None:
    state = tmp_path / "terraform.tfstate"
    for uri in (str(state), f"file://{state}"):
        assert resolve(Aws(AwsSettings(region=REGION)), StateRequest(uri=uri)) == [
            ResolvedState(uri=str(state), bucket=None, key=str(state), workspace="default")]


def test_local_glob_and_workspaces(tmp_path: Path) -> None:
    for name in ("a/terraform.tfstate", "b/terraform.tfstate", "b/terraform.tfstate.d/blue/terraform.tfstate",
                 "b/terraform.tfstate.tflock"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"{}")
    aws = Aws(AwsSettings(region=REGION))
    found = resolve(aws, StateRequest(uri=f"{tmp_path}/*/terraform.tfstate", workspaces=("*",)))
    assert [(r.workspace, Path(r.key).relative_to(tmp_path).as_posix()) for r in found] == [
        ("default", "a/terraform.tfstate"),
        ("default", "b/terraform.tfstate"),
        ("blue", "b/terraform.tfstate.d/blue/terraform.tfstate"),
    ]
    assert all(r.is_local for r in found)
    with pytest.raises(StateError, match="matches no file"):
        resolve(aws, StateRequest(uri=f"{tmp_path}/*/nothing.tfstate"))
