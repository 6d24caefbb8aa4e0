"""Every rule of the built-in pack carries complete metadata, and its Terraform snippet passes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.models import Status
from auditor.rules.engine import evaluate
from auditor.rules.model import Rule
from tests.rules.support import builtin_pack, code_resources, verdicts

RULES = builtin_pack().rules


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.meta.id)
def test_metadata_is_complete(rule: Rule) -> None:
    meta = rule.meta
    assert meta.title and meta.rationale and meta.remediation and meta.terraform
    assert meta.resource_types and all(t for t in meta.resource_types)
    assert meta.rationale.endswith((".", ")")), "the rationale is written as sentences"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.meta.id)
def test_terraform_snippet_passes_its_rule(rule: Rule, tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(rule.meta.terraform + "\n", encoding="utf-8")
    got = verdicts(evaluate(builtin_pack(), code_resources(tmp_path)), rule.meta.id)
    assert Status.PASS in got.values(), f"{rule.meta.id}: its snippet gives no PASS: {got}"
    assert set(got.values()) <= {Status.PASS, Status.NOT_APPLICABLE}, f"{rule.meta.id}: {got}"
