"""Revert declarations: for each Terraform type, which attributes a revert puts back, the boto3 calls
it makes (built from the state's values), the IAM permissions those calls need, the precondition
checked just before acting, and the risk.

The declarations live beside their type, one module per AWS service; `REVERTS` gathers them. The
fix role's policy (terraform/auditor/policies/audit-fix.json) grants exactly `declared_permissions()`
plus the lock's own (a test holds them equal).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from auditor.fix.model import Call, Probe, Risk
from auditor.models import Drift, DriftKind


@dataclass(frozen=True, slots=True)
class Revert:
    """How one kind of drift on one type is put back to the state's values.

    paths:  top-level attribute names whose changes this revert puts back (CHANGED findings);
            empty for a revert of a whole MISSING or UNMANAGED resource.
    kinds:  the drift kinds it applies to.
    calls:  the finding -> the calls, parameters taken from the state's attributes.
    probe:  the finding -> the read call that checks the precondition just before acting.
    parent: for an UNMANAGED finding, the attribute holding the id of the resource it hangs on: the
            revert applies only when a state manages that resource (whose lock then guards it).
    """

    type: str
    name: str
    kinds: frozenset[DriftKind]
    paths: tuple[str, ...]
    permissions: tuple[str, ...]
    risk: Risk
    precondition: str
    calls: Callable[[Drift], tuple[Call, ...]]
    probe: Callable[[Drift], Probe] | None = None
    parent: str | None = None  # UNMANAGED: the live attribute naming the managed resource it belongs to

    @property
    def qualified(self) -> str:
        return f"{self.type}/{self.name}"


_HEAD = re.compile(r"^[^.\[]+")


def head(path: str) -> str:
    """`health_check[0].path` -> `health_check`; `tags.Environment` -> `tags`."""
    match = _HEAD.match(path)
    return match.group(0) if match else path


def state_attrs(drift: Drift) -> Mapping[str, Any]:
    return drift.state_attributes or {}


def live_attrs(drift: Drift) -> Mapping[str, Any]:
    return drift.live_attributes or {}


def first(value: Any) -> Mapping[str, Any]:
    """The single element of a Terraform nested block list (`x[0]`), or {}."""
    if isinstance(value, list | tuple) and value and isinstance(value[0], Mapping):
        return value[0]
    return value if isinstance(value, Mapping) else {}


def all_tags(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Every tag a resource carries: `tags_all` (the resource's own plus the provider's default_tags)
    when the provider wrote it, else `tags`."""
    return dict(attrs.get("tags_all") or attrs.get("tags") or {})


def tag_changes(drift: Drift) -> tuple[dict[str, str], list[str]]:
    """(tags to set, keys to remove) that make the live tags equal the state's (default tags included)."""
    want = all_tags(state_attrs(drift))
    have = all_tags(live_attrs(drift))
    put = {k: str(v) for k, v in want.items() if have.get(k) != v}
    drop = sorted(k for k in have if k not in want)
    return put, drop


def exists_probe(service: str, operation: str, params: Mapping[str, Any], key: str, what: str) -> Probe:
    return Probe(Call(service, operation, dict(params)), key, "exists", f"{what} still exists")


def _registry() -> dict[str, tuple[Revert, ...]]:
    from auditor.fix.reverts import dynamodb, ec2, ecr, ecs, elbv2, logs, s3, tagging

    found: dict[str, list[Revert]] = {}
    for module in (ec2, logs, ecr, ecs, elbv2, s3, dynamodb, tagging):
        for revert in module.REVERTS:
            found.setdefault(revert.type, []).append(revert)
    return {t: tuple(r) for t, r in found.items()}


REVERTS: Mapping[str, tuple[Revert, ...]] = _registry()


def declared_permissions() -> tuple[str, ...]:
    """Every IAM permission any revert declares (the fix role grants exactly these, plus the lock's)."""
    return tuple(sorted({p for reverts in REVERTS.values() for r in reverts for p in r.permissions}))


def reverts_for(drift: Drift) -> tuple[Revert, ...] | None:
    """The reverts that together put back every change of `drift`, or None if some change has none."""
    candidates = [r for r in REVERTS.get(drift.type, ()) if drift.kind in r.kinds]
    if drift.kind is not DriftKind.CHANGED:
        return (candidates[0],) if candidates else None
    heads = {head(c.path) for c in drift.changes}
    chosen = [r for r in candidates if heads & set(r.paths)]
    covered = {p for r in chosen for p in r.paths}
    return tuple(chosen) if chosen and heads <= covered else None


_IAM_PREFIX = {"elbv2": "elasticloadbalancing"}
_S3_ACTIONS = {"put_public_access_block": "PutBucketPublicAccessBlock", "delete_bucket_tagging": "PutBucketTagging",
               "list_objects_v2": "ListBucket", "get_public_access_block": "GetBucketPublicAccessBlock"}


def iam_permission(call: Call) -> str:
    """The IAM action a boto3 call needs (`elbv2.modify_listener` -> `elasticloadbalancing:ModifyListener`)."""
    if call.service == "s3" and call.operation in _S3_ACTIONS:
        return f"s3:{_S3_ACTIONS[call.operation]}"
    name = "".join(part.title() for part in call.operation.split("_"))
    return f"{_IAM_PREFIX.get(call.service, call.service)}:{name}"
