"""The auditor against real Terraform on moto: one apply, a clean audit, every scenario, the lock.

One test item (subtests per part) so that the session's single apply happens on one xdist worker.
It rewrites docs/terraform-parity.md from what it measured.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

import pytest

from tests.conftest import REPO

from .known import CLEAN, KNOWN_DIFFERENCES, expected_differences
from .parity import Difference
from .report import DOC_PATH, render
from .suite import ParityRun


def _unversioned(doc: str) -> str:
    """The document without moto's version: a fresh install takes the newest moto, and a patch release
    alone must not fail CI (the doc still names the version it was measured with)."""
    return re.sub(r"moto \d+\.\d+\.\d+", "moto X.Y.Z", doc)

pytestmark = pytest.mark.conformance

LOCK_FIELDS = (("id", "ID"), ("operation", "Operation"), ("who", "Who"), ("created", "Created"))


def _describe(differences: Iterable[Difference]) -> str:
    return "\n".join(f"  {d.side}: {d.finding}" for d in sorted(differences))


def test_terraform_parity(parity_run: ParityRun, subtests: pytest.Subtests) -> None:
    run = parity_run
    doc = REPO / DOC_PATH
    previous = doc.read_text(encoding="utf-8") if doc.exists() else None
    text = render(run)
    doc.write_text(text, encoding="utf-8")
    print("\nconformance timings (s): " + ", ".join(f"{k} {v:.0f}" for k, v in run.seconds.items()))

    with subtests.test("clean stack: no false positive, nothing unmanaged, digest verified"):
        audit = run.clean_audit
        assert run.clean.terraform == frozenset(), f"Terraform saw drift right after apply: {run.clean.terraform}"
        assert run.clean.differences == expected_differences(CLEAN), _describe(run.clean.differences)
        assert audit["summary"]["counts"]["unmanaged"] == 0
        assert audit["summary"]["counts"]["unknown"] == 0
        assert audit["summary"]["coverage"] == 100.0
        assert audit["state_failures"] == []
        [stack_state] = [s for s in audit["states"] if s["uri"].startswith("s3://")]
        assert stack_state["digest"]["status"] == "verified"
        assert stack_state["lock"]["checked"] == ["dynamodb", "s3-lockfile"] and stack_state["lock"]["held"] == []
        assert audit["run"]["exit_code"] == (2 if run.clean.auditor else 0)

    with subtests.test("clean stack with the compliance rules"):
        compliance = run.rules_audit["compliance"]
        assert run.rules_audit["run"]["exit_code"] in (0, 2)
        assert compliance["counts"]["PASS"] > 0
        assert compliance["counts"]["FAIL"] == 0, [f for f in compliance["findings"] if f["status"] == "FAIL"]

    for outcome in run.scenarios:
        with subtests.test(scenario=outcome.name):
            assert not outcome.unexpected_terraform, (
                f"Terraform's findings are not the change {outcome.name} made (or an undo was incomplete):\n"
                + _describe(outcome.unexpected_terraform))
            assert outcome.differences == expected_differences(outcome.name), (
                "differences between the auditor and Terraform (see tests/conformance/known.py):\n"
                + _describe(outcome.differences))

    with subtests.test("held lock: the auditor reports Terraform's own lock info for both mechanisms"):
        lock = run.lock
        assert sorted(lock.terraform) == ["dynamodb", "s3-lockfile"], lock.output_tail
        reported = {h["mechanism"]: h for h in lock.reported}
        assert sorted(reported) == ["dynamodb", "s3-lockfile"]
        for mechanism, info in lock.terraform.items():
            assert info["Operation"] == "OperationTypeApply"
            assert {ours: reported[mechanism][ours] for ours, _ in LOCK_FIELDS} == {
                ours: info[theirs] for ours, theirs in LOCK_FIELDS}
        assert lock.exit_code == 1 and "Apply cancelled" in lock.output_tail, lock.output_tail
        assert lock.released

    with subtests.test("known differences: each still happens, each auditor bug is marked as one"):
        observed = {(o.name, d) for o in run.outcomes for d in o.differences}
        for known in KNOWN_DIFFERENCES:
            runs = [o.name for o in run.outcomes if known.applies_to(o.name)]
            assert runs and all((name, known.difference) in observed for name in runs), known
            assert known.right in ("terraform", "auditor") and known.reason
            assert not known.auditor_bug or known.right == "terraform"

    with subtests.test(f"{DOC_PATH} documents every difference"):
        assert "**new:" not in text
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            assert _unversioned(previous) == _unversioned(text), (
                f"{DOC_PATH} was out of date; this run rewrote it: commit the new version")
