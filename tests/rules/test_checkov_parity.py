"""Our verdicts on checkov's own fixtures (../shared/fixtures/checkov/<CHECK>/) equal checkov's.

PARITY is the data table: one row per (checkov check, our rule). A row lists the resources where we
deliberately differ, with our verdict and why (a peer bug from the catalog, a stricter threshold, or
evidence that cannot be known statically); every other resource checkov passes or fails must get
the same verdict from us. Rules of every pack area add their rows here; `test_every_mapped_check_has_a_row`
fails when a rule names a checkov check that has a fixture folder but no row.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from auditor.models import Status
from auditor.rules.engine import evaluate
from auditor.rules.settings import RuleSettings
from tests.rules.support import builtin_pack, code_resources, verdicts


@dataclass(frozen=True)
class Parity:
    """One checkov check compared with one of our rules.

    differences: address -> (our verdict, why it differs from checkov's).
    backend:     backend settings to evaluate the fixture with (e.g. naming its tables as lock tables).
    settings:    rule settings (thresholds) to evaluate with.
    """

    check: str
    rule: str
    differences: Mapping[str, tuple[Status, str]] = field(default_factory=dict)
    backend: Mapping[str, Any] | None = None
    settings: RuleSettings | None = None

    @property
    def id(self) -> str:
        return f"{self.check}-{self.rule}"


AMBIGUOUS = ("the fixture names five buckets 'bucket_good' (S3 bucket names are global, so it cannot be applied) "
             "and joins the encryption configurations by `.bucket`, which resolves to that shared name: a join by "
             "an ambiguous name is never taken, so the configuration is unknown")
UNDECLARED = ("its encryption rule is a dynamic block whose for_each reads an undeclared variable (Terraform rejects "
              "the configuration): the rule may not exist, so the encryption is unknown")
KMS_ONLY = "STATE-05 requires KMS; CKV_AWS_19 accepts any SSE, including S3's default SSE-S3 (AES256)"

ALL_BUCKETS = RuleSettings(bucket_scope="all")

PARITY: tuple[Parity, ...] = (
    # The peers judge every bucket; STATE-04/05 judge state buckets unless bucket_scope = "all".
    Parity("CKV_AWS_21", "STATE-04", settings=ALL_BUCKETS),
    Parity("CKV_AWS_19", "STATE-05", settings=ALL_BUCKETS, differences={
        **{f"aws_s3_bucket.{name}": (Status.UNKNOWN, AMBIGUOUS)
           for name in ("bucket_good_1", "bucket_good_2", "bucket_good_3", "bucket_good_5", "bucket_good_6",
                        "bucket_bad_5")},
        "aws_s3_bucket.default_encryption_bucket": (Status.FAIL, KMS_ONLY),
        "aws_s3_bucket.bucket_bad_6": (Status.UNKNOWN, UNDECLARED),
    }),
    Parity("CKV_AWS_145", "STATE-05", settings=ALL_BUCKETS, differences={
        **{f"aws_s3_bucket.{name}": (Status.UNKNOWN, AMBIGUOUS)
           for name in ("bucket_good_1", "bucket_good_3", "bucket_good_6", "bucket_bad_5")},
        "aws_s3_bucket.bucket_bad_6": (Status.UNKNOWN, UNDECLARED),
    }),
    Parity("CKV2_AWS_6", "STATE-06", differences={
        "aws_s3_bucket.bucket_good_1": (Status.FAIL, "STATE-06 requires all four public access block settings "
                                                     "(catalog); CKV2_AWS_6 passes a block with two of them"),
    }),
    Parity("CKV_AWS_51", "ECR-02"),
    # STATE-10 judges lock tables only: a backend naming the fixture's GameScores tables brings them in scope.
    Parity("CKV_AWS_119", "STATE-10",
           backend={"_type": "s3", "bucket": "example-tfstate", "key": "terraform.tfstate",
                    "dynamodb_table": "GameScores"}),
)


def checkov_verdicts(folder: Path) -> dict[str, Status]:
    document = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    return {**{a: Status.PASS for a in document["passing"]}, **{a: Status.FAIL for a in document["failing"]}}


@pytest.fixture(scope="module")
def checkov_fixtures(shared_fixtures: Path) -> Path:
    return shared_fixtures / "checkov"


@pytest.mark.parametrize("row", PARITY, ids=lambda r: r.id)
def test_verdicts_match_checkov(row: Parity, checkov_fixtures: Path) -> None:
    expected = checkov_verdicts(checkov_fixtures / row.check)
    findings = evaluate(builtin_pack(), code_resources(checkov_fixtures / row.check, row.backend), row.settings)
    ours = verdicts(findings, row.rule)
    for address, (status, why) in row.differences.items():
        assert address in expected, f"{row.id}: {address} is not in checkov's expected verdicts"
        assert status is not expected[address], f"{row.id}: {address} is listed as a difference but is not one"
        assert why
    wanted = {a: row.differences[a][0] if a in row.differences else s for a, s in expected.items()}
    assert {a: ours.get(a) for a in wanted} == wanted


def test_every_mapped_check_has_a_row(checkov_fixtures: Path) -> None:
    from tests.rules.test_checkov_parity_part2 import LB_LEVEL, PARITY_PART2  # it imports this module

    rows = {(r.check, r.rule) for r in (*PARITY, *PARITY_PART2, LB_LEVEL)}
    missing = sorted((check, rule.meta.id) for rule in builtin_pack().rules for check in rule.meta.peers.checkov
                     if (checkov_fixtures / check / "expected.json").is_file() and (check, rule.meta.id) not in rows)
    assert not missing, f"checkov checks with a fixture but no parity row: {missing}"


def test_rows_name_real_rules_and_checks(checkov_fixtures: Path) -> None:
    for row in PARITY:
        rule = builtin_pack().get(row.rule)
        assert rule is not None, f"{row.id}: no rule {row.rule}"
        assert row.check in rule.meta.peers.checkov, f"{row.id}: {row.rule} does not list {row.check} as a peer"
        assert (checkov_fixtures / row.check / "main.tf").is_file()
