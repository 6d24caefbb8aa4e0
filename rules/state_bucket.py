"""STATE-04..07: how the S3 bucket holding Terraform state is protected.

They judge every `aws_s3_bucket`, joined to its split `aws_s3_bucket_*` resources (the legacy inline
blocks on the bucket still count); the `bucket_scope` setting says whether only state buckets are in
scope (the default) or all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from auditor.code.values import Template
from auditor.models import Origin, Resource, Status, Unresolved
from auditor.rules.backend import BACKEND_TYPE, LOCK_KEY
from auditor.rules.engine import rule
from auditor.rules.links import bind_self, configured_by, template_excludes
from auditor.rules.model import Peers, RuleContext, Verdict
from auditor.rules.policies import actions_cover, document, iam_match, principal_is_everyone, statements
from auditor.rules.read import as_bool, as_list, blocks, get, show
from auditor.rules.verdicts import (
    Tri,
    all_of,
    any_of,
    failed,
    judge,
    not_applicable,
    passed,
    t_all,
    t_any,
    unknown,
    unresolved,
)

BUCKET = "aws_s3_bucket"
TABLE = "aws_dynamodb_table"
BUCKET_KEYS = ("bucket", "id", "arn")
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


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
    applies=_state_bucket,
)
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
    applies=_state_bucket,
)
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
