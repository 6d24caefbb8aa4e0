"""Route 53 hosted zones (a global service: listed once, from the audit's home region).

Calls: ListHostedZones (paginated) once; GetHostedZone (the VPCs of a private zone) and
ListTagsForResource for zones a state holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.catalog import Detail, Listing, StateView, TypeSpec
from auditor.inventory.base import register, tags_dict
from auditor.models import Resource


def zone_id(value: str) -> str:
    """`/hostedzone/Z123` -> `Z123`: the form the provider stores."""
    return value.rsplit("/", 1)[-1]


def _domain(value: Any) -> Any:
    """example.com. and example.com are one name (AWS answers with the dot, the provider stores none)."""
    return value.rstrip(".").lower() if isinstance(value, str) else value


def zone_attributes(zone: Mapping[str, Any], details: Mapping[str, Any]) -> dict[str, Any]:
    """ListHostedZones item (+ GetHostedZone and tags when read) -> aws_route53_zone attributes."""
    identifier = zone_id(str(zone["Id"]))
    attrs: dict[str, Any] = {
        "id": identifier, "zone_id": identifier, "name": _domain(zone.get("Name", "")),
        "comment": (zone.get("Config") or {}).get("Comment", ""),
        "_private": bool((zone.get("Config") or {}).get("PrivateZone")),
        "_linked_service": (zone.get("LinkedService") or {}).get("ServicePrincipal", ""),
    }
    detail = details.get("GetHostedZone")
    if detail is not None:
        attrs["vpc"] = [{"vpc_id": v.get("VPCId", ""), "vpc_region": v.get("VPCRegion", "")}
                        for v in detail.get("VPCs") or []]
        attrs["name_servers"] = list((detail.get("DelegationSet") or {}).get("NameServers") or [])
    tags = details.get("ListTagsForResource")
    if tags is not None:
        attrs["tags"] = tags_dict(tags.get("Tags"))
        attrs["tags_all"] = dict(attrs["tags"])
    return attrs


def _namespace_zone(live: Resource, view: StateView) -> bool:
    """`covered`: the private zone Cloud Map made for a namespace a state holds (its `hosted_zone`)."""
    return any(zone_id(str(ns.attributes.get("hosted_zone") or "")) == live.id
               for ns in view.get("aws_service_discovery_private_dns_namespace", ()))


ZONE = TypeSpec(
    type="aws_route53_zone",
    service="route53",
    global_service=True,
    compared=("name", "comment", "vpc"),
    set_paths=("vpc",),
    normalizers={"name": _domain},
    optional_live=("vpc", "tags"),
    tags=True,
    aws_owned=lambda r: bool(r.attributes.get("_linked_service")),
    covered=_namespace_zone,
    ignored={
        "id": "the zone id", "zone_id": "the import id", "arn": "derived from the id",
        "name_servers": "computed", "primary_name_server": "computed",
        "delegation_set_id": "create-time option", "force_destroy": "provider-only delete option",
        "timeouts": "provider-only",
    },
    notes="ListHostedZones (paginated) once; GetHostedZone (a private zone's VPCs) and ListTagsForResource "
          "for zones a state holds. Names compare without the trailing dot AWS adds. Zones another service "
          "made for itself (LinkedService: Cloud Map's namespaces) are never unmanaged, nor is the zone of a "
          "service-discovery namespace a state holds.",
    listing=Listing("ListHostedZones", "HostedZones", lambda zone: zone_id(str(zone["Id"])),
                    convert=lambda zone, details, _: zone_attributes(zone, details),
                    details=(Detail("GetHostedZone", lambda zone: {"Id": zone_id(str(zone["Id"]))}),
                             Detail("ListTagsForResource", lambda zone: {"ResourceType": "hostedzone",
                                                                         "ResourceId": zone_id(str(zone["Id"]))},
                                    "ResourceTagSet"))),
)
collect_zones = register(ZONE)
