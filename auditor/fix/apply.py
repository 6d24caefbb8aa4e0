"""Apply a fix plan under the Terraform lock, journalled step by step, then verify it.

Each acting action: journal `start`; check its precondition with a read call; journal each `call`
before it is made; journal `applied` or `failed`. AccessDenied fails that action alone (naming the
missing permission); any other AWS error stops the run (what was done stays journalled, the lock is
released by the caller, `--resume` finishes). Afterwards every touched resource is re-observed by a
fresh audit of its types, and each action is verified or failed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import botocore.exceptions

from auditor.aws import Aws, describe_error, is_access_denied
from auditor.config import AuditConfig
from auditor.errors import AuditError, ExitCode
from auditor.fix.journal import Journal
from auditor.fix.model import Action, ActionKind, ActionResult, Call, Plan, Probe, Verdict
from auditor.fix.reverts import head, iam_permission
from auditor.models import Drift, DriftKind

_AWS_ERRORS = (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)

Deployer = Callable[[int, Action, Journal], str | None]
"""Redeploys a service as action N says, journalling each deploy; returns why it did not succeed, or None
(auditor.fix.redeploy.redeployer)."""

Observer = Callable[[Action], str | None]
"""Re-observes what a redeploy leaves (who serves, revisions, desired counts); what is wrong, or None
(auditor.fix.redeploy.route_check)."""


class FixStopped(AuditError):
    """An AWS error stopped the fix part-way; the journal says what was done (resume with --resume)."""


@dataclass(frozen=True, slots=True)
class FixOutcome:
    """What the fix did: one result per acting action."""

    journal_id: str
    plan: Plan
    results: tuple[ActionResult, ...]
    stopped: str | None = None

    @property
    def remaining(self) -> tuple[Action, ...]:
        """Findings the fix leaves as they are (skips and imports)."""
        return tuple(a for a in self.plan.actions if not a.acts)

    @property
    def exit_code(self) -> ExitCode:
        """1 when stopped by an error; 0 when every action verified and nothing is left; else 2."""
        if self.stopped:
            return ExitCode.ERROR
        if all(r.verdict is Verdict.VERIFIED for r in self.results) and not self.remaining:
            return ExitCode.CLEAN
        return ExitCode.DRIFT


def invoke(aws: Aws, call: Call, region: str | None) -> Any:
    client = aws.client(call.service, region)
    return getattr(client, call.operation)(**call.params)


def check_probe(aws: Aws, probe: Probe, region: str | None) -> str | None:
    """None when the precondition holds, else why not."""
    try:
        answer = invoke(aws, probe.call, region)
    except _AWS_ERRORS as exc:
        if probe.expect == "exists" and not is_access_denied(exc):
            return f"precondition failed: {probe.describe} ({describe_error(exc)})"
        if is_access_denied(exc):
            return f"precondition not checked: {describe_error(exc)} (needs {iam_permission(probe.call)})"
        raise
    present = bool(answer.get(probe.key))
    if present != (probe.expect == "exists"):
        return f"precondition failed: {probe.describe}"
    return None


def execute(plan: Plan, aws: Aws, journal: Journal, deployer: Deployer,
            done: Mapping[int, ActionResult] | None = None) -> list[ActionResult]:
    """Run every acting action not in `done`; raise FixStopped on an AWS error other than AccessDenied."""
    results = dict(done or {})
    for index, action in enumerate(plan.actions):
        if not action.acts or index in results:
            continue
        journal.write("start", action=index, address=action.address, type=action.type, id=action.id,
                      kind=action.kind.value, before=[{"path": c.path, "state": c.state, "live": c.live}
                                                      for c in action.changes])
        result = _run(index, action, aws, journal, deployer)
        results[index] = result
        journal.write("applied" if result.verdict is not Verdict.FAILED else "failed", action=index,
                      detail=result.detail)
    return [results[i] for i in sorted(results)]


def _run(index: int, action: Action, aws: Aws, journal: Journal, deployer: Deployer) -> ActionResult:
    if action.kind is ActionKind.REDEPLOY:
        failure = deployer(index, action, journal)
        if failure:
            return ActionResult(index, Verdict.FAILED, failure)
        return ActionResult(index, Verdict.NOT_RUN, "redeployed; not yet verified")
    try:
        if action.probe is not None:
            failure = check_probe(aws, action.probe, action.region)
            if failure:
                return ActionResult(index, Verdict.FAILED, failure)
        for number, call in enumerate(action.calls):
            journal.write("call", action=index, call=number, operation=f"{call.service}.{call.operation}")
            try:
                invoke(aws, call, action.region)
            except _AWS_ERRORS as exc:
                if is_access_denied(exc):
                    return ActionResult(index, Verdict.FAILED,
                                        f"{describe_error(exc)}: missing permission {iam_permission(call)}")
                journal.write("failed", action=index, call=number, detail=describe_error(exc))
                raise FixStopped(f"{action.address or action.id}: {describe_error(exc)}",
                                 f"stopped; the journal {journal.id} says what was done — "
                                 f"`audit fix --resume {journal.id}` finishes") from None
    except _AWS_ERRORS as exc:  # a probe's unexpected error
        return ActionResult(index, Verdict.FAILED, f"precondition not checked: {describe_error(exc)}")
    return ActionResult(index, Verdict.NOT_RUN, "applied; not yet verified")


def verify_config(config: AuditConfig, plan: Plan, indexes: Iterable[int]) -> AuditConfig:
    """The audit that re-observes the touched resources: their types only, no rules, no waiting for
    the lock (this process holds it)."""
    types = sorted({plan.actions[i].type for i in indexes})
    return replace(config, types=tuple(types), check_rules=False, wait_for_lock=0.0, code_dirs=())


def verify(plan: Plan, results: Sequence[ActionResult], drifts: Iterable[Drift],
           observe: Observer) -> list[ActionResult]:
    """Each applied action's verdict from the fresh audit's findings (and, for a redeploy, `observe`)."""
    by_key = {d.key: d for d in drifts}
    verdicts = []
    for result in results:
        if result.verdict is Verdict.FAILED:
            verdicts.append(result)
            continue
        action = plan.actions[result.index]
        verdict = _verdict(result.index, action, by_key.get(action.key))
        if action.kind is ActionKind.REDEPLOY and verdict.verdict is Verdict.VERIFIED:
            wrong = observe(action)
            if wrong:
                verdict = ActionResult(result.index, Verdict.FAILED, f"redeployed, but {wrong}")
        verdicts.append(verdict)
    return verdicts


def _verdict(index: int, action: Action, found: Drift | None) -> ActionResult:
    if action.drift == DriftKind.UNMANAGED.value:  # removed: the audit must no longer see it
        if found is None or found.kind is DriftKind.MISSING:
            return ActionResult(index, Verdict.VERIFIED, "gone")
        return ActionResult(index, Verdict.FAILED, f"still there ({found.kind.value})")
    if found is None:
        return ActionResult(index, Verdict.FAILED, "not seen by the verifying audit")
    if found.kind is DriftKind.UNKNOWN:
        return ActionResult(index, Verdict.FAILED, f"could not be re-observed: {found.reason}")
    if found.kind is not DriftKind.IN_SYNC and found.kind is not DriftKind.CHANGED:
        return ActionResult(index, Verdict.FAILED, f"still {found.kind.value}")
    wanted = {head(c.path) for c in action.changes}
    if action.kind is ActionKind.REDEPLOY:  # the revision is back, and the count is the state's (the deploys keep
        wanted |= {"task_definition", "desired_count"}  # the live one: a count drifted before still drifts)
    left = tuple(c.path for c in found.changes if head(c.path) in wanted)
    if left:
        return ActionResult(index, Verdict.FAILED, "drift remains: " + ", ".join(left), left)
    return ActionResult(index, Verdict.VERIFIED, "re-observed: matches the state")


def journal_done(entries: Sequence[Mapping[str, Any]]) -> dict[int, ActionResult]:
    """From a journal: the actions that finished (applied or failed), as results to carry over."""
    done: dict[int, ActionResult] = {}
    for entry in entries:
        event = entry.get("event")
        if event == "applied" and "call" not in entry:
            done[int(entry["action"])] = ActionResult(int(entry["action"]), Verdict.NOT_RUN, str(entry.get("detail")))
        elif event == "failed" and "call" not in entry:
            done[int(entry["action"])] = ActionResult(int(entry["action"]), Verdict.FAILED, str(entry.get("detail")))
    return done
