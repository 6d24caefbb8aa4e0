"""End to end: `audit run --fix` on a moto server with the reference stack and the project's drift
scenarios — the plan, `--yes`, a second audit clean for what was fixed, unmanaged resources
untouched, the locks gone afterwards, a held lock refused byte-identical, and the fault paths
(an AWS error part-way then `audit fix --resume`, AccessDenied on one revert)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest
from click.testing import CliRunner

from auditor.aws import Aws, AwsSettings
from auditor.cli import cli
from auditor.demo.drift import SCENARIOS, scenario
from auditor.demo.run import REGION, STACK_KEY, SeededStack
from auditor.deploy.model import DEFAULT_LEASE_TABLE as LEASES
from auditor.fix import apply as fix_apply
from auditor.fix.journal import remediation
from auditor.history import open_history
from tests.deploy import test_reference_stack_deploy as reference_stack
from tests.deploy.test_reference_stack_deploy import GREEN, NAME
from tests.e2e.test_audit_cli import AUDIT, audit, audit_json, findings

reference = reference_stack.reference  # the reference stack with its targets registered and the lease table

pytestmark = pytest.mark.e2e

KIND = {"ssh-opened": "revert", "service-scaled": "skip", "alarm-deleted": "revert", "debug-sg": "import",
        "log-retention": "revert", "ecr-mutable": "revert", "tls-policy": "revert", "listener-action": "skip",
        "lb-tag": "revert", "lb-attribute": "revert", "health-check": "revert", "task-revision": "redeploy",
        "versioning-suspended": "revert", "pitr-off": "revert"}
TOGETHER = [s.name for s in SCENARIOS if s.name not in ("listener-action", "task-revision")]
"""Every scenario but the two that drift the same resources as others (listener, service)."""
FIVE = ("log-retention", "ecr-mutable", "lb-attribute", "tls-policy", "health-check")


def fix_args(stack: SeededStack, *extra: str) -> list[str]:
    return ["run", "--fix", "--state", f"s3://{stack.bucket}/**/terraform.tfstate", "--lock-table", stack.lock_table,
            "--region", REGION, "--no-rules", "--bake-seconds", "0", *extra]


def apply(stack: SeededStack, *names: str) -> None:
    for name in names:
        scenario(name).apply(stack.stack, stack.bootstrap)


def no_locks_left(stack: SeededStack) -> None:
    aws = Aws(AwsSettings(region=REGION))
    items = aws.client("dynamodb").scan(TableName=stack.lock_table)["Items"]
    assert [i["LockID"]["S"] for i in items if not i["LockID"]["S"].endswith("-md5")] == []
    keys = [o["Key"] for o in aws.client("s3").list_objects_v2(Bucket=stack.bucket).get("Contents", [])]
    assert [k for k in keys if k.endswith(".tflock")] == []


def verified(output: str) -> list[str]:
    """The outcome lines of verified actions."""
    return re.findall(r"^  verified  .*$", output, re.M)


def by_kind(plan: dict[str, Any]) -> dict[str, str]:
    return {a["address"] or a["type"]: a["kind"] for a in plan["actions"]}


def test_every_scenario_gets_its_action_and_yes_puts_the_reverts_back(moto_server: str, stack: SeededStack,
                                                                      tmp_path: Path) -> None:
    apply(stack, *TOGETHER)
    _, before = audit_json(moto_server, stack)
    unmanaged_before = {(r["type"], r["id"]) for r in findings(before) if r["kind"] == "unmanaged"}
    plan_file, imports = tmp_path / "plan.json", tmp_path / "imports.tf"
    result = audit(moto_server, *fix_args(stack, "--yes", "--plan-out", str(plan_file), "--import-out", str(imports)))
    assert "Traceback" not in result.stderr, result.stderr
    plan = json.loads(plan_file.read_text())
    expected = {}
    for name in TOGETHER:
        for finding in scenario(name).expected:
            expected[finding.address or finding.type] = KIND[name]
    assert by_kind(plan) == expected
    assert plan["schema"] == "auditor.fix-plan/v1"
    reverts = [a for a in plan["actions"] if a["kind"] == "revert"]
    assert all(a["calls"] and a["permissions"] and a["risk"] and a["precondition"] for a in reverts)
    assert 'import {\n  to = aws_security_group.debug_temp\n' in imports.read_text()
    assert "desired_count is not reverted: Application Auto Scaling governs it" in result.stdout
    assert result.returncode == 2, result.stdout[-3000:]  # the unmanaged group is left for an import
    assert len(verified(result.stdout)) == len(reverts), result.stdout[-3000:]
    _, after = audit_json(moto_server, stack)
    left = findings(after)
    # the scaled service is left to Application Auto Scaling (the stack's target on its count); the group to import
    assert sorted((r["kind"], r["type"]) for r in left) == [("changed", "aws_ecs_service"),
                                                            ("unmanaged", "aws_security_group")]
    assert {(r["type"], r["id"]) for r in left if r["kind"] == "unmanaged"} < unmanaged_before  # untouched, same id
    no_locks_left(stack)


def test_listener_weights_are_skipped_and_left_to_the_deployer(moto_server: str, stack: SeededStack) -> None:
    apply(stack, "listener-action")
    result = audit(moto_server, *fix_args(stack, "--yes"))
    assert result.returncode == 2
    assert "SKIP aws_lb_listener.https" in result.stdout and "blue/green deployment controller" in result.stdout
    assert "Nothing to apply." in result.stdout
    _, after = audit_json(moto_server, stack)
    assert [r["address"] for r in findings(after)] == ["aws_lb_listener.https"]


def test_a_drifted_task_definition_the_deployer_refuses_is_skipped_with_its_reason(moto_server: str,
                                                                                  stack: SeededStack) -> None:
    apply(stack, "task-revision")
    result = audit(moto_server, *fix_args(stack, "--yes"))
    # moto starts no tasks, so no target is registered: the deployer's dry run refuses, and nothing changes
    assert "SKIP aws_ecs_service.web_app" in result.stdout, result.stdout[-3000:]
    assert ("task_definition is not redeployed: the blue/green deployer refuses it: blue is not sound before the "
            "deploy: gate health: 0 healthy of 0 registered, 2 desired") in result.stdout
    assert result.returncode == 2 and "Nothing to apply." in result.stdout
    _, after = audit_json(moto_server, stack)
    assert [c["path"] for r in findings(after) for c in r["changes"]] == ["task_definition"]
    no_locks_left(stack)


def test_a_drifted_task_definition_is_redeployed_by_two_deploys_and_verified(
        moto_server: str, reference: tuple[Aws, SeededStack], tmp_path: Path) -> None:
    aws, seeded = reference
    apply(seeded, "task-revision")
    in_state = seeded.stack.ref("aws_ecs_task_definition.web_app")["arn"]
    plan_file = tmp_path / "plan.json"
    result = audit(moto_server, *fix_args(seeded, "--yes", "--plan-out", str(plan_file)), timeout=300)
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    actions = json.loads(plan_file.read_text())["actions"]
    assert [(a["kind"], a["address"] or a["id"]) for a in actions] == [
        ("redeploy", "aws_ecs_service.web_app"), ("import", LEASES)]  # the deployer's lease table: not the stack's
    action = actions[0]
    assert action["deploy"] == {"cluster": seeded.stack.ref("aws_ecs_cluster.main")["arn"], "service": NAME,
                                "task_definition": in_state, "way": "alb-weights", "onto": [GREEN, NAME],
                                "other": GREEN}
    assert result.returncode == 2, result.stdout[-3000:]  # 2: the lease table is left to import
    assert "verified  aws_ecs_service.web_app: re-observed: matches the state" in result.stdout
    _, after = audit_json(moto_server, seeded)
    assert [r["id"] for r in findings(after)] == [LEASES]  # both services, the listener's weights: as in the state
    found = aws.client("ecs").describe_services(cluster="digitallync", services=[NAME, GREEN])["services"]
    assert {s["serviceName"]: (s["desiredCount"], s["taskDefinition"]) for s in found} == {
        NAME: (2, in_state), GREEN: (0, in_state)}
    no_locks_left(seeded)
    with open_history(None) as history:
        [journal_id] = history.list_journals("fix")
        redeploy, _ = remediation(history.read_journal(journal_id))["actions"]
        assert redeploy["outcome"]["verdict"] == "verified"
        assert [(d["onto"], d["result"]) for d in redeploy["deploys"]] == [(GREEN, "succeeded"), (NAME, "succeeded")]
        for deploy in redeploy["deploys"]:  # each deploy's own journal, linked by its id; --bake-seconds 0 honoured
            own = history.read_journal(deploy["deploy_id"])
            assert (own[0]["request"]["bake_seconds"], own[-1]["result"]) == (0.0, "succeeded")
        run_id = remediation(history.read_journal(journal_id))["run_id"]
    page = tmp_path / "report.html"  # the audited run's report: its Remediation section shows both deploys
    rendered = _run(seeded, "report", run_id, "--html", str(page))
    assert rendered.exit_code == 0, rendered.output
    section = page.read_text().split('<section id="remediation"', 1)[1].split("</section>", 1)[0]
    assert f"Fix <code>{journal_id}</code>: completed (exit 2)" in section
    assert "<td>redeploy<br>" in section and "<code>aws_ecs_service.web_app</code>" in section
    assert ">verified</td><td>re-observed: matches the state" in section
    for deploy, onto in zip(redeploy["deploys"], (GREEN, NAME), strict=True):
        assert (f"deploy {deploy['step']} of 2 onto <code>{onto}</code>: <span class=\"\">succeeded</span> "
                f"(journal <code>{deploy['deploy_id']}</code>)") in section


def test_a_lock_held_by_terraform_is_refused_and_nothing_changes(moto_server: str, stack: SeededStack) -> None:
    apply(stack, "log-retention")
    info = json.dumps({"ID": "3b6c5f1e-1111-2222-3333-444455556666", "Operation": "OperationTypeApply", "Info": "",
                       "Who": "ci@runner-7", "Version": "1.11.4", "Created": "2026-11-27T10:11:00.000000Z",
                       "Path": f"{stack.bucket}/{STACK_KEY}"})
    ddb = Aws(AwsSettings(region=REGION)).client("dynamodb")
    key = {"LockID": {"S": f"{stack.bucket}/{STACK_KEY}"}}
    ddb.put_item(TableName=stack.lock_table, Item={**key, "Info": {"S": info}})
    before = ddb.get_item(TableName=stack.lock_table, Key=key, ConsistentRead=True)["Item"]
    result = audit(moto_server, *fix_args(stack, "--yes"))
    assert result.returncode == 1
    assert "locked by ci@runner-7 (OperationTypeApply)" in result.stderr and "nothing was changed" in result.stderr
    assert ddb.get_item(TableName=stack.lock_table, Key=key, ConsistentRead=True)["Item"] == before
    ddb.delete_item(TableName=stack.lock_table, Key=key)
    _, after = audit_json(moto_server, stack)
    assert [r["address"] for r in findings(after)] == ["aws_cloudwatch_log_group.app"]
    no_locks_left(stack)


def test_without_a_terminal_and_without_yes_it_only_plans(moto_server: str, stack: SeededStack) -> None:
    apply(stack, "log-retention")
    for extra in ((), ("--dry-run", "--yes")):
        result = audit(moto_server, *fix_args(stack, *extra))
        assert result.returncode == 2
        assert "Plan only" in result.stdout and "REVERT aws_cloudwatch_log_group.app" in result.stdout
    machine = audit(moto_server, *fix_args(stack, "--format", "json"))
    assert json.loads(machine.stdout)["summary"]["counts"]["changed"] == 1  # the fix talks on stderr
    assert "Plan only" in machine.stderr and machine.returncode == 2
    _, after = audit_json(moto_server, stack)
    assert [r["address"] for r in findings(after)] == ["aws_cloudwatch_log_group.app"]


def test_only_narrows_the_plan(moto_server: str, stack: SeededStack, tmp_path: Path) -> None:
    apply(stack, "log-retention", "ecr-mutable", "debug-sg")
    plan_file = tmp_path / "plan.json"
    result = audit(moto_server, *fix_args(stack, "--yes", "--only", "aws_ecr_*", "--plan-out", str(plan_file)))
    assert by_kind(json.loads(plan_file.read_text())) == {"aws_ecr_repository.app": "revert"}
    assert result.returncode == 0, result.stdout[-2000:]
    _, after = audit_json(moto_server, stack)
    assert sorted(r["type"] for r in findings(after)) == ["aws_cloudwatch_log_group", "aws_security_group"]


# --- faults (in-process, so a call can be made to fail) -------------------------------------------


def _run(stack: SeededStack, *args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=True)


INVOKE = fix_apply.invoke


def _failing(monkeypatch: pytest.MonkeyPatch, operation: str, code: str) -> list[str]:
    seen: list[str] = []

    def invoke(aws: Aws, call: Any, region: str | None) -> Any:
        seen.append(call.operation)
        if call.operation == operation and code:
            raise botocore.exceptions.ClientError({"Error": {"Code": code, "Message": "injected"}},
                                                  "".join(p.title() for p in operation.split("_")))
        return INVOKE(aws, call, region)

    monkeypatch.setattr(fix_apply, "invoke", invoke)
    return seen


def test_an_aws_error_on_the_third_of_five_stops_releases_and_resume_finishes(
        moto_server: str, stack: SeededStack, monkeypatch: pytest.MonkeyPatch) -> None:
    apply(stack, *FIVE)
    _failing(monkeypatch, "modify_load_balancer_attributes", "InternalError")  # aws_lb: the third action
    result = _run(stack, *fix_args(stack, "--yes"))
    assert result.exit_code == 1
    assert "InternalError" in str(result.exception) and "--resume" in str(result.exception)
    no_locks_left(stack)
    journal_id = re.search(r"fix --resume (fix-[0-9A-Za-z-]+)", str(result.exception)).group(1)  # type: ignore[union-attr]
    with open_history(None) as history:
        entries = history.read_journal(journal_id)
    events = [(e["event"], e.get("action")) for e in entries if e["event"] in ("applied", "failed", "end")]
    assert events == [("applied", 0), ("applied", 1), ("failed", 2), ("end", None)]
    assert entries[-1]["status"] == "stopped"
    assert [a["outcome"]["verdict"] for a in remediation(entries)["actions"]] == ["not_run", "not_run", "failed",
                                                                                "not_run", "not_run"]
    _, middle = audit_json(moto_server, stack)
    assert len(findings(middle)) == 3
    seen = _failing(monkeypatch, "", "")  # no failure: the calls are only recorded
    resumed = _run(stack, "fix", "--resume", journal_id, "--yes")
    assert resumed.exit_code == 0, resumed.output
    assert seen.count("put_retention_policy") == 0  # done before the stop: not made again
    assert "modify_load_balancer_attributes" in seen
    _, after = audit_json(moto_server, stack)
    assert findings(after) == []
    no_locks_left(stack)
    listed = _run(stack, "fix", "--list")
    assert f"{journal_id}  completed" in listed.output
    with open_history(None) as history:
        section = remediation(history.read_journal(journal_id))
    assert section["status"] == "completed" and section["exit_code"] == 0
    assert [a["outcome"]["verdict"] for a in section["actions"]] == ["verified"] * 5


def test_access_denied_on_one_revert_fails_it_naming_the_permission(
        moto_server: str, stack: SeededStack, monkeypatch: pytest.MonkeyPatch) -> None:
    apply(stack, *FIVE)
    _failing(monkeypatch, "modify_listener", "AccessDenied")
    result = _run(stack, *fix_args(stack, "--yes"))
    assert result.exit_code == 2, result.output
    assert re.search(r"failed +aws_lb_listener\.https: AccessDenied.*missing permission "
                     r"elasticloadbalancing:ModifyListener", result.output), result.output
    assert len(verified(result.output)) == 4
    no_locks_left(stack)
    _, after = audit_json(moto_server, stack)
    assert [r["address"] for r in findings(after)] == ["aws_lb_listener.https"]


def test_audit_fix_runs_the_configured_audit_then_the_fix(moto_server: str, stack: SeededStack,
                                                          tmp_path: Path) -> None:
    apply(stack, "log-retention")
    (tmp_path / "audit.toml").write_text(
        f'regions = ["{REGION}"]\n\n[[states]]\nuri = "s3://{stack.bucket}/**/terraform.tfstate"\n'
        f'lock_table = "{stack.lock_table}"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ENDPOINT_URL": moto_server, "AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing", "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "XDG_DATA_HOME": str(tmp_path / "data")})
    result = subprocess.run([AUDIT, "--fix", "--yes"], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=300, check=False)
    assert "REVERT aws_cloudwatch_log_group.app" in result.stdout, result.stderr[-2000:]
    assert result.returncode == 0, result.stdout[-2000:]
    _, after = audit_json(moto_server, stack)
    assert findings(after) == []
    listed = subprocess.run([AUDIT, "fix", "--list"], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    assert re.search(r"^fix-\S+  completed$", listed.stdout, re.M), listed.stdout


def test_the_fix_journals_in_the_history_the_run_records_into(moto_server: str, stack: SeededStack,
                                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    apply(stack, "log-retention")
    refused = _run(stack, *fix_args(stack, "--yes", "--no-history"))
    assert refused.exit_code == 1 and "cannot run with --no-history" in str(refused.exception)
    _, before = audit_json(moto_server, stack)
    assert [r["address"] for r in findings(before)] == ["aws_cloudwatch_log_group.app"]  # nothing was changed
    chosen, configured = f"sqlite:///{tmp_path / 'chosen.db'}", f"sqlite:///{tmp_path / 'configured.db'}"
    (tmp_path / "audit.toml").write_text(f'history = "{configured}"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = _run(stack, *fix_args(stack, "--yes", "--history", chosen))
    assert result.exit_code == 0, result.output
    with open_history(chosen) as history:
        [journal_id] = history.list_journals("fix")
        [run] = history.runs()
        assert remediation(history.read_journal(journal_id))["run_id"] == run.id
    with open_history(configured) as history:
        assert history.list_journals("fix") == [] and history.runs() == []
    with open_history(None) as history:  # the default (audit_json above recorded its run there)
        assert history.list_journals("fix") == []
    apply(stack, "log-retention")  # `audit --fix --history URL`: the audit of audit.toml, the same store
    (tmp_path / "audit.toml").write_text(
        f'regions = ["{REGION}"]\nhistory = "{configured}"\n\n[[states]]\n'
        f'uri = "s3://{stack.bucket}/**/terraform.tfstate"\nlock_table = "{stack.lock_table}"\n', encoding="utf-8")
    again = _run(stack, "--fix", "--yes", "--history", chosen)
    assert again.exit_code == 0, again.output
    with open_history(chosen) as history:
        assert len(history.list_journals("fix")) == 2 and len(history.runs()) == 2
    with open_history(configured) as history:
        assert history.list_journals("fix") == [] and history.runs() == []


def test_a_serial_that_moved_before_the_lock_means_a_new_plan_under_it(
        moto_server: str, stack: SeededStack, monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor.demo.statefile import build_state, publish_state
    from auditor.fix import lock as fix_lock

    apply(stack, "log-retention", "ecr-mutable")
    aws = Aws(AwsSettings(region=REGION))
    real_take = fix_lock.take

    def terraform_applies_first(*args: Any) -> Any:
        """A `terraform apply` that put the log retention back and wrote serial 8, just before the lock."""
        current = json.loads(aws.client("s3").get_object(Bucket=stack.bucket, Key=STACK_KEY)["Body"].read())
        aws.client("logs").put_retention_policy(logGroupName="/ecs/digitallync", retentionInDays=30)
        publish_state(aws, REGION, stack.bucket, STACK_KEY,
                      build_state(stack.stack.items, serial=current["serial"] + 1, lineage=current["lineage"]),
                      stack.lock_table)
        monkeypatch.setattr(fix_lock, "take", real_take)
        return real_take(*args)

    monkeypatch.setattr(fix_lock, "take", terraform_applies_first)
    result = _run(stack, *fix_args(stack, "--yes"))
    assert result.exit_code == 0, result.output
    assert "The state changed while planning" in result.output and "(serial 7 -> 8)" in result.output
    assert result.output.count("REVERT aws_cloudwatch_log_group.app") == 1  # in the first plan only
    assert len(verified(result.output)) == 1  # the ECR revert, from the new plan
    _, after = audit_json(moto_server, stack)
    assert findings(after) == []
    no_locks_left(stack)


def test_on_a_terminal_the_plan_is_applied_only_when_the_answer_is_yes(
        moto_server: str, stack: SeededStack, monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor.fix import cli as fix_cli

    apply(stack, "log-retention")
    monkeypatch.setattr(fix_cli, "interactive", lambda: True)
    declined = CliRunner().invoke(cli, fix_args(stack), input="n\n")
    assert declined.exit_code == 1 and "Apply 1 action(s)? [y/N]" in declined.output
    assert "Cancelled: nothing was changed." in declined.output
    no_locks_left(stack)
    accepted = CliRunner().invoke(cli, fix_args(stack), input="y\n")
    assert accepted.exit_code == 0, accepted.output
    _, after = audit_json(moto_server, stack)
    assert findings(after) == []
