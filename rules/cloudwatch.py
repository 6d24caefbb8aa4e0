"""CW-01..05: alarms on the load balancer's 5xx responses and unhealthy targets, alarm actions, log retention.

CW-01 judges each application load balancer, CW-02/03 each target group an application load balancer
sends traffic to (through a listener or listener rule, the group's `load_balancer_arns`, or an ECS
service registering into it): each needs an `aws_cloudwatch_metric_alarm` on the AWS/ApplicationELB
metric whose dimensions name it by ARN suffix (`aws_lb.x.arn_suffix`, `app/<name>/<id>`), as a
single metric or inside `metric_query`. Target-group metrics exist only per (TargetGroup,
LoadBalancer) pair, so those alarms need both dimensions; an alarm with other or extra dimensions
(an AvailabilityZone) watches another metric and does not count.
"""

from __future__ import annotations

from collections.abc import Mapping

from auditor.code.values import Ref
from auditor.models import Resource, Unresolved
from auditor.rules.engine import rule
from auditor.rules.joins import (
    ALB_NAMESPACE,
    APPLICATION,
    LB_TYPES,
    arn_suffix,
    candidate_watches,
    load_balancer_type,
    name_of,
    target_group_load_balancers,
    watches,
)
from auditor.rules.links import same_address
from auditor.rules.model import Peers, RuleContext, Verdict
from auditor.rules.read import as_bool, get, show, value_or_default
from auditor.rules.verdicts import all_of, failed, judge, not_applicable, passed, unknown, unresolved

ALARM = "aws_cloudwatch_metric_alarm"
LOG_GROUP = "aws_cloudwatch_log_group"
LB = "aws_lb"
TARGET_GROUP = "aws_lb_target_group"
NON_ALB_PROTOCOLS = ("TCP", "TLS", "UDP", "TCP_UDP", "GENEVE")
ALARM_PEERS = Peers(aws_config=("cloudwatch-alarm-settings-check",))

Wanted = Mapping[str, Resource | str | None]


def _same_region(alarm: Resource, target: Resource) -> bool:
    return alarm.region is None or target.region is None or alarm.region == target.region


def _mentions(found: object, target: Resource) -> bool:
    """Whether alarm dimensions name the judged resource at all (by reference or ARN suffix)."""
    if not isinstance(found, Mapping):
        return False
    return any((isinstance(v, Ref) and same_address(v.address, target.address))
               or (isinstance(v, str) and v == arn_suffix(target)) for v in found.values())


def _dimensions(found: object) -> str:
    if not isinstance(found, Mapping):
        return show(found)
    return "{" + ", ".join(f"{k} = {show(v)}" for k, v in found.items()) + "}"


def _alarm_on(ctx: RuleContext, target: Resource, metric_name: str, dimensions: Wanted, what: str) -> Verdict:
    """PASS when an alarm watches `metric_name` with exactly `dimensions`; UNKNOWN when one may."""
    hits: list[str] = []
    maybe: list[str] = []
    near: list[str] = []
    for watch in candidate_watches(ctx, target, metric_name):
        alarm, metric = watch.alarm, watch.metric
        if not _same_region(alarm, target):
            continue
        if isinstance(metric, Unresolved):
            maybe.append(f"{name_of(alarm)} ({metric.reason})")
            continue
        relation = watches(ctx, metric, metric_name, dimensions)
        if relation is True:
            hits.append(name_of(alarm))
        elif relation is None:
            maybe.append(name_of(alarm))
        elif metric.namespace == ALB_NAMESPACE and metric.name == metric_name and _mentions(metric.dimensions, target):
            near.append(f"{name_of(alarm)} (dimensions {_dimensions(metric.dimensions)})")
    if hits:
        return passed(f"{metric_name} of {what} is watched by {', '.join(dict.fromkeys(hits))}", hits)
    if maybe:
        return unknown(f"no alarm is known to watch {metric_name} of {what}; these may: "
                       f"{'; '.join(dict.fromkeys(maybe))}")
    hint = f"; {', '.join(near)} name it but watch another metric stream" if near else ""
    return failed(f"no alarm watches {metric_name} of {what} (namespace {ALB_NAMESPACE}, dimensions "
                  f"{', '.join(dimensions)}){hint}")


@rule(
    id="CW-01", title="Each ALB has an HTTPCode_ELB_5XX_Count alarm", severity="high", resource_types=(LB,),
    rationale="""
HTTPCode_ELB_5XX_Count counts the errors the load balancer answers itself: no healthy target, a
target that timed out or reset the connection. The targets' own metrics never see them, so without
this alarm an outage in front of the service goes unnoticed. The alarm must name the load balancer
by its ARN suffix (`aws_lb.x.arn_suffix`); its `arn` or `name` names no metric.""",
    remediation="Add an aws_cloudwatch_metric_alarm on AWS/ApplicationELB HTTPCode_ELB_5XX_Count with "
                "`dimensions = { LoadBalancer = aws_lb.main.arn_suffix }` and an alarm action.",
    terraform="""
resource "aws_lb" "main" {
  name    = "example"
  subnets = [aws_subnet.public_a.id, aws_subnet.public_b.id]
}

resource "aws_cloudwatch_metric_alarm" "elb_5xx" {
  alarm_name          = "example-elb-5xx"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_ELB_5XX_Count"
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 5
  threshold           = 10
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]

  dimensions = {
    LoadBalancer = aws_lb.main.arn_suffix
  }
}
""",
    peers=ALARM_PEERS,
)
def elb_5xx_alarm(res: Resource, ctx: RuleContext) -> Verdict:
    kind = load_balancer_type(res)
    if isinstance(kind, Unresolved):
        return unresolved("load_balancer_type", kind)
    if kind != APPLICATION:
        if kind not in LB_TYPES:
            return unknown(f"load_balancer_type {kind!r} is not one of {', '.join(LB_TYPES)}", kind)
        return not_applicable(f"a {kind} load balancer has no HTTPCode_ELB_5XX_Count metric")
    return _alarm_on(ctx, res, "HTTPCode_ELB_5XX_Count", {"LoadBalancer": res}, "this load balancer")


def _target_group_alarm(res: Resource, ctx: RuleContext, metric_name: str) -> Verdict:
    """An alarm on `metric_name` for every (this target group, application load balancer) pair."""
    protocol = get(res, "protocol")
    if isinstance(protocol, Unresolved):
        return unresolved("protocol", protocol)
    if isinstance(protocol, str) and protocol.upper() in NON_ALB_PROTOCOLS:
        return not_applicable(f"a {protocol} target group serves a network or gateway load balancer")
    served = target_group_load_balancers(ctx, res)
    albs: list[Resource | str] = []
    verdicts: list[Verdict] = []
    for lb in served.load_balancers:
        if isinstance(lb, str):
            if ":loadbalancer/app/" in lb:
                albs.append(lb)
            continue
        kind = load_balancer_type(lb)
        if isinstance(kind, Unresolved):
            verdicts.append(unresolved(f"the type of {name_of(lb)}", kind))
        elif kind == APPLICATION:
            albs.append(lb)
    for lb in albs:
        what = f"this target group behind {lb if isinstance(lb, str) else name_of(lb)}"
        verdicts.append(_alarm_on(ctx, res, metric_name, {"TargetGroup": res, "LoadBalancer": lb}, what))
    if served.unknown_lb and not albs:
        what = f"this target group (used by {', '.join(served.unknown_lb)})"
        verdicts.append(_alarm_on(ctx, res, metric_name, {"TargetGroup": res, "LoadBalancer": None}, what))
    if verdicts:
        return all_of(verdicts)
    if served.undecided:
        return unknown(f"it may serve an application load balancer through {', '.join(served.undecided)}")
    return not_applicable("no application load balancer sends traffic to it (no listener, listener rule or ECS "
                          "service uses it)")


_SERVED_TARGET_GROUP = """
resource "aws_lb_target_group" "app" {
  name        = "example"
  vpc_id      = aws_vpc.main.id
  target_type = "ip"
  port        = 3000
  protocol    = "HTTP"
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.main.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = aws_acm_certificate_validation.main.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app.arn
  }
}

"""
"""A target group behind an HTTPS listener: what the CW-02 and CW-03 snippets alarm on."""

@rule(
    id="CW-02", title="Each target group has an HTTPCode_Target_5XX_Count alarm", severity="high",
    resource_types=(TARGET_GROUP,),
    rationale="""
HTTPCode_Target_5XX_Count counts the server errors the application itself returns. In a blue/green
setup both target groups take production traffic in turn, so each needs its alarm (the deployer
gates traffic shifts on them). CloudWatch publishes the metric per TargetGroup and LoadBalancer
pair, so the alarm must carry both dimensions, by ARN suffix.""",
    remediation="Add an alarm on AWS/ApplicationELB HTTPCode_Target_5XX_Count with `dimensions = { LoadBalancer = "
                "aws_lb.main.arn_suffix, TargetGroup = aws_lb_target_group.x.arn_suffix }` for each target group.",
    terraform=_SERVED_TARGET_GROUP + """resource "aws_cloudwatch_metric_alarm" "target_5xx" {
  alarm_name          = "example-target-5xx"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_Target_5XX_Count"
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 5
  threshold           = 10
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]

  dimensions = {
    LoadBalancer = aws_lb.main.arn_suffix
    TargetGroup  = aws_lb_target_group.app.arn_suffix
  }
}
""",
    peers=ALARM_PEERS,
)
def target_5xx_alarm(res: Resource, ctx: RuleContext) -> Verdict:
    return _target_group_alarm(res, ctx, "HTTPCode_Target_5XX_Count")


@rule(
    id="CW-03", title="Each target group has an UnHealthyHostCount alarm", severity="medium",
    resource_types=(TARGET_GROUP,),
    rationale="""
UnHealthyHostCount rises when tasks fail their health check, before users see errors, and it is
the first sign that a release is bad. Like every target-group metric it exists per TargetGroup and
LoadBalancer pair, so the alarm carries both dimensions.""",
    remediation="Add an alarm on AWS/ApplicationELB UnHealthyHostCount (statistic Maximum, threshold 1) with the "
                "LoadBalancer and TargetGroup dimensions set to their arn_suffix.",
    terraform=_SERVED_TARGET_GROUP + """resource "aws_cloudwatch_metric_alarm" "unhealthy_hosts" {
  alarm_name          = "example-unhealthy-hosts"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  alarm_actions       = [aws_sns_topic.alarms.arn]

  dimensions = {
    LoadBalancer = aws_lb.main.arn_suffix
    TargetGroup  = aws_lb_target_group.app.arn_suffix
  }
}
""",
    peers=ALARM_PEERS,
)
def unhealthy_hosts_alarm(res: Resource, ctx: RuleContext) -> Verdict:
    return _target_group_alarm(res, ctx, "UnHealthyHostCount")


@rule(
    id="CW-04", title="Alarm has an action and actions are enabled", severity="high", resource_types=(ALARM,),
    rationale="""
An alarm without an `alarm_actions` target, or with `actions_enabled = false`, changes state in the
console and tells no one. Both are needed; checkov's CKV_AWS_319 checks only `actions_enabled`.""",
    remediation="Point `alarm_actions` (and `ok_actions`) at an SNS topic the on-call channel subscribes to, "
                "and leave `actions_enabled` at its default true.",
    terraform="""
resource "aws_cloudwatch_metric_alarm" "example" {
  alarm_name          = "example"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_ELB_5XX_Count"
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 5
  threshold           = 10
  comparison_operator = "GreaterThanOrEqualToThreshold"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  dimensions          = { LoadBalancer = aws_lb.main.arn_suffix }
}
""",
    peers=Peers(checkov=("CKV_AWS_319",), securityhub=("CloudWatch.15", "CloudWatch.17"),
                aws_config=("cloudwatch-alarm-action-check", "cloudwatch-alarm-action-enabled-check"),
                prowler=("cloudwatch_alarm_actions_alarm_state_configured", "cloudwatch_alarm_actions_enabled")),
)
def alarm_actions(res: Resource, ctx: RuleContext) -> Verdict:
    enabled = as_bool(value_or_default(res, "actions_enabled", True))
    enabled_verdict = judge(enabled, "actions_enabled", lambda v: v is True, "true")
    actions = get(res, "alarm_actions")
    if isinstance(actions, Unresolved):
        actions_verdict = unresolved("alarm_actions", actions)
    elif not actions:
        actions_verdict = failed("alarm_actions is empty: the alarm notifies no one", actions or [])
    else:
        actions_verdict = passed(f"alarm_actions is {', '.join(show(a) for a in actions)}",
                                 [show(a) for a in actions])
    return all_of([enabled_verdict, actions_verdict])


@rule(
    id="CW-05", title="ECS log group has a retention period", severity="medium", resource_types=(LOG_GROUP,),
    rationale="""
A log group without retention (`retention_in_days` left out or 0) keeps every log line forever:
storage cost grows without bound and old personal data is never deleted. Too short a retention
loses the evidence an incident review needs. The minimum is the `min_log_retention_days` setting
(default 30; CKV_AWS_66 asks only that a retention is set, CKV_AWS_338 and Security Hub
CloudWatch.16 ask for 365).""",
    remediation="Set `retention_in_days` on the log group to at least the configured minimum (30, 90, 365...).",
    terraform="""
resource "aws_cloudwatch_log_group" "app" {
  name              = "/ecs/example"
  retention_in_days = 30
}
""",
    peers=Peers(checkov=("CKV_AWS_66", "CKV_AWS_338"), securityhub=("CloudWatch.16",),
                aws_config=("cw-loggroup-retention-period-check",),
                prowler=("cloudwatch_log_group_retention_policy_specific_days_enabled",)),
)
def log_retention(res: Resource, ctx: RuleContext) -> Verdict:
    minimum = ctx.settings.min_log_retention_days
    days = value_or_default(res, "retention_in_days", 0)
    if isinstance(days, Unresolved):
        return unresolved("retention_in_days", days)
    if days is None:
        return unknown("retention_in_days was not reported")
    if not isinstance(days, int) or isinstance(days, bool):
        return unknown(f"retention_in_days is {show(days)}, not a number of days", days)
    if days == 0:
        return failed("retention_in_days is 0 or not set: the logs never expire", 0)
    if days < minimum:
        return failed(f"retention_in_days is {days}; at least {minimum} days are required", days)
    return passed(f"retention_in_days is {days} (at least {minimum})", days)
