"""STATE-08..10: how the DynamoDB table holding Terraform's state locks is kept.

They judge DynamoDB lock tables: a `LockID` hash key, or the name a backend's `dynamodb_table` gives;
other tables are not applicable.
"""

from __future__ import annotations

from typing import Any

from auditor.models import Origin, Resource, Status, Unresolved
from auditor.rules.backend import BACKEND_TYPE, LOCK_KEY
from auditor.rules.engine import rule
from auditor.rules.model import Peers, RuleContext, Verdict
from auditor.rules.policies import customer_managed_key
from auditor.rules.read import as_bool, blocks, get, has, observed, show
from auditor.rules.verdicts import failed, judge, not_applicable, passed, unobserved, unresolved

TABLE = "aws_dynamodb_table"


def _backend_tables(ctx: RuleContext) -> list[Any]:
    return [get(b, "dynamodb_table") for b in ctx.of_type(BACKEND_TYPE)]


def _lock_table(res: Resource, ctx: RuleContext) -> Verdict | None:
    """None when `res` is a lock table; else NOT_APPLICABLE, or UNKNOWN when that cannot be told."""
    name = get(res, "name")
    if name is None and res.origin is not Origin.CODE:
        name = res.id
    named = [t for t in _backend_tables(ctx) if isinstance(t, str) and t]
    if isinstance(name, str) and name in named:
        return None
    hash_key = get(res, "hash_key")
    if hash_key == LOCK_KEY:
        return None
    if isinstance(hash_key, Unresolved):
        return unresolved("whether this is a lock table (hash_key)", hash_key)
    if isinstance(name, Unresolved) and named:
        return unresolved("whether this is the backend's lock table (name)", name)
    return not_applicable(f"not a Terraform lock table (hash key {show(hash_key)}, named by no backend)")


@rule(
    id="STATE-08", title="Lock table has a LockID string hash key", severity="high", resource_types=(TABLE,),
    rationale="""
Terraform's S3 backend writes lock items `{"LockID": <string>}` with the condition
`attribute_not_exists(LockID)`: a table whose hash key is not a string named `LockID` cannot hold
the lock, and every plan or apply fails to acquire it.""",
    remediation="Recreate the lock table with `hash_key = \"LockID\"` and `attribute { name = \"LockID\" "
                "type = \"S\" }`.",
    terraform="""
resource "aws_dynamodb_table" "locks" {
  name         = "example-tf-locks"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "LockID"
  attribute {
    name = "LockID"
    type = "S"
  }
}
""",
    peers=Peers(),
    applies=_lock_table,
)
def lock_table_key(res: Resource, ctx: RuleContext) -> Verdict:
    hash_key = get(res, "hash_key")
    key = judge(hash_key, "hash_key", lambda k: k == LOCK_KEY, repr(LOCK_KEY))
    if key.status is not Status.PASS:
        return key
    defined = blocks(res, "attribute")
    if isinstance(defined, Unresolved):
        return unresolved("the attribute definitions", defined)
    kinds = [get(a, "type") for a in defined if get(a, "name") == LOCK_KEY]
    if not kinds:
        unknown_names = [a for a in defined if isinstance(get(a, "name"), Unresolved)]
        if unknown_names:
            return unresolved("the LockID attribute definition", get(unknown_names[0], "name"))
        return failed("hash_key is LockID but no attribute block defines LockID")
    return judge(kinds[0], "LockID attribute type", lambda t: t == "S", "\"S\" (string)")


@rule(
    id="STATE-09", title="Lock table has point-in-time recovery (PITR)", severity="low", resource_types=(TABLE,),
    rationale="""
PITR lets the lock table (and its state digests) be restored after an accidental delete or a bad
write; without it a lost digest item blocks every Terraform run until it is fixed by hand.""",
    remediation="Add `point_in_time_recovery { enabled = true }` to the table.",
    terraform="""
resource "aws_dynamodb_table" "locks" {
  name         = "example-tf-locks"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "LockID"
  attribute {
    name = "LockID"
    type = "S"
  }
  point_in_time_recovery {
    enabled = true
  }
}
""",
    peers=Peers(checkov=("CKV_AWS_28",), trivy=("AVD-AWS-0024",), securityhub=("DynamoDB.2",),
                aws_config=("dynamodb-pitr-enabled",), prowler=("dynamodb_tables_pitr_enabled",)),
    applies=_lock_table,
)
def lock_table_pitr(res: Resource, ctx: RuleContext) -> Verdict:
    if res.origin is Origin.LIVE and not has(res, "point_in_time_recovery"):
        return unobserved("point-in-time recovery of this table (read live only for tables a state holds)")
    enabled = as_bool(get(res, "point_in_time_recovery.0.enabled"))
    return judge(enabled, "point_in_time_recovery.enabled", lambda e: e is True, "true",
                 absent=failed("point-in-time recovery is not enabled (no point_in_time_recovery block)"))


@rule(
    id="STATE-10", title="Lock table is encrypted with a KMS customer-managed key (CMK)", severity="low",
    resource_types=(TABLE,),
    rationale="""
DynamoDB always encrypts at rest, but with an AWS-owned key by default (or the AWS-managed
aws/dynamodb key): neither gives a key policy or key-use audit trail you control. A customer-managed
key does.""",
    remediation="Add `server_side_encryption { enabled = true, kms_key_arn = <customer-managed key ARN> }`.",
    terraform="""
resource "aws_dynamodb_table" "locks" {
  name         = "example-tf-locks"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "LockID"
  attribute {
    name = "LockID"
    type = "S"
  }
  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.locks.arn
  }
}

resource "aws_kms_key" "locks" {
  description         = "Terraform lock table"
  enable_key_rotation = true
}
""",
    peers=Peers(checkov=("CKV_AWS_119",), trivy=("AVD-AWS-0025",),
                aws_config=("dynamodb-table-encrypted-kms",), prowler=("dynamodb_tables_kms_cmk_encryption_enabled",)),
    applies=_lock_table,
)
def lock_table_cmk(res: Resource, ctx: RuleContext) -> Verdict:
    sse = blocks(res, "server_side_encryption")
    if isinstance(sse, Unresolved):
        return unresolved("server_side_encryption", sse)
    enabled = as_bool(get(sse[0], "enabled")) if sse else None
    if isinstance(enabled, Unresolved):
        return unresolved("server_side_encryption.enabled", enabled)
    if enabled is not True:
        return failed("encrypted with the AWS-owned key (server_side_encryption is not enabled)", enabled)
    key = get(sse[0], "kms_key_arn")
    # Live, the AWS-managed key is blanked only for tables read in full (those a state holds).
    cmk = customer_managed_key(key, ctx, bare_key=True if observed(ctx, res) else None)
    if cmk is False:
        return failed("encrypted with the AWS-managed key aws/dynamodb, not a customer-managed key", key)
    if cmk is None:
        if isinstance(key, Unresolved):
            return unresolved("whether kms_key_arn is a customer-managed key", key)
        return unobserved(f"whether KMS key {key} is customer-managed")
    return passed(f"encrypted with customer-managed KMS key {show(key)}", show(key))
