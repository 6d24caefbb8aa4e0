"""`audit scan` on the repository's own Terraform, as a user runs it from the repository root."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditor.cli import cli
from tests.conftest import REPO


@pytest.fixture
def in_repo() -> object:
    previous = Path.cwd()
    os.chdir(REPO)  # ./audit.toml (the bootstrap suppression) is found there
    yield REPO
    os.chdir(previous)


def test_reference_terraform_has_no_failing_rule(in_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "scan.json"
    result = CliRunner().invoke(cli, ["scan", "terraform", "--format", "json", "-o", str(out)])
    report = json.loads(out.read_text())
    failing = [(f["rule"], f["address"], f["message"]) for f in report["findings"]
               if f["status"] == "FAIL" and not f["suppressed"]]
    assert failing == []
    assert result.exit_code == 0
    [suppressed] = [f for f in report["findings"] if f["suppressed"]]
    assert (suppressed["rule"], suppressed["address"]) == ("STATE-01", "bootstrap/terraform.backend")
    assert report["counts"]["PASS"] > 100


def test_seed_task_definition_fails_latest_and_hygiene(in_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "scan.sarif"
    result = CliRunner().invoke(cli, ["scan", "tests/terraform/fixtures/seed_task_definition", "--format", "sarif",
                                      "-o", str(out), "--fail-on", "medium"])
    assert result.exit_code == 2
    sarif = json.loads(out.read_text())
    assert sarif["version"] == "2.1.0"
    results = sarif["runs"][0]["results"]
    failed = {r["ruleId"] for r in results if r["kind"] == "fail"}
    assert {"ECR-07", "ECS-03"} <= failed
    ecr07 = next(r for r in results if r["ruleId"] == "ECR-07")
    location = ecr07["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "main.tf" and location["region"]["startLine"] > 1
    ecr06 = next(r for r in results if r["ruleId"] == "ECR-06")
    assert ecr06["kind"] == "review"  # a variable image URL cannot be proven ECR: UNKNOWN, never PASS



def test_a_module_without_a_backend_block_fails_state_01_at_a_file(tmp_path: Path) -> None:
    """Local state is the absence of a block; the SARIF result still points at a file of the module."""
    (tmp_path / "b.tf").write_text('resource "aws_sns_topic" "t" {\n  name = "t"\n}\n', encoding="utf-8")
    (tmp_path / "a.tf").write_text('variable "x" {\n  default = 1\n}\n', encoding="utf-8")
    out = tmp_path / "scan.sarif"
    result = CliRunner().invoke(cli, ["scan", str(tmp_path), "--format", "sarif", "-o", str(out), "--no-cache"])
    assert result.exit_code == 2
    state01 = next(r for r in json.loads(out.read_text())["runs"][0]["results"] if r["ruleId"] == "STATE-01")
    location = state01["locations"][0]["physicalLocation"]
    assert (location["artifactLocation"]["uri"], location["region"]["startLine"]) == ("a.tf", 1)

def test_junit_has_one_testcase_per_rule_and_resource(in_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "scan.xml"
    CliRunner().invoke(cli, ["scan", "tests/terraform/fixtures/seed_task_definition", "--format", "junit",
                             "-o", str(out)])
    root = ET.parse(out).getroot()
    cases = root.findall(".//testcase")
    assert len({(c.get("classname"), c.get("name")) for c in cases}) == len(cases) > 0
    assert any(c.find("failure") is not None and c.get("classname") == "ECR-07" for c in cases)


def test_a_table_asked_into_a_file_goes_there_whole_and_nowhere_else(in_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "scan.txt"
    result = CliRunner().invoke(cli, ["scan", "tests/terraform/fixtures/seed_task_definition", "--format", "table",
                                      "-o", str(out), "--fail-on", "medium"])
    assert result.exit_code == 2
    assert result.output == ""
    text = out.read_text(encoding="utf-8")
    assert "ECR-" in text and "FAIL" in text and "\x1b[" not in text
