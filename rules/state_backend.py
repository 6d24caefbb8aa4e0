"""STATE-01..03: where Terraform state lives, and whether its backend locks and encrypts it.

They judge the `terraform_backend` pseudo-resource (attributes: `auditor.rules.backend`); the state
bucket and the lock table are judged by state_bucket.py and state_lock.py.
"""

from __future__ import annotations

from typing import Any

from auditor.models import Origin, Resource, Unresolved
from auditor.rules.backend import BACKEND_TYPE
from auditor.rules.engine import rule
from auditor.rules.model import Peers, RuleContext, Verdict
from auditor.rules.read import as_bool, as_list, get, has
from auditor.rules.verdicts import failed, not_applicable, passed, unknown, unresolved


def _backend_type(res: Resource) -> str | Verdict:
    kind = get(res, "type")
    if isinstance(kind, Unresolved):
        return unresolved("the backend type", kind)
    return str(kind or "local")


def _partial(res: Resource) -> bool:
    """A code backend block without bucket or key: the rest comes from `terraform init -backend-config`."""
    return res.origin is Origin.CODE and (get(res, "bucket") is None or get(res, "key") is None)


def _location(res: Resource) -> str:
    bucket, key = get(res, "bucket"), get(res, "key")
    if isinstance(bucket, str) and isinstance(key, str):
        return f"s3://{bucket}/{key}"
    return "an S3 bucket given at `terraform init` (partial backend configuration)"


@rule(
    id="STATE-01", title="Remote state is in S3", severity="high", resource_types=(BACKEND_TYPE,),
    rationale="""
State holds every resource id and, in clear text, every secret Terraform has seen. Local state is
lost with the laptop or CI runner, cannot be shared or locked across a team, and HCP/remote backends
are outside this checklist's controls; the S3 backend keeps it in a versioned, encrypted bucket.
""",
    remediation="Add a `terraform { backend \"s3\" { bucket, key, region } }` block and run "
                "`terraform init -migrate-state`.",
    terraform="""
terraform {
  backend "s3" {
    bucket       = "example-tfstate"
    key          = "prod/terraform.tfstate"
    region       = "eu-west-1"
    encrypt      = true
    use_lockfile = true
  }
}
""",
    peers=Peers(),
)
def state_in_s3(res: Resource, ctx: RuleContext) -> Verdict:
    kind = _backend_type(res)
    if isinstance(kind, Verdict):
        return kind
    if kind != "s3":
        return failed(f"state is kept in a {kind!r} backend, not in S3", kind)
    return passed(f"state is in {_location(res)}", get(res, "bucket"))


def _s3_only(res: Resource, ctx: RuleContext) -> Verdict | None:
    """The backend rules judge S3 backends only."""
    kind = _backend_type(res)
    if isinstance(kind, Verdict):
        return kind
    return None if kind == "s3" else not_applicable(f"judged for the S3 backend only (this one is {kind!r})")


@rule(
    id="STATE-02", title="State locking is on", severity="high", resource_types=(BACKEND_TYPE,),
    rationale="""
Without a lock two `terraform apply` runs can write the same state at once and lose resources from
it. The S3 backend locks with an S3 lock object (`use_lockfile`, Terraform >= 1.10) or a DynamoDB
table (`dynamodb_table`, deprecated since Terraform 1.11 but still working); either passes.
""",
    remediation="Set `use_lockfile = true` in the backend block (keep `dynamodb_table` during a migration, "
                "then remove it) and run `terraform init -reconfigure`.",
    terraform="""
terraform {
  backend "s3" {
    bucket       = "example-tfstate"
    key          = "prod/terraform.tfstate"
    region       = "eu-west-1"
    use_lockfile = true
  }
}
""",
    peers=Peers(),
    applies=_s3_only,
)
def state_locking(res: Resource, ctx: RuleContext) -> Verdict:
    lockfile = as_bool(get(res, "use_lockfile"))
    table = get(res, "dynamodb_table")
    seen = get(res, "_lock_mechanisms_seen") if has(res, "_lock_mechanisms_seen") else None
    if lockfile is True:
        also = f" (and DynamoDB table {table!r} during the migration)" if isinstance(table, str) and table else ""
        return passed(f"S3-native locking is on (use_lockfile = true){also}", True)
    if isinstance(table, str) and table:
        if seen is not None and "dynamodb" not in as_list(seen):
            return failed(f"backend locks with DynamoDB table {table!r}, but no such lock table was found", table)
        return passed(f"locked with DynamoDB table {table!r}; dynamodb_table is deprecated since Terraform "
                      "1.11: add use_lockfile = true", table)
    for name, value in (("use_lockfile", lockfile), ("dynamodb_table", table)):
        if isinstance(value, Unresolved):
            return unresolved(name, value)
    if _partial(res):
        return unknown("neither use_lockfile nor dynamodb_table is in the backend block; this partial "
                       "configuration may get them from `terraform init -backend-config`")
    return failed("state is not locked: set use_lockfile = true (or dynamodb_table)", lockfile)


@rule(
    id="STATE-03", title="Backend encrypts state", severity="medium", resource_types=(BACKEND_TYPE,),
    rationale="""
State contains secrets in clear text. `encrypt = true` makes the backend ask S3 for server-side
encryption of the state object, with `kms_key_id` naming a customer-managed KMS key. Live, the state
object's own encryption (HeadObject) is the evidence.
""",
    remediation="Set `encrypt = true` (and `kms_key_id` to a customer-managed KMS key ARN) in the backend "
                "block, run `terraform init -reconfigure`, then write the state again.",
    terraform="""
terraform {
  backend "s3" {
    bucket     = "example-tfstate"
    key        = "prod/terraform.tfstate"
    region     = "eu-west-1"
    encrypt    = true
    kms_key_id = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }
}
""",
    peers=Peers(),
    applies=_s3_only,
)
def state_encrypted(res: Resource, ctx: RuleContext) -> Verdict:
    wanted_key = get(res, "kms_key_id")
    if has(res, "_sse"):
        return _object_encryption(res, wanted_key)
    encrypt = as_bool(get(res, "encrypt"))
    if isinstance(encrypt, Unresolved):
        return unresolved("encrypt", encrypt)
    if encrypt is True:
        if isinstance(wanted_key, Unresolved):
            return unresolved("kms_key_id", wanted_key)
        how = f"KMS key {wanted_key}" if wanted_key else "SSE-S3 (set kms_key_id for a customer-managed KMS key)"
        return passed(f"state is encrypted with {how}", True)
    if encrypt is None and _partial(res):
        return unknown("encrypt is not in the backend block; this partial configuration may get it from "
                       "`terraform init -backend-config`")
    return failed("encrypt is not true: the backend does not ask for encryption of the state object", encrypt)


def _object_encryption(res: Resource, wanted_key: Any) -> Verdict:
    sse = get(res, "_sse")
    actual_key = get(res, "_sse_kms_key_id")
    if not sse:
        return failed("the state object is not encrypted at rest (HeadObject has no ServerSideEncryption)", sse)
    if isinstance(wanted_key, str) and wanted_key:
        if not str(sse).startswith("aws:kms"):
            return failed(f"the backend asks for KMS key {wanted_key}, but the state object is encrypted with {sse}",
                          sse)
        if (isinstance(actual_key, str) and actual_key.startswith("arn:") and wanted_key.startswith("arn:")
                and ":key/" in wanted_key and actual_key != wanted_key):
            return failed(f"the state object is encrypted with KMS key {actual_key}, not the configured {wanted_key}",
                          actual_key)
    key = f" (key {actual_key})" if actual_key else ""
    return passed(f"the state object is encrypted with {sse}{key}", sse)
