"""STATE-01..10: where Terraform state lives and how its bucket and lock table are protected.

STATE-01..03 judge the `terraform_backend` pseudo-resource (attributes: `auditor.rules.lib`).
STATE-04..07 judge every `aws_s3_bucket`, joined to its split `aws_s3_bucket_*` resources (the
legacy inline blocks on the bucket still count). STATE-08..10 judge DynamoDB lock tables: a
`LockID` hash key, or the name a backend's `dynamodb_table` gives; other tables are not applicable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from auditor.code.values import Template
from auditor.models import Origin, Resource, Status, Unresolved
from auditor.rules.engine import rule
from auditor.rules.lib import (
    BACKEND_TYPE,
    Tri,
    actions_cover,
    all_of,
    any_of,
    as_bool,
    as_list,
    bind_self,
    blocks,
    configured_by,
    customer_managed_key,
    document,
    failed,
    get,
    has,
    iam_match,
    judge,
    not_applicable,
    observed,
    passed,
    principal_is_everyone,
    show,
    statements,
    t_all,
    t_any,
    template_excludes,
    unknown,
    unobserved,
    unresolved,
)
from auditor.rules.model import Peers, RuleContext, Verdict

BUCKET = "aws_s3_bucket"
TABLE = "aws_dynamodb_table"
BUCKET_KEYS = ("bucket", "id", "arn")
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
LOCK_KEY = "LockID"

# --- the backend (STATE-01..03) ----------------------------------------------------------------


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


def _s3_only(res: Resource) -> Verdict | None:
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
)
def state_locking(res: Resource, ctx: RuleContext) -> Verdict:
    skip = _s3_only(res)
    if skip is not None:
        return skip
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
)
def state_encrypted(res: Resource, ctx: RuleContext) -> Verdict:
    skip = _s3_only(res)
    if skip is not None:
        return skip
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


# --- S3 buckets (STATE-04..07) -----------------------------------------------------------------

_ALL_BUCKETS = """
It applies to every bucket, as checkov, Security Hub and AWS Config do: every bucket deserves it."""
_STATE_BUCKETS = """
It judges Terraform state buckets (settings `bucket_scope = "state"`, the default): a bucket named
by a backend, kept beside a `LockID` lock table, or named like a state bucket (`tfstate`,
`terraform-state`, `tf-state`). Other buckets need not qualify (an ALB access-log bucket can only
use SSE-S3); `bucket_scope = "all"` judges every bucket, as checkov and Security Hub do."""
_STATE_NAME_HINTS = ("tfstate", "terraform-state", "tf-state")


def _state_bucket(res: Resource, ctx: RuleContext) -> Verdict | None:
    """None when `res` is in scope of the state-bucket rules; else NOT_APPLICABLE or UNKNOWN."""
    if ctx.settings.bucket_scope == "all":
        return None
    name = get(res, "bucket")
    if name is None and res.origin is not Origin.CODE:
        name = res.id
    named = [b for b in (get(x, "bucket") for x in ctx.of_type(BACKEND_TYPE)) if isinstance(b, str) and b]
    if named:  # the backends say which buckets hold state
        if isinstance(name, str):
            return None if name in named else not_applicable(f"not a state bucket: no backend names {name}")
        if isinstance(name, Template) and all(template_excludes(name, n) for n in named):
            return not_applicable(f"not a state bucket: {name.display} can be none of {', '.join(named)}")
        return unresolved("whether this is the backends' state bucket (bucket name)", name)
    if isinstance(name, str) and any(hint in name.lower() for hint in _STATE_NAME_HINTS):
        return None
    if any(get(t, "hash_key") == LOCK_KEY for t in ctx.of_type(TABLE)):
        return None  # the bootstrap pattern: the state bucket declared beside its lock table
    return not_applicable(f"not a Terraform state bucket ({show(name)}: no backend names it, no lock table beside it)")


def _state_bucket_rule(check: Callable[[Resource, RuleContext], Verdict]) -> Callable[[Resource, RuleContext], Verdict]:
    def run(res: Resource, ctx: RuleContext) -> Verdict:
        skip = _state_bucket(res, ctx)
        return skip if skip is not None else check(res, ctx)

    run.__name__ = check.__name__
    run.__doc__ = check.__doc__
    return run


def _bucket_setting(ctx: RuleContext, bucket: Resource, child_type: str,
                    judge_child: Callable[[Resource], Verdict], absent: Verdict,
                    legacy: Callable[[Resource], Verdict | None] | None = None) -> Verdict:
    return configured_by(ctx, bucket, child_type, field="bucket", keys=BUCKET_KEYS, judge_child=judge_child,
                         absent=absent, legacy=legacy, same_region=False)


def _inline(name: str, judge_blocks: Callable[[list[Any]], Verdict]) -> Callable[[Resource], Verdict | None]:
    """A legacy inline block on aws_s3_bucket: judged when set, None when not."""

    def read(bucket: Resource) -> Verdict | None:
        found = blocks(bucket, name)
        if isinstance(found, Unresolved):
            return unresolved(f"the inline {name} block", found)
        if not found:
            return None
        verdict = judge_blocks(found)
        return Verdict(verdict.status, f"inline {name} block: {verdict.message}", verdict.value)

    return read


@rule(
    id="STATE-04", title="State bucket is versioned", severity="high", resource_types=(BUCKET,),
    rationale="""
With versioning every state write keeps the previous object, so a corrupted or deleted state can be
restored.""" + _STATE_BUCKETS,
    remediation="Add an `aws_s3_bucket_versioning` resource for the bucket with "
                "`versioning_configuration { status = \"Enabled\" }`.",
    terraform="""
resource "aws_s3_bucket" "state" {
  bucket = "example-tfstate"
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id
  versioning_configuration {
    status = "Enabled"
  }
}
""",
    peers=Peers(checkov=("CKV_AWS_21",), trivy=("AVD-AWS-0090",), securityhub=("S3.14",),
                aws_config=("s3-bucket-versioning-enabled",), prowler=("s3_bucket_object_versioning",)),
)
@_state_bucket_rule
def bucket_versioned(res: Resource, ctx: RuleContext) -> Verdict:
    def split(child: Resource) -> Verdict:
        status = get(child, "versioning_configuration.0.status")
        return judge(status, "versioning status", lambda s: s == "Enabled", "Enabled")

    def inline(found: list[Any]) -> Verdict:
        return judge(as_bool(get(found[0], "enabled")), "enabled", lambda e: e is True, "true")

    return _bucket_setting(ctx, res, "aws_s3_bucket_versioning", split,
                           failed("versioning is not enabled (no aws_s3_bucket_versioning and no versioning block)"),
                           _inline("versioning", inline))


def _sse_rules(config: Mapping[str, Any] | Resource) -> Verdict:
    found = blocks(config, "rule")
    if isinstance(found, Unresolved):
        return unresolved("the encryption rule", found)
    defaults = []
    for item in found:
        default = blocks(item, "apply_server_side_encryption_by_default")
        if isinstance(default, Unresolved):
            return unresolved("apply_server_side_encryption_by_default", default)
        defaults.extend(default)
    if not defaults:
        return failed("no default encryption (apply_server_side_encryption_by_default) is configured")
    return all_of(_kms_default(d) for d in defaults)


def _kms_default(default: Mapping[str, Any]) -> Verdict:
    verdict = judge(default.get("sse_algorithm"), "sse_algorithm", lambda a: a in KMS_ALGORITHMS,
                    " or ".join(KMS_ALGORITHMS))
    if verdict.status is not Status.PASS:
        return verdict
    key = default.get("kms_master_key_id")
    if isinstance(key, Unresolved) or key:
        return passed(f"{verdict.message} with KMS key {show(key)}", verdict.value)
    return passed(f"{verdict.message} with the AWS managed key aws/s3", verdict.value)


@rule(
    id="STATE-05", title="State bucket has default KMS encryption", severity="medium", resource_types=(BUCKET,),
    rationale="""
Objects written without their own encryption settings get the bucket's default encryption. A KMS
default puts reads of the state under a key policy and CloudTrail data events; S3's own default
(SSE-S3, AES256) does not, and fails this rule.""" + _STATE_BUCKETS,
    remediation="Add an `aws_s3_bucket_server_side_encryption_configuration` with `sse_algorithm = \"aws:kms\"` "
                "and `kms_master_key_id` set to a customer-managed key.",
    terraform="""
resource "aws_kms_key" "state" {
  description         = "Terraform state"
  enable_key_rotation = true
}

resource "aws_s3_bucket" "state" {
  bucket = "example-tfstate"
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.state.arn
    }
    bucket_key_enabled = true
  }
}
""",
    peers=Peers(checkov=("CKV_AWS_19", "CKV_AWS_145"), trivy=("AVD-AWS-0132",), securityhub=("S3.17",),
                aws_config=("s3-default-encryption-kms", "s3-bucket-server-side-encryption-enabled"),
                prowler=("s3_bucket_kms_encryption",)),
)
@_state_bucket_rule
def bucket_kms_encrypted(res: Resource, ctx: RuleContext) -> Verdict:
    return _bucket_setting(
        ctx, res, "aws_s3_bucket_server_side_encryption_configuration", _sse_rules,
        failed("no default encryption is configured: S3 applies SSE-S3 (AES256), not KMS"),
        _inline("server_side_encryption_configuration", lambda found: _sse_rules(found[0])))


PAB_FLAGS = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")


def _pab_flags(block: Resource) -> Verdict:
    return all_of(judge(as_bool(get(block, flag)), flag, lambda v: v is True, "true") for flag in PAB_FLAGS)


@rule(
    id="STATE-06", title="Bucket public access block has all 4 settings true", severity="high",
    resource_types=(BUCKET,),
    rationale="""
The four public access block settings stop public ACLs and public bucket policies from exposing the
bucket, whatever a later policy or ACL change says; state files hold secrets. An account-level block
with all four settings (`aws_s3_account_public_access_block`) covers every bucket.""" + _ALL_BUCKETS,
    remediation="Add an `aws_s3_bucket_public_access_block` for the bucket with all four settings true.",
    terraform="""
resource "aws_s3_bucket" "state" {
  bucket = "example-tfstate"
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}
""",
    peers=Peers(checkov=("CKV2_AWS_6", "CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"),
                trivy=("AVD-AWS-0086", "AVD-AWS-0087", "AVD-AWS-0091", "AVD-AWS-0093", "AVD-AWS-0094"),
                securityhub=("S3.8", "S3.1"),
                aws_config=("s3-bucket-level-public-access-prohibited",
                            "s3-account-level-public-access-blocks-periodic"),
                prowler=("s3_bucket_level_public_access_block", "s3_account_level_public_access_blocks")),
)
def bucket_public_access_blocked(res: Resource, ctx: RuleContext) -> Verdict:
    bucket_level = _bucket_setting(ctx, res, "aws_s3_bucket_public_access_block", _pab_flags,
                                   failed("no aws_s3_bucket_public_access_block blocks public access to it"))
    if bucket_level.status is Status.PASS:
        return bucket_level
    account_level = [_account_level(a) for a in ctx.of_type("aws_s3_account_public_access_block")]
    return any_of([bucket_level, *account_level])


def _account_level(block: Resource) -> Verdict:
    verdict = _pab_flags(block)
    return Verdict(verdict.status, f"account-level {block.address or block.id}: {verdict.message}", verdict.value)


def _s3_identity(bucket: Resource) -> tuple[dict[str, str], bool]:
    """What references to the bucket stand for, and whether its name is known."""
    name = get(bucket, "bucket")
    if not isinstance(name, str) or not name:
        name = bucket.id if bucket.origin is not Origin.CODE else None
    known = isinstance(name, str) and bool(name)
    text = name if isinstance(name, str) and name else "${bucket}"
    arn = get(bucket, "arn")
    arn_text = arn if isinstance(arn, str) and arn else f"arn:aws:s3:::{text}"
    return {"bucket": text, "id": text, "arn": arn_text}, known


def _is_false(value: Any) -> Tri:
    return None if isinstance(value, Unresolved) else str(value).lower() == "false"


def _secure_transport_only(condition: Any) -> Tri:
    """A Condition that is exactly `Bool`/`BoolIfExists` `aws:SecureTransport` = false."""
    if isinstance(condition, Unresolved):
        return None
    if not isinstance(condition, Mapping) or not condition:
        return False
    results: list[Tri] = []
    for operator, tests in condition.items():
        if isinstance(tests, Unresolved):
            return None
        if operator not in ("Bool", "BoolIfExists") or not isinstance(tests, Mapping):
            return False  # another condition narrows the deny
        for key, values in tests.items():
            if str(key).lower() != "aws:securetransport" or not as_list(values):
                return False
            results.append(t_all(_is_false(v) for v in as_list(values)))
    return t_all(results)


def _denies_plain_http(statement: Mapping[str, Any]) -> Tri:
    if any(k in statement for k in ("NotPrincipal", "NotAction", "NotResource")):
        return False
    effect = statement.get("Effect")
    return t_all([None if isinstance(effect, Unresolved) else effect == "Deny",
                  principal_is_everyone(statement.get("Principal")),
                  actions_cover(statement.get("Action"), "s3:*"),
                  _secure_transport_only(statement.get("Condition"))])


def _covers(statement: Mapping[str, Any], bucket: Resource, target: str) -> Tri:
    identity, name_known = _s3_identity(bucket)
    found = statement.get("Resource")
    if isinstance(found, Unresolved) and not isinstance(bind_self(found, bucket, identity), str):
        return None
    results: list[Tri] = []
    for item in as_list(found):
        text = bind_self(item, bucket, identity)
        if text is None:
            results.append(None)
        elif iam_match(text, target):
            results.append(True)
        else:
            results.append(None if isinstance(item, str) and not name_known else False)
    return t_any(results)


def _tls_policy(bucket: Resource, policy: Any, where: str) -> Verdict:
    found = statements(policy)
    if isinstance(found, Unresolved):
        return unresolved(f"the {where}", found)
    arn = _s3_identity(bucket)[0]["arn"]
    denies = [s for s in found if _denies_plain_http(s) is not False]
    coverage = {target: t_any(t_all([_denies_plain_http(s), _covers(s, bucket, target)]) for s in denies)
                for target in (arn, f"{arn}/*")}
    if all(v is True for v in coverage.values()):
        return passed(f"the {where} denies every request without TLS (aws:SecureTransport = false) on the bucket "
                      "and its objects")
    missing = [t for t, v in coverage.items() if v is False]
    if missing:
        return failed(f"the {where} has no Deny for Principal *, s3:*, aws:SecureTransport = false on "
                      f"{' and '.join(missing)}", missing)
    return unknown(f"the {where} may deny requests without TLS, but parts of it cannot be known statically")


@rule(
    id="STATE-07", title="Bucket policy is TLS-only", severity="medium", resource_types=(BUCKET,),
    rationale="""
Without an explicit Deny on `aws:SecureTransport = false`, S3 answers plain-HTTP requests, and state
(with its secrets) can cross the network unencrypted. The Deny must name Principal `*`, `s3:*`, and
both the bucket ARN and `<bucket ARN>/*`.""" + _ALL_BUCKETS,
    remediation="Add an `aws_s3_bucket_policy` with a Deny statement for Principal \"*\", Action \"s3:*\", "
                "Resource [bucket ARN, \"<bucket ARN>/*\"] and Condition Bool aws:SecureTransport = \"false\".",
    terraform="""
resource "aws_s3_bucket" "state" {
  bucket = "example-tfstate"
}

resource "aws_s3_bucket_policy" "state" {
  bucket = aws_s3_bucket.state.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
}
""",
    peers=Peers(checkov=("CKV_AWS_379",), securityhub=("S3.5",), aws_config=("s3-bucket-ssl-requests-only",),
                prowler=("s3_bucket_secure_transport_policy",)),
)
def bucket_tls_only(res: Resource, ctx: RuleContext) -> Verdict:
    def inline(bucket: Resource) -> Verdict | None:
        value = get(bucket, "policy")
        if value is None or value == "":
            return None
        return _tls_policy(bucket, document(bucket, "policy"), "inline bucket policy")

    return _bucket_setting(ctx, res, "aws_s3_bucket_policy",
                           lambda child: _tls_policy(res, document(child, "policy"), "bucket policy"),
                           failed("no bucket policy: requests without TLS are not denied"), inline)


# --- DynamoDB lock tables (STATE-08..10) -------------------------------------------------------


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


def _lock_rule(check: Callable[[Resource, RuleContext], Verdict]) -> Callable[[Resource, RuleContext], Verdict]:
    def run(res: Resource, ctx: RuleContext) -> Verdict:
        skip = _lock_table(res, ctx)
        return skip if skip is not None else check(res, ctx)

    run.__name__ = check.__name__
    run.__doc__ = check.__doc__
    return run


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
)
@_lock_rule
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
)
@_lock_rule
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
)
@_lock_rule
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
