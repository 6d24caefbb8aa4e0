"""A small blue/green setup on moto for the deployer's tests and the chaos bench.

An ALB whose HTTPS-less listener forwards 100/0 to a blue and a green `ip` target group, a blue
service (desired 2) and an idle green service (desired 0) of one task family, an ECR image, the
named alarms, and the lease table. Plus the fakes moto needs: a clock that moves only when slept,
and a health source that reports a service's tasks healthy a while after it was scaled.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from auditor.aws import Aws

CLUSTER = "shop"
BLUE, GREEN = "web-blue", "web-green"
CONTAINER = "web"
FAMILY = "web"
REPO = "web"
LEASES = "auditor-deploy-leases"
ALARM_5XX, ALARM_HOSTS = "web-target-5xx-green", "web-unhealthy-hosts-green"


@dataclass(frozen=True)
class Stack:
    region: str
    account: str
    listener: str
    load_balancer: str
    blue_tg: str
    green_tg: str
    task_definition: str
    repo_uri: str

    def image(self, tag: str) -> str:
        return f"{self.repo_uri}:{tag}"


def push_image(aws: Aws, tag: str) -> str:
    """Put an image with `tag` in the repository (once); returns its digest."""
    ecr = aws.client("ecr")
    try:
        return str(ecr.describe_images(repositoryName=REPO, imageIds=[{"imageTag": tag}])["imageDetails"][0]
                   ["imageDigest"])
    except ecr.exceptions.ImageNotFoundException:
        pass
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                           "config": {"digest": "sha256:" + hashlib.sha256(tag.encode()).hexdigest(), "size": 1,
                                      "mediaType": "application/vnd.docker.container.image.v1+json"},
                           "layers": []})
    image = ecr.put_image(repositoryName=REPO, imageManifest=manifest, imageTag=tag)["image"]
    return str(image["imageId"]["imageDigest"])


def build(aws: Aws) -> Stack:
    ec2, elb, ecs = aws.client("ec2"), aws.client("elbv2"), aws.client("ecs")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=f"{aws.default_region}{z}")
               ["Subnet"]["SubnetId"] for i, z in enumerate("ab")]
    group = ec2.create_security_group(GroupName="web", Description="web tasks", VpcId=vpc)["GroupId"]
    lb = elb.create_load_balancer(Name="web", Subnets=subnets, Type="application")["LoadBalancers"][0]
    tgs = [elb.create_target_group(Name=f"web-{c}", Protocol="HTTP", Port=3000, VpcId=vpc, TargetType="ip")
           ["TargetGroups"][0]["TargetGroupArn"] for c in ("blue", "green")]
    listener = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": tgs[0], "Weight": 100}, {"TargetGroupArn": tgs[1], "Weight": 0}]}}])["Listeners"][0]
    for n, tg in enumerate(tgs):  # the tasks' addresses (moto reports every registered target healthy)
        elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": f"10.9.{n}.{i + 10}", "Port": 3000} for i in range(2)])
    repo_uri = aws.client("ecr").create_repository(repositoryName=REPO)["repository"]["repositoryUri"]
    digest = push_image(aws, "v1")
    ecs.create_cluster(clusterName=CLUSTER)
    task = ecs.register_task_definition(
        family=FAMILY, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{"name": CONTAINER, "image": f"{repo_uri}@{digest}", "essential": True,
                               "portMappings": [{"containerPort": 3000}]}])["taskDefinition"]["taskDefinitionArn"]
    for name, tg, desired in ((BLUE, tgs[0], 2), (GREEN, tgs[1], 0)):
        ecs.create_service(cluster=CLUSTER, serviceName=name, taskDefinition=task, desiredCount=desired,
                           launchType="FARGATE", loadBalancers=[{"targetGroupArn": tg, "containerName": CONTAINER,
                                                                 "containerPort": 3000}],
                           networkConfiguration={"awsvpcConfiguration": {"subnets": subnets,
                                                                            "securityGroups": [group]}})
    cw = aws.client("cloudwatch")
    for alarm, metric in ((ALARM_5XX, "HTTPCode_Target_5XX_Count"), (ALARM_HOSTS, "UnHealthyHostCount")):
        cw.put_metric_alarm(AlarmName=alarm, Namespace="AWS/ApplicationELB", MetricName=metric, Statistic="Sum",
                            Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    aws.client("dynamodb").create_table(TableName=LEASES, BillingMode="PAY_PER_REQUEST",
                                        KeySchema=[{"AttributeName": "LeaseID", "KeyType": "HASH"}],
                                        AttributeDefinitions=[{"AttributeName": "LeaseID", "AttributeType": "S"}])
    return Stack(region=str(aws.default_region), account=aws.account_id(), listener=listener["ListenerArn"],
                 load_balancer=lb["LoadBalancerArn"], blue_tg=tgs[0], green_tg=tgs[1], task_definition=task,
                 repo_uri=repo_uri)


def weights(aws: Aws, stack: Stack) -> dict[str, int]:
    """{"blue": w, "green": w} of the listener now."""
    action = aws.client("elbv2").describe_listeners(ListenerArns=[stack.listener])["Listeners"][0]["DefaultActions"][0]
    by_arn = {t["TargetGroupArn"]: t["Weight"] for t in action["ForwardConfig"]["TargetGroups"]}
    return {"blue": by_arn[stack.blue_tg], "green": by_arn[stack.green_tg]}


def desired(aws: Aws, service: str) -> int:
    return int(aws.client("ecs").describe_services(cluster=CLUSTER, services=[service])["services"][0]["desiredCount"])


class FakeClock:
    """Starts at `start`; only `sleep` moves it (and calls `on_sleep` with the interval, for the bench)."""

    def __init__(self, start: float = 1_765_000_000.0) -> None:
        self.t = start
        self.on_sleep: Callable[[float, float], None] | None = None
        self.hooks: list[tuple[float, Callable[[], None]]] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        """Move on `seconds`, running each hook at its own moment (an exception from one ends the sleep there)."""
        end = self.t + max(seconds, 0.0)
        while True:
            due = sorted((h for h in self.hooks if h[0] <= end), key=lambda h: h[0])
            stop = max(due[0][0], self.t) if due else end
            if self.on_sleep and stop > self.t:
                self.on_sleep(self.t, stop)
            self.t = stop
            if not due:
                return
            self.hooks.remove(due[0])
            due[0][1]()

    def at(self, seconds_from_now: float, hook: Callable[[], None]) -> None:
        """Run `hook` once the clock has moved `seconds_from_now` on."""
        self.hooks.append((self.t + seconds_from_now, hook))


@dataclass
class ServiceHealth:
    """Health as ECS would make it: a service's tasks are healthy `startup` seconds after it was scaled up.

    `broken` target groups never get a healthy target. Target groups map to services as in the stack.
    """

    aws: Aws
    stack: Stack
    clock: FakeClock
    startup: float = 45.0
    broken: set[str] = field(default_factory=set)
    _since: dict[str, tuple[int, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for service in (BLUE, GREEN):  # what runs now has been running long
            self._since[service] = (desired(self.aws, service), self.clock.now() - self.startup)

    def healthy_targets(self, target_group: str) -> tuple[int, int]:
        service = BLUE if target_group == self.stack.blue_tg else GREEN
        want = desired(self.aws, service)
        count, since = self._since[service]
        if want != count:
            count, since = want, self.clock.now()
            self._since[service] = (count, since)
        if target_group in self.broken:
            return 0, want
        return (want if self.clock.now() - since >= self.startup else 0), want


@dataclass
class FakeMetrics:
    """5xx and request counts per target group as `rate(target_group, now)` says (default: none)."""

    clock: FakeClock
    rate: Callable[[str, float], float] = lambda _tg, _now: 0.0

    def target_5xx(self, target_group: str, load_balancer: str, start: float, end: float) -> tuple[float, float]:
        requests = max(end - start, 1.0) * 10
        return requests * self.rate(target_group, end), requests


def fake_seams(aws: Aws, stack: Stack, clock: FakeClock | None = None, startup: float = 45.0) -> dict[str, Any]:
    clock = clock or FakeClock()
    return {"clock": clock, "health": ServiceHealth(aws, stack, clock, startup), "metrics": FakeMetrics(clock),
            "signals": False}


# --- an EXTERNAL-controller service whose colours are task sets (tests/deploy/test_task_sets.py) -------

TS_SERVICE = "web-ts"


def task_sets(aws: Aws) -> list[dict[str, Any]]:
    return list(aws.client("ecs").describe_task_sets(cluster=CLUSTER, service=TS_SERVICE)["taskSets"])


def _ts_task_definition(aws: Aws, stack: Stack) -> str:
    """The stack's task definition as family web-ts, for moto: bridge network mode, container memory."""
    ecs = aws.client("ecs")
    found = ecs.describe_task_definition(taskDefinition=stack.task_definition)["taskDefinition"]
    return str(ecs.register_task_definition(
        family=TS_SERVICE, networkMode="bridge", cpu="256", memory="512",
        containerDefinitions=[{**c, "memory": 512} for c in found["containerDefinitions"]])
        ["taskDefinition"]["taskDefinitionArn"])


def add_task_set(aws: Aws, stack: Stack, target_group: str | None = None) -> str:
    """A task set of the EXTERNAL-controller service at 100% behind `target_group` (blue's by default)."""
    made = aws.client("ecs").create_task_set(cluster=CLUSTER, service=TS_SERVICE,
                               taskDefinition=_ts_task_definition(aws, stack), launchType="FARGATE",
                               scale={"unit": "PERCENT", "value": 100.0},
                               loadBalancers=[{"targetGroupArn": target_group or stack.blue_tg,
                                               "containerName": CONTAINER, "containerPort": 3000}])
    return str(made["taskSet"]["taskSetArn"])


@dataclass
class TaskSetHealth:
    """A target group's targets: its task sets' share of the service's 2 tasks, healthy `startup` s after
    that share last changed; `broken` target groups never get a healthy target."""

    aws: Aws
    stack: Stack
    clock: FakeClock
    startup: float = 45.0
    broken: set[str] = field(default_factory=set)
    _since: dict[str, tuple[int, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for target_group in (self.stack.blue_tg, self.stack.green_tg):  # what runs now has been running long
            self._since[target_group] = (self._want(target_group), self.clock.now() - self.startup)

    def _want(self, target_group: str) -> int:
        return sum(round(float(s["scale"]["value"]) * 2 / 100) for s in task_sets(self.aws)
                   if any(lb["targetGroupArn"] == target_group for lb in s.get("loadBalancers") or []))

    def healthy_targets(self, target_group: str) -> tuple[int, int]:
        want = self._want(target_group)
        count, since = self._since[target_group]
        if want != count:
            count, since = want, self.clock.now()
        self._since[target_group] = (count, since)
        if target_group in self.broken:
            return 0, want
        return (want if self.clock.now() - since >= self.startup else 0), want


def task_set_seams(aws: Aws, stack: Stack) -> dict[str, Any]:
    clock = FakeClock()
    return {"clock": clock, "health": TaskSetHealth(aws, stack, clock), "metrics": FakeMetrics(clock), "signals": False}
