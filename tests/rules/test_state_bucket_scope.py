"""STATE-04/05 judge Terraform state buckets only, unless `bucket_scope = "all"` (the peers' reading)."""

from __future__ import annotations

from pathlib import Path

from auditor.code import load_code
from auditor.models import Origin, Status
from auditor.rules.backend import backend_resource
from auditor.rules.engine import evaluate
from auditor.rules.settings import RuleSettings
from tests.rules.support import builtin_pack

CODE = """
resource "aws_s3_bucket" "state" { bucket = "acme-tfstate" }
resource "aws_s3_bucket" "alb_logs" { bucket = "acme-alb-logs" }
resource "aws_s3_bucket_server_side_encryption_configuration" "alb_logs" {
  bucket = aws_s3_bucket.alb_logs.id
  rule {
    apply_server_side_encryption_by_default { sse_algorithm = "AES256" }
  }
}
"""


def _verdicts(tmp_path: Path, settings: RuleSettings, backend: dict[str, str] | None) -> dict[tuple[str, str], Status]:
    (tmp_path / "main.tf").write_text(CODE)
    resources = list(load_code(tmp_path).resources)
    if backend:
        resources.append(backend_resource(backend, origin=Origin.CODE))
    found = evaluate(builtin_pack(), resources, settings)
    return {(f.rule_id, f.address or ""): f.status for f in found if f.rule_id in ("STATE-04", "STATE-05")}


def test_only_the_bucket_a_backend_names_is_judged(tmp_path: Path) -> None:
    got = _verdicts(tmp_path, RuleSettings(), {"_type": "s3", "bucket": "acme-tfstate", "key": "k"})
    assert got[("STATE-05", "aws_s3_bucket.state")] is Status.FAIL
    assert got[("STATE-05", "aws_s3_bucket.alb_logs")] is Status.NOT_APPLICABLE
    assert got[("STATE-04", "aws_s3_bucket.alb_logs")] is Status.NOT_APPLICABLE


def test_a_state_like_name_is_judged_without_a_backend(tmp_path: Path) -> None:
    got = _verdicts(tmp_path, RuleSettings(), None)
    assert got[("STATE-04", "aws_s3_bucket.state")] is Status.FAIL
    assert got[("STATE-04", "aws_s3_bucket.alb_logs")] is Status.NOT_APPLICABLE


def test_all_buckets_when_configured(tmp_path: Path) -> None:
    got = _verdicts(tmp_path, RuleSettings(bucket_scope="all"), {"_type": "s3", "bucket": "acme-tfstate", "key": "k"})
    assert got[("STATE-05", "aws_s3_bucket.alb_logs")] is Status.FAIL
