"""Which state objects a request names: S3 URIs with `*`/`**` globs, workspaces, local files.

`resolve` turns one StateRequest into the concrete objects to read (ResolvedState), listing the
bucket only when a glob or the `*` workspace asks for it. S3 failures become one-line
StateErrors with a hint (`s3_error`), shared with the reader in `auditor.state.backend`.
"""

from __future__ import annotations

import glob as pyglob
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.exceptions

from auditor.aws import Aws, describe_error, error_code, is_access_denied
from auditor.errors import StateError
from auditor.state.model import ALL_WORKSPACES, DEFAULT_WORKSPACE, StateRequest

LOCKFILE_SUFFIX = ".tflock"
LOCAL_WORKSPACE_DIR = "terraform.tfstate.d"
"""Terraform's local backend keeps non-default workspaces in <dir>/<workspace>/terraform.tfstate."""
LOCAL_STATE_NAME = "terraform.tfstate"

_REGION_CODES = frozenset(
    {"PermanentRedirect", "TemporaryRedirect", "AuthorizationHeaderMalformed",
     "IllegalLocationConstraintException", "301", "307"}
)
_MISSING_KEY_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


@dataclass(frozen=True, slots=True)
class ResolvedState:
    """One concrete state object: `s3://bucket/key` of the real object, or a local path (bucket None)."""

    uri: str
    bucket: str | None
    key: str
    workspace: str
    lock_table: str | None = None
    region: str | None = None
    use_lockfile: bool = True

    @property
    def is_local(self) -> bool:
        return self.bucket is None


def has_glob(text: str) -> bool:
    return "*" in text


def glob_regex(pattern: str) -> re.Pattern[str]:
    """`*` matches within one path segment, `**` across any depth (`**/` also matches no folder)."""
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            parts.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            parts.append(".*")
            i += 2
        elif pattern[i] == "*":
            parts.append("[^/]*")
            i += 1
        else:
            parts.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(parts) + r"\Z", re.DOTALL)


def key_matcher(pattern: str) -> Callable[[str], bool]:
    """A predicate for object keys: the glob when `pattern` has one, else exact equality."""
    if not has_glob(pattern):
        return pattern.__eq__
    regex = glob_regex(pattern)
    return lambda key: regex.match(key) is not None


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/key` -> (bucket, key); StateError when either part is missing."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not bucket or not key or key.endswith("/"):
        raise StateError(uri, "not a state object URI", "use s3://BUCKET/KEY (KEY may contain * and **)")
    return bucket, key


def workspace_key(prefix: str, workspace: str, key: str) -> str:
    """The object key of `key` in `workspace` (Terraform's S3 backend layout)."""
    if workspace == DEFAULT_WORKSPACE:
        return key
    return f"{prefix}/{workspace}/{key}" if prefix else f"{workspace}/{key}"


def split_workspace_key(prefix: str, object_key: str) -> tuple[str, str] | None:
    """(workspace, key) of an object stored under the workspace prefix, else None."""
    rest = object_key
    if prefix:
        if not object_key.startswith(prefix + "/"):
            return None
        rest = object_key[len(prefix) + 1:]
    workspace, sep, key = rest.partition("/")
    if not sep or not workspace or not key or workspace == DEFAULT_WORKSPACE:
        return None
    return workspace, key


def resolve(aws: Aws, request: StateRequest) -> list[ResolvedState]:
    """The state objects `request` names, default workspace first, sorted; StateError if none."""
    if not request.workspaces:
        raise StateError(request.uri, "no workspace requested", "pass --workspace NAME or --workspace '*'")
    if request.is_s3:
        return _resolve_s3(aws, request)
    return _resolve_local(request)


# --- S3 ---------------------------------------------------------------------------------------


def _resolve_s3(aws: Aws, request: StateRequest) -> list[ResolvedState]:
    bucket, pattern = split_s3_uri(request.uri)
    client = aws.client("s3", request.region)
    prefix = request.workspace_key_prefix
    every = ALL_WORKSPACES in request.workspaces
    named = {w for w in request.workspaces if w not in (ALL_WORKSPACES, DEFAULT_WORKSPACE)}
    glob = has_glob(pattern)
    matches = key_matcher(pattern)
    found: dict[str, tuple[str, str]] = {}  # object key -> (key in its workspace, workspace)

    if every or DEFAULT_WORKSPACE in request.workspaces:
        targets_workspaces = bool(prefix) and pattern.startswith(prefix + "/")
        keys = _glob_keys(client, request.uri, bucket, pattern, prefix, matches) if glob else [pattern]
        for key in keys:
            split = split_workspace_key(prefix, key) if targets_workspaces else None
            found[key] = (split[1], split[0]) if split else (key, DEFAULT_WORKSPACE)
    if every or (glob and named):
        for workspace, key, object_key in _workspace_objects(client, request.uri, bucket, prefix, matches):
            if every or workspace in named:
                found.setdefault(object_key, (key, workspace))
    elif named:
        for workspace in sorted(named):
            found.setdefault(workspace_key(prefix, workspace, pattern), (pattern, workspace))
    if not found:
        asked = ", ".join(request.workspaces)
        raise StateError(request.uri, f"matches no state object (workspaces: {asked})",
                         _no_match_hint(prefix, every or bool(named)))
    ordered = sorted(found.items(), key=lambda item: _workspace_order(*item[1]))
    return [
        ResolvedState(uri=f"s3://{bucket}/{object_key}", bucket=bucket, key=object_key, workspace=workspace,
                      lock_table=request.lock_table, region=request.region, use_lockfile=request.use_lockfile)
        for object_key, (_, workspace) in ordered
    ]


def _workspace_order(key: str, workspace: str) -> tuple[str, bool, str]:
    """By key, then the default workspace first, then workspaces by name."""
    return key, workspace != DEFAULT_WORKSPACE, workspace


def _no_match_hint(prefix: str, asked_workspaces: bool) -> str:
    if asked_workspaces:
        return "check the bucket, the key pattern and the workspace names"
    where = f"under {prefix}/ " if prefix else ""
    return (f"check the key pattern; workspace copies {where}are read only with --workspace NAME "
            "or --workspace '*'")


def _list_keys(client: Any, uri: str, bucket: str, prefix: str) -> Iterator[str]:
    """Every object key under `prefix`, following ListObjectsV2 continuation tokens."""
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", ()):
                yield str(obj["Key"])
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        raise s3_error(exc, uri=uri, bucket=bucket, key=None, client=client) from None


def _glob_keys(client: Any, uri: str, bucket: str, pattern: str, workspace_prefix: str,
               matches: Callable[[str], bool]) -> list[str]:
    """Keys matching the glob; never lock objects, nor workspace copies unless the pattern names them."""
    literal = pattern[: pattern.index("*")]
    skip_workspaces = bool(workspace_prefix) and not literal.startswith(workspace_prefix + "/")
    keys = []
    for key in _list_keys(client, uri, bucket, literal):
        if key.endswith(LOCKFILE_SUFFIX) or key.endswith("/"):
            continue
        if skip_workspaces and key.startswith(workspace_prefix + "/"):
            continue
        if matches(key):
            keys.append(key)
    return keys


def _workspace_objects(client: Any, uri: str, bucket: str, prefix: str,
                       matches: Callable[[str], bool]) -> Iterator[tuple[str, str, str]]:
    """(workspace, key, object key) of every workspace copy whose key after the name matches."""
    for object_key in _list_keys(client, uri, bucket, prefix + "/" if prefix else ""):
        split = split_workspace_key(prefix, object_key)
        if split and not split[1].endswith(LOCKFILE_SUFFIX) and matches(split[1]):
            yield split[0], split[1], object_key


def bucket_region(client: Any, exc: BaseException, bucket: str) -> str | None:
    """The bucket's real region: from the error's x-amz-bucket-region header, else HeadBucket."""
    if isinstance(exc, botocore.exceptions.ClientError):
        region = _region_header(exc.response) or exc.response.get("Error", {}).get("Region")
        if region:
            return str(region)
    try:
        return _region_header(client.head_bucket(Bucket=bucket))
    except botocore.exceptions.ClientError as head_exc:
        return _region_header(head_exc.response)
    except botocore.exceptions.BotoCoreError:
        return None


def _region_header(response: Any) -> str | None:
    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}) or {}
    region = headers.get("x-amz-bucket-region")
    return str(region) if region else None


def s3_error(exc: BaseException, *, uri: str, bucket: str, key: str | None, client: Any,
             workspace: str = DEFAULT_WORKSPACE) -> StateError:
    """A one-line StateError, with a hint, for a failed S3 call on `uri`."""
    code = error_code(exc)
    if code == "NoSuchBucket":
        return StateError(uri, f"bucket {bucket} does not exist",
                          "check the bucket name and that the credentials are for the right account")
    if code in _MISSING_KEY_CODES and key is not None:
        hint = (f"workspace {workspace} has no state at this key (list them with --workspace '*')"
                if workspace != DEFAULT_WORKSPACE else "check the key (the backend block's `key`)")
        return StateError(uri, "no state object at this key", hint)
    if code in _REGION_CODES:
        region = bucket_region(client, exc, bucket)
        if region:
            return StateError(uri, f"bucket {bucket} is in {region}", f"pass --state-region {region}")
        return StateError(uri, f"bucket {bucket} is in another region ({code})",
                          "pass --state-region with the bucket's region")
    if is_access_denied(exc) or code == "403":
        needs = ("s3:GetObject (and s3:ListBucket, or a missing key also looks denied)" if key
                 else "s3:ListBucket")
        return StateError(uri, f"access denied ({describe_error(exc)})", f"the credentials need {needs}")
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        return StateError(uri, "no AWS credentials found",
                          "set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")
    if isinstance(exc, botocore.exceptions.EndpointConnectionError | botocore.exceptions.ConnectTimeoutError):
        return StateError(uri, f"cannot reach the S3 endpoint ({exc})",
                          "check the network, --state-region and AWS_ENDPOINT_URL")
    return StateError(uri, one_line(describe_error(exc)))


def one_line(text: str) -> str:
    """Collapse whitespace (newlines included) so a message stays on one line."""
    return " ".join(text.split())


# --- local files ------------------------------------------------------------------------------


def _resolve_local(request: StateRequest) -> list[ResolvedState]:
    raw = request.uri.removeprefix("file://")
    path = str(Path(raw).expanduser())
    if has_glob(path):
        bases = sorted(p for p in pyglob.glob(path, recursive=True)
                       if Path(p).is_file() and not p.endswith(LOCKFILE_SUFFIX))
        if not bases:
            raise StateError(request.uri, "matches no file", "check the path pattern")
    else:
        bases = [path]
    resolved: list[ResolvedState] = []
    for base in bases:
        for workspace, file in _local_workspaces(Path(base), request.workspaces):
            resolved.append(ResolvedState(uri=str(file), bucket=None, key=str(file), workspace=workspace))
    return resolved


def _local_workspaces(base: Path, workspaces: tuple[str, ...]) -> list[tuple[str, Path]]:
    """(workspace, file) pairs in the local backend's layout, next to the default state file."""
    root = base.parent / LOCAL_WORKSPACE_DIR
    names: list[str] = [w for w in workspaces if w != ALL_WORKSPACES]
    if ALL_WORKSPACES in workspaces:
        names.append(DEFAULT_WORKSPACE)
        if root.is_dir():
            names.extend(d.name for d in root.iterdir() if (d / LOCAL_STATE_NAME).is_file())
    ordered = sorted(set(names), key=lambda w: _workspace_order("", w))
    return [(w, base if w == DEFAULT_WORKSPACE else root / w / LOCAL_STATE_NAME) for w in ordered]
