"""Redeploy: an ECS service whose task definition drifted goes back to the state's revision through the
bundled blue/green deployer (auditor.deploy), never by a bare UpdateService.

- ALB-weights pair (two services behind two target groups, one listener or rule weighting them): the
  deployer always deploys onto the idle colour and leaves traffic there. So when the drifted service
  serves, the fix deploys twice: (1) the state's revision onto the idle colour, traffic shifts there;
  (2) the same revision back onto the drifted service, now idle, traffic shifts back. End: the drifted
  service on the state's revision serving 100% at its desired count, the other colour at 0 on the same
  revision. When the drifted service is the idle colour already, deploy (2) alone does it.
- ECS native blue/green (deploymentConfiguration.strategy BLUE_GREEN, CANARY, LINEAR): one deploy of the
  same service; ECS moves the traffic.
- Neither: skipped, with the deployer's reason. So is an EXTERNAL-controller service (task sets): its revision
  is its primary task set's, and the skip names the `audit deploy` that replaces it.

The state's task definition is used as is. The plan asks the deployer for a dry run (discovery, its
refusals, the revision it would run): a revision it would register anew (it pins images given by tag
to their digest) is skipped with that reason, since a fix never creates a revision the state does not know.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from auditor.aws import Aws
from auditor.deploy import DeployError, DeployOutcome, DeployRefused, DeployRequest, deploy
from auditor.errors import AuditError
from auditor.fix.journal import Journal
from auditor.fix.model import Action
from auditor.fix.reverts import state_attrs
from auditor.fix.reverts.ecs import cluster_and_name
from auditor.models import Drift

ALB = "alb-weights"
NATIVE = "ecs-native"


@dataclass(frozen=True, slots=True)
class Route:
    """How the deployer puts a service back on the state's revision: the services each deploy puts it on, in order."""

    way: str  # ALB | NATIVE
    onto: tuple[str, ...]
    other: str | None  # ALB: the service's partner colour

    def describe(self, service: str) -> str:
        if self.way == NATIVE:
            return "one ECS native blue/green deploy (ECS moves the traffic)"
        if len(self.onto) == 1:
            return f"one deploy onto {service}, the idle colour (traffic shifts to it from {self.other})"
        return (f"two deploys: onto {self.other}, the idle colour (traffic shifts there), then back onto "
                f"{service} (traffic shifts back)")


GATE_SETTINGS = ("strategy", "steps", "alarms", "max_5xx_rate", "lease_table", "poll_seconds")
"""The [deploy] settings a fix's deploys follow too (the others name one service's setup or are the fix's own)."""


@dataclass(frozen=True, slots=True)
class DeploySettings:
    """How each deploy runs: bake and timeout (seconds), the [deploy] settings of GATE_SETTINGS (the alarms
    that gate it, its lease table...), and the deployer's test seams (clock, health, metrics)."""

    bake_seconds: float
    timeout_seconds: float
    seams: Mapping[str, Any] | None = None
    configured: Mapping[str, Any] = field(default_factory=dict)

    def request(self, spec: Mapping[str, Any], *, dry_run: bool = False, blue: str | None = None,
                green: str | None = None) -> DeployRequest:
        gates = {k: v for k, v in self.configured.items() if k in GATE_SETTINGS}
        return DeployRequest(**{"strategy": "canary", **gates}, cluster=str(spec["cluster"]),
                             service=str(spec["service"]), task_definition=str(spec["task_definition"]),
                             bake_seconds=self.bake_seconds, timeout_seconds=self.timeout_seconds,
                             dry_run=dry_run, blue_service=blue, green_service=green)

    def run(self, request: DeployRequest, aws: Aws, store: Any) -> DeployOutcome:
        return deploy(request, aws=aws, history=store, **{"signals": False, **(self.seams or {})})


RedeployCheck = Callable[[Drift], "Route | str"]
"""finding -> the route the deployer takes, or why the service cannot be redeployed (a skip reason)."""


class _DryRunStore:
    """The journal store a dry run is given: a dry run writes nothing, so a write is a bug."""

    def append_journal(self, journal_id: str, kind: str, entry: dict[str, Any]) -> None:
        raise AuditError(f"a dry-run deploy tried to journal ({journal_id})")

    def read_journal(self, journal_id: str) -> list[dict[str, Any]]:
        return []

    def list_journals(self, kind: str) -> list[str]:
        return []


def spec_of(drift: Drift) -> dict[str, str]:
    cluster, name = cluster_and_name(drift)
    return {"cluster": cluster, "service": name, "task_definition": str(state_attrs(drift).get("task_definition", ""))}


def same_revision(arn: str, wanted: str) -> bool:
    """`arn` (a task definition ARN) is `wanted` (an ARN or `family:revision`)."""
    return arn == wanted or arn.endswith(f":task-definition/{wanted}")


def redeploy_check(aws: Aws, settings: DeploySettings) -> RedeployCheck:
    """Ask the deployer for a dry run of the redeploy: its setup decides the route, its refusal is the reason."""

    def check(drift: Drift) -> Route | str:
        spec = spec_of(drift)
        if not spec["task_definition"]:
            return "the state holds no task definition for the service"
        try:
            outcome = settings.run(settings.request(spec, dry_run=True), aws, _DryRunStore())
        except AuditError as exc:
            return f"the blue/green deployer refuses it: {exc}"
        if not same_revision(outcome.task_definition, spec["task_definition"]):
            return (f"the deployer would register a new revision ({outcome.task_definition}) instead of running the "
                    f"state's {spec['task_definition']} as is (it pins images given by tag to their digest); a fix "
                    "never creates a revision the state does not know")
        if outcome.way != ALB:
            return Route(NATIVE, (spec["service"],), None)
        serving, idle = (str(outcome.services[c]["service"]) for c in ("blue", "green"))
        if serving == idle:
            return (f"{spec['service']} has an EXTERNAL deployment controller: its revision is that of its primary "
                    "task set (aws_ecs_task_set in Terraform), which a deploy replaces; run `audit deploy "
                    f"--cluster {spec['cluster']} --service {spec['service']} --task-definition "
                    f"{spec['task_definition']}` to put it back")
        if spec["service"] == serving:
            return Route(ALB, (idle, serving), idle)
        return Route(ALB, (spec["service"],), serving)

    return check


def _where(outcome: DeployOutcome) -> str:
    """The end state a deploy reported: each service's share of the traffic and desired count."""
    parts = []
    for colour in outcome.services.values():
        weight = outcome.weights.get(str(colour.get("target_group")))
        share = f" {weight}% of the traffic," if weight is not None else ""
        parts.append(f"{colour['service']}{share} desired {colour['desired']}")
    return "; ".join(parts) or "end state not read"


def _finished(entries: Sequence[Mapping[str, Any]], index: int) -> set[int]:
    """Steps of action `index` a previous attempt deployed (for --resume)."""
    return {int(e["step"]) for e in entries
            if e.get("event") == "deployed" and e.get("action") == index and e.get("result") == "succeeded"}


def redeployer(aws: Aws, store: Any, settings: DeploySettings) -> Callable[[int, Action, Journal], str | None]:
    """Runs an action's deploys in order, each journalled before (`deploy`) and after (`deployed`, with the
    deploy journal's id); returns why the action failed, or None."""

    def run(index: int, action: Action, journal: Journal) -> str | None:
        spec = dict(action.deploy or {})
        onto = tuple(spec["onto"])
        done = _finished(journal.entries(), index)
        for step, service in enumerate(onto, 1):
            if step in done:
                continue
            blue = green = None
            if spec["way"] == ALB:
                green = service
                blue = spec["other"] if service == spec["service"] else spec["service"]
            journal.write("deploy", action=index, step=step, of=len(onto), onto=service,
                          task_definition=spec["task_definition"])
            try:
                outcome = settings.run(settings.request(spec, blue=blue, green=green), aws, store)
            except AuditError as exc:  # DeployRefused: nothing changed; any other DeployError: it could not start
                result = "refused" if isinstance(exc, DeployRefused) else "not_started"
                journal.write("deployed", action=index, step=step, result=result, detail=str(exc))
                return _failure(spec, onto, step, f"{'was refused' if result == 'refused' else 'could not start'}: "
                                                  f"{exc}")
            journal.write("deployed", action=index, step=step, deploy_id=outcome.deploy_id, result=outcome.result,
                          reason=outcome.rollback_reason, message=outcome.message, weights=outcome.weights,
                          services=outcome.services)
            if outcome.result != "succeeded":
                why = f"{outcome.result.replace('_', ' ')} ({outcome.rollback_reason or outcome.message})"
                return _failure(spec, onto, step, f"{why}, deploy {outcome.deploy_id}; now {_where(outcome)}")
        return None

    return run


def _failure(spec: Mapping[str, Any], onto: tuple[str, ...], step: int, what: str) -> str:
    """Why the redeploy failed, and where that leaves the service (the drift stays)."""
    service, revision = spec["service"], spec["task_definition"]
    head = f"deploy {step} of {len(onto)} (the state's revision onto {onto[step - 1]}) {what}"
    if step < len(onto):
        return f"{head}; {service} still serves on its drifted revision"
    if len(onto) > 1:
        return (f"{head}; traffic stays on {spec['other']}, which runs the state's revision {revision}; "
                f"{service} does not serve")
    return f"{head}; {service} is not on the state's revision"


def route_check(aws: Aws) -> Callable[[Action], str | None]:
    """Re-observe a redeployed service: who serves (the listener weights), each service's revision and desired
    count. None when the route ended as it should, else what is wrong."""
    from auditor.deploy.discovery import describe_service, discover
    from auditor.deploy.model import AlbSetup

    def check(action: Action) -> str | None:
        spec = dict(action.deploy or {})
        cluster, service, revision = str(spec["cluster"]), str(spec["service"]), str(spec["task_definition"])
        try:
            setup = discover(aws, DeployRequest(cluster=cluster, service=service, task_definition=revision))
            serving = describe_service(aws, cluster, service)
            other = describe_service(aws, cluster, str(spec["other"])) if spec["way"] == ALB else None
        except DeployError as exc:
            return f"could not re-observe the deploy: {exc}"
        problems = []
        if not same_revision(str(serving.get("taskDefinition")), revision):
            problems.append(f"{service} runs {serving.get('taskDefinition')}")
        if isinstance(setup, AlbSetup) and other is not None:
            if setup.blue.service != service:
                problems.append(f"the listener sends the traffic to {setup.blue.service}")
            if int(serving.get("desiredCount", 0)) < 1:
                problems.append(f"{service} has desired count {serving.get('desiredCount')}")
            if int(other.get("desiredCount", 0)) != 0:
                problems.append(f"{spec['other']} still has desired count {other.get('desiredCount')}")
            if len(spec["onto"]) > 1 and not same_revision(str(other.get("taskDefinition")), revision):
                problems.append(f"{spec['other']} runs {other.get('taskDefinition')}")
        elif spec["way"] == ALB:
            problems.append(f"{service} is no longer in an ALB-weights pair")
        return "; ".join(problems) or None

    return check
