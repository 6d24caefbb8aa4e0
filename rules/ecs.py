"""ECS-01..07: container definitions, task roles, service spread and deployment safety, cluster insights.

ECS-01..03 judge every container of a task definition (`container_definitions`, parsed from state and
live, or the structure of a partially known `jsonencode(...)` in code); one container failing fails
the task definition, one unknown makes it UNKNOWN. Live task definitions are described only for the
families a state holds; the others are UNKNOWN, never a pass. The ECS field is `privileged`: a
`privilege` key (which one peer's check reads) is not an ECS field and makes nothing privileged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from auditor.code.values import Ref
from auditor.models import Origin, Resource, Unresolved
from auditor.rules.containers import judge_containers
from auditor.rules.engine import rule
from auditor.rules.joins import ARN_KEYS, designated, name_of, resource_at, subnet_values, subnet_zones, zone_spread
from auditor.rules.links import address_type, memo, same_address
from auditor.rules.model import Peers, RuleContext, Verdict
from auditor.rules.read import as_bool, blocks, get, has, show, value_or_default
from auditor.rules.verdicts import all_of, failed, judge, not_applicable, passed, unknown, unobserved, unresolved

TASK_DEFINITION = "aws_ecs_task_definition"
SERVICE = "aws_ecs_service"
CLUSTER = "aws_ecs_cluster"
TARGET_GROUP = "aws_lb_target_group"
FORWARDERS = (("aws_lb_listener", "default_action"), ("aws_lb_listener_rule", "action"))
INSIGHTS = ("enabled", "enhanced")

# --- container definitions (ECS-01..03) ----------------------------------------------------------


def _awslogs(container: Mapping[str, Any]) -> Verdict:
    config = container.get("logConfiguration")
    if isinstance(config, Unresolved):
        return unresolved("logConfiguration", config)
    if not isinstance(config, Mapping) or not config:
        return failed("has no logConfiguration: its output is lost")
    driver = config.get("logDriver")
    if isinstance(driver, Unresolved):
        return unresolved("logConfiguration.logDriver", driver)
    if driver != "awslogs":
        return failed(f"logs with the {driver!r} driver, not awslogs", driver)
    options = config.get("options")
    if isinstance(options, Unresolved):
        return unresolved("the awslogs options", options)
    group = options.get("awslogs-group") if isinstance(options, Mapping) else None
    if group is None or group == "":
        return failed("uses awslogs without the awslogs-group option")
    return passed(f"logs to CloudWatch Logs group {show(group)}", show(group))


@rule(
    id="ECS-01", title="Every container uses awslogs", severity="high", resource_types=(TASK_DEFINITION,),
    rationale="""
Fargate keeps no container output: a container without a log configuration loses every line it
writes, crash traces included. The awslogs driver sends it to a CloudWatch Logs group (which CW-05
gives a retention); each container needs `logDriver = "awslogs"` and an `awslogs-group` option.""",
    remediation="Give every container `logConfiguration = { logDriver = \"awslogs\", options = { "
                "\"awslogs-group\" = aws_cloudwatch_log_group.app.name, \"awslogs-region\" = var.region, "
                "\"awslogs-stream-prefix\" = \"app\" } }`.",
    terraform="""
variable "image_digest" {
  type = string
}

resource "aws_ecs_task_definition" "app" {
  family                = "example"
  container_definitions = jsonencode([{
    name  = "app"
    image = "${aws_ecr_repository.app.repository_url}@${var.image_digest}"
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        "awslogs-group"         = aws_cloudwatch_log_group.app.name
        "awslogs-region"        = "eu-west-1"
        "awslogs-stream-prefix" = "app"
      }
    }
  }])
}
""",
    peers=Peers(securityhub=("ECS.9",), aws_config=("ecs-task-definition-log-configuration",),
                prowler=("ecs_task_definitions_logging_enabled",)),
)
def containers_log_to_cloudwatch(res: Resource, ctx: RuleContext) -> Verdict:
    return judge_containers(res, _awslogs)


def _not_privileged(container: Mapping[str, Any]) -> Verdict:
    privileged = as_bool(container.get("privileged"))
    if isinstance(privileged, Unresolved):
        return unresolved("privileged", privileged)
    if privileged is True:
        return failed("runs privileged (privileged = true): root on the host", True)
    if "privilege" in container and "privileged" not in container:
        return passed("is not privileged (`privilege` is not an ECS field; `privileged` is not set)", False)
    return passed("is not privileged", bool(privileged))


@rule(
    id="ECS-02", title="No privileged containers", severity="high", resource_types=(TASK_DEFINITION,),
    rationale="""
A privileged container has every Linux capability and the host's devices: escaping it gives root
on the host. The ECS field is `privileged`; checkov's CKV_AWS_334 reads a `privilege` key instead,
so it passes a truly privileged container and fails one carrying the meaningless `privilege`.""",
    remediation="Remove `privileged = true` (grant only the Linux capabilities the container needs through "
                "`linuxParameters.capabilities.add`). Fargate rejects privileged containers.",
    terraform="""
variable "image_digest" {
  type = string
}

resource "aws_ecs_task_definition" "app" {
  family                = "example"
  container_definitions = jsonencode([{
    name       = "app"
    image      = "${aws_ecr_repository.app.repository_url}@${var.image_digest}"
    privileged = false
  }])
}
""",
    peers=Peers(checkov=("CKV_AWS_334",), securityhub=("ECS.4",), aws_config=("ecs-containers-nonprivileged",),
                prowler=("ecs_task_definitions_no_privileged_containers",)),
)
def no_privileged_containers(res: Resource, ctx: RuleContext) -> Verdict:
    return judge_containers(res, _not_privileged)


def _read_only_root(container: Mapping[str, Any]) -> Verdict:
    value = as_bool(container.get("readonlyRootFilesystem"))
    return judge(value, "readonlyRootFilesystem", lambda v: v is True, "true",
                 absent=failed("readonlyRootFilesystem is not set (default false): the root filesystem is writable"))


@rule(
    id="ECS-03", title="Read-only root filesystem", severity="medium", resource_types=(TASK_DEFINITION,),
    rationale="""
With a writable root filesystem an attacker who gets code execution can drop tools and change the
application's files; a read-only root keeps the image as built. Paths that must be written (a /tmp)
get a task volume.""",
    remediation="Set `readonlyRootFilesystem = true` in every container definition and mount a task volume "
                "where the application writes.",
    terraform="""
variable "image_digest" {
  type = string
}

resource "aws_ecs_task_definition" "app" {
  family = "example"
  volume {
    name = "tmp"
  }
  container_definitions = jsonencode([{
    name                   = "app"
    image                  = "${aws_ecr_repository.app.repository_url}@${var.image_digest}"
    readonlyRootFilesystem = true
    mountPoints            = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
  }])
}
""",
    peers=Peers(checkov=("CKV_AWS_336",), securityhub=("ECS.5",), aws_config=("ecs-containers-readonly-access",),
                prowler=("ecs_task_definitions_containers_readonly_access",)),
)
def read_only_root_filesystem(res: Resource, ctx: RuleContext) -> Verdict:
    return judge_containers(res, _read_only_root)


# --- task roles (ECS-04) -------------------------------------------------------------------------


def _role_name(ctx: RuleContext, value: Any) -> str | None:
    """The role name a role ARN, or a reference to a role of this source with a literal name, stands for."""
    if isinstance(value, str) and ":role/" in value:
        return value.rsplit("/", 1)[-1]
    if isinstance(value, Ref):
        role = resource_at(ctx, value.address)
        name = get(role, "name") if role is not None else None
        return name if isinstance(name, str) and name else None
    return None


def _managed_role(value: Any) -> bool:
    if not isinstance(value, Ref):
        return False
    kind = address_type(value.address)
    return kind == ("managed", "aws_iam_role")


def _roles_differ(ctx: RuleContext, execution: Any, task: Any) -> bool | None:
    """Whether the two role values are different roles; None when that cannot be told."""
    if isinstance(execution, Ref) and isinstance(task, Ref) and same_address(execution.address, task.address):
        return False
    if _managed_role(execution) and _managed_role(task):
        return True  # two aws_iam_role resources are two roles
    if isinstance(execution, str) and isinstance(task, str):
        return execution != task
    if isinstance(execution, Unresolved) and execution == task:
        return False
    names = (_role_name(ctx, execution), _role_name(ctx, task))
    if names[0] is not None and names[1] is not None:
        return names[0] != names[1]
    return None


@rule(
    id="ECS-04", title="Execution role is set and differs from the task role", severity="high",
    resource_types=(TASK_DEFINITION,),
    rationale="""
The execution role is what the ECS agent uses to pull the image and write logs; the task role is
what the application's code gets. One role for both hands the application the agent's rights (ECR
pulls, log writes, secrets it injects) and the agent the application's. The execution role must be
set (image pulls from ECR and awslogs need it) and be another role than the task role.""",
    remediation="Create a dedicated execution role with AmazonECSTaskExecutionRolePolicy and a separate task "
                "role with only what the application needs; set `execution_role_arn` and `task_role_arn` to them.",
    terraform="""
variable "image_digest" {
  type = string
}

resource "aws_ecs_task_definition" "app" {
  family                = "example"
  execution_role_arn    = aws_iam_role.ecs_execution.arn
  task_role_arn         = aws_iam_role.ecs_task.arn
  container_definitions = jsonencode([{
    name  = "app"
    image = "${aws_ecr_repository.app.repository_url}@${var.image_digest}"
  }])
}
""",
    peers=Peers(checkov=("CKV_AWS_249",)),
)
def separate_execution_role(res: Resource, ctx: RuleContext) -> Verdict:
    if res.attributes.get("_unmanaged_only"):
        return unobserved("the roles of this task definition (live, described only for families a state holds)")
    execution, task = get(res, "execution_role_arn"), get(res, "task_role_arn")
    if execution is None or execution == "":
        return failed("execution_role_arn is not set: the agent cannot pull from ECR or write awslogs with "
                      "a role of its own")
    if task is None or task == "":
        return passed(f"execution role {show(execution)}; no task role (the application gets no AWS "
                      "credentials)", show(execution))
    differ = _roles_differ(ctx, execution, task)
    if differ is None:
        return unknown(f"cannot tell whether execution role {show(execution)} and task role {show(task)} are "
                       "the same role")
    if not differ:
        return failed(f"the execution role and the task role are the same role ({show(execution)})", show(task))
    return passed(f"execution role {show(execution)} differs from task role {show(task)}", show(execution))


# --- services (ECS-05, ECS-06) -------------------------------------------------------------------


def _replica(res: Resource) -> Verdict | None:
    strategy = value_or_default(res, "scheduling_strategy", "REPLICA")
    if isinstance(strategy, Unresolved):
        return unresolved("scheduling_strategy", strategy)
    if strategy == "DAEMON":
        return not_applicable("a DAEMON service runs one task per container instance")
    return None


@dataclass(frozen=True, slots=True)
class _Forward:
    """A weighted forward action of a listener or listener rule: each target group with its weight."""

    where: Resource
    groups: tuple[tuple[Resource, int], ...]


def _weighted_forwards(ctx: RuleContext) -> tuple[_Forward, ...]:
    """The forward actions of this source whose every target group and weight is known (others are no evidence)."""
    def build() -> tuple[_Forward, ...]:
        found: list[_Forward] = []
        for tf_type, path in FORWARDERS:
            for where in ctx.of_type(tf_type):
                actions = blocks(where, path)
                for action in [] if isinstance(actions, Unresolved) else actions:
                    forwards = blocks(action, "forward")
                    for forward in [] if isinstance(forwards, Unresolved) else forwards:
                        groups = _weighted_groups(ctx, forward)
                        if groups:
                            found.append(_Forward(where, groups))
        return tuple(found)

    forwards: tuple[_Forward, ...] = memo(ctx, "ecs.weighted_forwards", build)
    return forwards


def _weighted_groups(ctx: RuleContext, forward: Mapping[str, Any]) -> tuple[tuple[Resource, int], ...]:
    entries = blocks(forward, "target_group")
    if isinstance(entries, Unresolved):
        return ()
    groups: list[tuple[Resource, int]] = []
    for entry in entries:
        group = designated(ctx, entry.get("arn"), (TARGET_GROUP,), ARN_KEYS)
        weight = entry.get("weight", 1)  # the provider's default weight
        if not isinstance(group, Resource) or not isinstance(weight, int):
            return ()
        groups.append((group, weight))
    return tuple(groups)


def _service_group(ctx: RuleContext, service: Resource) -> Resource | None:
    """The one target group a service registers with, when it can be told."""
    entries = blocks(service, "load_balancer")
    if isinstance(entries, Unresolved) or len(entries) != 1:
        return None
    group = designated(ctx, entries[0].get("target_group_arn"), (TARGET_GROUP,), ARN_KEYS)
    return group if isinstance(group, Resource) else None


def idle_colour(ctx: RuleContext, service: Resource) -> str | None:
    """Why `service` is the idle colour of a blue/green pair, or None when the evidence does not show it.

    It is when the one forward action that reaches its target group gives that group weight 0 and
    sends the traffic to another target group with which another service of this source registers.
    """
    own = _service_group(ctx, service)
    if own is None:
        return None
    reaching = [f for f in _weighted_forwards(ctx) if any(g is own for g, _ in f.groups)]
    if len(reaching) != 1 or any(w != 0 for g, w in reaching[0].groups if g is own):
        return None
    forward = reaching[0]
    serving = [g for g, w in forward.groups if w > 0 and g is not own]
    for peer in ctx.of_type(SERVICE):
        group = _service_group(ctx, peer) if peer is not service else None
        if group is not None and any(group is g for g in serving):
            return (f"it is the idle colour ({name_of(own)} has weight 0 in {name_of(forward.where)}, whose "
                    f"traffic {name_of(peer)} serves through {name_of(group)})")
    return None


@rule(
    id="ECS-05", title="desired_count ≥ 2 across ≥2 AZs", severity="medium", resource_types=(SERVICE,),
    rationale="""
One task is one point of failure: a deployment, a host failure or a zone outage takes the service
down. The service needs at least `min_desired_count` tasks (default 2) and subnets in at least
`min_azs` availability zones (default 2), so ECS can spread the tasks over zones. The zones are
those of `network_configuration.subnets`, resolved to the `aws_subnet` resources. The idle colour of
a blue/green pair is not held to the count (it runs nothing between releases by design) when the
evidence shows it: the one forward action reaching its target group gives it weight 0 and sends the
traffic to a target group another service registers with; the serving colour is judged as usual.""",
    remediation="Set `desired_count = 2` (or more) and give `network_configuration.subnets` one private subnet "
                "per availability zone.",
    terraform="""
resource "aws_subnet" "private" {
  for_each = { a = "10.0.10.0/24", b = "10.0.11.0/24" }

  vpc_id            = aws_vpc.main.id
  cidr_block        = each.value
  availability_zone = "eu-west-1${each.key}"
}

resource "aws_ecs_service" "app" {
  name            = "example"
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.app.arn
  desired_count   = 2
  launch_type     = "FARGATE"

  network_configuration {
    subnets          = [for subnet in aws_subnet.private : subnet.id]
    assign_public_ip = false
  }
}
""",
    peers=Peers(),
)
def service_spread(res: Resource, ctx: RuleContext) -> Verdict:
    skip = _replica(res)
    if skip is not None:
        return skip
    minimum = ctx.settings.min_desired_count
    count = value_or_default(res, "desired_count", 0)
    idle = idle_colour(ctx, res)
    if idle is not None:
        count_verdict = passed(f"desired_count {show(count)} is not required to reach {minimum}: {idle}", count)
    elif count is None:
        count_verdict = unobserved("desired_count")
    else:
        count_verdict = judge(count, "desired_count", lambda c: isinstance(c, int) and c >= minimum,
                              f"at least {minimum}")
    subnets = subnet_values(res, "network_configuration.subnets")
    if isinstance(subnets, Unresolved):
        spread = unresolved("network_configuration.subnets", subnets)
    elif not subnets:
        spread = unknown("no awsvpc subnets: how tasks spread over zones depends on the cluster's container "
                         "instances and placement strategy")
    else:
        spread = zone_spread(subnet_zones(ctx, subnets), ctx.settings.min_azs, "the service")
    return all_of([count_verdict, spread])


@rule(
    id="ECS-06", title="Deployment circuit breaker with rollback", severity="medium", resource_types=(SERVICE,),
    rationale="""
Without the circuit breaker a release whose tasks never become healthy keeps ECS replacing them
forever while the old ones drain; with `rollback = true` ECS returns to the last working revision by
itself. It applies to the ECS deployment controller (CODE_DEPLOY and EXTERNAL deployments roll back
by their own means).""",
    remediation="Add `deployment_circuit_breaker { enable = true, rollback = true }` to the service.",
    terraform="""
resource "aws_ecs_service" "app" {
  name            = "example"
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.app.arn
  desired_count   = 2

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
}
""",
    peers=Peers(),
)
def circuit_breaker(res: Resource, ctx: RuleContext) -> Verdict:
    controller = get(res, "deployment_controller.0.type")
    if isinstance(controller, Unresolved):
        return unresolved("deployment_controller.type", controller)
    if controller not in (None, "", "ECS"):
        return not_applicable(f"the {controller} deployment controller has no ECS circuit breaker")
    if res.origin is not Origin.CODE and not has(res, "deployment_circuit_breaker"):
        return unobserved("deployment_circuit_breaker (DescribeServices reported no deploymentConfiguration)")
    found = blocks(res, "deployment_circuit_breaker")
    if isinstance(found, Unresolved):
        return unresolved("deployment_circuit_breaker", found)
    if not found:
        return failed("no deployment_circuit_breaker: a failing release is never stopped or rolled back")
    return all_of(judge(as_bool(found[0].get(name)), f"deployment_circuit_breaker.{name}", lambda v: v is True,
                        "true", absent=failed(f"deployment_circuit_breaker.{name} is not set (default false)"))
                  for name in ("enable", "rollback"))


# --- clusters (ECS-07) ---------------------------------------------------------------------------


def _insights(value: Any, where: str) -> Verdict:
    return judge(value, f"containerInsights ({where})", lambda v: v in INSIGHTS, " or ".join(INSIGHTS))


@rule(
    id="ECS-07", title="Container Insights is on", severity="low", resource_types=(CLUSTER,),
    rationale="""
Container Insights collects per-task CPU, memory, network and restart metrics; without it a task
that is throttled or killed for memory leaves no trace but the ALB's errors. A cluster without its
own `containerInsights` setting takes the account default (`aws_ecs_account_setting_default`).""",
    remediation="Add `setting { name = \"containerInsights\", value = \"enabled\" }` (or \"enhanced\") to the "
                "cluster.",
    terraform="""
resource "aws_ecs_cluster" "main" {
  name = "example"

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}
""",
    peers=Peers(checkov=("CKV_AWS_65",), trivy=("AVD-AWS-0034",), securityhub=("ECS.12",),
                aws_config=("ecs-container-insights-enabled",), prowler=("ecs_cluster_container_insights_enabled",)),
)
def container_insights(res: Resource, ctx: RuleContext) -> Verdict:
    settings = blocks(res, "setting")
    if isinstance(settings, Unresolved):
        return unresolved("setting", settings)
    for setting in settings:
        name = setting.get("name")
        if isinstance(name, Unresolved):
            return unresolved("a setting name", name)
        if name == "containerInsights":
            return _insights(setting.get("value"), "cluster setting")
    if res.origin is Origin.LIVE:
        return unobserved("the containerInsights setting (DescribeClusters SETTINGS did not report it)")
    defaults = [d for d in ctx.of_type("aws_ecs_account_setting_default") if get(d, "name") == "containerInsights"]
    if defaults:
        return _insights(get(defaults[0], "value"), f"account default {name_of(defaults[0])}")
    return failed("no containerInsights setting: Container Insights is off unless the account default turns it on")
