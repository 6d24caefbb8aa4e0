"""Route 53 hosted zones and their records (a global service: read once, from the audit's home region).

Calls: ListHostedZones (paginated) once; GetHostedZone (the VPCs of a private zone) and
ListTagsForResource for zones a state holds; ListResourceRecordSets (paginated) for each zone a
state holds or holds records of.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import botocore.exceptions

from auditor.aws import error_code
from auditor.catalog import Detail, Listing, StateView, TypeSpec
from auditor.inventory.base import CollectContext, collector, moto_lacks, one_block, paginate, register, tags_dict
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
    tags_per_resource=moto_lacks("route53:hostedzone", " (AWS answers it in us-east-1 only)"),
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


# --- aws_route53_record -------------------------------------------------------------------------


def _record_name(value: Any) -> str:
    """A record name as the provider's id holds it: lower case, no trailing dot, `\\052` (how Route 53
    answers a wildcard) as `*`."""
    return str(value or "").replace("\\052", "*").rstrip(".").lower()


def record_import_id(attributes: Mapping[str, Any]) -> str | None:
    """`<zone id>_<name>_<type>[_<set identifier>]`: the provider's id and import id."""
    zone, kind = attributes.get("zone_id"), attributes.get("type")
    name = attributes.get("fqdn") or attributes.get("name")
    if not zone or not name or not kind:
        return None
    parts = [zone_id(str(zone)), _record_name(name), str(kind)]
    return "_".join(parts + ([str(attributes["set_identifier"])] if attributes.get("set_identifier") else []))


def _records(values: Any, kind: str) -> list[str]:
    """ResourceRecords -> the provider's `records` (TXT/SPF strings without their quotes, split strings joined)."""
    out = []
    for entry in values or []:
        value = str(entry.get("Value", ""))
        if kind in ("TXT", "SPF") and value.startswith('"') and value.endswith('"'):
            value = value[1:-1].replace('" "', "")
        out.append(value)
    return out


def _alias_name(value: Any) -> Any:
    return value.rstrip(".").lower() if isinstance(value, str) else value


def _alias(alias: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    if not alias:
        return []
    return [{"name": _alias_name(alias.get("DNSName", "")), "zone_id": alias.get("HostedZoneId", ""),
             "evaluate_target_health": bool(alias.get("EvaluateTargetHealth", False))}]


def _normalize_aliases(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    return [{**a, "name": _alias_name(a.get("name"))} if isinstance(a, Mapping) else a for a in value]


def record_attributes(record: Mapping[str, Any], zone: str, apex: str) -> dict[str, Any]:
    """A ListResourceRecordSets item of hosted zone `zone` (apex name `apex`) in aws_route53_record state shape."""
    kind = str(record.get("Type", ""))
    name = _record_name(record.get("Name"))
    attrs: dict[str, Any] = {
        "zone_id": zone, "name": name, "fqdn": name, "type": kind, "ttl": record.get("TTL"),
        "records": _records(record.get("ResourceRecords"), kind),
        "set_identifier": record.get("SetIdentifier", ""), "health_check_id": record.get("HealthCheckId", ""),
        "alias": _alias(record.get("AliasTarget")),
        "weighted_routing_policy": [{"weight": record["Weight"]}] if "Weight" in record else [],
        "failover_routing_policy": [{"type": record["Failover"]}] if record.get("Failover") else [],
        "latency_routing_policy": [{"region": record["Region"]}] if record.get("Region") else [],
        "geolocation_routing_policy": one_block(record.get("GeoLocation"), {
            "ContinentCode": "continent", "CountryCode": "country", "SubdivisionCode": "subdivision"}),
        "cidr_routing_policy": one_block(record.get("CidrRoutingConfig"), {
            "CollectionId": "collection_id", "LocationName": "location_name"}),
        "_apex": name == apex,
    }
    if "MultiValueAnswer" in record:
        attrs["multivalue_answer_routing_policy"] = bool(record["MultiValueAnswer"])
    attrs["id"] = record_import_id(attrs)
    return attrs


RECORD = TypeSpec(
    type="aws_route53_record",
    service="route53",
    global_service=True,
    partially_read=True,
    compared=("type", "ttl", "records", "alias", "set_identifier", "health_check_id", "weighted_routing_policy",
              "failover_routing_policy", "latency_routing_policy", "geolocation_routing_policy",
              "cidr_routing_policy", "multivalue_answer_routing_policy"),
    set_paths=("records",),
    optional_live=("multivalue_answer_routing_policy",),
    normalizers={"records": lambda v: [] if v is None else v, "alias": _normalize_aliases,
                 "set_identifier": lambda v: v or "", "health_check_id": lambda v: v or ""},
    state_id=record_import_id,
    aws_owned=lambda r: bool(r.attributes.get("_apex")) and r.attributes.get("type") in ("NS", "SOA"),
    calls=("ListResourceRecordSets",),
    ignored={
        "id": "`<zone id>_<name>_<type>[_<set identifier>]`, the import id",
        "zone_id": "part of the id", "name": "part of the id (as fqdn)", "fqdn": "part of the id",
        "allow_overwrite": "provider-only create option", "geoproximity_routing_policy": "not compared",
        "timeouts": "provider-only",
    },
    notes="ListResourceRecordSets (paginated) once per hosted zone a state holds, or holds a record of "
          "(a zone that is gone: its records are missing); a record in such a zone that no state holds is "
          "unmanaged, except the apex NS and SOA Route 53 makes. Records of zones no state knows are not "
          "searched. TXT values compare without their quotes, names and alias targets without the trailing "
          "dot, as the provider stores them.",
)


@collector(RECORD)
def collect_records(ctx: CollectContext) -> Iterator[Resource]:
    zones = sorted({i.split("_", 1)[0] for i in ctx.wanted.get(RECORD.type, frozenset())}
                   | set(ctx.wanted.get(ZONE.type, frozenset())))
    client = ctx.client("route53")

    def records(zone: str) -> list[dict[str, Any]]:
        try:
            return list(paginate(client, "list_resource_record_sets", "ResourceRecordSets", HostedZoneId=zone))
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) == "NoSuchHostedZone":
                return []  # the zone is gone, and its records with it: missing
            raise

    for zone, found in zip(zones, ctx.each(records, zones), strict=True):
        apex = next((_record_name(r.get("Name")) for r in found if r.get("Type") == "SOA"), "")
        for record in found:
            attrs = record_attributes(record, zone, apex)
            yield ctx.resource(RECORD, attrs["id"] or "", attrs)
