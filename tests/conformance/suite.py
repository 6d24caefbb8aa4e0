"""The conformance run: apply, clean audits, the scenarios one at a time, Terraform's own lock.

Per scenario: make the change with boto3; run `audit run` and `terraform plan -refresh-only`
side by side (both only read); turn the audit into findings while the change is still live;
undo the change; convert the plan with `terraform show -json` in the background while the next
scenario runs (it reads only the plan file).
"""

from __future__ import annotations

import importlib.metadata
import json
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .harness import AuditResult, CommandFailed, Lab, TerraformRoot
from .known import CLEAN
from .parity import (
    Difference,
    Finding,
    NoiseHit,
    RuleKey,
    TerraformSide,
    auditor_side,
    compare,
    live_rule_key,
    terraform_side,
)
from .scenarios import SCENARIOS, Live, Scenario, TerraformApply, read_states, state_attributes

LOCK_WAIT_SECONDS = 180.0


@dataclass(frozen=True)
class Outcome:
    """One comparison: the clean stack, or one scenario."""

    name: str
    title: str
    auditor: frozenset[Finding]
    terraform: frozenset[Finding]
    noise: frozenset[NoiseHit]
    expected: frozenset[Finding]
    undo: str
    seconds: Mapping[str, float]

    @property
    def differences(self) -> frozenset[Difference]:
        return compare(self.auditor, self.terraform)

    @property
    def unexpected_terraform(self) -> frozenset[Difference]:
        """Where Terraform's findings differ from what the scenario was meant to change."""
        return compare(self.expected, self.terraform)


@dataclass(frozen=True)
class LockOutcome:
    """Terraform's lock info as it wrote it, and what the auditor reported while it was held."""

    terraform: Mapping[str, Mapping[str, Any]]  # mechanism -> lock info
    reported: tuple[Mapping[str, Any], ...]
    exit_code: int
    released: bool
    output_tail: str


@dataclass(frozen=True)
class ParityRun:
    versions: Mapping[str, str]
    resources: Mapping[str, int]
    clean: Outcome
    clean_audit: Mapping[str, Any]
    rules_audit: Mapping[str, Any]
    scenarios: tuple[Outcome, ...]
    lock: LockOutcome
    seconds: Mapping[str, float] = field(default_factory=dict)

    @property
    def outcomes(self) -> tuple[Outcome, ...]:
        return (self.clean, *self.scenarios)


class _Clients:
    def __init__(self, lab: Lab) -> None:
        self._lab = lab
        self._made: dict[str, Any] = {}

    def __call__(self, service: str) -> Any:
        if service not in self._made:
            self._made[service] = self._lab.boto3_client(service)
        return self._made[service]


def _rule_lookup(client: Callable[[str], Any]) -> Callable[[str], RuleKey]:
    def lookup(rule_id: str) -> RuleKey:
        [rule] = client("ec2").describe_security_group_rules(SecurityGroupRuleIds=[rule_id])["SecurityGroupRules"]
        return live_rule_key(rule)
    return lookup


def _live(lab: Lab, client: Callable[[str], Any]) -> Live:
    return Live(client, read_states(client("s3"), lab.backend.bucket, lab.backend.key, lab.bootstrap_state))


def _plan_and_show(root: TerraformRoot, name: str) -> tuple[TerraformSide, float]:
    plan, timed = root.refresh_only_plan(name)
    return terraform_side(root.show_json(plan)), timed.seconds


def _merge(sides: list[TerraformSide]) -> TerraformSide:
    return TerraformSide(frozenset().union(*(s.findings for s in sides)), frozenset().union(*(s.noise for s in sides)))


def _versions(lab: Lab) -> dict[str, str]:
    stack = lab.roots[1]
    reported = json.loads(stack.run("version", "-json").result.stdout)
    providers = reported.get("provider_selections", {})
    return {"terraform": reported["terraform_version"],
            "hashicorp/aws": providers.get("registry.terraform.io/hashicorp/aws", "?"),
            "moto": importlib.metadata.version("moto"), "boto3": importlib.metadata.version("boto3")}


def _clean(lab: Lab, client: Callable[[str], Any]) -> tuple[Outcome, AuditResult, AuditResult]:
    started = time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        plans = [pool.submit(_plan_and_show, root, "clean.bin") for root in lab.roots]
        audit = lab.audit()
        rules = lab.audit(rules=True)
        sides = [f.result()[0] for f in plans]
    side = _merge(sides)
    outcome = Outcome(CLEAN, "right after apply, nothing changed", auditor_side(audit.document, _rule_lookup(client)),
                      side.findings, side.noise, frozenset(), "", {"clean": time.monotonic() - started})
    return outcome, audit, rules


@dataclass
class _Pending:
    scenario: Scenario
    auditor: frozenset[Finding]
    show: Future[dict[str, Any]]
    undo: str
    seconds: dict[str, float]


def _run_scenario(lab: Lab, scenario: Scenario, client: Callable[[str], Any],
                  shows: ThreadPoolExecutor) -> _Pending:
    root = dict(zip(("bootstrap", "stack"), lab.roots, strict=True))[scenario.root]
    started = time.monotonic()
    undo = scenario.change(_live(lab, client))
    with ThreadPoolExecutor(1) as pool:
        audit_future = pool.submit(lab.audit)
        plan, timed = root.refresh_only_plan(f"{scenario.name}.bin")
        audit = audit_future.result()
    found = auditor_side(audit.document, _rule_lookup(client))
    seconds = {"change+audit+plan": time.monotonic() - started, "plan": timed.seconds, "audit": audit.seconds}
    undo_started = time.monotonic()
    if isinstance(undo, TerraformApply):
        root.apply(*(f"-target={t}" for t in undo.targets))
        how = "terraform apply " + " ".join(f"-target={t}" for t in undo.targets)
    else:
        undo()
        how = "boto3"
    seconds["undo"] = time.monotonic() - undo_started
    return _Pending(scenario, found, shows.submit(root.show_json, plan), how, seconds)


def _finish(pending: _Pending) -> Outcome:
    side = terraform_side(pending.show.result())
    s = pending.scenario
    return Outcome(s.name, s.title, pending.auditor, side.findings, side.noise, frozenset(s.expected), pending.undo,
                   pending.seconds)


def _lock_info(lab: Lab, client: Callable[[str], Any]) -> dict[str, dict[str, Any]]:
    """The lock info Terraform wrote: the DynamoDB item and the `.tflock` object, when present."""
    found: dict[str, dict[str, Any]] = {}
    item = client("dynamodb").get_item(TableName=lab.backend.table, Key={"LockID": {"S": lab.backend.lock_id}},
                                       ConsistentRead=True).get("Item")
    if item and "Info" in item:
        found["dynamodb"] = json.loads(item["Info"]["S"])
    s3 = client("s3")
    try:
        body = s3.get_object(Bucket=lab.backend.bucket, Key=lab.backend.key + ".tflock")["Body"].read()
    except s3.exceptions.NoSuchKey:
        pass
    else:
        found["s3-lockfile"] = json.loads(body)
    return found


def _held_locks(lab: Lab, client: Callable[[str], Any]) -> LockOutcome:
    """`terraform apply` stopped at its prompt holds both locks; the audit must report Terraform's own info."""
    stack = lab.roots[1]
    # A variable change gives the plan something to do, so Terraform waits for an answer with the locks held.
    process = stack.start("apply", "-var", "alb_log_retention_days=91")
    output = ""
    try:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        locks = _lock_info(lab, client)
        while len(locks) < 2:
            if process.poll() is not None or time.monotonic() > deadline:
                raise CommandFailed(f"terraform apply never held both locks (got {sorted(locks)}); "
                                    f"exit {process.poll()}: {process.stdout.read() if process.stdout else ''}")
            time.sleep(0.2)
            locks = _lock_info(lab, client)
        audit = lab.audit()
    finally:
        output, _ = process.communicate("no\n", timeout=LOCK_WAIT_SECONDS)
    [state] = [s for s in audit.document["states"] if s["uri"] == lab.backend.state_uri]
    return LockOutcome(locks, tuple(state["lock"]["held"]), process.returncode, not _lock_info(lab, client),
                       output[-2000:])


def _resource_counts(lab: Lab, client: Callable[[str], Any]) -> dict[str, int]:
    stack = json.loads(client("s3").get_object(Bucket=lab.backend.bucket, Key=lab.backend.key)["Body"].read())
    bootstrap = json.loads(lab.bootstrap_state.read_text(encoding="utf-8"))
    return {"bootstrap": len(state_attributes(bootstrap)), "stack": len(state_attributes(stack))}


def run_suite(lab: Lab) -> ParityRun:
    """Everything the conformance test asserts and the parity document shows."""
    started = time.monotonic()
    seconds = lab.apply_all()
    client = _Clients(lab)
    resources = _resource_counts(lab, client)
    clean, audit, rules = _clean(lab, client)
    seconds["clean: 2 plans + 2 audits"] = clean.seconds["clean"]
    mark = time.monotonic()
    with ThreadPoolExecutor(1) as shows:
        pending = [_run_scenario(lab, scenario, client, shows) for scenario in SCENARIOS]
        outcomes = tuple(_finish(p) for p in pending)
    seconds[f"{len(SCENARIOS)} scenarios"] = time.monotonic() - mark
    mark = time.monotonic()
    lock = _held_locks(lab, client)
    seconds["lock check"] = time.monotonic() - mark
    seconds["total"] = time.monotonic() - started
    return ParityRun(_versions(lab), resources, clean, audit.document, rules.document, outcomes, lock, seconds)
