"""Suppressions carry an approver and an approval date into the JSON result's exceptions register."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from auditor.config import load_config
from auditor.errors import ConfigError
from auditor.report.findings import to_dict
from auditor.rules.engine import Suppressions, rule_pack
from auditor.scan.code import scan

STACK = Path(__file__).resolve().parents[2] / "terraform"


def test_approver_and_approval_date_are_read(tmp_path: Path) -> None:
    config = tmp_path / "audit.toml"
    config.write_text('[[suppressions]]\nrule = "alb-01"\nresource = "aws_lb.*"\nreason = "accepted risk"\n'
                      'approver = " Jane Doe "\napproved_on = 2026-10-01\nexpires = "2027-01-31"\n', encoding="utf-8")
    [s] = load_config(config).suppressions
    assert (s.rule_id, s.approver, s.approved_on, s.expires) == ("ALB-01", "Jane Doe", date(2026, 10, 1),
                                                                 date(2027, 1, 31))


@pytest.mark.parametrize(("line", "message"), [('approver = ""', "approver must be a name"),
                                               ("approver = 3", "approver must be a name"),
                                               ('approved_on = "last week"', "approved_on must be a date")])
def test_bad_approval_fields_are_one_line_errors(tmp_path: Path, line: str, message: str) -> None:
    config = tmp_path / "audit.toml"
    config.write_text(f'[[suppressions]]\nrule = "X"\nresource = "*"\nreason = "r"\n{line}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(config)


def test_the_json_lists_every_exception_with_its_state_and_the_packs_digest() -> None:
    from auditor.models import Suppression

    live = Suppression("STATE-01", "bootstrap/*", "bootstrap root", None, "ops lead", date(2026, 9, 1))
    gone = Suppression("ECR-07", "nothing*", "old", date(2020, 1, 1))
    from auditor.rules.settings import RuleSettings

    result = scan(STACK, rule_pack(), RuleSettings(), Suppressions((live, gone)))
    doc = to_dict(result)
    by_rule = {s["rule"]: s for s in doc["suppressions"]}
    assert by_rule["STATE-01"]["approver"] == "ops lead" and by_rule["STATE-01"]["approved_on"] == "2026-09-01"
    assert by_rule["STATE-01"]["matched"] >= 1 and not by_rule["STATE-01"]["expired"]
    assert by_rule["ECR-07"]["expired"] and by_rule["ECR-07"]["matched"] == 0
    assert doc["pack"]["rules"] == len(result.pack.rules) and len(doc["pack"]["digest"]) == 16
    suppressed = [f for f in doc["findings"] if f["suppressed"]]
    assert suppressed and suppressed[0]["suppressed"]["approver"] == "ops lead"
