"""What a colour is in AWS, for AlbRun: an ECS service, or a task set of an EXTERNAL-controller service.

Scaling a service colour is UpdateService desiredCount; scaling a task-set colour is UpdateTaskSet
scale (PERCENT of the service's desired count). Green is brought up with the release (UpdateService
with the task definition, or CreateTaskSet with externalId = the deploy id, so that a resumed or
rolled-back deploy finds it even if the process died before journalling its ARN). Retiring the idle
colour once traffic is 100% on the other is desired count 0, or UpdateServicePrimaryTaskSet to the
serving task set then DeleteTaskSet the idle one. Every call is journalled before it is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from auditor.aws import Aws, describe_error
from auditor.deploy.journal import Journal
from auditor.deploy.model import AWS_ERRORS, AlbSetup, Colour, DeployError


class Colours(Protocol):
    def bring_up(self, green: Colour, count: int, task_definition: str) -> None:
        """Green running `task_definition` at `count` tasks (idempotent: a resume calls it again)."""
        ...

    def scale(self, colour: Colour, count: int) -> None:
        """An existing colour (blue, on rollback) back to `count` tasks."""
        ...

    def desired(self, colour: Colour) -> int:
        """The colour's desired task count now (0 for a task set that does not exist)."""
        ...

    def retire(self, idle: Colour, serving: Colour) -> None:
        """Traffic is 100% on `serving`: `idle` stops running (and `serving` is the service's primary)."""
        ...

    def state(self, colour: Colour) -> dict[str, object]:
        """The colour's end state for the outcome."""
        ...


def colours_for(aws: Aws, setup: AlbSetup, journal: Journal) -> Colours:
    return TaskSetColours(aws, setup, journal) if setup.task_sets else ServiceColours(aws, setup, journal)


def _ecs(what: str, fn: Any, **kwargs: Any) -> Any:
    try:
        return fn(**kwargs)
    except AWS_ERRORS as exc:
        raise DeployError(f"cannot {what}: {describe_error(exc)}") from None


@dataclass(frozen=True, slots=True)
class ServiceColours:
    """Blue and green are two ECS services."""

    aws: Aws
    setup: AlbSetup
    journal: Journal

    def bring_up(self, green: Colour, count: int, task_definition: str) -> None:
        self._update(green, count, task_definition)

    def scale(self, colour: Colour, count: int) -> None:
        self._update(colour, count, None)

    def desired(self, colour: Colour) -> int:
        found = _ecs(f"read service {colour.service}", self.aws.client("ecs").describe_services,
                     cluster=self.setup.cluster, services=[colour.service])
        return int(found["services"][0].get("desiredCount", 0)) if found.get("services") else 0

    def retire(self, idle: Colour, serving: Colour) -> None:
        self._update(idle, 0, None)

    def state(self, colour: Colour) -> dict[str, object]:
        return {"service": colour.service, "target_group": colour.target_group, "desired": self.desired(colour)}

    def _update(self, colour: Colour, count: int, task_definition: str | None) -> None:
        self.journal.write("scale", service=colour.service, desired=count, task_definition=task_definition)
        extra = {"taskDefinition": task_definition} if task_definition else {}
        _ecs(f"scale service {colour.service} to {count}", self.aws.client("ecs").update_service,
             cluster=self.setup.cluster, service=colour.service, desiredCount=count, **extra)


@dataclass(frozen=True, slots=True)
class TaskSetColours:
    """Blue and green are task sets of one EXTERNAL-controller service; blue's desired count is 100%."""

    aws: Aws
    setup: AlbSetup
    journal: Journal

    def bring_up(self, green: Colour, count: int, task_definition: str) -> None:
        if self._find(green) is not None:
            self.scale(green, count)
            return
        blue = self._find(self.setup.blue)
        if blue is None:
            raise DeployError(f"blue task set {self.setup.blue.task_set} of service {self.setup.blue.service} is gone")
        balancer = {k: v for k, v in (blue.get("loadBalancers") or [{}])[0].items()
                    if k in ("containerName", "containerPort")}
        extra = {k: blue[k] for k in ("networkConfiguration", "launchType", "capacityProviderStrategy",
                                      "platformVersion") if blue.get(k)}
        self.journal.write("create_task_set", service=green.service, external_id=self.journal.deploy_id,
                           task_definition=task_definition, target_group=green.target_group,
                           percent=self._percent(count))
        made = _ecs(f"create a task set in service {green.service}", self.aws.client("ecs").create_task_set,
                    cluster=self.setup.cluster, service=green.service, taskDefinition=task_definition,
                    externalId=self.journal.deploy_id,
                    loadBalancers=[{"targetGroupArn": green.target_group, **balancer}],
                    scale={"unit": "PERCENT", "value": self._percent(count)}, **extra)
        self.journal.write("task_set_created", task_set=made["taskSet"]["taskSetArn"])

    def scale(self, colour: Colour, count: int) -> None:
        arn = self._arn(colour)
        self.journal.write("task_set_scale", service=colour.service, task_set=arn, percent=self._percent(count))
        _ecs(f"scale task set {arn} to {self._percent(count)}%", self.aws.client("ecs").update_task_set,
             cluster=self.setup.cluster, service=colour.service, taskSet=arn,
             scale={"unit": "PERCENT", "value": self._percent(count)})

    def desired(self, colour: Colour) -> int:
        found = self._find(colour)
        if found is None:
            return 0
        scale = found.get("scale") or {}
        return round(float(scale.get("value", 0)) * self.setup.blue.desired / 100)

    def retire(self, idle: Colour, serving: Colour) -> None:
        ecs = self.aws.client("ecs")
        gone = self._find(idle)
        serving_set = self._find(serving)
        if serving_set is not None and serving_set.get("status") != "PRIMARY":
            arn = serving_set["taskSetArn"]
            self.journal.write("primary_task_set", service=serving.service, task_set=arn)
            _ecs(f"make task set {arn} primary", ecs.update_service_primary_task_set,
                 cluster=self.setup.cluster, service=serving.service, primaryTaskSet=arn)
        if gone is not None:
            arn = gone["taskSetArn"]
            self.journal.write("delete_task_set", service=idle.service, task_set=arn)
            _ecs(f"delete task set {arn}", ecs.delete_task_set, cluster=self.setup.cluster, service=idle.service,
                 taskSet=arn)

    def state(self, colour: Colour) -> dict[str, object]:
        found = self._find(colour)
        return {"service": colour.service, "target_group": colour.target_group, "desired": self.desired(colour),
                "task_set": found["id"] if found else None,
                "scale": float((found.get("scale") or {}).get("value", 0)) if found else None}

    def _percent(self, count: int) -> float:
        return float(min(100, round(100 * count / max(self.setup.blue.desired, 1))))

    def _arn(self, colour: Colour) -> str:
        found = self._find(colour)
        if found is None:
            raise DeployError(f"no task set of service {colour.service} behind {colour.target_group}")
        return str(found["taskSetArn"])

    def _find(self, colour: Colour) -> dict[str, Any] | None:
        """The colour's task set: blue's by ARN, green's by externalId (the deploy id)."""
        sets = _ecs(f"read the task sets of service {colour.service}", self.aws.client("ecs").describe_task_sets,
                    cluster=self.setup.cluster, service=colour.service)["taskSets"]
        for found in sets:
            if (found["taskSetArn"] == colour.task_set if colour.task_set
                    else found.get("externalId") == self.journal.deploy_id):
                return dict(found)
        return None
