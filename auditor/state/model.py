"""Typed values for Terraform state: what the readers return and the rest of the audit uses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

PathStep = str | int
"""One step of an attribute path: an attribute name or a list index / map key."""

REDACTED = "(sensitive value)"
"""What every redacted value is replaced with, wherever it was read."""

SENSITIVE_CHANGED = "(sensitive value changed)"
"""What the diff shows for a live value where the state's redacted value differs from it."""


class Sealed(str):
    """A string that hides secrets, with keyed fingerprints of what it hides (auditor.state.redact.seal).

    It reads, prints and serializes as its text (REDACTED, or a JSON document whose secret parts are
    REDACTED); `parts` maps a sub-path to an HMAC of the hidden value there ("" for the whole value)
    under a key made once per process and never written, so a changed secret can be told apart from
    an unchanged one without either being kept.
    """

    parts: Mapping[str, bytes]

    def __new__(cls, text: str = REDACTED, parts: Mapping[str, bytes] | None = None) -> Sealed:
        sealed = super().__new__(cls, text)
        sealed.parts = dict(parts or {})
        return sealed


DEFAULT_WORKSPACE = "default"
ALL_WORKSPACES = "*"


@dataclass(frozen=True, slots=True)
class StateRequest:
    """One `--state` (or `[[states]]` entry, or backend block): what to read and how.

    uri:        `s3://bucket/key` (key may hold `*` within a path segment and `**` for any depth),
                a local path, or `file://path`.
    workspaces: names to read; `*` means every workspace, listed the way Terraform lists them.
    use_lockfile: also look for the S3-native `<key>.tflock` lock object.
    profile:    the backend block's `profile`, reported only (the audit uses its own credentials).
    """

    uri: str
    workspaces: tuple[str, ...] = (DEFAULT_WORKSPACE,)
    workspace_key_prefix: str = "env:"
    lock_table: str | None = None
    region: str | None = None
    role_arn: str | None = None
    use_lockfile: bool = True
    profile: str | None = None

    @property
    def is_s3(self) -> bool:
        return self.uri.startswith("s3://")


@dataclass(frozen=True, slots=True)
class StateInstance:
    """One resource instance object (current or deposed) of a state, attributes already redacted.

    address:  the instance address as `terraform state list` prints it
              (`module.a["x.y"].module.b[0].aws_lb.main["k"]`); no deposed suffix.
    index_key: None (no count/for_each), int (count) or str (for_each); 0 and "0" differ.
    """

    address: str
    module: str | None
    mode: str
    type: str
    name: str
    index_key: int | str | None
    provider: str
    schema_version: int
    attributes: Mapping[str, Any]
    sensitive_paths: tuple[tuple[PathStep, ...], ...] = ()
    tainted: bool = False
    deposed: str | None = None
    dependencies: tuple[str, ...] = ()
    create_before_destroy: bool = False
    skip_destroy: bool = False  # OpenTofu `lifecycle { destroy = false }`
    identity: Mapping[str, Any] | None = None  # resource identity (Terraform 1.12+), redacted like attributes
    identity_schema_version: int | None = None

    @property
    def managed(self) -> bool:
        return self.mode == "managed"


@dataclass(frozen=True, slots=True)
class StateOutput:
    name: str
    value: Any  # REDACTED when sensitive
    type: Any
    sensitive: bool = False


@dataclass(frozen=True, slots=True)
class StateDocument:
    """A parsed state file (any supported version, upgraded to the v4 model)."""

    source: str
    version: int  # the version of the file as read (3 or 4); the model is always v4
    terraform_version: str
    serial: int
    lineage: str
    outputs: Mapping[str, StateOutput] = field(default_factory=dict)
    instances: tuple[StateInstance, ...] = ()
    check_results: Any = None
    unreadable: tuple[tuple[str, str], ...] = ()  # (resource address, why) of resources that could not be read

    @property
    def managed(self) -> tuple[StateInstance, ...]:
        return tuple(i for i in self.instances if i.managed)


class LockMechanism(StrEnum):
    DYNAMODB = "dynamodb"
    LOCKFILE = "s3-lockfile"


@dataclass(frozen=True, slots=True)
class LockInfo:
    """A held Terraform lock, with Terraform's own lock-info fields."""

    mechanism: LockMechanism
    id: str | None
    operation: str | None
    who: str | None
    created: str | None
    version: str | None = None
    path: str | None = None
    info: str | None = None

    def describe(self) -> str:
        parts = [f"locked by {self.who or 'unknown'}"]
        if self.operation:
            parts.append(f"({self.operation})")
        if self.created:
            parts.append(f"since {self.created}")
        parts.append(f"[{self.mechanism.value}, lock id {self.id or '?'}]")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class LockStatus:
    """What the lock mechanisms said. `checked` lists the mechanisms looked at."""

    checked: tuple[LockMechanism, ...] = ()
    held: tuple[LockInfo, ...] = ()
    errors: tuple[str, ...] = ()  # a lock we could not look at (e.g. AccessDenied on the table)

    @property
    def is_held(self) -> bool:
        return bool(self.held)

    @property
    def status(self) -> str:
        """`held`, `unknown` (a lock store could not be read and none was seen held), `free` or `not checked`."""
        if self.held:
            return "held"
        if self.errors:
            return "unknown"
        return "free" if self.checked else "not checked"


class DigestStatus(StrEnum):
    VERIFIED = "verified"
    MISSING = "missing"  # lock table configured but no -md5 item: a warning, like Terraform
    NOT_CHECKED = "not_checked"  # no DynamoDB table configured, or a local file
    UNREADABLE = "unreadable"  # the digest item could not be read (reason in warnings)


@dataclass(frozen=True, slots=True)
class DigestCheck:
    status: DigestStatus
    actual: str  # md5 hex of the bytes read
    expected: str | None = None


@dataclass(frozen=True, slots=True)
class LoadedState:
    """A state fetched from its backend, verified, parsed."""

    uri: str
    workspace: str
    document: StateDocument
    lock: LockStatus = LockStatus()
    digest: DigestCheck | None = None
    size_bytes: int = 0
    warnings: tuple[str, ...] = ()
    encryption: Mapping[str, str] = field(default_factory=dict)  # GetObject's ServerSideEncryption, SSEKMSKeyId
    lock_table: str | None = None  # the backend's DynamoDB table, when one was given


@dataclass(frozen=True, slots=True)
class StateFailure:
    """A state that was asked for but could not be read: reported, never silently skipped."""

    uri: str
    workspace: str
    error: str
