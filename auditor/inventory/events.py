"""EventBridge rules on the default event bus and their targets, and CloudWatch dashboards.

Calls per region: ListRules (paginated) and ListDashboards (paginated) once; ListTagsForResource for
rules a state holds; ListTargetsByRule (paginated) for rules a state holds or holds targets of;
GetDashboard for dashboards a state holds.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import botocore.exceptions

from auditor.aws import error_code
from auditor.catalog import Detail, Listing, TypeSpec
from auditor.inventory.base import CollectContext, collector, moto_lacks, one_block, paginate, register, with_tags
from auditor.models import Resource

_DEFAULT_BUS = "default"


def rule_import_id(attributes: Mapping[str, Any]) -> str | None:
    """The provider's id: the rule name on the default bus, `<bus>/<name>` on another."""
    name, bus = attributes.get("name"), attributes.get("event_bus_name") or _DEFAULT_BUS
    if not name:
        return str(attributes.get("id") or "") or None
    return str(name) if bus == _DEFAULT_BUS else f"{bus}/{name}"


def event_rule_attributes(rule: Mapping[str, Any], details: Mapping[str, Any]) -> dict[str, Any]:
    """A ListRules item (+ its tags when read) in aws_cloudwatch_event_rule state shape."""
    state = rule.get("State", "ENABLED")
    attrs: dict[str, Any] = {
        "name": rule["Name"],
        "arn": rule.get("Arn", ""),
        "description": rule.get("Description", ""),
        "event_bus_name": rule.get("EventBusName", _DEFAULT_BUS),
        "event_pattern": rule.get("EventPattern", ""),
        "schedule_expression": rule.get("ScheduleExpression", ""),
        "role_arn": rule.get("RoleArn", ""),
        "state": state,
        "is_enabled": state == "ENABLED",
    }
    attrs["id"] = rule_import_id(attrs)
    return with_tags(attrs, details, "ListTagsForResource")


def _listed_rule_id(rule: Mapping[str, Any]) -> str:
    return rule_import_id({"name": rule["Name"], "event_bus_name": rule.get("EventBusName")}) or ""


EVENT_RULE = TypeSpec(
    type="aws_cloudwatch_event_rule",
    tags_per_resource=moto_lacks("events:rule", " (it lists event buses only)"),
    service="events",
    compared=("name", "description", "event_bus_name", "event_pattern", "schedule_expression", "role_arn",
              "state", "is_enabled"),
    json_attributes=("event_pattern",),
    optional_live=("tags",),
    tags=True,
    state_id=rule_import_id,
    aws_owned=lambda r: str(r.attributes.get("name", "")).startswith("AutoScalingManagedRule"),
    ignored={
        "id": "the rule name (`<bus>/<name>` off the default bus)",
        "arn": "derived from the name",
        "name_prefix": "create-time option",
        "force_destroy": "provider-only delete option",
    },
    notes="ListRules (paginated) on the default event bus; rules on other buses are not listed. Tags by "
          "ListTagsForResource for rules a state holds. Rules AWS services create for themselves "
          "(AutoScalingManagedRule) are never unmanaged. is_enabled (deprecated) mirrors state; both are "
          "compared, as Terraform reports both.",
    listing=Listing("ListRules", "Rules", lambda rule: _listed_rule_id(rule),
                    convert=lambda rule, details, _: event_rule_attributes(rule, details),
                    details=(Detail("ListTagsForResource", lambda rule: {"ResourceARN": rule["Arn"]}, "Tags"),)),
)
collect_event_rules = register(EVENT_RULE)


def dashboard_attributes(entry: Mapping[str, Any], details: Mapping[str, Any]) -> dict[str, Any]:
    """A ListDashboards entry (+ GetDashboard's body when read) in aws_cloudwatch_dashboard state shape."""
    attrs: dict[str, Any] = {"id": entry["DashboardName"], "dashboard_name": entry["DashboardName"],
                             "dashboard_arn": entry.get("DashboardArn", "")}
    answer = details.get("GetDashboard")
    if answer is not None:
        attrs["dashboard_body"] = answer.get("DashboardBody", "")
    return attrs


DASHBOARD = TypeSpec(
    type="aws_cloudwatch_dashboard",
    service="cloudwatch",
    compared=("dashboard_name", "dashboard_body"),
    json_attributes=("dashboard_body",),
    optional_live=("dashboard_body",),
    ignored={"id": "the dashboard name", "dashboard_arn": "derived from the name"},
    notes="ListDashboards (paginated) once; GetDashboard (the body, compared as JSON) for dashboards a state "
          "holds. Dashboards have no tags in the provider's schema.",
    listing=Listing("ListDashboards", "DashboardEntries", "DashboardName",
                    convert=lambda entry, details, _: dashboard_attributes(entry, details),
                    details=(Detail("GetDashboard", lambda entry: {"DashboardName": entry["DashboardName"]}),)),
)
collect_dashboards = register(DASHBOARD)


# --- aws_cloudwatch_event_target ----------------------------------------------------------------


def target_import_id(attributes: Mapping[str, Any]) -> str | None:
    """The provider's import id, `<rule>/<target id>` (`<bus>/<rule>/<target id>` off the default bus);
    its `id` joins the parts with `-`, which rule names and target ids also hold."""
    rule, target = attributes.get("rule"), attributes.get("target_id")
    if not rule or not target:
        return None
    bus = attributes.get("event_bus_name") or _DEFAULT_BUS
    return f"{rule}/{target}" if bus == _DEFAULT_BUS else f"{bus}/{rule}/{target}"


def _split_target_id(import_id: str) -> tuple[str, str]:
    """`[<bus>/]<rule>/<target id>` -> (bus, rule); a bus given as an ARN holds `/` itself."""
    head, _target = import_id.rsplit("/", 1)
    bus, _, rule = head.rpartition("/")
    return bus or _DEFAULT_BUS, rule


def _ecs_target(ecs: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    if not ecs:
        return []
    vpc = (ecs.get("NetworkConfiguration") or {}).get("awsvpcConfiguration")
    return [{
        "task_definition_arn": ecs.get("TaskDefinitionArn", ""),
        "task_count": ecs.get("TaskCount", 1),
        "launch_type": ecs.get("LaunchType", ""),
        "platform_version": ecs.get("PlatformVersion", ""),
        "group": ecs.get("Group", ""),
        "enable_ecs_managed_tags": bool(ecs.get("EnableECSManagedTags", False)),
        "enable_execute_command": bool(ecs.get("EnableExecuteCommand", False)),
        "propagate_tags": ecs.get("PropagateTags", ""),
        "tags": {str(t["Key"]): str(t.get("Value", "")) for t in ecs.get("Tags") or []},
        "network_configuration": [{
            "subnets": sorted(vpc.get("Subnets") or []),
            "security_groups": sorted(vpc.get("SecurityGroups") or []),
            "assign_public_ip": vpc.get("AssignPublicIp") == "ENABLED",
        }] if vpc else [],
        "capacity_provider_strategy": [{"capacity_provider": s.get("capacityProvider", ""),
                                        "weight": s.get("weight", 0), "base": s.get("base", 0)}
                                       for s in ecs.get("CapacityProviderStrategy") or []],
        "placement_constraint": [{"type": c.get("type", ""), "expression": c.get("expression", "")}
                                 for c in ecs.get("PlacementConstraints") or []],
        "ordered_placement_strategy": [{"type": p.get("type", ""), "field": p.get("field", "")}
                                       for p in ecs.get("PlacementStrategy") or []],
    }]


def event_target_attributes(target: Mapping[str, Any], rule: str, bus: str) -> dict[str, Any]:
    """A ListTargetsByRule item in aws_cloudwatch_event_target state shape."""
    transformer = target.get("InputTransformer")
    http = target.get("HttpParameters")
    attrs: dict[str, Any] = {
        "rule": rule, "event_bus_name": bus, "target_id": target["Id"], "arn": target.get("Arn", ""),
        "role_arn": target.get("RoleArn", ""), "input": target.get("Input", ""),
        "input_path": target.get("InputPath", ""),
        "input_transformer": [{"input_paths": dict(transformer.get("InputPathsMap") or {}),
                               "input_template": transformer.get("InputTemplate", "")}] if transformer else [],
        "dead_letter_config": one_block(target.get("DeadLetterConfig"), {"Arn": "arn"}),
        "retry_policy": one_block(target.get("RetryPolicy"), {
            "MaximumEventAgeInSeconds": "maximum_event_age_in_seconds",
            "MaximumRetryAttempts": "maximum_retry_attempts"}),
        "sqs_target": one_block(target.get("SqsParameters"), {"MessageGroupId": "message_group_id"}),
        "kinesis_target": one_block(target.get("KinesisParameters"), {"PartitionKeyPath": "partition_key_path"}),
        "batch_target": one_block(target.get("BatchParameters"), {"JobDefinition": "job_definition",
                                                                  "JobName": "job_name"}),
        "http_target": [{"header_parameters": dict(http.get("HeaderParameters") or {}),
                         "query_string_parameters": dict(http.get("QueryStringParameters") or {}),
                         "path_parameter_values": list(http.get("PathParameterValues") or [])}] if http else [],
        "run_command_targets": [{"key": t.get("Key", ""), "values": list(t.get("Values") or [])}
                                for t in (target.get("RunCommandParameters") or {}).get("RunCommandTargets") or []],
        "ecs_target": _ecs_target(target.get("EcsParameters")),
    }
    batch = target.get("BatchParameters") or {}
    if attrs["batch_target"]:
        attrs["batch_target"][0].update({"array_size": (batch.get("ArrayProperties") or {}).get("Size", 0),
                                         "job_attempts": (batch.get("RetryStrategy") or {}).get("Attempts", 0)})
    attrs["id"] = "-".join(([] if bus == _DEFAULT_BUS else [bus]) + [rule, str(target["Id"])])
    return attrs


EVENT_TARGET = TypeSpec(
    type="aws_cloudwatch_event_target", partially_read=True,
    service="events",
    compared=("rule", "event_bus_name", "target_id", "arn", "role_arn", "input", "input_path", "input_transformer",
              "dead_letter_config", "retry_policy", "sqs_target", "kinesis_target", "batch_target", "http_target",
              "run_command_targets", "ecs_target"),
    json_attributes=("input",),
    set_paths=("ecs_target.*.network_configuration.*.subnets", "ecs_target.*.network_configuration.*.security_groups",
               "ecs_target.*.capacity_provider_strategy", "ecs_target.*.placement_constraint"),
    normalizers={"event_bus_name": lambda v: v or _DEFAULT_BUS},
    state_id=target_import_id,
    calls=("ListTargetsByRule",),
    ignored={
        "id": "`<rule>-<target id>`; matched on the import id `[<bus>/]<rule>/<target id>`",
        "force_destroy": "provider-only delete option",
        "appsync_target": "AppSync targets are not compared",
        "redshift_target": "Redshift Data API targets are not compared",
        "sagemaker_pipeline_target": "SageMaker pipeline targets are not compared",
    },
    notes="ListTargetsByRule (paginated) for each rule a state holds, or holds a target of (a rule that is gone: "
          "its targets are missing); a target on such a rule that no state holds is unmanaged. Targets of rules "
          "no state knows are not searched.",
)


@collector(EVENT_TARGET)
def collect_event_targets(ctx: CollectContext) -> Iterator[Resource]:
    rules = {_split_target_id(i) for i in ctx.wanted.get(EVENT_TARGET.type, frozenset())}
    for rule_id in ctx.wanted.get(EVENT_RULE.type, frozenset()):
        bus, _, name = rule_id.rpartition("/")
        rules.add((bus or _DEFAULT_BUS, name))
    events = ctx.client("events")

    def targets(bus_rule: tuple[str, str]) -> list[dict[str, Any]]:
        bus, rule = bus_rule
        try:
            return list(paginate(events, "list_targets_by_rule", "Targets", Rule=rule, EventBusName=bus))
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return []  # the rule is gone, and its targets with it: missing
            raise

    ordered = sorted(rules)
    for (bus, rule), found in zip(ordered, ctx.each(targets, ordered), strict=True):
        for target in found:
            attrs = event_target_attributes(target, rule, bus)
            yield ctx.resource(EVENT_TARGET, target_import_id(attrs) or "", attrs)
