"""SEC-01..04: secrets found in code, state and live task definitions, and never printed.

The fixtures (tests/rules/fixtures/SEC-*) are checked here through `audit scan`'s own path
(`auditor.scan.code.scan`, which adds the `terraform_file` / `terraform_variable` / `terraform_output`
pseudo-resources); the planted secrets must appear in no output: JSON, SARIF, JUnit, console text,
error messages.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from detect_secrets.settings import get_settings
from moto import mock_aws
from rich.console import Console

from auditor.aws import Aws, AwsSettings
from auditor.cli import cli
from auditor.code.values import Ref, Template
from auditor.inventory import ecs as ecsmod
from auditor.inventory.base import CollectContext
from auditor.models import ComplianceResult, Origin, Resource, Status, Unresolved
from auditor.report import findings as report
from auditor.rules.engine import Suppressions, evaluate
from auditor.rules.secrets import (
    FILE_TYPE,
    is_secret_name,
    mask,
    source_resources,
    unknown_secret_source,
    value_secret_kind,
)
from auditor.rules.settings import RuleSettings
from auditor.scan.code import scan
from tests.conftest import REPO
from tests.rules.support import FIXTURES, builtin_pack, expected_verdicts, verdicts

SEED = REPO / "tests" / "terraform" / "fixtures" / "seed_task_definition"
SEC_RULES = ("SEC-01", "SEC-02", "SEC-03", "SEC-04")

# Planted secrets (fake): an access key pair, and a database password in a task definition.
ACCESS_KEY = "AKIAQWERTYUIOPASDFGH"
SECRET_KEY = "kZ8vQ2mN4pR7sT1uW3xY5zA6bC9dE0fG2hJ4kL6m"
DB_PASSWORD = "pl4in-t3xt-Pa55word-x9"
PLANTED = (ACCESS_KEY, SECRET_KEY, DB_PASSWORD)

PLANTED_TF = f"""
provider "aws" {{
  region     = "eu-west-1"
  access_key = "{ACCESS_KEY}"
  secret_key = "{SECRET_KEY}"
}}

resource "aws_ecs_task_definition" "app" {{
  family = "app"
  container_definitions = jsonencode([{{
    name        = "app"
    image       = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/app:1.4.2"
    environment = [{{ name = "DB_PASSWORD", value = "{DB_PASSWORD}" }}]
  }}])
}}
"""


def _scan(root: Path) -> ComplianceResult:
    return scan(root, builtin_pack(), RuleSettings(), Suppressions())


def _assert_hidden(text: str) -> None:
    for secret in PLANTED:
        assert secret not in text
        assert secret[4:] not in text  # not even past the masked prefix


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    (tmp_path / "main.tf").write_text(PLANTED_TF, encoding="utf-8")
    return tmp_path


# --- fixtures through audit scan ---------------------------------------------------------------


@pytest.mark.parametrize("rule_id", SEC_RULES)
def test_scan_judges_the_fixture_as_expected(rule_id: str) -> None:
    folder = FIXTURES / rule_id
    got = verdicts(_scan(folder).findings, rule_id)
    assert got == expected_verdicts(folder)


def test_reference_stack_has_no_secret_findings() -> None:
    result = _scan(REPO / "terraform")
    sec = [f for f in result.findings if f.rule_id.startswith("SEC-")]
    assert {f.rule_id for f in sec} == set(SEC_RULES)
    assert [f for f in sec if f.status in (Status.FAIL, Status.UNKNOWN)] == []
    judged = {f.file for f in sec if f.rule_id == "SEC-01"}
    assert judged == {p.relative_to(REPO / "terraform").as_posix() for p in (REPO / "terraform").rglob("*.tf")
                      if ".terraform" not in p.parts}


def test_seed_task_definition_still_fails_its_ecr_rules_and_no_secret_rule() -> None:
    result = _scan(SEED)
    assert verdicts(result.findings, "ECR-07") == {"aws_ecs_task_definition.web_app": Status.FAIL}
    assert verdicts(result.findings, "SEC-02") == {"aws_ecs_task_definition.web_app": Status.PASS}
    assert not [f for f in result.findings if f.rule_id.startswith("SEC-") and f.status is Status.FAIL]


# --- the planted secrets: found, and printed nowhere --------------------------------------------


def test_planted_key_and_password_are_found_with_lines_and_masks(planted: Path) -> None:
    result = _scan(planted)
    sec01 = [f for f in result.findings if f.rule_id == "SEC-01"]
    assert [(f.status, f.address, f.file, f.line) for f in sec01] == [
        (Status.FAIL, "terraform_file.main_tf", "main.tf", 4)]
    assert "line 4: AWS access key id in provider aws access_key: AKIA**** (20 chars)" in sec01[0].message
    assert "line 5: AWS secret access key in provider aws secret_key: kZ8v**** (40 chars)" in sec01[0].message
    sec02 = verdicts(result.findings, "SEC-02")
    assert sec02 == {"aws_ecs_task_definition.app": Status.FAIL}
    blocking = {f.rule_id for f in result.blocking()}
    assert {"SEC-01", "SEC-02"} <= blocking


@pytest.mark.parametrize("fmt", ["json", "sarif", "junit", "table"])
def test_no_output_format_prints_a_planted_secret(planted: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"out.{fmt}"
    runner = CliRunner()
    to_file = runner.invoke(cli, ["scan", str(planted), "--format", fmt, "-o", str(out), "--show-passed"])
    to_stdout = runner.invoke(cli, ["scan", str(planted), "--format", fmt, "--show-passed"])
    assert to_file.exit_code == to_stdout.exit_code == 2, to_stdout.output
    text = out.read_text(encoding="utf-8")
    assert "SEC-01" in text and "SEC-02" in text
    for shown in (text, to_file.output, to_stdout.output):
        _assert_hidden(shown)


def test_sarif_points_at_the_secret_line(planted: Path) -> None:
    sarif = json.loads(report.render_sarif(_scan(planted)))
    results = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "SEC-01"]
    location = results[0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "main.tf" and location["region"]["startLine"] == 4
    assert results[0]["level"] == "error"


def test_a_malformed_file_with_a_secret_fails_without_printing_it(planted: Path) -> None:
    text = PLANTED_TF.replace(f'secret_key = "{SECRET_KEY}"', f'secret_key = "{SECRET_KEY}" "{SECRET_KEY}"')
    (planted / "main.tf").write_text(text, encoding="utf-8")
    audit = Path(sys.executable).with_name("audit")
    result = subprocess.run([str(audit), "scan", str(planted), "--format", "json"], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 1
    assert "main.tf:5: malformed HCL" in result.stderr
    _assert_hidden(result.stdout + result.stderr)


def test_a_module_called_twice_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "modules" / "db").mkdir(parents=True)
    (tmp_path / "modules" / "db" / "main.tf").write_text(
        f'variable "password" {{\n  type    = string\n  default = "{DB_PASSWORD}"\n}}\n', encoding="utf-8")
    (tmp_path / "main.tf").write_text(
        'module "a" {\n  source = "./modules/db"\n}\n\nmodule "b" {\n  source = "./modules/db"\n}\n', encoding="utf-8")
    found = source_resources(tmp_path)
    files = [r for r in found if r.type == FILE_TYPE]
    assert sorted(r.address or "" for r in files) == ["module.a.terraform_file.main_tf", "terraform_file.main_tf"]
    assert sorted(r.address or "" for r in found if r.type == "terraform_variable") == [
        "module.a.var.password", "module.b.var.password"]
    module_file = next(r for r in files if r.address == "module.a.terraform_file.main_tf")
    assert module_file.attributes["path"] == "modules/db/main.tf"
    assert [h["line"] for h in module_file.attributes["secrets"]] == [3]
    _assert_hidden(repr(found))


# --- SEC-02 on state and live -------------------------------------------------------------------

CONTAINER = {
    "name": "web", "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/web:1.0.0", "essential": True,
    "memory": 512,
    "environment": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "DB_PASSWORD", "value": DB_PASSWORD}],
    "secrets": [{"name": "API_TOKEN", "valueFrom": "arn:aws:ssm:us-east-1:111122223333:parameter/web/token"}],
}


def _result(resources: list[Resource]) -> ComplianceResult:
    pack = builtin_pack()
    return ComplianceResult(pack, tuple(evaluate(pack, resources)), RuleSettings())


def _assert_rendered_without_secrets(result: ComplianceResult) -> None:
    console = Console(record=True, width=200)
    report.print_findings(result, console, show_passed=True)
    for text in (report.render_json(result), report.render_sarif(result), report.render_junit(result),
                 console.export_text()):
        assert "SEC-02" in text
        _assert_hidden(text)


def test_state_task_definition_with_a_plain_password_fails() -> None:
    task = Resource(type="aws_ecs_task_definition", id="web", origin=Origin.STATE, source="s3://b/k",
                    address="aws_ecs_task_definition.web",
                    attributes={"family": "web", "container_definitions": json.dumps([CONTAINER])})
    result = _result([task])
    [finding] = [f for f in result.findings if f.rule_id == "SEC-02"]
    assert finding.status is Status.FAIL
    assert finding.message.startswith("container web: passes secrets in plain text")
    assert "environment variable DB_PASSWORD (the name says secret)" in finding.message
    _assert_rendered_without_secrets(result)


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        yield Aws(AwsSettings(region="us-east-1"))


def test_live_task_definition_registered_on_moto_is_collected_and_fails(aws: Aws) -> None:
    ecs = aws.client("ecs", "us-east-1")
    ecs.register_task_definition(family="web", containerDefinitions=[CONTAINER], networkMode="awsvpc",
                                 requiresCompatibilities=["FARGATE"], cpu="256", memory="512")
    ctx = CollectContext(aws, "us-east-1", "123456789012", wanted={"aws_ecs_task_definition": frozenset({"web"})})
    live = list(ecsmod.collect_task_definitions(ctx))
    assert [r.origin for r in live] == [Origin.LIVE]
    result = _result(live)
    assert verdicts(result.findings, "SEC-02") == {"aws_ecs_task_definition.web": Status.FAIL}
    _assert_rendered_without_secrets(result)


def test_live_task_definition_without_plain_secrets_passes(aws: Aws) -> None:
    clean = {**CONTAINER, "environment": [{"name": "LOG_LEVEL", "value": "info"}]}
    aws.client("ecs", "us-east-1").register_task_definition(family="web", containerDefinitions=[clean])
    ctx = CollectContext(aws, "us-east-1", "123456789012", wanted={"aws_ecs_task_definition": frozenset({"web"})})
    result = _result(list(ecsmod.collect_task_definitions(ctx)))
    [finding] = [f for f in result.findings if f.rule_id == "SEC-02"]
    assert finding.status is Status.PASS and "1 injected from secrets" in finding.message


def test_an_undescribed_live_family_is_unknown(aws: Aws) -> None:
    aws.client("ecs", "us-east-1").register_task_definition(family="other", containerDefinitions=[CONTAINER])
    ctx = CollectContext(aws, "us-east-1", "123456789012")
    result = _result(list(ecsmod.collect_task_definitions(ctx)))
    assert verdicts(result.findings, "SEC-02") == {"aws_ecs_task_definition.other": Status.UNKNOWN}


# --- the detection helpers ----------------------------------------------------------------------


def test_mask_shows_at_most_a_quarter_and_four_characters() -> None:
    assert mask(ACCESS_KEY) == "AKIA**** (20 chars)"
    assert mask("hunter2") == "h**** (7 chars)"
    assert mask("abc") == "**** (3 chars)"
    assert mask(SECRET_KEY) == "kZ8v**** (40 chars)"


@pytest.mark.parametrize(("name", "secret"), [
    ("DB_PASSWORD", True), ("apiKey", True), ("GITHUB_TOKEN", True), ("PRIVATE_KEY_PEM", True),
    ("AWS_ACCESS_KEY_ID", True), ("ECS_ENGINE_AUTH_DATA", True), ("DB_PASSWORD_SECRET_ARN", False),
    ("TOKEN_TTL", False), ("LOG_LEVEL", False), ("AWS_REGION", False),
])
def test_secret_names_follow_the_redactor_plus_the_aws_variables(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


@pytest.mark.parametrize(("value", "kind"), [
    (ACCESS_KEY, "AWS Access Key"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
     "JSON Web Token"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----", "Private Key"),
    ("https://admin:s3cr3tpass@db.internal:5432/app", "Basic Auth Credentials"),
    ("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b", None),  # a commit hash
    ("sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", None),
    ("info", None), ("", None), ("${var.x}", None),
])
def test_value_content_detection(value: str, kind: str | None) -> None:
    assert value_secret_kind(value) == kind


def test_detection_leaves_detect_secrets_settings_as_they_were(planted: Path) -> None:
    before = get_settings().json()
    source_resources(planted)
    value_secret_kind(ACCESS_KEY)
    assert get_settings().json() == before


@pytest.mark.parametrize(("value", "source"), [
    (Unresolved("var.db_password is sensitive"), "var.db_password (a sensitive value)"),
    (Template(("postgres://app:", Unresolved("var.admin_password has no value (no default and none given)"), "@db")),
     "var.admin_password (a secret-named variable)"),
    (Ref("aws_db_instance.main", "password"), "aws_db_instance.main.password (a secret-named value)"),
    (Ref('module.db.aws_db_instance.main["a"]', "master_password"),
     "aws_db_instance.main.master_password (a secret-named value)"),
    (Ref("random_password.db", "result"), "random_password.db.result (a generated password)"),
    (Ref("data.aws_secretsmanager_secret_version.db", "secret_string"),
     "data.aws_secretsmanager_secret_version.db.secret_string (a secret-named value)"),
    (Ref("aws_lb.main", "dns_name"), None),
    (Unresolved("var.region has no value (no default and none given)"), None),
])
def test_where_an_unknown_value_comes_from(value: Unresolved, source: str | None) -> None:
    assert unknown_secret_source(value) == source


def test_entropy_counts_only_under_secret_names(tmp_path: Path) -> None:
    shutil.copyfile(FIXTURES / "SEC-01" / "pass_clean.tf", tmp_path / "main.tf")
    random = "Zq8xN2vR5tW9yB3mK7pL1sD4fG6hJ0cV"
    with (tmp_path / "main.tf").open("a", encoding="utf-8") as handle:
        handle.write(f'\nlocals {{\n  build_id      = "{random}"\n  session_secret = "{random[::-1]}"\n}}\n')
    [file] = [r for r in source_resources(tmp_path) if r.type == FILE_TYPE]
    assert [(h["where"], h["aws"]) for h in file.attributes["secrets"]] == [("locals session_secret", False)]



KEYWORD_LINES = (
    'password = "hunter2hunter2"', 'DB_PASS: "s3cr3tvalue"',
    '"bar" == my_password', 'PrivateKey = "k3y-material"', 'contraseña = "valor"',
    'private_key "something";', 'my_pwd := "value"', 'Api_Key="abcdef"',
)


@pytest.mark.parametrize("line", KEYWORD_LINES)
def test_the_keyword_prefilter_never_hides_a_keyword_hit(line: str) -> None:
    """Lines the keyword plugin finds something on (as some file type) all pass the prefilter that
    lets _detect_lines skip the plugin; a line without a keyword does not."""
    from detect_secrets.plugins.keyword import KeywordDetector
    from detect_secrets.settings import transient_settings

    from auditor.rules.secrets import _KEYWORD_HINT

    with transient_settings({"plugins_used": [], "filters_used": []}):
        found = [name for name in ("main.tf", "x.go", "x.py", "x.yaml", "x.c", "x.txt")
                 if KeywordDetector().analyze_line(filename=name, line=line, line_number=1)]
    assert found, f"the keyword plugin finds nothing on {line!r}: not a useful example"
    assert _KEYWORD_HINT.search(line)
    assert not _KEYWORD_HINT.search('name = "app-api"  # key rotation: see runbook')
