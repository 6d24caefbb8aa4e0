"""RuleSettings is declared once: audit.toml, `audit scan`'s options, the JSON report and the docs follow it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from auditor.cli import cli, setting_options
from auditor.config import load_config, rule_settings
from auditor.errors import ConfigError
from auditor.models import ComplianceResult, Severity
from auditor.report import findings as report
from auditor.rules.engine import RulePack
from auditor.rules.settings import RuleSettings, TlsProfile, about, settings_dict, settings_toml
from tests.conftest import REPO

CODE = """
terraform {
  backend "s3" {
    bucket = "acme-tfstate"
    key    = "k"
  }
}
resource "aws_s3_bucket" "alb_logs" { bucket = "acme-alb-logs" }
"""


def _scan_states(tmp_path: Path, toml: str, *options: str) -> dict[str, str]:
    """STATE-04/05 on the non-state bucket, from `audit scan --format json` with `toml` as audit.toml."""
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "main.tf").write_text(CODE)
    (tmp_path / "audit.toml").write_text(toml)
    got = CliRunner().invoke(cli, ["scan", str(tmp_path / "code"), "--config", str(tmp_path / "audit.toml"),
                                   "--no-cache", "--format", "json", *options])
    document = json.loads(got.output)
    return {f["rule"]: f["status"] for f in document["findings"]
            if f["rule"] in ("STATE-04", "STATE-05") and f["address"] == "aws_s3_bucket.alb_logs"}


def test_scan_reads_bucket_scope_from_audit_toml(tmp_path: Path) -> None:
    assert _scan_states(tmp_path, '[rules]\nbucket_scope = "all"\n') == {"STATE-04": "FAIL", "STATE-05": "FAIL"}


def test_scan_without_bucket_scope_judges_state_buckets_only(tmp_path: Path) -> None:
    assert set(_scan_states(tmp_path, "").values()) == {"NOT_APPLICABLE"}


def test_an_option_overrides_the_file_and_keeps_its_other_settings(tmp_path: Path) -> None:
    toml = '[rules]\nbucket_scope = "all"\nmin_azs = 3\n'
    assert set(_scan_states(tmp_path, toml, "--bucket-scope", "state").values()) == {"NOT_APPLICABLE"}
    file_settings = load_config(tmp_path / "audit.toml").rule_settings
    merged = rule_settings({}, "options", base=file_settings, fail_on="low")
    assert (merged.bucket_scope, merged.min_azs, merged.fail_on) == ("all", 3, Severity.LOW)


def test_the_json_report_names_every_setting() -> None:
    block = report.to_dict(ComplianceResult(RulePack(()), (), RuleSettings(bucket_scope="all")))["settings"]
    assert block == {f.name: block[f.name] for f in fields(RuleSettings)}
    assert (block["bucket_scope"], block["min_desired_count"], block["fail_on"]) == ("all", 2, "high")


@dataclass(frozen=True, slots=True)
class WithWidgets(RuleSettings):
    """A settings class with one more threshold, as a new rule would add it."""

    max_widgets: int = field(default=3, metadata=about("Most widgets a thing may have"))


def test_a_new_field_flows_into_every_use() -> None:
    # audit.toml: parsed and validated like the others
    parsed = rule_settings({"max_widgets": 5, "min_azs": 4}, "audit.toml: [rules]", cls=WithWidgets)
    assert isinstance(parsed, WithWidgets) and (parsed.max_widgets, parsed.min_azs) == (5, 4)
    with pytest.raises(ConfigError, match=r"^audit.toml: \[rules\]: max_widgets must be a positive integer, got 0$"):
        rule_settings({"max_widgets": 0}, "audit.toml: [rules]", cls=WithWidgets)
    with pytest.raises(ConfigError, match="unknown key"):
        rule_settings({"max_widgets": 5}, "audit.toml: [rules]")  # not a field of RuleSettings
    # command line: one option per field, overriding the file's value
    seen: dict[str, object] = {}

    @click.command()
    @setting_options(WithWidgets)
    def command(**overrides: object) -> None:
        seen.update(overrides)

    result = CliRunner().invoke(command, ["--max-widgets", "7", "--help"])
    assert "--max-widgets INTEGER" in result.output and "Most widgets a thing may have (default 3)" in result.output
    assert CliRunner().invoke(command, ["--max-widgets", "7"]).exit_code == 0
    assert rule_settings({}, "options", base=parsed, cls=WithWidgets, **seen).max_widgets == 7
    # the report's settings block and the documented [rules] table
    assert settings_dict(parsed)["max_widgets"] == 5
    assert report.to_dict(ComplianceResult(RulePack(()), (), parsed))["settings"]["max_widgets"] == 5
    assert "max_widgets = 3" in settings_toml(WithWidgets) and "# Most widgets a thing may have" in settings_toml(
        WithWidgets)


@pytest.mark.parametrize(("raw", "message"), [
    ({"tls_profile": "made-up"}, "tls_profile must be one of aws-recommended, securityhub-elb17, got 'made-up'"),
    ({"fail_on": "severe"}, "fail_on must be one of low, medium, high, critical, got 'severe'"),
    ({"bucket_scope": "some"}, "bucket_scope must be one of state, all, got 'some'"),
    ({"min_log_retention_days": True}, "min_log_retention_days must be a positive integer, got True"),
])
def test_bad_values_are_one_line_errors(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=f"^x: {message}$"):
        rule_settings(raw, "x")


def test_fail_on_ignores_case() -> None:
    assert rule_settings({"fail_on": "CRITICAL"}, "x").fail_on is Severity.CRITICAL


def test_the_readme_documents_every_setting() -> None:
    assert settings_toml() in (REPO / "README.md").read_text(encoding="utf-8")


def test_alb_03_knows_every_tls_profile() -> None:
    from tests.rules.support import builtin_pack

    alb_03 = builtin_pack().get("ALB-03")
    assert alb_03 is not None
    assert set(alb_03.check.__globals__["TLS_PROFILES"]) == set(TlsProfile)
