"""Our verdicts on checkov's own fixtures (../shared/fixtures/checkov/<CHECK>/) equal checkov's.

PARITY is the data table: one row per (checkov check, our rule[, settings]). A row lists the resources
where we deliberately differ, with our verdict and why (a peer bug from the catalog, a stricter
threshold, or evidence that cannot be known statically); every other resource checkov passes or fails
must get the same verdict from us. `test_every_mapped_check_has_a_row` fails when a rule names a
checkov check that has a fixture folder but no row. CKV2_AWS_20 judges load balancers while ALB-04
judges listeners, so its row (LB_LEVEL) compares each load balancer with the combined ALB-04 verdicts
of its listeners.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from auditor.code.values import Ref
from auditor.models import Status
from auditor.rules.engine import evaluate
from auditor.rules.links import normalize_address
from auditor.rules.model import Verdict
from auditor.rules.settings import RuleSettings, settings_dict
from auditor.rules.verdicts import all_of, not_applicable
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

ELB17 = RuleSettings(tls_profile="securityhub-elb17")

NO_TLS = "no TLS is negotiated on a {} listener: ALB-03 does not apply"
FOLDED_REDIRECT = ("CKV_AWS_103 folds the HTTP-to-HTTPS redirect check into the TLS check; an HTTP listener is "
                   "out of ALB-03's scope (ALB-04 fails this one)")
TLS_DIFFERENCES: dict[str, tuple[Status, str]] = {
    "aws_lb_listener.gateway_listener": (Status.NOT_APPLICABLE, NO_TLS.format("gateway load balancer")),
    "aws_lb_listener.tcp": (Status.NOT_APPLICABLE, NO_TLS.format("TCP")),
    "aws_lb_listener.udp": (Status.NOT_APPLICABLE, NO_TLS.format("UDP")),
    "aws_lb_listener.tcp_udp": (Status.NOT_APPLICABLE, NO_TLS.format("TCP_UDP")),
    "aws_lb_listener.http_redirect": (Status.NOT_APPLICABLE, "an HTTP listener is out of ALB-03's scope (ALB-04 "
                                                            "passes its redirect)"),
    "aws_lb_listener.http": (Status.NOT_APPLICABLE, FOLDED_REDIRECT),
    "aws_lb_listener.cognito": (Status.NOT_APPLICABLE, FOLDED_REDIRECT),
    "aws_lb_listener.wrong_redirect": (Status.NOT_APPLICABLE, FOLDED_REDIRECT),
    "aws_lb_listener.not_gateway_listener": (
        Status.UNKNOWN, "its load balancer's load_balancer_type 'not gateway' is no valid type, so the listener's "
                        "default protocol (and whether TLS applies) cannot be told"),
}
ELB17_REJECTS = "Security Hub ELB.17's allowlist (the securityhub-elb17 profile) rejects {}"

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
    Parity("CKV_AWS_103", "ALB-03", differences=TLS_DIFFERENCES),
    Parity("CKV_AWS_103", "ALB-03", settings=ELB17, differences={
        **TLS_DIFFERENCES,
        "aws_lb_listener.tls_1_3": (Status.FAIL, ELB17_REJECTS.format("ELBSecurityPolicy-TLS13-1-2-2021-06")),
        "aws_lb_listener.tls_fs_1_2": (Status.FAIL, ELB17_REJECTS.format("the FS-1-2 policies")),
        "aws_lb_listener.https_fs_1_2": (Status.FAIL, ELB17_REJECTS.format("the FS-1-2 policies")),
        "aws_alb_listener.https_fs_1_2": (Status.FAIL, ELB17_REJECTS.format("the FS-1-2 policies")),
    }),
    Parity("CKV_AWS_2", "ALB-04", differences={
        "aws_lb_listener.success_1": (Status.NOT_APPLICABLE, "an HTTPS listener has nothing to redirect"),
        "aws_alb_listener.success_2": (Status.NOT_APPLICABLE, "an HTTPS listener has nothing to redirect"),
        "aws_lb_listener.nlb_tcp_success": (Status.NOT_APPLICABLE, "a TCP listener is not an ALB HTTP listener"),
    }),
    Parity("CKV_AWS_131", "ALB-05"),
    Parity("CKV_AWS_150", "ALB-06"),
    Parity("CKV_AWS_91", "ALB-07"),
    Parity("CKV_AWS_319", "CW-04"),
    # CKV_AWS_66 asks only that a retention is set: a one-day minimum is the same test.
    Parity("CKV_AWS_66", "CW-05", settings=RuleSettings(min_log_retention_days=1)),
    Parity("CKV_AWS_66", "CW-05", differences={
        "aws_cloudwatch_log_group.pass": (Status.FAIL, "3 days is below the default min_log_retention_days (30); "
                                                       "CKV_AWS_66 accepts any retention"),
    }),
    Parity("CKV_AWS_333", "NET-02"),
    Parity("CKV_AWS_334", "ECS-02", differences={
        "aws_ecs_task_definition.fail": (Status.PASS, "the fixture sets `privilege = true`, which is not an ECS field: "
                                                      "no container is privileged (CKV_AWS_334 reads `privilege` "
                                                      "instead of `privileged`, the catalog's known peer bug)"),
    }),
    Parity("CKV_AWS_336", "ECS-03"),
    Parity("CKV_AWS_24", "NET-01", differences={
        "aws_security_group.fail2": (Status.PASS, "TCP from port 0 to port 0 opens port 0 only "
                                                  "(terraform-provider-aws#27525, #4178), not every port"),
        "aws_security_group.not_self": (Status.PASS, "the ingress block has no source at all: it admits nothing "
                                                     "from 0.0.0.0/0"),
        "aws_vpc_security_group_ingress_rule.fail2": (Status.PASS, "the rule has no source at all: it admits "
                                                                   "nothing from 0.0.0.0/0"),
        "aws_security_group.pass_self2": (Status.FAIL, "`self = true` adds the group as a source but leaves "
                                                       "0.0.0.0/0 on every port and protocol (a checkov false "
                                                       "negative)"),
    }),
)

# CKV2_AWS_20 judges each load balancer; ALB-04's verdicts on its listeners are combined (see module docstring).
LB_LEVEL = Parity("CKV2_AWS_20", "ALB-04", differences={
    "aws_lb.lb_good_1": (Status.NOT_APPLICABLE, "its only listener is HTTPS: it has no HTTP listener to redirect"),
})


def _row_id(row: Parity) -> str:
    """The check and rule, and the settings that differ from the defaults."""
    changed = settings_dict(row.settings or RuleSettings()).items() - settings_dict(RuleSettings()).items()
    return row.id + "".join(f"-{name}={value}" for name, value in sorted(changed))


def checkov_verdicts(folder: Path) -> dict[str, Status]:
    document = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    return {**{a: Status.PASS for a in document["passing"]}, **{a: Status.FAIL for a in document["failing"]}}


@pytest.fixture(scope="module")
def checkov_fixtures(shared_fixtures: Path) -> Path:
    return shared_fixtures / "checkov"


@pytest.mark.parametrize("row", PARITY, ids=_row_id)
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
    rows = {(r.check, r.rule) for r in (*PARITY, LB_LEVEL)}
    missing = sorted((check, rule.meta.id) for rule in builtin_pack().rules for check in rule.meta.peers.checkov
                     if (checkov_fixtures / check / "expected.json").is_file() and (check, rule.meta.id) not in rows)
    assert not missing, f"checkov checks with a fixture but no parity row: {missing}"


def test_rows_name_real_rules_and_checks(checkov_fixtures: Path) -> None:
    for row in (*PARITY, LB_LEVEL):
        rule = builtin_pack().get(row.rule)
        assert rule is not None, f"{row.id}: no rule {row.rule}"
        assert row.check in rule.meta.peers.checkov, f"{row.id}: {row.rule} does not list {row.check} as a peer"
        assert (checkov_fixtures / row.check / "main.tf").is_file()


def test_alb04_per_load_balancer_matches_ckv2_aws_20(checkov_fixtures: Path) -> None:
    folder = checkov_fixtures / LB_LEVEL.check
    resources = code_resources(folder)
    listener_lb = {normalize_address(r.address or ""): r.attributes["load_balancer_arn"].address
                   for r in resources if r.type == "aws_lb_listener" and isinstance(
                       r.attributes.get("load_balancer_arn"), Ref)}
    per_lb: dict[str, list[Verdict]] = defaultdict(list)
    for f in evaluate(builtin_pack(), resources):
        if f.rule_id == LB_LEVEL.rule and f.address:
            per_lb[normalize_address(listener_lb[normalize_address(f.address)])].append(Verdict(f.status, f.message))
    ours = {r.address: all_of(per_lb.get(normalize_address(r.address or ""), [not_applicable("no listener")])).status
            for r in resources if r.type == "aws_lb"}
    expected = checkov_verdicts(folder)
    wanted = {a: LB_LEVEL.differences[a][0] if a in LB_LEVEL.differences else s for a, s in expected.items()}
    assert {a: ours.get(a) for a in wanted} == wanted


def test_redirect_without_protocol_keeps_http(checkov_fixtures: Path) -> None:
    """checkov leaves this listener UNKNOWN; a redirect without `protocol` keeps `#{protocol}`, plain HTTP."""
    ours = verdicts(evaluate(builtin_pack(), code_resources(checkov_fixtures / "CKV_AWS_2")), "ALB-04")
    assert ours["aws_lb_listener.http_redirector"] is Status.FAIL


def test_privileged_container_fails_where_ckv_aws_334_passes(tmp_path: Path) -> None:
    """The mirror image of the CKV_AWS_334 difference: a real `privileged = true` fails ECS-02."""
    (tmp_path / "main.tf").write_text("""
resource "aws_ecs_task_definition" "privileged" {
  family                = "service"
  container_definitions = jsonencode([{ name = "first", image = "service-first", memory = 512, privileged = true }])
}
""", encoding="utf-8")
    ours = verdicts(evaluate(builtin_pack(), code_resources(tmp_path)), "ECS-02")
    assert ours == {"aws_ecs_task_definition.privileged": Status.FAIL}
