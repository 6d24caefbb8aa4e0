"""A recorded history of 40 daily runs with drift, rule verdicts, exceptions and hostile strings in names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from auditor.history import History
from tests.history.docs import make_doc

T0 = datetime(2026, 10, 1, 6, 0, tzinfo=UTC)
HOSTILE = ['<script>alert(1)</script>', '"><img src=x onerror=alert(2)>', "{{7*7}}", "\u202egnp.exe\u200b",
           "javascript:alert(3)"]
META = [
    {"id": "ALB-01", "title": "Load balancers drop invalid header fields", "severity": "high",
     "resource_types": ["aws_lb"], "rationale": "Request smuggling.", "remediation": "Set drop_invalid_header_fields.",
     "terraform": 'resource "aws_lb" "x" {\n  drop_invalid_header_fields = true\n}',
     "peers": {"checkov": ["CKV_AWS_131"], "trivy": ["AVD-AWS-0052"], "securityhub": ["ELB.4"],
               "aws_config": ["alb-http-drop-invalid-header-enabled"], "prowler": []}},
    {"id": "ECR-01", "title": "Images are scanned on push", "severity": "medium",
     "resource_types": ["aws_ecr_repository"],
     "rationale": "Known CVEs.", "remediation": "Enable scan_on_push.", "terraform": "",
     "peers": {"checkov": ["CKV_AWS_163"], "trivy": [], "securityhub": ["ECR.1"], "aws_config": [], "prowler": []}},
    {"id": "CW-01", "title": "Log groups keep logs 30 days", "severity": "low",
     "resource_types": ["aws_cloudwatch_log_group"],
     "rationale": "Evidence.", "remediation": "retention_in_days >= 30.", "terraform": "",
     "peers": {"checkov": [], "trivy": [], "securityhub": ["CloudWatch.16"], "aws_config": [], "prowler": []}},
]
EXCEPTIONS = [
    {"rule": "ECR-01", "target": "aws_ecr_repository.legacy*", "reason": "legacy images, replaced in Q1",
     "expires": "2027-03-31", "approver": "jane.doe@example.com", "approved_on": "2026-09-01", "expired": False,
     "matched": 1},
    {"rule": "CW-01", "target": "aws_cloudwatch_log_group.tmp*", "reason": HOSTILE[1], "expires": "2026-01-31",
     "approver": HOSTILE[0], "approved_on": None, "expired": True, "matched": 0},
]


def day_doc(n: int) -> dict[str, Any]:
    """Day n: the LB's idle_timeout drifts from day 20; a hostile-named SG is unmanaged on days 30-35;
    the task role is missing throughout; ALB-01 fails until day 25; ECR-01 fails but is suppressed."""
    drifts: list[Any] = [("aws_iam_role", "task-role", "missing", [])]
    in_sync = [("aws_ecr_repository", "legacy-app"), ("aws_cloudwatch_log_group", "/ecs/app")]
    if n >= 20:
        drifts.append(("aws_lb", "arn:aws:elasticloadbalancing:lb/app", "changed", ["idle_timeout", HOSTILE[2]]))
    else:
        in_sync.append(("aws_lb", "arn:aws:elasticloadbalancing:lb/app"))
    if 30 <= n <= 35:
        drifts.append(("aws_security_group", HOSTILE[0] + HOSTILE[1] + HOSTILE[3], "unmanaged", []))
    verdicts = [("ALB-01", "aws_lb", "arn:aws:elasticloadbalancing:lb/app", "FAIL" if n < 25 else "PASS"),
                ("ECR-01", "aws_ecr_repository", "legacy-app", "FAIL"),
                ("CW-01", "aws_cloudwatch_log_group", "/ecs/app", "PASS"),
                ("CW-01", "aws_cloudwatch_log_group", HOSTILE[4], "UNKNOWN")]
    return make_doc(T0 + timedelta(days=n), drifts, verdicts, in_sync=in_sync, metas=META, suppressions=EXCEPTIONS,
                    suppressed={("ECR-01", "legacy-app"): {**EXCEPTIONS[0]}})


def record_sample(history: History, days: int = 40) -> list[str]:
    return [history.record_document(day_doc(n)) for n in range(days)]
