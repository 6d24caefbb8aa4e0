"""`deploy`, `resume` and `rollback`: lease, journal, signals and the automatic rollback around a strategy."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

from auditor.aws import Aws
from auditor.deploy.alb import AlbRun, fmt_seconds
from auditor.deploy.discovery import describe_service, discover, task_set_of
from auditor.deploy.gates import Gates, GateSettings
from auditor.deploy.journal import Journal, JournalStore, last
from auditor.deploy.lease import Lease, default_owner
from auditor.deploy.model import AlbSetup, Colour, DeployError, DeployOutcome, DeployRefused, DeployRequest, NativeSetup
from auditor.deploy.seams import Clock, CloudWatchMetrics, ElbHealth, HealthSource, MetricsSource, SystemClock
from auditor.deploy.signals import catch_signals, failure_reason
from auditor.deploy.taskdef import Release, plan_release, register

_LEASE_MARGIN = 900.0


@dataclass(frozen=True, slots=True)
class Seams:
    """What tests replace: the clock, target health, the 5xx metrics, and whether signals are caught."""

    clock: Clock
    health: HealthSource
    metrics: MetricsSource
    signals: bool = True


def _seams(aws: Aws, clock: Clock | None, health: HealthSource | None, metrics: MetricsSource | None,
           signals: bool) -> Seams:
    return Seams(clock or SystemClock(), health or ElbHealth(aws), metrics or CloudWatchMetrics(aws), signals)


def deploy(request: DeployRequest, aws: Aws, history: JournalStore, *, clock: Clock | None = None,
           health: HealthSource | None = None, metrics: MetricsSource | None = None,
           signals: bool = True) -> DeployOutcome:
    """Deploy `request`: refuse (DeployRefused, nothing changed), or run it to success or rollback."""
    seams = _seams(aws, clock, health, metrics, signals)
    setup = discover(aws, request)
    if isinstance(setup, NativeSetup):
        from auditor.deploy.native import deploy_native

        return deploy_native(request, setup, aws, history, seams)
    steps = request.shift_steps()
    if request.bake_seconds * len(steps) > request.timeout_seconds:
        raise DeployRefused(f"{len(steps)} bakes of {fmt_seconds(request.bake_seconds)} take longer than --timeout "
                            f"{fmt_seconds(request.timeout_seconds)}")
    if request.service != setup.blue.service and request.service != setup.green.service:
        raise DeployRefused(f"service {request.service} is not part of {setup.weighted}")
    if setup.blue.desired < 1:
        raise DeployRefused(f"blue service {setup.blue.service} serves all traffic with desired count 0")
    current = _blue_task_definition(aws, setup)
    release = plan_release(aws, current, setup.container, request.image, request.task_definition)
    gates = _gates(aws, request, seams)
    for reading in (gates.alarms(), gates.healthy(setup.blue.target_group, setup.blue.desired)):
        if not reading.ok:
            raise DeployRefused(f"blue is not sound before the deploy: gate {reading.gate}: {reading.detail}")
    plan = _plan(setup, release, steps, request)
    deploy_id = new_id(request.service, seams.clock)
    if request.dry_run:
        return DeployOutcome(result="dry_run", deploy_id=deploy_id, way="alb-weights", task_definition=release.label,
                             weights={setup.blue.target_group: 100, setup.green.target_group: 0},
                             services=_services(setup, blue={"desired": setup.blue.desired},
                                                green={"desired": setup.green.desired}),
                             message="dry run: nothing changed", plan=plan)
    journal = Journal(history, deploy_id, seams.clock.now)
    run = _alb_run(aws, setup, journal, seams, gates, request)

    def opening() -> None:
        journal.write("start", way="alb-weights", request=request_dict(request), setup=_setup_dict(setup),
                      release={"base": release.base_arn, "arn": release.arn, "images": list(release.images)},
                      steps=list(steps), plan=list(plan))

    def body() -> None:
        journal.write("register", base=release.base_arn, images=list(release.images))
        arn = register(aws, release)
        journal.write("registered", task_definition=arn)
        run.forward(arn, steps, request.bake_seconds, request.keep_blue_seconds)

    return _guarded(run, journal, seams, _lease(aws, request, setup, deploy_id), opening, body,
                    started=seams.clock.now(), take_over=None, lease_seconds=_lease_seconds(request))


def resume(deploy_id: str, aws: Aws, history: JournalStore, *, clock: Clock | None = None,
           health: HealthSource | None = None, metrics: MetricsSource | None = None,
           signals: bool = True) -> DeployOutcome:
    """Carry on a deploy whose process died, from its journal and the weights AWS now has."""
    return _from_journal(deploy_id, aws, history, _seams(aws, clock, health, metrics, signals), back=False)


def rollback(deploy_id: str, aws: Aws, history: JournalStore, *, clock: Clock | None = None,
             health: HealthSource | None = None, metrics: MetricsSource | None = None,
             signals: bool = True) -> DeployOutcome:
    """Put a deploy whose process died back on blue: 100% blue (healthy first), green to zero."""
    return _from_journal(deploy_id, aws, history, _seams(aws, clock, health, metrics, signals), back=True)


def _from_journal(deploy_id: str, aws: Aws, history: JournalStore, seams: Seams, back: bool) -> DeployOutcome:
    entries = history.read_journal(deploy_id)
    start = last(entries, "start")
    if start is None:
        raise DeployError(f"no deploy journal {deploy_id}", "list them with `audit deploy --list`")
    ended = last(entries, "outcome")
    if ended is not None:
        raise DeployRefused(f"deploy {deploy_id} already ended: {ended.get('result')}")
    if start.get("way") != "alb-weights":
        raise DeployRefused(f"deploy {deploy_id} was an ECS native deploy: ECS itself finishes or rolls it back")
    request = _request_from(start["request"])
    setup = _setup_from(start["setup"])
    journal = Journal(history, deploy_id, seams.clock.now)
    gates = _gates(aws, request, seams)
    run = _alb_run(aws, setup, journal, seams, gates, request)
    run.scaling_held = last(entries, "scaling") is not None
    registered = last(entries, "registered")

    def opening() -> None:
        journal.write("rollback_requested" if back else "resume", owner=default_owner())

    def body() -> None:
        if back:
            run.rollback("requested with --rollback after the deploy's process died")
            raise _RolledBack("requested with --rollback after the deploy's process died")
        if registered is None:
            release = plan_release(aws, start["release"]["base"], setup.container, request.image,
                                   request.task_definition)
            journal.write("register", base=release.base_arn, images=list(release.images))
            arn = register(aws, release)
            journal.write("registered", task_definition=arn)
        else:
            arn = registered["task_definition"]
        baked = {e.get("green") for e in entries if e.get("event") == "baked"}
        current = run.green_percent()
        run.forward(arn, tuple(start["steps"]), request.bake_seconds, request.keep_blue_seconds,
                    rebake=None if current in baked else current)

    return _guarded(run, journal, seams, _lease(aws, request, setup, deploy_id), opening, body,
                    started=seams.clock.now(), take_over=deploy_id, lease_seconds=_lease_seconds(request))


class _RolledBack(Exception):
    """A requested rollback finished (not a failure of the rollback)."""


def _guarded(run: AlbRun, journal: Journal, seams: Seams, lease: Lease, opening: Callable[[], None],
             body: Callable[[], None], started: float, take_over: str | None, lease_seconds: float) -> DeployOutcome:
    """Take the lease, journal the opening, run `body`; on any failure roll back (weights first); always
    release the lease."""
    lease.acquire(seams.clock.now(), lease_seconds, take_over=take_over)
    result, reason, message = "succeeded", None, ""
    try:
        opening()
        journal.write("lease", table=lease.table, key=lease.key, owner=lease.owner)
        with catch_signals(seams.signals) as stopping:
            try:
                body()
                message = ("green serves 100% and its task set is primary; blue's task set deleted"
                           if run.setup.task_sets else "green serves 100%; blue scaled to 0")
            except _RolledBack as done:
                result, reason = "rolled_back", str(done)
            except (Exception, KeyboardInterrupt) as failure:
                reason = failure_reason(failure)
                stopping.set()  # a second signal no longer interrupts: the rollback must finish
                try:
                    run.rollback(reason)
                    result = "rolled_back"
                    message = ("traffic is 100% on blue; green's task set deleted" if run.setup.task_sets
                               else "traffic is 100% on blue; green scaled to 0")
                except Exception as second:
                    result = "failed"
                    text = second.message if isinstance(second, DeployError) else f"{type(second).__name__}: {second}"
                    message = f"rollback failed: {text}"
        outcome = _outcome(run, result, reason, message, seams.clock.now() - started)
        journal.write("outcome", **{k: v for k, v in outcome.to_dict().items() if k not in ("plan", "deploy_id")})
        if journal.lost:
            outcome = replace(outcome, message=f"{outcome.message}; {journal.lost} journal entries could not be "
                                                "written during the rollback")
    finally:
        problem = lease.release()
    return replace(outcome, message=f"{outcome.message}; {problem}") if problem else outcome


def _outcome(run: AlbRun, result: str, reason: str | None, message: str, duration: float) -> DeployOutcome:
    setup = run.setup
    try:
        weights = run.weights()
        services = _services(setup, blue=run.colours.state(setup.blue), green=run.colours.state(setup.green))
    except DeployError as exc:
        weights, services = {}, {}
        message = f"{message}; cannot read the end state: {exc.message}"
    registered = last(run.journal.entries(), "registered")
    return DeployOutcome(result=result, deploy_id=run.journal.deploy_id, way="alb-weights",  # type: ignore[arg-type]
                         task_definition=str(registered["task_definition"]) if registered else "",
                         weights=weights, services=services, rollback_reason=reason, message=message,
                         duration_seconds=duration, green_provisioning_seconds=run.green_provisioning)


def _services(setup: AlbSetup, blue: dict[str, object], green: dict[str, object]) -> dict[str, dict[str, object]]:
    return {"blue": {"service": setup.blue.service, "target_group": setup.blue.target_group, **blue},
            "green": {"service": setup.green.service, "target_group": setup.green.target_group, **green}}


def _blue_task_definition(aws: Aws, setup: AlbSetup) -> str:
    """What blue runs: its service's task definition, or its task set's."""
    if not setup.task_sets:
        return str(describe_service(aws, setup.cluster, setup.blue.service)["taskDefinition"])
    return task_set_of(aws, setup.cluster, setup.blue.service, str(setup.blue.task_set))["taskDefinition"]


def _gates(aws: Aws, request: DeployRequest, seams: Seams) -> Gates:
    return Gates(aws, GateSettings(alarms=request.alarms, max_5xx_rate=request.max_5xx_rate,
                                   smoke_url=request.smoke_url), seams.health, seams.metrics)


def _alb_run(aws: Aws, setup: AlbSetup, journal: Journal, seams: Seams, gates: Gates,
             request: DeployRequest) -> AlbRun:
    return AlbRun(aws=aws, setup=setup, journal=journal, clock=seams.clock, gates=gates,
                  poll_seconds=request.poll_seconds, timeout_seconds=request.timeout_seconds,
                  deadline=seams.clock.now() + request.timeout_seconds)


def _lease(aws: Aws, request: DeployRequest, setup: AlbSetup, deploy_id: str) -> Lease:
    key = f"{setup.cluster}/{'+'.join(sorted({setup.blue.service, setup.green.service}))}"
    return Lease(aws, request.lease_table, key, request.owner or default_owner(), deploy_id)


def _lease_seconds(request: DeployRequest) -> float:
    return request.timeout_seconds + request.keep_blue_seconds + _LEASE_MARGIN


def _plan(setup: AlbSetup, release: Release, steps: tuple[int, ...], request: DeployRequest) -> tuple[str, ...]:
    lines = [f"task definition: {release.label} (from {release.base_arn})",
             *(f"  image {image}" for image in release.images),
             (f"green: a new task set of {setup.green.service} at 100% ({setup.blue.desired} tasks) "
              if setup.task_sets else f"green {setup.green.service}: desired {setup.green.desired} -> "
                                      f"{setup.blue.desired} ")
             + f"behind {setup.green.target_group}",
             f"weights on {setup.weighted}: green " + " -> ".join(f"{s}%" for s in steps)
             + f", baking {fmt_seconds(request.bake_seconds)} each",
             (f"green's task set made primary, blue's {setup.blue.task_set} deleted" if setup.task_sets
              else f"blue {setup.blue.service}: desired {setup.blue.desired} -> 0")
             + (f" after {fmt_seconds(request.keep_blue_seconds)} warm" if request.keep_blue_seconds else ""),
             f"gates: green healthy >= {setup.blue.desired}, 5xx <= {request.max_5xx_rate:.2%}"
             + (f", alarms {', '.join(request.alarms)}" if request.alarms else "")
             + (f", smoke {request.smoke_url}" if request.smoke_url else "")]
    return tuple(lines)


def new_id(service: str, clock: Clock) -> str:
    """A deploy (journal) id: service, UTC time, random suffix."""
    stamp = datetime.fromtimestamp(clock.now(), UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{service}-{stamp}-{secrets.token_hex(3)}"


def request_dict(request: DeployRequest) -> dict[str, Any]:
    data = asdict(request)
    data["steps"] = list(request.steps) if request.steps else None
    data["alarms"] = list(request.alarms)
    return data


def _request_from(data: dict[str, Any]) -> DeployRequest:
    steps = data.get("steps")
    return replace(DeployRequest(cluster=data["cluster"], service=data["service"]),
                   **{**data, "steps": tuple(steps) if steps else None, "alarms": tuple(data.get("alarms") or ())})


def _setup_dict(setup: AlbSetup) -> dict[str, Any]:
    return asdict(setup)


def _setup_from(data: dict[str, Any]) -> AlbSetup:
    return AlbSetup(**{**data, "blue": Colour(**data["blue"]), "green": Colour(**data["green"])})
