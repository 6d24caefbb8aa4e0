"""ECS native blue/green (deploymentConfiguration.strategy BLUE_GREEN, CANARY or LINEAR).

ECS moves the traffic; the deployer starts the deployment with UpdateService, follows it with
ListServiceDeployments / DescribeServiceDeployments through its lifecycle stages, applies the same
gates (alarms, 5xx rate per target group, smoke URL) at each poll, and stops it with rollback
(StopServiceDeployment ROLLBACK) when a gate fails, on timeout, SIGINT/SIGTERM or an error.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from auditor.aws import Aws, describe_error
from auditor.deploy.alb import fmt_seconds
from auditor.deploy.gates import Gates, GateSettings, Reading
from auditor.deploy.journal import Journal, JournalStore
from auditor.deploy.lease import Lease, default_owner
from auditor.deploy.model import AWS_ERRORS, DeployError, DeployOutcome, DeployRefused, DeployRequest, NativeSetup
from auditor.deploy.signals import catch_signals, failure_reason
from auditor.deploy.taskdef import plan_release, register

if TYPE_CHECKING:
    from auditor.deploy.engine import Seams

DONE = {"SUCCESSFUL": "succeeded", "ROLLBACK_SUCCESSFUL": "rolled_back", "ROLLBACK_FAILED": "failed",
        "STOPPED": "failed"}
WAY = "ecs-native"


class NativeRun:
    """One native deployment: start it, follow it, stop it with rollback."""

    def __init__(self, aws: Aws, setup: NativeSetup, journal: Journal, gates: Gates, seams: Seams,
                 request: DeployRequest) -> None:
        self.setup, self.journal, self.gates, self.seams, self.request = setup, journal, gates, seams, request
        self.ecs = aws.client("ecs")
        self.arn: str | None = None
        self.stage: tuple[str, str] | None = None

    def start(self, task_definition: str) -> None:
        self.journal.write("update_service", service=self.setup.service, task_definition=task_definition)
        self._call("start the deployment", self.ecs.update_service, cluster=self.setup.cluster,
                   service=self.setup.service, taskDefinition=task_definition)
        deadline = self.seams.clock.now() + self.request.timeout_seconds
        while self.arn is None:
            found = self.under_way()
            if found:
                self.arn = found[0]
                self.journal.write("deployment", arn=self.arn)
            elif self.seams.clock.now() >= deadline:
                raise DeployError(f"ECS started no deployment of {self.setup.service} within "
                                  f"{fmt_seconds(self.request.timeout_seconds)}")
            else:
                self.seams.clock.sleep(self.request.poll_seconds)

    def under_way(self) -> list[str]:
        """ARNs of the service's PENDING or IN_PROGRESS deployments."""
        found = self._call("list the service deployments", self.ecs.list_service_deployments,
                           cluster=self.setup.cluster, service=self.setup.service,
                           status=["PENDING", "IN_PROGRESS"])["serviceDeployments"]
        return [str(d["serviceDeploymentArn"]) for d in found]

    def follow(self, started: float) -> tuple[str, str | None]:
        """Poll until the deployment ends, gating each poll; (result, ECS's rollback reason)."""
        deadline = started + self.request.timeout_seconds
        while True:
            deployment = self.describe()
            status = deployment.get("status", "")
            if status in DONE:
                return DONE[status], _reason(deployment)
            for reading in self._readings(started):
                if not reading.ok:
                    self.journal.write("gate", **reading.to_dict(), stage=deployment.get("lifecycleStage"))
                    raise DeployError(f"gate {reading.gate} failed: {reading.detail}")
            if self.seams.clock.now() >= deadline:
                raise DeployError(f"timed out after {fmt_seconds(self.request.timeout_seconds)} waiting for ECS "
                                  f"deployment {self.arn} to succeed; last seen {status} at "
                                  f"{deployment.get('lifecycleStage', '?')}")
            self.seams.clock.sleep(self.request.poll_seconds)

    def describe(self) -> dict[str, Any]:
        found = self._call("describe the deployment", self.ecs.describe_service_deployments,
                           serviceDeploymentArns=[self.arn])["serviceDeployments"]
        if not found:
            raise DeployError(f"ECS deployment {self.arn} not found")
        deployment = dict(found[0])
        stage = (str(deployment.get("status", "")), str(deployment.get("lifecycleStage", "")))
        if stage != self.stage:
            self.stage = stage
            self.journal.write("stage", status=stage[0], lifecycle_stage=stage[1])
        return deployment

    def rollback(self, reason: str) -> tuple[str, str]:
        """Stop the deployment with rollback and follow it to its end (bounded by the timeout)."""
        self.journal.best_effort = True
        self.journal.write("rollback", reason=reason, deployment=self.arn)
        if self.arn is None:
            return "failed", "no ECS deployment was started"
        self._call("stop the deployment", self.ecs.stop_service_deployment, serviceDeploymentArn=self.arn,
                   stopType="ROLLBACK")
        deadline = self.seams.clock.now() + self.request.timeout_seconds
        while True:
            status = str(self.describe().get("status", ""))
            if status == "ROLLBACK_SUCCESSFUL":
                return "rolled_back", "traffic is back on the previous revision"
            if status in ("ROLLBACK_FAILED", "STOPPED", "SUCCESSFUL"):
                return "failed", f"ECS ended the rollback as {status}"
            if self.seams.clock.now() >= deadline:
                return "failed", f"rollback still {status} after {fmt_seconds(self.request.timeout_seconds)}"
            self.seams.clock.sleep(self.request.poll_seconds)

    def _readings(self, started: float) -> list[Reading]:
        now = self.seams.clock.now()
        return [self.gates.alarms(), self.gates.smoke(),
                *(self.gates.error_rate(tg, self.setup.load_balancer, started, now)
                  for tg in self.setup.target_groups)]

    @staticmethod
    def _call(what: str, fn: Any, **kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except AWS_ERRORS as exc:
            raise DeployError(f"cannot {what}: {describe_error(exc)}") from None


def deploy_native(request: DeployRequest, setup: NativeSetup, aws: Aws, history: JournalStore,
                  seams: Seams) -> DeployOutcome:
    from auditor.deploy.engine import new_id, request_dict

    release = plan_release(aws, setup.task_definition, setup.container, request.image, request.task_definition)
    plan = (f"task definition: {release.label} (from {release.base_arn})",
            *(f"  image {image}" for image in release.images),
            f"ECS {setup.strategy} deployment of {setup.service} (ECS moves the traffic), gated on "
            + ", ".join([f"5xx <= {request.max_5xx_rate:.2%}", *(f"alarm {a}" for a in request.alarms)]))
    deploy_id = new_id(setup.service, seams.clock)
    if request.dry_run:
        return DeployOutcome(result="dry_run", deploy_id=deploy_id, way=WAY, task_definition=release.label,
                             message="dry run: nothing changed", plan=plan)
    gates = Gates(aws, GateSettings(alarms=request.alarms, max_5xx_rate=request.max_5xx_rate,
                                    smoke_url=request.smoke_url), seams.health, seams.metrics)
    journal = Journal(history, deploy_id, seams.clock.now)
    run = NativeRun(aws, setup, journal, gates, seams, request)
    lease = Lease(aws, request.lease_table, f"{setup.cluster}/{setup.service}", request.owner or default_owner(),
                  deploy_id)
    if run.under_way():
        raise DeployRefused(f"service {setup.service} has an ECS deployment under way ({run.under_way()[0]})",
                            "wait for it to end")
    started = seams.clock.now()
    lease.acquire(started, request.timeout_seconds * 2 + 900, take_over=None)
    arn = ""
    try:
        journal.write("start", way=WAY, request=request_dict(request), setup={"cluster": setup.cluster,
                      "service": setup.service, "strategy": setup.strategy}, plan=list(plan))
        with catch_signals(seams.signals) as stopping:
            try:
                journal.write("register", base=release.base_arn, images=list(release.images))
                arn = register(aws, release)
                journal.write("registered", task_definition=arn)
                run.start(arn)
                result, reason = run.follow(started)
                message = {"succeeded": "ECS finished the deployment", "rolled_back": "ECS rolled the deployment back",
                           "failed": "ECS stopped the deployment"}[result]
            except (Exception, KeyboardInterrupt) as failure:
                stopping.set()
                reason = failure_reason(failure)
                try:
                    result, message = run.rollback(reason)
                except DeployError as second:
                    result, message = "failed", f"rollback failed: {second.message}"
        outcome = DeployOutcome(result=result, deploy_id=deploy_id, way=WAY, task_definition=arn,  # type: ignore[arg-type]
                                rollback_reason=reason, message=message,
                                duration_seconds=seams.clock.now() - started,
                                services={"service": {"service": setup.service, "desired": setup.desired,
                                                      "deployment": run.arn}})
        journal.write("outcome", **{k: v for k, v in outcome.to_dict().items() if k not in ("plan", "deploy_id")})
    finally:
        problem = lease.release()
    return replace(outcome, message=f"{outcome.message}; {problem}") if problem else outcome


def _reason(deployment: dict[str, Any]) -> str | None:
    rollback = deployment.get("rollback") or {}
    if deployment.get("status") == "SUCCESSFUL":
        return None
    return str(rollback.get("reason") or deployment.get("statusReason") or deployment.get("status"))
