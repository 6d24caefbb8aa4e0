"""S3 buckets: versioning and the public-access block."""

from __future__ import annotations

from auditor.fix.model import Call, Probe, Risk
from auditor.fix.reverts import Revert, first, state_attrs
from auditor.models import Drift, DriftKind

_BLOCKS = (("block_public_acls", "BlockPublicAcls"), ("block_public_policy", "BlockPublicPolicy"),
           ("ignore_public_acls", "IgnorePublicAcls"), ("restrict_public_buckets", "RestrictPublicBuckets"))


def _bucket(drift: Drift) -> str:
    return str(state_attrs(drift).get("bucket") or drift.id)


def _versioning(drift: Drift) -> tuple[Call, ...]:
    status = str(first(state_attrs(drift).get("versioning_configuration")).get("status", "Enabled"))
    return (Call("s3", "put_bucket_versioning",
                 {"Bucket": _bucket(drift), "VersioningConfiguration": {"Status": status}}),)


def _public_access_block(drift: Drift) -> tuple[Call, ...]:
    attrs = state_attrs(drift)
    return (Call("s3", "put_public_access_block",
                 {"Bucket": _bucket(drift),
                  "PublicAccessBlockConfiguration": {name: bool(attrs.get(key)) for key, name in _BLOCKS}}),)


def _probe(drift: Drift) -> Probe:
    return Probe(Call("s3", "list_objects_v2", {"Bucket": _bucket(drift), "MaxKeys": 1}), "Name", "exists",
                 f"bucket {_bucket(drift)} still exists")


REVERTS: tuple[Revert, ...] = (
    Revert("aws_s3_bucket_versioning", "status", frozenset({DriftKind.CHANGED}), ("versioning_configuration",),
           ("s3:PutBucketVersioning", "s3:ListBucket"), Risk.LOW, "the bucket still exists", _versioning, _probe),
    Revert("aws_s3_bucket_public_access_block", "settings", frozenset({DriftKind.CHANGED, DriftKind.MISSING}),
           tuple(key for key, _ in _BLOCKS), ("s3:PutBucketPublicAccessBlock", "s3:ListBucket"), Risk.LOW,
           "the bucket still exists (the block's id is the bucket's name, so putting a deleted block back "
           "gives the state its id again)", _public_access_block, _probe),
)
