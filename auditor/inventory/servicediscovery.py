"""Cloud Map (service discovery): private DNS namespaces and their services, as ECS Service Connect and
service registries use them.

Calls per region: ListNamespaces and ListServices (paginated) once; GetNamespace / GetService and
ListTagsForResource for the ones a state holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.catalog import Detail, Listing, TypeSpec
from auditor.inventory.base import moto_lacks, register, with_tags

SERVICE = "servicediscovery"
_TAGS = Detail("ListTagsForResource", lambda item: {"ResourceARN": item["Arn"]}, "Tags")


def namespace_attributes(namespace: Mapping[str, Any], details: Mapping[str, Any]) -> dict[str, Any]:
    """ListNamespaces item (+ GetNamespace and tags when read) -> aws_service_discovery_private_dns_namespace."""
    detail = details.get("GetNamespace") or namespace
    dns = ((detail.get("Properties") or {}).get("DnsProperties") or {})
    attrs: dict[str, Any] = {"id": namespace["Id"], "arn": namespace.get("Arn", ""), "name": namespace.get("Name", ""),
                             "description": detail.get("Description", ""), "hosted_zone": dns.get("HostedZoneId", "")}
    return with_tags(attrs, details)


NAMESPACE = TypeSpec(
    type="aws_service_discovery_private_dns_namespace",
    tags_per_resource=moto_lacks("servicediscovery:namespace"),
    service=SERVICE,
    compared=("name", "description"),
    tags=True,
    optional_live=("tags",),
    ignored={"id": "the namespace id", "arn": "derived from the id", "hosted_zone": "computed",
             "vpc": "AWS does not report a namespace's VPC (it is the hosted zone's business)"},
    notes="ListNamespaces (type DNS_PRIVATE, paginated) once; GetNamespace and ListTagsForResource for "
          "namespaces a state holds.",
    listing=Listing("ListNamespaces", "Namespaces", "Id", params={"Filters": [
        {"Name": "TYPE", "Values": ["DNS_PRIVATE"], "Condition": "EQ"}]},
        convert=lambda namespace, details, _: namespace_attributes(namespace, details),
        details=(Detail("GetNamespace", lambda ns: {"Id": ns["Id"]}, "Namespace"), _TAGS)),
)
collect_namespaces = register(NAMESPACE)


def service_attributes(service: Mapping[str, Any], details: Mapping[str, Any]) -> dict[str, Any]:
    """ListServices item (+ GetService and tags when read) -> aws_service_discovery_service attributes."""
    detail = details.get("GetService")
    attrs: dict[str, Any] = {"id": service["Id"], "arn": service.get("Arn", ""), "name": service.get("Name", "")}
    if detail is not None:
        dns = detail.get("DnsConfig") or {}
        health = detail.get("HealthCheckConfig") or {}
        custom = detail.get("HealthCheckCustomConfig")
        attrs.update({
            "description": detail.get("Description", ""),
            "namespace_id": detail.get("NamespaceId", ""),
            "type": detail.get("Type", ""),
            "dns_config": [{"namespace_id": dns.get("NamespaceId", detail.get("NamespaceId", "")),
                            "routing_policy": dns.get("RoutingPolicy", ""),
                            "dns_records": [{"ttl": r.get("TTL", 0), "type": r.get("Type", "")}
                                            for r in dns.get("DnsRecords") or []]}] if dns else [],
            "health_check_config": [{"failure_threshold": health.get("FailureThreshold", 0),
                                     "resource_path": health.get("ResourcePath", ""),
                                     "type": health.get("Type", "")}] if health else [],
            "health_check_custom_config": [{"failure_threshold": custom.get("FailureThreshold", 0)}]
            if custom is not None else [],
        })
    return with_tags(attrs, details)


DISCOVERY_SERVICE = TypeSpec(
    type="aws_service_discovery_service",
    tags_per_resource=moto_lacks("servicediscovery:service"),
    service=SERVICE,
    compared=("name", "description", "namespace_id", "dns_config", "health_check_config",
              "health_check_custom_config"),
    optional_live=("description", "namespace_id", "dns_config", "health_check_config",
                   "health_check_custom_config", "tags"),
    tags=True,
    ignored={"id": "the service id", "arn": "derived from the id", "force_destroy": "provider-only delete option",
             "type": "set by AWS from the namespace (HTTP or DNS_HTTP)"},
    notes="ListServices (paginated) once; GetService and ListTagsForResource for services a state holds.",
    listing=Listing("ListServices", "Services", "Id",
                    convert=lambda service, details, _: service_attributes(service, details),
                    details=(Detail("GetService", lambda s: {"Id": s["Id"]}, "Service"), _TAGS)),
)
collect_services = register(DISCOVERY_SERVICE)
