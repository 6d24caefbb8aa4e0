"""Chaos bench of the blue/green deployer: N simulated deploys, a random failure injected in each.

Run: `.venv/bin/python bench/bench_deploy_chaos.py [--deploys 200] [--seed 7]`.

In-process moto holds the blue/green setup of tests/deploy/bgstack.py (two services, two target
groups, one weighted listener, alarms, the lease table); a fake clock moves only when the deployer
sleeps. Each deploy gets one fault, drawn at random: none; green never healthy; green too slow (the
timeout); a 5xx alarm firing, a 5xx-rate spike, green losing its targets or a SIGTERM at a random
moment; an AWS error on the n-th call of RegisterTaskDefinition, UpdateService, ModifyListener,
DescribeListeners, DescribeServices, DescribeAlarms or the lease's PutItem/DeleteItem.

While the clock runs, every interval is charged to the colours by their listener weights, and a
share sent to a colour with no healthy target counts as deployment error. It is split in two:
error the deployer caused (traffic moved to a colour that had no healthy target: must be 0) and
exposure after a fault took green's targets away while it had traffic (bounded by the poll interval).
After every deploy: 100% of traffic on one colour with healthy targets, and no lease left behind.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from botocore.exceptions import ClientError
from moto import mock_aws

from auditor.aws import Aws, AwsSettings
from auditor.deploy import DeployError, DeployRequest, deploy
from auditor.deploy.signals import Interrupted
from auditor.history import open_history
from tests.deploy.bgstack import (
    ALARM_5XX,
    BLUE,
    CLUSTER,
    GREEN,
    LEASES,
    FakeClock,
    FakeMetrics,
    ServiceHealth,
    Stack,
    build,
    desired,
    push_image,
    weights,
)

AWS_FAULTS = (("ecs", "RegisterTaskDefinition"), ("ecs", "UpdateService"), ("elbv2", "ModifyListener"),
              ("elbv2", "DescribeListeners"), ("ecs", "DescribeServices"), ("cloudwatch", "DescribeAlarms"),
              ("dynamodb", "PutItem"), ("dynamodb", "DeleteItem"))
TIMED = ("alarm", "5xx", "green_unhealthy", "sigterm")
KINDS = ("none", "green_never_healthy", "green_too_slow", *TIMED, "aws_error")


@dataclass
class Fault:
    kind: str
    at: float | None = None
    call: tuple[str, str] | None = None
    nth: int = 0


@dataclass
class Ledger:
    """Request-seconds by what the traffic met."""

    total: float = 0.0
    caused: float = 0.0
    exposed: float = 0.0
    intervals: list[tuple[float, float]] = field(default_factory=list)


class ChaosHealth(ServiceHealth):
    """ServiceHealth plus a switch that takes a target group's healthy targets away from a moment on."""

    lost: set[str]

    def healthy_targets(self, target_group: str) -> tuple[int, int]:
        healthy, registered = super().healthy_targets(target_group)
        return (0, registered) if target_group in getattr(self, "lost", set()) else (healthy, registered)


def _arm_aws_fault(aws: Aws, fault: Fault) -> Any:
    """Make the fault's n-th call of its operation fail (once) with a 500; returns the unregister hook."""
    assert fault.call
    service, operation = fault.call
    client = aws.client(service)
    seen = {"n": 0}

    def hook(**_: Any) -> None:
        seen["n"] += 1
        if seen["n"] == fault.nth:
            raise ClientError({"Error": {"Code": "InternalFailure", "Message": "chaos"}}, operation)

    event = f"before-call.{client.meta.service_model.service_id.hyphenize()}.{operation}"
    client.meta.events.register(event, hook)
    return lambda: client.meta.events.unregister(event, hook)


def _draw(rng: random.Random) -> Fault:
    kind = rng.choice(KINDS)
    if kind in TIMED:
        return Fault(kind, at=rng.uniform(0, 300))
    if kind == "aws_error":
        return Fault(kind, call=rng.choice(AWS_FAULTS), nth=rng.randint(1, 4))
    return Fault(kind)


def run(deploys: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    with mock_aws():
        aws = Aws(AwsSettings(region="us-east-1", max_attempts=1))
        # the simulated world (health, ledger, checks) reads through its own clients, which faults never hit
        world = Aws(AwsSettings(region="us-east-1", max_attempts=1))
        stack = build(aws)
        push_image(aws, "v2")
        clock = FakeClock()
        health = ChaosHealth(world, stack, clock)
        health.lost = set()
        metrics = FakeMetrics(clock)
        ledger = Ledger()
        history = open_history("sqlite://")
        _charge(world, stack, health, clock, ledger)
        results: Counter[str] = Counter()
        faults: Counter[str] = Counter()
        to_rollback: list[float] = []
        broken_invariants: list[str] = []
        wall = time.perf_counter()
        for i in range(deploys):
            fault = _draw(rng)
            faults[fault.kind if fault.kind != "aws_error" else f"aws_error {fault.call[1]}"] += 1  # type: ignore[index]
            idle_tg = stack.green_tg if weights(world, stack)["blue"] == 100 else stack.blue_tg
            injected = _inject(aws, world, fault, clock, health, metrics, idle_tg)
            request = DeployRequest(cluster=CLUSTER, service=BLUE, image=stack.image("v2"),
                                    strategy=rng.choice(("canary", "linear", "all-at-once")), bake_seconds=60,
                                    timeout_seconds=600, alarms=(ALARM_5XX,), poll_seconds=10, owner="chaos")
            start = clock.now()
            try:
                outcome = deploy(request, aws=aws, history=history, clock=clock, health=health, metrics=metrics,
                                 signals=False)
                results[outcome.result] += 1
                if outcome.result == "rolled_back" and injected["at"] is not None:
                    entries = history.read_journal(outcome.deploy_id)
                    back = [e["at"] for e in entries if e["event"] == "weights" and e["green"] == 0]
                    to_rollback.append((back[-1] if back else entries[-1]["at"]) - max(injected["at"], start))
            except DeployError as refused:  # e.g. the lease's PutItem failed: nothing may have changed
                results[f"refused: {type(refused).__name__}"] += 1
            finally:
                injected["undo"]()
            broken_invariants += _check(world, stack, health, i)
        wall = time.perf_counter() - wall
    return {"deploys": deploys, "results": dict(results), "faults": dict(faults), "to_rollback": to_rollback,
            "ledger": ledger, "broken": broken_invariants, "wall": wall, "simulated": clock.now() - 1_765_000_000.0}


def _inject(aws: Aws, world: Aws, fault: Fault, clock: FakeClock, health: ChaosHealth, metrics: FakeMetrics,
            idle_tg: str) -> dict[str, Any]:
    """Arm the fault; returns its start time (None: from the deploy's start) and how to undo it."""
    cw = world.client("cloudwatch")
    undo: list[Any] = []
    at = None if fault.at is None else clock.now() + fault.at
    if fault.kind == "green_never_healthy":
        health.broken.add(idle_tg)
        undo.append(lambda: health.broken.discard(idle_tg))
    elif fault.kind == "green_too_slow":
        health.startup = 1000.0
        undo.append(lambda: setattr(health, "startup", 45.0))
    elif fault.kind == "alarm":
        clock.at(fault.at or 0, lambda: cw.set_alarm_state(AlarmName=ALARM_5XX, StateValue="ALARM", StateReason="x"))
        undo.append(lambda: cw.set_alarm_state(AlarmName=ALARM_5XX, StateValue="OK", StateReason="x"))
    elif fault.kind == "5xx":
        metrics.rate = lambda tg, now: 0.2 if tg == idle_tg and at is not None and now >= at else 0.0
        undo.append(lambda: setattr(metrics, "rate", lambda _tg, _now: 0.0))
    elif fault.kind == "green_unhealthy":
        clock.at(fault.at or 0, lambda: health.lost.add(idle_tg))
        undo.append(lambda: health.lost.discard(idle_tg))
    elif fault.kind == "sigterm":
        def interrupt() -> None:
            raise Interrupted("interrupted by SIGTERM")
        clock.at(fault.at or 0, interrupt)
    elif fault.kind == "aws_error":
        undo.append(_arm_aws_fault(aws, fault))

    def undo_all() -> None:
        clock.hooks.clear()
        for step in undo:
            step()

    return {"at": at, "undo": undo_all}


def _charge(aws: Aws, stack: Stack, health: ChaosHealth, clock: FakeClock, ledger: Ledger) -> None:
    """Charge every clock interval to the colours by weight; traffic to a colour with no healthy target is error."""
    def on_sleep(before: float, after: float) -> None:
        seconds = after - before
        w = weights(aws, stack)
        total = sum(w.values()) or 1
        ledger.total += seconds
        for colour, tg in (("blue", stack.blue_tg), ("green", stack.green_tg)):
            share = w[colour] / total
            if share and health.healthy_targets(tg)[0] == 0:
                if tg in health.lost:
                    ledger.exposed += seconds * share
                else:
                    ledger.caused += seconds * share
    clock.on_sleep = on_sleep


def _check(aws: Aws, stack: Stack, health: ChaosHealth, i: int) -> list[str]:
    broken = []
    w = weights(aws, stack)
    live = "blue" if w["blue"] == 100 else "green" if w["green"] == 100 else None
    if live is None:
        broken.append(f"deploy {i}: traffic split {w}")
    else:
        tg = stack.blue_tg if live == "blue" else stack.green_tg
        if health.healthy_targets(tg)[0] == 0:
            broken.append(f"deploy {i}: 100% on {live}, which has no healthy target")
        other = GREEN if live == "blue" else BLUE
        if desired(aws, other) != 0:
            broken.append(f"deploy {i}: idle service {other} still at {desired(aws, other)}")
    if aws.client("dynamodb").scan(TableName=LEASES).get("Items"):
        broken.append(f"deploy {i}: lease left behind")
    return broken


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deploys", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    out = run(args.deploys, args.seed)
    ledger: Ledger = out["ledger"]
    times = out["to_rollback"]
    print(f"deploys                      {out['deploys']}  ({out['wall']:.1f} s wall, "
          f"{out['simulated'] / 3600:.1f} simulated hours)")
    print("outcomes                     " + ", ".join(f"{k} {v}" for k, v in sorted(out["results"].items())))
    print("faults                       " + ", ".join(f"{k} {v}" for k, v in sorted(out["faults"].items())))
    if times:
        print(f"time to rollback             fault at a random moment -> 100% blue: median "
              f"{statistics.median(times):.0f} s, max {max(times):.0f} s over {len(times)} (simulated; poll 10 s)")
    print(f"deployment error (caused)    {100 * ledger.caused / ledger.total:.4f}% of "
          f"{ledger.total:.0f} request-seconds")
    print(f"exposure after injected loss {100 * ledger.exposed / ledger.total:.4f}% (green's targets taken away "
          "while it had traffic, until the next poll)")
    print(f"invariants broken            {len(out['broken'])}" + "".join(f"\n  {b}" for b in out["broken"][:10]))
    return 1 if out["broken"] or ledger.caused else 0


if __name__ == "__main__":
    raise SystemExit(main())
