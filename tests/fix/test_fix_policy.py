"""The `auditor-fix` role (terraform/auditor) grants exactly what the fix declares: its own policy holds
every revert's permissions and the lock's, nothing more; the deployer's policy (attached too) covers a
redeploy; the read-only audit role stays apart."""

from __future__ import annotations

import json
import re
from typing import Any

from auditor.fix.lock import LOCK_PERMISSIONS
from auditor.fix.planner import REDEPLOY_PERMISSIONS
from auditor.fix.reverts import declared_permissions
from tests.conftest import REPO

AUDITOR = REPO / "terraform" / "auditor"


def actions(name: str) -> set[str]:
    document: dict[str, Any] = json.loads((AUDITOR / "policies" / name).read_text(encoding="utf-8"))
    found: set[str] = set()
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        value = statement["Action"]
        found.update([value] if isinstance(value, str) else value)
    return found


NEEDED = set(declared_permissions()) | set(LOCK_PERMISSIONS)


def test_the_fix_policy_grants_nothing_the_fix_does_not_declare() -> None:
    assert actions("audit-fix.json") - NEEDED == set()


def test_every_declared_permission_is_granted_to_the_fix_role() -> None:
    assert NEEDED - (actions("audit-fix.json") | actions("audit-readonly.json")) == set()


def test_a_redeploy_is_covered_by_the_deployers_policy_attached_to_the_fix_role() -> None:
    assert set(REDEPLOY_PERMISSIONS) - (actions("audit-deploy.json") | actions("audit-readonly.json")) == set()
    iam = (AUDITOR / "iam.tf").read_text(encoding="utf-8")
    attached = re.search(r'resource "aws_iam_role_policy_attachment" "auditor_fix" \{(.*?)\n\}', iam, re.S)
    assert attached is not None
    for policy in ("audit_readonly", "audit_fix", "audit_deploy"):
        assert f"aws_iam_policy.{policy}.arn" in attached.group(1)


def test_the_fix_role_is_a_role_of_its_own_and_the_audit_role_stays_read_only() -> None:
    iam = (AUDITOR / "iam.tf").read_text(encoding="utf-8")
    assert 'resource "aws_iam_role" "auditor_fix"' in iam and 'name               = "digitallync-auditor-fix"' in iam
    readonly_attachments = re.findall(r'resource "aws_iam_role_policy_attachment" "auditor_task_readonly" \{(.*?)\}',
                                      iam, re.S)
    assert readonly_attachments and "audit_fix" not in readonly_attachments[0]
    writes = {a for a in actions("audit-readonly.json")
              if a.split(":", 1)[1].startswith(("Put", "Delete", "Update", "Modify", "Tag", "Untag", "Revoke"))}
    assert writes == set()
