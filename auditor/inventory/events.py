"""EventBridge rules on the default event bus, and CloudWatch dashboards.

Calls per region: ListRules (paginated) and ListDashboards (paginated) once; ListTagsForResource for
rules a state holds; GetDashboard for dashboards a state holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.catalog import Detail, Listing, TypeSpec
from auditor.inventory.base import register, with_tags

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
