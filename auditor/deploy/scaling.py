"""Application Auto Scaling around an ALB-weights deploy, so that scaling never fights the deployer.

A colour whose ECS service has a scalable target (ecs:service:DesiredCount) would otherwise be
resized under the deployer: the idle colour scaled back up to its minimum, or green's count changed
while its health is being awaited. So, before green is brought up, dynamic and scheduled scaling are
suspended on every colour that has a target (`hold`); once traffic is 100% on one colour, scaling is
resumed on that colour and stays suspended on the idle one (`settle`), which then runs nothing until
a deploy makes it serve again. A rollback settles scaling only if the deploy had suspended it (an
operator's own suspension is left alone otherwise). Minimum and maximum capacity are left as they
are. Each change is journalled (`scaling` entries) before it is made, with the target's suspended
state before it; `--rollback` of a dead deploy finds from them that scaling was held.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auditor.aws import Aws, describe_error
from auditor.deploy.journal import Journal
from auditor.deploy.model import AWS_ERRORS, Colour, DeployError

SERVICE = "application-autoscaling"
DIMENSION = "ecs:service:DesiredCount"
FLAGS = ("DynamicScalingInSuspended", "DynamicScalingOutSuspended", "ScheduledScalingSuspended")


@dataclass(frozen=True, slots=True)
class ScalableTarget:
    """A service's scalable target as AWS describes it."""

    service: str
    resource_id: str
    min_capacity: int
    max_capacity: int
    suspended: tuple[bool, bool, bool]  # in the order of FLAGS


@dataclass(frozen=True, slots=True)
class Scaling:
    """The scalable targets of one setup's two colours (in `cluster`), read and changed through `aws`."""

    aws: Aws
    cluster: str
    journal: Journal

    def targets(self, *colours: Colour) -> dict[str, ScalableTarget]:
        """The colours' scalable targets, by service name (a colour without one is absent)."""
        ids = {f"service/{self.cluster}/{c.service}": c.service for c in colours}
        try:
            found = self.aws.client(SERVICE).describe_scalable_targets(
                ServiceNamespace="ecs", ResourceIds=sorted(ids), ScalableDimension=DIMENSION)["ScalableTargets"]
        except AWS_ERRORS as exc:
            raise DeployError(f"cannot read the scalable targets of {', '.join(sorted(ids.values()))}: "
                              f"{describe_error(exc)}") from None
        return {ids[t["ResourceId"]]: _target(ids[t["ResourceId"]], t) for t in found if t["ResourceId"] in ids}

    def hold(self, blue: Colour, green: Colour) -> None:
        """Suspend scaling on both colours for the deploy's duration."""
        for target in self.targets(blue, green).values():
            self._set(target, suspended=True, why="the deployer sets the desired counts while it moves traffic")

    def settle(self, serving: Colour, idle: Colour) -> None:
        """Scaling resumed on the colour serving 100%, suspended on the idle one (which runs nothing)."""
        found = self.targets(serving, idle)
        if serving.service in found:
            self._set(found[serving.service], suspended=False, why="it serves all traffic")
        if idle.service in found:
            self._set(found[idle.service], suspended=True,
                      why="it is the idle colour: scaling would bring it back to its minimum")

    def _set(self, target: ScalableTarget, *, suspended: bool, why: str) -> None:
        if target.suspended == (suspended,) * len(FLAGS):
            return
        self.journal.write("scaling", service=target.service, resource_id=target.resource_id,
                           action="suspend" if suspended else "resume", why=why,
                           before=dict(zip(FLAGS, target.suspended, strict=True)),
                           min_capacity=target.min_capacity, max_capacity=target.max_capacity)
        try:
            self.aws.client(SERVICE).register_scalable_target(
                ServiceNamespace="ecs", ResourceId=target.resource_id, ScalableDimension=DIMENSION,
                SuspendedState={flag: suspended for flag in FLAGS})
        except AWS_ERRORS as exc:
            raise DeployError(f"cannot {'suspend' if suspended else 'resume'} the scaling of {target.service}: "
                              f"{describe_error(exc)}") from None


def _target(service: str, found: dict[str, Any]) -> ScalableTarget:
    state = found.get("SuspendedState") or {}
    return ScalableTarget(service=service, resource_id=found["ResourceId"],
                          min_capacity=int(found.get("MinCapacity", 0)), max_capacity=int(found.get("MaxCapacity", 0)),
                          suspended=(bool(state.get(FLAGS[0])), bool(state.get(FLAGS[1])), bool(state.get(FLAGS[2]))))
