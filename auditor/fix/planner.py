"""The fix plan: every drift finding of an audit gets exactly one action.

- revert:   a declared revert (auditor.fix.reverts) puts every changed attribute back to the state's value;
- redeploy: an ECS service whose task definition drifted goes back to the state's revision through
            the blue/green deployer;
- skip:     with the reason and the Terraform command to run instead (autoscaled desired counts,
            deployer-owned listener weights, a resource whose state id no longer exists, changes no
            revert is declared for);
- import:   an unmanaged resource: an `import {}` block, nothing touched.

Failing rules are listed with their remediation and snippet; they are never fixed live.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from auditor import __version__
from auditor.aws import describe_error
from auditor.fix.model import Action, ActionKind, Change, Plan, PlannedState, Risk, RuleItem
from auditor.fix.redeploy import RedeployCheck, Route, spec_of
from auditor.fix.reverts import Revert, head, live_attrs, reverts_for
from auditor.fix.reverts.ecs import cluster_and_name
from auditor.models import DRIFTED_KINDS, Drift, DriftKind
from auditor.state.model import LoadedState, LockMechanism, StateRequest
from auditor.state.sources import glob_regex

if TYPE_CHECKING:
    from auditor.models import AuditRun

AutoscalingCheck = Callable[[Drift], str | None]
"""finding -> why its desired count is not ours to revert (an autoscaling target, or why that is not known), or None."""

REDEPLOY_PERMISSIONS = ("ecs:DescribeServices", "ecs:DescribeTaskDefinition", "ecs:ListServices",
                        "ecs:UpdateService", "ecr:DescribeImages",
                        "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeRules",
                        "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth",
                        "elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyRule",
                        "cloudwatch:DescribeAlarms", "cloudwatch:GetMetricData",
                        "application-autoscaling:DescribeScalableTargets",
                        "application-autoscaling:RegisterScalableTarget", "dynamodb:DeleteItem",
                        "dynamodb:GetItem", "dynamodb:PutItem")
"""What the blue/green deployer calls to put a service back on the state's revision (auditor.deploy: discovery,
the revision's images, the weights, the gates, the colours' scaling suspended while traffic moves, its
DynamoDB lease). Never RegisterTaskDefinition: a fix runs
the state's revision as is (see auditor.fix.redeploy)."""

IMPORT_COMMAND = "terraform plan -generate-config-out=generated.tf"


def build_plan(run: AuditRun, requests: Sequence[StateRequest], autoscaling: AutoscalingCheck,
               redeploy: RedeployCheck, only: Sequence[str] = (), now: datetime | None = None) -> Plan:
    """One action per drift finding of `run` (then narrowed by `only`), the failing rules, the states to lock.
    `autoscaling` and `redeploy` are asked only about the ECS services whose desired count / task definition drifted."""
    managed = _managed_by_id(run.drifts)
    names: set[str] = set()
    checks = _Checks(autoscaling, redeploy)
    actions = [_action(d, managed, checks, names) for d in run.drifts if d.kind in DRIFTED_KINDS]
    rules = _rule_items(run)
    if only:
        actions = [a for a in actions if _selected(a, only)]
        rules = [r for r in rules if any(fnmatch.fnmatchcase(r.rule, pattern) for pattern in only)]
    return Plan(created_at=(now or datetime.now(UTC)).isoformat(timespec="seconds"), tool_version=__version__,
                actions=tuple(actions), rules=tuple(rules), states=tuple(_planned(s, requests) for s in run.states),
                filtered=tuple(only))


def _selected(action: Action, only: Sequence[str]) -> bool:
    """--only: an action kind, a resource type, a Terraform address or a rule id (`*` wildcards)."""
    fields = (action.kind.value, action.type, action.address or "", action.id)
    return any(fnmatch.fnmatchcase(field, pattern) for pattern in only for field in fields)


def _managed_by_id(drifts: Iterable[Drift]) -> dict[str, str]:
    """Live id -> the URI of a state that manages it."""
    return {d.id: d.states[0] for d in drifts if d.states}


@dataclass(frozen=True, slots=True)
class _Checks:
    """The live lookups the planner makes for ECS services."""

    autoscaling: AutoscalingCheck
    redeploy: RedeployCheck


def _action(drift: Drift, managed: Mapping[str, str], checks: _Checks, names: set[str]) -> Action:
    base = Action(kind=ActionKind.SKIP, drift=drift.kind.value, type=drift.type, id=drift.id,
                  address=drift.address, region=drift.region, state=drift.states[0] if drift.states else None,
                  summary="", changes=tuple(Change(c.path, c.state, c.live) for c in drift.changes))
    if drift.kind is DriftKind.UNMANAGED:
        return _unmanaged(drift, managed, base, names)
    if drift.kind is DriftKind.MISSING:
        reverts = reverts_for(drift)
        if reverts:
            return _revert(drift, reverts, base)
        return replace(base, kind=ActionKind.SKIP, summary="gone from AWS: putting it back would give it a new id the "
                       "state does not know; let Terraform create it", command=_target(drift, "apply"))
    heads = {head(c.path) for c in drift.changes}
    if drift.type == "aws_ecs_service" and "task_definition" in heads:
        return _redeploy(drift, heads, base, checks.redeploy(drift))
    if drift.type == "aws_ecs_service" and "desired_count" in heads:
        owner = checks.autoscaling(drift)
        if owner:
            return replace(base, kind=ActionKind.SKIP, summary=f"desired_count is not reverted: {owner}",
                           command=_target(drift, "apply -refresh-only"))
    if drift.type == "aws_lb_listener" and "default_action" in heads:
        weights = any("forward" in c.path for c in drift.changes)
        why = ("the listener's forward weights belong to the blue/green deployment controller, which moves "
               "them on every deploy" if weights else "no revert is declared for a listener's default action")
        return replace(base, kind=ActionKind.SKIP, summary=why, command=_target(drift, "apply"))
    reverts = reverts_for(drift)
    if reverts:
        return _revert(drift, reverts, base)
    uncovered = sorted(heads)
    return replace(base, kind=ActionKind.SKIP, summary=f"no revert is declared for {', '.join(uncovered)}; "
                   "Terraform can put it back (or accept it with -refresh-only)", command=_target(drift, "apply"))


def _target(drift: Drift, verb: str) -> str:
    address = drift.address or f"{drift.type}.<name>"
    return f"terraform {verb} -target='{address}'"


def _revert(drift: Drift, reverts: Sequence[Revert], base: Action, state: str | None = None) -> Action:
    calls = tuple(call for revert in reverts for call in revert.calls(drift))
    permissions = tuple(sorted({p for revert in reverts for p in revert.permissions}))
    risk = max((revert.risk for revert in reverts), key=list(Risk).index)
    probe = next((revert.probe(drift) for revert in reverts if revert.probe is not None), None)
    what = ", ".join(sorted({head(c.path) for c in drift.changes})) or {
        DriftKind.MISSING: "created again with the state's settings",
        DriftKind.UNMANAGED: "removed (added by hand to a resource the state manages)"}.get(drift.kind, "")
    if state:
        base = replace(base, state=state)
    return replace(base, kind=ActionKind.REVERT, summary=f"revert: {what}",
                   revert="+".join(r.qualified for r in reverts), calls=calls, permissions=permissions, risk=risk,
                   probe=probe)


def _redeploy(drift: Drift, heads: set[str], base: Action, route: Route | str) -> Action:
    spec = spec_of(drift)
    if isinstance(route, str):
        return replace(base, kind=ActionKind.SKIP, summary=f"task_definition is not redeployed: {route}",
                       command=_target(drift, "apply"))
    others = sorted(heads - {"task_definition"})
    also = (f" ({', '.join(others)} also drifted: the deploys keep the live value, so the action is not verified; "
            "a second `audit --fix` plans it)" if others else "")
    return replace(base, kind=ActionKind.REDEPLOY,
                   summary=f"redeploy {spec['service']} on {spec['task_definition']} through the blue/green deployer: "
                   f"{route.describe(spec['service'])}{also}", permissions=REDEPLOY_PERMISSIONS, risk=Risk.HIGH,
                   deploy={**spec, "way": route.way, "onto": list(route.onto), "other": route.other})


def _unmanaged(drift: Drift, managed: Mapping[str, str], base: Action, names: set[str]) -> Action:
    reverts = reverts_for(drift)
    if reverts and reverts[0].parent:
        owner = str(live_attrs(drift).get(reverts[0].parent) or "")
        if owner in managed:
            return _revert(drift, reverts, base, state=managed[owner])
    name = _import_name(drift, names)
    block = f'import {{\n  to = {drift.type}.{name}\n  id = "{drift.id}"\n}}\n'
    return replace(base, kind=ActionKind.IMPORT, summary="unmanaged: import it into Terraform (nothing is touched)",
                   import_block=block, command=IMPORT_COMMAND)


_NOT_NAME = re.compile(r"[^a-z0-9_]+")


def _import_name(drift: Drift, taken: set[str]) -> str:
    """A Terraform resource name for an import block: from the resource's name, else its id."""
    attrs = live_attrs(drift)
    raw = str(attrs.get("name") or attrs.get("alarm_name") or attrs.get("bucket") or drift.id.rsplit("/", 1)[-1])
    name = _NOT_NAME.sub("_", raw.lower()).strip("_") or "imported"
    if not name[0].isalpha():
        name = f"r_{name}"
    candidate, n = name, 2
    while f"{drift.type}.{candidate}" in taken:
        candidate, n = f"{name}_{n}", n + 1
    taken.add(f"{drift.type}.{candidate}")
    return candidate


def _rule_items(run: AuditRun) -> list[RuleItem]:
    if run.compliance is None:
        return []
    items = []
    for finding in run.compliance.findings:
        if finding.status.value != "FAIL" or finding.suppressed_by is not None:
            continue
        rule = run.compliance.pack.get(finding.rule_id)
        items.append(RuleItem(rule=finding.rule_id, severity=finding.severity.value, type=finding.resource_type,
                              resource=finding.address or finding.resource_id, message=finding.message,
                              remediation=rule.meta.remediation if rule else "",
                              snippet=rule.meta.terraform if rule else ""))
    return items


def _planned(state: LoadedState, requests: Sequence[StateRequest]) -> PlannedState:
    request = _request_for(state.uri, requests)
    return PlannedState(uri=state.uri, serial=state.document.serial, lineage=state.document.lineage,
                        lock_table=state.lock_table, use_lockfile=LockMechanism.LOCKFILE in state.lock.checked,
                        region=request.region if request else None)


def _request_for(uri: str, requests: Sequence[StateRequest]) -> StateRequest | None:
    """The request a state was read for: the same URI, else the one whose pattern matches it."""
    for request in requests:
        if request.uri == uri:
            return request
    for request in requests:
        if request.is_s3 and glob_regex(request.uri).fullmatch(uri):
            return request
    return None


def autoscaling_check(aws: Any) -> AutoscalingCheck:
    """The Application Auto Scaling lookup: a scalable target on the service's desired count owns it.
    A lookup that fails is a reason too (fail closed: never fight an owner we could not rule out)."""

    def check(drift: Drift) -> str | None:
        cluster, name = cluster_and_name(drift)
        resource = f"service/{cluster.rsplit('/', 1)[-1]}/{name}"
        try:
            answer = aws.client("application-autoscaling", drift.region).describe_scalable_targets(
                ServiceNamespace="ecs", ResourceIds=[resource], ScalableDimension="ecs:service:DesiredCount")
        except Exception as exc:  # any failure means "not known": the reason is reported
            return f"could not tell whether Application Auto Scaling governs it ({describe_error(exc)})"
        if answer.get("ScalableTargets"):
            target = answer["ScalableTargets"][0]
            return (f"Application Auto Scaling governs it ({resource}, min {target.get('MinCapacity')}, "
                    f"max {target.get('MaxCapacity')})")
        return None

    return check
