"""The `terraform_backend` pseudo-resource of a configuration or a state.

STATE-01..03 judge one resource of type `terraform_backend` per configuration / state (see
`backend_resource`). Attributes:

* `type`: the backend type (`s3`, `local`, `remote`, `gcs`, ...; `local` when there is no
  backend block, `cloud` for an HCP Terraform `cloud` block);
* `bucket`, `key`, `region`, `encrypt` (bool), `kms_key_id`, `dynamodb_table`, `use_lockfile`
  (bool), `workspace_key_prefix`: the `backend "s3"` settings (absent when not set; in code a
  setting left for `terraform init -backend-config` is simply absent);
* LIVE only: `_lock_mechanisms_seen` (list of `"dynamodb"` / `"s3"`: lock stores verified to exist,
  a lock table with a `LockID` key or an S3 `<key>.tflock` object), `_sse` (the state object's
  HeadObject `ServerSideEncryption`, "" when the object is not encrypted) and `_sse_kms_key_id`
  (HeadObject `SSEKMSKeyId`). A key that is absent was not observed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.models import Origin, Resource

BACKEND_TYPE = "terraform_backend"
LOCK_KEY = "LockID"
"""The hash key of the S3 backend's DynamoDB lock table (Terraform writes `{"LockID": ...}` items)."""



def backend_resource(settings: Mapping[str, Any] | None, *, origin: Origin, source: str | None = None,
                     address: str = "terraform.backend", region: str | None = None) -> Resource:
    """The `terraform_backend` resource of a configuration or a state (attributes: module docstring).

    `settings` is `CodeModule.backend` (the backend block's arguments plus `_type` and `_location`)
    or the same keys built from a state's location; None means no backend block (local state).
    """
    settings = dict(settings or {})
    kind = settings.pop("_type", None) or settings.pop("type", None)
    if kind is None:
        if settings:
            raise ValueError("backend settings need their backend type (`_type` or `type`)")
        kind = "local"
    attrs: dict[str, Any] = {"type": kind, **settings}
    bucket, key = attrs.get("bucket"), attrs.get("key")
    ident = f"{bucket}/{key}" if isinstance(bucket, str) and isinstance(key, str) else address
    if region is None and isinstance(attrs.get("region"), str):
        region = attrs["region"]
    return Resource(type=BACKEND_TYPE, id=ident, attributes=attrs, origin=origin, region=region, address=address,
                    source=source)
