"""Find how a service is deployed, from its load-balancer settings and the explicit overrides.

Two setups are recognised, described never guessed: ECS native blue/green (the service's deployment
strategy is BLUE_GREEN, CANARY or LINEAR) and the deployer's own ALB weights (two services, or the
PRIMARY task set of an EXTERNAL-controller service and the task set a deploy creates, behind two
target groups that one listener default action or rule forwards to, all weight on one of them).
Anything else is refused with a one-line reason, before anything changes.
"""

from __future__ import annotations

from typing import Any

from auditor.aws import Aws, describe_error
from auditor.deploy.model import AWS_ERRORS, AlbSetup, Colour, DeployError, DeployRefused, DeployRequest, NativeSetup

NATIVE_STRATEGIES = frozenset({"BLUE_GREEN", "CANARY", "LINEAR"})
_CONTROLLERS = {
    "CODE_DEPLOY": "deploys through CodeDeploy (CreateDeployment), not through the deployer",
}
"""Why a service under another deployment controller is refused (one line each)."""
_UNWEIGHTABLE = ("redirect", "fixed-response", "authenticate-oidc", "authenticate-cognito")


def _call(what: str, fn: Any, **kwargs: Any) -> Any:
    try:
        return fn(**kwargs)
    except AWS_ERRORS as exc:
        raise DeployError(f"cannot read {what}: {describe_error(exc)}") from None


def describe_service(aws: Aws, cluster: str, service: str) -> dict[str, Any]:
    found = _call(f"service {service}", aws.client("ecs").describe_services, cluster=cluster, services=[service])
    live = [s for s in found.get("services", []) if s.get("status") != "INACTIVE"]
    if not live:
        raise DeployRefused(f"service {service} not found in cluster {cluster}")
    return dict(live[0])


def discover(aws: Aws, request: DeployRequest) -> AlbSetup | NativeSetup:
    """The setup `request` deploys into (read-only)."""
    service = describe_service(aws, request.cluster, request.service)
    controller = (service.get("deploymentController") or {}).get("type", "ECS")
    strategy = (service.get("deploymentConfiguration") or {}).get("strategy", "ROLLING")
    if controller == "ECS" and strategy in NATIVE_STRATEGIES:
        return _native(aws, service, request)
    if controller == "EXTERNAL":
        return _external(aws, request, service)
    if controller != "ECS":
        raise DeployRefused(f"service {request.service} uses the {controller} deployment controller, "
                            f"which {_CONTROLLERS.get(controller, 'the deployer does not drive')}",
                            "the deployer moves ALB weights between two ECS-controlled services or two task sets "
                            "of an EXTERNAL-controller service, or drives ECS native blue/green")
    return _alb(aws, request, service)


def task_set_of(aws: Aws, cluster: str, service: str, task_set: str) -> dict[str, Any]:
    """One task set of `service`, as DescribeTaskSets gives it."""
    found = _call(f"task set {task_set}", aws.client("ecs").describe_task_sets, cluster=cluster, service=service,
                  taskSets=[task_set]).get("taskSets") or []
    if not found:
        raise DeployRefused(f"task set {task_set} of service {service} not found")
    return dict(found[0])


def _external(aws: Aws, request: DeployRequest, service: dict[str, Any]) -> AlbSetup:
    """Blue is the EXTERNAL service's PRIMARY task set; green a task set the deploy creates behind the other
    target group of the weighted forward action."""
    name = service["serviceName"]
    if request.blue_service or request.green_service:
        raise DeployRefused(f"service {name} has an EXTERNAL controller: its colours are task sets, not "
                            "--blue-service/--green-service")
    sets = _call(f"the task sets of {name}", aws.client("ecs").describe_task_sets, cluster=request.cluster,
                 service=name).get("taskSets") or []
    primary = [s for s in sets if s.get("status") == "PRIMARY"]
    if len(primary) != 1:
        raise DeployRefused(f"service {name} (EXTERNAL controller) has {len(primary)} PRIMARY task sets; "
                            "the deployer needs exactly one, serving all traffic")
    others = [s["id"] for s in sets if s is not primary[0]]
    if others:
        raise DeployRefused(f"service {name} has task sets besides the primary ({', '.join(others)}): a deploy is "
                            "under way or died",
                            "finish it with `audit deploy --resume ID`, revert it with `--rollback ID`, or delete them")
    blue_set = primary[0]
    scale = blue_set.get("scale") or {}
    if (scale.get("unit"), float(scale.get("value", 0))) != ("PERCENT", 100.0):
        raise DeployRefused(f"primary task set {blue_set['id']} of service {name} is scaled to "
                            f"{scale.get('value')} {scale.get('unit')}, not 100 PERCENT")
    own = [lb for lb in blue_set.get("loadBalancers") or [] if lb.get("targetGroupArn")]
    if len(own) != 1:
        raise DeployRefused(f"primary task set {blue_set['id']} of service {name} is registered with {len(own)} "
                            "target groups; the ALB-weights deploy needs exactly one per colour")
    listener, rule, blue_tg, green_tg = _weighted_pair(aws, request, own[0]["targetGroupArn"])
    if blue_tg != own[0]["targetGroupArn"]:
        raise DeployRefused(f"primary task set {blue_set['id']} of service {name} is behind "
                            f"{_name(own[0]['targetGroupArn'])}, but {_name(rule or listener)} sends all traffic to "
                            f"{_name(blue_tg)}")
    desired = int(service.get("desiredCount", 0))
    return AlbSetup(cluster=request.cluster, listener=listener, rule=rule,
                    blue=Colour(name, blue_tg, desired, task_set=blue_set["taskSetArn"]),
                    green=Colour(name, green_tg, 0), container=str(own[0].get("containerName", "")),
                    load_balancer=_load_balancer(aws, blue_tg, green_tg), task_sets=True)


def _native(aws: Aws, service: dict[str, Any], request: DeployRequest) -> NativeSetup:
    balancers = service.get("loadBalancers") or []
    if not balancers:
        raise DeployRefused(f"service {request.service} has a {service['deploymentConfiguration']['strategy']} "
                            "strategy but no load balancer")
    groups: list[str] = []
    for lb in balancers:
        groups.append(lb["targetGroupArn"])
        alternate = (lb.get("advancedConfiguration") or {}).get("alternateTargetGroupArn")
        if alternate:
            groups.append(alternate)
    found = _call("the target groups", aws.client("elbv2").describe_target_groups, TargetGroupArns=groups[:1])
    lbs = found["TargetGroups"][0].get("LoadBalancerArns") or [""] if found.get("TargetGroups") else [""]
    return NativeSetup(cluster=request.cluster, service=service["serviceName"],
                       strategy=service["deploymentConfiguration"]["strategy"],
                       container=balancers[0].get("containerName", ""), target_groups=tuple(groups),
                       desired=int(service.get("desiredCount", 0)), task_definition=service["taskDefinition"],
                       load_balancer=lbs[0])


def _alb(aws: Aws, request: DeployRequest, service: dict[str, Any]) -> AlbSetup:
    own = [lb for lb in service.get("loadBalancers") or [] if lb.get("targetGroupArn")]
    if len(own) != 1:
        raise DeployRefused(f"service {request.service} is registered with {len(own)} target groups; the ALB-weights "
                            "deploy needs exactly one per colour")
    listener, rule, blue_tg, green_tg = _weighted_pair(aws, request, own[0]["targetGroupArn"])
    by_group = _services_by_target_group(aws, request.cluster)
    blue = _colour(by_group, blue_tg, request.blue_service, "blue", request.cluster)
    green = _colour(by_group, green_tg, request.green_service, "green", request.cluster)
    if request.service not in (blue["serviceName"], green["serviceName"]):
        raise DeployRefused(f"service {request.service} is neither colour behind {_name(rule or listener)}")
    blue_lb, green_lb = _lb_of(blue, blue_tg), _lb_of(green, green_tg)
    if (blue_lb.get("containerName"), blue_lb.get("containerPort")) != (green_lb.get("containerName"),
                                                                        green_lb.get("containerPort")):
        raise DeployRefused(f"services {blue['serviceName']} and {green['serviceName']} put different containers "
                            "behind their target groups")
    return AlbSetup(cluster=request.cluster, listener=listener, rule=rule,
                    blue=Colour(blue["serviceName"], blue_tg, int(blue.get("desiredCount", 0))),
                    green=Colour(green["serviceName"], green_tg, int(green.get("desiredCount", 0))),
                    container=str(blue_lb.get("containerName", "")),
                    load_balancer=_load_balancer(aws, blue_tg, green_tg))


def _weighted_pair(aws: Aws, request: DeployRequest, target_group: str) -> tuple[str, str | None, str, str]:
    """(listener, rule or None, blue TG, green TG): the forward action weighting `target_group` and one other,
    all weight on blue."""
    listener, rule, actions = _weighted_actions(aws, request, target_group)
    forward = _forward(actions, rule or listener)
    weights = {t["TargetGroupArn"]: int(t.get("Weight", 1)) for t in forward["ForwardConfig"]["TargetGroups"]}
    if len(weights) != 2:
        raise DeployRefused(f"{_name(rule or listener)} forwards to {len(weights)} target groups; blue/green needs two")
    live = [arn for arn, w in weights.items() if w > 0]
    if len(live) != 1:
        split = "/".join(f"{_name(a)}={w}" for a, w in weights.items())
        raise DeployRefused(f"{_name(rule or listener)} splits traffic {split}: a deploy is under way or died",
                            "finish it with `audit deploy --resume ID` or revert it with `--rollback ID`")
    blue_tg = live[0]
    green_tg = next(a for a in weights if a != blue_tg)
    for given, found, colour in ((request.blue_target_group, blue_tg, "blue"),
                                 (request.green_target_group, green_tg, "green")):
        if given and given != found:
            raise DeployRefused(f"--{colour}-target-group {_name(given)} does not match {_name(rule or listener)}, "
                                f"whose {colour} (serving {'all' if colour == 'blue' else 'no'} traffic) is "
                                f"{_name(found)}")
    return listener, rule, blue_tg, green_tg


def _load_balancer(aws: Aws, blue_tg: str, green_tg: str) -> str:
    """The ALB of two target groups alike in protocol, port, VPC and target type."""
    groups = _call("the target groups", aws.client("elbv2").describe_target_groups,
                   TargetGroupArns=[blue_tg, green_tg])["TargetGroups"]
    shape = {g["TargetGroupArn"]: (g.get("Protocol"), g.get("Port"), g.get("VpcId"), g.get("TargetType"))
             for g in groups}
    if shape.get(blue_tg) != shape.get(green_tg):
        raise DeployRefused(f"target groups {_name(blue_tg)} and {_name(green_tg)} differ in protocol, port, VPC or "
                            "target type")
    balancers = next((g.get("LoadBalancerArns") or [] for g in groups if g["TargetGroupArn"] == blue_tg), [])
    return balancers[0] if balancers else ""


def _weighted_actions(aws: Aws, request: DeployRequest, target_group: str) -> tuple[str, str | None, list[Any]]:
    """(listener, rule or None, its actions): the one place forwarding to `target_group` (or the override)."""
    elb = aws.client("elbv2")
    if request.listener_rule:
        rules = _call(f"listener rule {request.listener_rule}", elb.describe_rules, RuleArns=[request.listener_rule])
        rule = rules["Rules"][0]
        listener = request.listener or _listener_of_rule(request.listener_rule)
        return listener, rule["RuleArn"], rule.get("Actions") or []
    if request.listener:
        found = _call(f"listener {request.listener}", elb.describe_listeners, ListenerArns=[request.listener])
        return request.listener, None, found["Listeners"][0].get("DefaultActions") or []
    groups = _call(f"target group {target_group}", elb.describe_target_groups, TargetGroupArns=[target_group])
    places: list[tuple[str, str | None, list[Any]]] = []
    for lb in dict.fromkeys(groups["TargetGroups"][0].get("LoadBalancerArns") or []):  # moto repeats them
        listeners = _call(f"the listeners of {lb}", lambda arn: [
            listener for page in elb.get_paginator("describe_listeners").paginate(LoadBalancerArn=arn)
            for listener in page.get("Listeners", [])], arn=lb)
        for listener in listeners:
            arn = listener["ListenerArn"]
            places.append((arn, None, listener.get("DefaultActions") or []))
            rules = _call(f"the rules of {arn}", lambda listener_arn: [
                rule for page in elb.get_paginator("describe_rules").paginate(ListenerArn=listener_arn)
                for rule in page.get("Rules", [])], listener_arn=arn)
            places.extend((arn, r["RuleArn"], r.get("Actions") or []) for r in rules if not r.get("IsDefault"))
    hits = [p for p in places if any(target_group in _groups_of(a) for a in p[2])]
    if not hits:
        raise DeployRefused(f"no listener forwards to target group {_name(target_group)}",
                            "pass --listener or --listener-rule")
    if len(hits) > 1:
        raise DeployRefused(f"{len(hits)} listeners/rules forward to target group {_name(target_group)}",
                            "name the one to weight with --listener or --listener-rule")
    return hits[0]


def _forward(actions: list[Any], where: str) -> dict[str, Any]:
    mixed = sorted({a["Type"] for a in actions if a.get("Type") in _UNWEIGHTABLE})
    forwards = [a for a in actions if a.get("Type") == "forward"]
    if mixed:
        raise DeployRefused(f"{_name(where)} mixes forward with {', '.join(mixed)}; the ALB cannot weight it",
                            "use a listener rule whose only action is a weighted forward")
    if len(forwards) != 1 or not (forwards[0].get("ForwardConfig") or {}).get("TargetGroups"):
        raise DeployRefused(f"{_name(where)} has no weighted forward action (ForwardConfig with target groups)")
    return dict(forwards[0])


def _groups_of(action: dict[str, Any]) -> set[str]:
    groups = {t["TargetGroupArn"] for t in (action.get("ForwardConfig") or {}).get("TargetGroups") or []}
    return groups | ({action["TargetGroupArn"]} if action.get("TargetGroupArn") else set())


def _services_by_target_group(aws: Aws, cluster: str) -> dict[str, list[dict[str, Any]]]:
    ecs = aws.client("ecs")
    arns: list[str] = []
    try:
        for page in ecs.get_paginator("list_services").paginate(cluster=cluster):
            arns.extend(page.get("serviceArns", []))
    except AWS_ERRORS as exc:
        raise DeployError(f"cannot list the services of {cluster}: {describe_error(exc)}") from None
    found: dict[str, list[dict[str, Any]]] = {}
    for i in range(0, len(arns), 10):
        page = _call(f"the services of {cluster}", ecs.describe_services, cluster=cluster, services=arns[i:i + 10])
        for service in page.get("services", []):
            if service.get("status") == "INACTIVE":
                continue
            for lb in service.get("loadBalancers") or []:
                found.setdefault(lb.get("targetGroupArn", ""), []).append(service)
    return found


def _colour(by_group: dict[str, list[dict[str, Any]]], target_group: str, named: str | None, colour: str,
            cluster: str) -> dict[str, Any]:
    services = by_group.get(target_group, [])
    if named:
        match = [s for s in services if s["serviceName"] == named]
        if not match:
            raise DeployRefused(f"--{colour}-service {named} is not registered with the {colour} target group "
                                f"{_name(target_group)}")
        return match[0]
    if not services:
        raise DeployRefused(f"no service in cluster {cluster} is registered with the {colour} target group "
                            f"{_name(target_group)}",
                            f"create the {colour} service (desired count 0 is fine) or pass --{colour}-service")
    if len(services) > 1:
        names = ", ".join(s["serviceName"] for s in services)
        raise DeployRefused(f"several services use the {colour} target group {_name(target_group)}: {names}",
                            f"name one with --{colour}-service")
    return services[0]


def _lb_of(service: dict[str, Any], target_group: str) -> dict[str, Any]:
    return next(lb for lb in service.get("loadBalancers") or [] if lb.get("targetGroupArn") == target_group)


def _listener_of_rule(rule_arn: str) -> str:
    """arn:...:listener-rule/app/lb/id/listener-id/rule-id -> arn:...:listener/app/lb/id/listener-id."""
    head, _, path = rule_arn.partition(":listener-rule/")
    return f"{head}:listener/{path.rsplit('/', 1)[0]}"


def _name(arn: str) -> str:
    """A short readable name of an ELB ARN (`targetgroup/blue/abc` -> `blue`)."""
    path = arn.split(":", 5)[-1]
    parts = path.split("/")
    if parts[0] == "targetgroup" and len(parts) > 1:
        return parts[1]
    return path
