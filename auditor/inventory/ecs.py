"""ECS: clusters, services and task definitions.

Calls per region: ListClusters (paginated) once, shared by clusters and services; DescribeClusters
per 100 clusters (SETTINGS, TAGS, CONFIGURATIONS); ListServices (paginated) per cluster and
DescribeServices per 10 services (TAGS); ListTaskDefinitionFamilies(ACTIVE) (paginated) once; for
the revisions states hold, ListTaskDefinitions(ACTIVE) (paginated) plus the Resource Groups Tagging
API's GetResources per 100 held revisions, or DescribeTaskDefinition per held revision where that
is cheaper (AWS has no batch describe; see `_listed_revisions`).

A task definition's Terraform id is its family, so the live resource of a family is its latest
ACTIVE revision: a revision registered outside Terraform shows as `revision`, `arn` and
`container_definitions` changes on the family. Families no state holds are listed with `family`
and `_unmanaged_only` so they can be reported unmanaged without a describe call each.

Fields AWS leaves out of an answer (moto's DescribeServices has no `deploymentConfiguration`,
`healthCheckGracePeriodSeconds` or `enableExecuteCommand`) leave the attribute out of the live
resource (`optional_live`) instead of becoming a drift to null.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import botocore.exceptions

from auditor.aws import is_access_denied
from auditor.catalog import TypeSpec
from auditor.inventory.base import CollectContext, chunks, collector, paginate, tags_dict
from auditor.models import Resource
from auditor.state.redact import redact_container_environment

log = logging.getLogger(__name__)

_ECS_INCLUDE_CLUSTER = ["SETTINGS", "TAGS", "CONFIGURATIONS"]
_GONE = frozenset({"INACTIVE", "DELETE_IN_PROGRESS"})
LIST_INSTEAD_OF_DESCRIBE = 3
"""Held revisions from which listing them (and reading their tags in bulk) beats one describe each."""


def _ecs_tags(tags: Sequence[Mapping[str, Any]] | None) -> dict[str, str]:
    return tags_dict(tags, "key", "value")


def _cluster_arns(ctx: CollectContext) -> list[str]:
    return ctx.shared("ecs.cluster_arns",
                      lambda: list(paginate(ctx.client("ecs"), "list_clusters", "clusterArns")))


# --- aws_ecs_cluster ------------------------------------------------------------------------------

CLUSTER = TypeSpec(
    type="aws_ecs_cluster",
    calls=("ListClusters", "DescribeClusters"),
    service="ecs",
    compared=("name", "setting", "configuration", "service_connect_defaults"),
    set_paths=("setting",),
    optional_live=("configuration",),
    tags=True,
    ignored={"arn": "the import id", "id": "the import id"},
    notes="`configuration` is only in DescribeClusters' answer when set; absent, the provider keeps "
          "its state value, and so does the diff (optional_live).",
)


def cluster_attributes(cluster: Mapping[str, Any]) -> dict[str, Any]:
    """A DescribeClusters entry in aws_ecs_cluster state shape."""
    arn = cluster["clusterArn"]
    defaults = cluster.get("serviceConnectDefaults") or {}
    attrs: dict[str, Any] = {
        "id": arn,
        "arn": arn,
        "name": cluster.get("clusterName", ""),
        "setting": sorted(({"name": s.get("name", ""), "value": s.get("value", "")}
                           for s in cluster.get("settings") or []), key=lambda s: s["name"]),
        "service_connect_defaults": ([{"namespace": defaults["namespace"]}]
                                     if defaults.get("namespace") else []),
    }
    if cluster.get("configuration"):
        attrs["configuration"] = [_cluster_configuration(cluster["configuration"])]
    tags = _ecs_tags(cluster.get("tags"))
    return {**attrs, "tags": tags, "tags_all": dict(tags)}


def _cluster_configuration(config: Mapping[str, Any]) -> dict[str, Any]:
    execute = config.get("executeCommandConfiguration")
    storage = config.get("managedStorageConfiguration")
    out: dict[str, Any] = {"execute_command_configuration": [], "managed_storage_configuration": []}
    if execute:
        logs = execute.get("logConfiguration")
        out["execute_command_configuration"] = [{
            "kms_key_id": execute.get("kmsKeyId", ""),
            "logging": execute.get("logging", ""),
            "log_configuration": [{
                "cloud_watch_encryption_enabled": bool(logs.get("cloudWatchEncryptionEnabled", False)),
                "cloud_watch_log_group_name": logs.get("cloudWatchLogGroupName", ""),
                "s3_bucket_encryption_enabled": bool(logs.get("s3EncryptionEnabled", False)),
                "s3_bucket_name": logs.get("s3BucketName", ""),
                "s3_key_prefix": logs.get("s3KeyPrefix", ""),
            }] if logs else [],
        }]
    if storage:
        out["managed_storage_configuration"] = [{
            "fargate_ephemeral_storage_kms_key_id": storage.get("fargateEphemeralStorageKmsKeyId", ""),
            "kms_key_id": storage.get("kmsKeyId", ""),
        }]
    return out


@collector(CLUSTER)
def collect_clusters(ctx: CollectContext) -> Iterator[Resource]:
    ecs = ctx.client("ecs")
    for batch in chunks(_cluster_arns(ctx), 100):
        answer = ecs.describe_clusters(clusters=batch, include=_ECS_INCLUDE_CLUSTER)
        for cluster in answer.get("clusters", []):
            if cluster.get("status") == "INACTIVE":
                continue
            yield ctx.resource(CLUSTER, cluster["clusterArn"], cluster_attributes(cluster))


# --- aws_ecs_service ------------------------------------------------------------------------------


def task_definition_ref(value: Any) -> Any:
    """ARN or `family:revision` -> `family:revision` (the provider stores whichever was configured)."""
    if isinstance(value, str) and value.startswith("arn:") and ":task-definition/" in value:
        return value.split(":task-definition/", 1)[1]
    return value


SERVICE = TypeSpec(
    type="aws_ecs_service",
    calls=("ListClusters", "ListServices", "DescribeServices"),
    service="ecs",
    compared=("name", "cluster", "task_definition", "desired_count", "launch_type", "platform_version",
              "scheduling_strategy", "propagate_tags", "enable_ecs_managed_tags", "enable_execute_command",
              "health_check_grace_period_seconds", "deployment_maximum_percent",
              "deployment_minimum_healthy_percent", "deployment_circuit_breaker", "alarms",
              "deployment_controller", "network_configuration", "load_balancer", "capacity_provider_strategy",
              "ordered_placement_strategy", "placement_constraints", "service_registries",
              "availability_zone_rebalancing"),
    set_paths=("load_balancer", "capacity_provider_strategy", "placement_constraints",
               "network_configuration.*.subnets", "network_configuration.*.security_groups",
               "alarms.*.alarm_names"),
    optional_live=("desired_count", "enable_ecs_managed_tags", "enable_execute_command",
                   "health_check_grace_period_seconds", "deployment_maximum_percent",
                   "deployment_minimum_healthy_percent", "deployment_circuit_breaker", "alarms",
                   "deployment_controller", "availability_zone_rebalancing"),
    normalizers={"task_definition": task_definition_ref},
    tags=True,
    ignored={
        "id": "the import id (service ARN)",
        "iam_role": "computed: AWS reports the service-linked role when none was given",
        "triggers": "provider-only", "force_new_deployment": "provider-only", "force_delete": "provider-only",
        "wait_for_steady_state": "provider-only", "timeouts": "provider-only",
        "service_connect_configuration": "lives on the primary deployment, not the service; not compared",
        "volume_configuration": "lives on the primary deployment, not the service; not compared",
        "vpc_lattice_configurations": "lives on the primary deployment, not the service; not compared",
    },
    notes="task_definition is compared as family:revision (the provider keeps the ARN or family:revision, "
          "whichever was configured). desired_count is left out for DAEMON services.",
)


def service_attributes(service: Mapping[str, Any]) -> dict[str, Any]:
    """A DescribeServices entry in aws_ecs_service state shape."""
    arn = service["serviceArn"]
    network = (service.get("networkConfiguration") or {}).get("awsvpcConfiguration")
    attrs: dict[str, Any] = {
        "id": arn,
        "name": service.get("serviceName", ""),
        "cluster": service.get("clusterArn", ""),
        "task_definition": service.get("taskDefinition", ""),
        "launch_type": service.get("launchType", ""),
        "platform_version": service.get("platformVersion", ""),
        "scheduling_strategy": service.get("schedulingStrategy", ""),
        "propagate_tags": service.get("propagateTags", ""),
        "iam_role": service.get("roleArn", ""),
        "network_configuration": [{
            "subnets": sorted(network.get("subnets") or []),
            "security_groups": sorted(network.get("securityGroups") or []),
            "assign_public_ip": network.get("assignPublicIp") == "ENABLED",
        }] if network else [],
        "load_balancer": [{
            "target_group_arn": lb.get("targetGroupArn", ""),
            "elb_name": lb.get("loadBalancerName", ""),
            "container_name": lb.get("containerName", ""),
            "container_port": lb.get("containerPort"),
        } for lb in service.get("loadBalancers") or []],
        "capacity_provider_strategy": [{
            "capacity_provider": s.get("capacityProvider", ""),
            "weight": s.get("weight", 0),
            "base": s.get("base", 0),
        } for s in service.get("capacityProviderStrategy") or []],
        "ordered_placement_strategy": [{"type": s.get("type", ""), "field": s.get("field", "")}
                                       for s in service.get("placementStrategy") or []],
        "placement_constraints": [{"type": c.get("type", ""), "expression": c.get("expression", "")}
                                  for c in service.get("placementConstraints") or []],
        "service_registries": [{
            "registry_arn": r.get("registryArn", ""), "port": r.get("port"),
            "container_name": r.get("containerName", ""), "container_port": r.get("containerPort"),
        } for r in service.get("serviceRegistries") or []],
    }
    if service.get("schedulingStrategy") != "DAEMON" and "desiredCount" in service:
        attrs["desired_count"] = service["desiredCount"]
    for key, name in (("enableECSManagedTags", "enable_ecs_managed_tags"),
                      ("enableExecuteCommand", "enable_execute_command"),
                      ("healthCheckGracePeriodSeconds", "health_check_grace_period_seconds"),
                      ("availabilityZoneRebalancing", "availability_zone_rebalancing")):
        if key in service:
            attrs[name] = service[key]
    if service.get("deploymentController"):
        attrs["deployment_controller"] = [{"type": service["deploymentController"].get("type", "")}]
    attrs.update(_deployment_configuration(service.get("deploymentConfiguration")))
    tags = _ecs_tags(service.get("tags"))
    return {**attrs, "tags": tags, "tags_all": dict(tags)}


def _deployment_configuration(config: Mapping[str, Any] | None) -> dict[str, Any]:
    if not config:
        return {}
    breaker = config.get("deploymentCircuitBreaker")
    alarms = config.get("alarms")
    out: dict[str, Any] = {
        "deployment_circuit_breaker": ([{"enable": bool(breaker.get("enable")),
                                         "rollback": bool(breaker.get("rollback"))}] if breaker else []),
        "alarms": ([{"alarm_names": sorted(alarms.get("alarmNames") or []),
                     "enable": bool(alarms.get("enable")),
                     "rollback": bool(alarms.get("rollback"))}] if alarms else []),
    }
    for key, name in (("maximumPercent", "deployment_maximum_percent"),
                      ("minimumHealthyPercent", "deployment_minimum_healthy_percent")):
        if key in config:
            out[name] = config[key]
    return out


@collector(SERVICE)
def collect_services(ctx: CollectContext) -> Iterator[Resource]:
    ecs = ctx.client("ecs")
    for cluster_arn in _cluster_arns(ctx):
        arns = list(paginate(ecs, "list_services", "serviceArns", cluster=cluster_arn))
        for batch in chunks(arns, 10):
            answer = ecs.describe_services(cluster=cluster_arn, services=batch, include=["TAGS"])
            for service in answer.get("services", []):
                if service.get("status") == "INACTIVE":
                    continue
                yield ctx.resource(SERVICE, service["serviceArn"], service_attributes(service))


# --- aws_ecs_task_definition ----------------------------------------------------------------------


def container_definitions_json(containers: Sequence[Mapping[str, Any]]) -> str:
    """DescribeTaskDefinition's containerDefinitions as the provider stores them.

    The provider serializes AWS's answer with the SDK's serializer: members in name order, unset
    fields and a zero `cpu` (a plain integer there) left out, empty lists such as `environment`,
    `mountPoints` and `volumesFrom` kept.
    """
    out = []
    for container in containers:
        item = {k: v for k, v in container.items() if v is not None}
        if not item.get("cpu"):
            item.pop("cpu", None)
        out.append(item)
    return json.dumps(out, sort_keys=True, separators=(",", ":"))


_HEALTH_CHECK_DEFAULTS = {"interval": 30, "retries": 3, "timeout": 5}


def normalize_container_definitions(value: Any) -> Any:
    """Reduce container definitions the way the provider's equivalence check does (both sides).

    Containers sorted by name, `environment` and `secrets` sorted by name, `essential` defaulting to
    true, health-check interval/retries/timeout defaulting to 30/3/5, `tcp` port protocol and zero
    host ports dropped, zero `cpu` dropped. A JSON string gives a JSON string, a list a list.
    """
    as_text = isinstance(value, str)
    try:
        parsed = json.loads(value) if as_text else value
    except ValueError:
        return value
    if not isinstance(parsed, list):
        return value
    reduced = sorted((_reduce_container(c) for c in parsed if isinstance(c, Mapping)),
                     key=_by_name)
    return json.dumps(reduced, sort_keys=True, separators=(",", ":")) if as_text else reduced


def _reduce_container(container: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in container.items() if v is not None and v != []}
    if not out.get("cpu"):
        out.pop("cpu", None)
    out.setdefault("essential", True)
    for key in ("environment", "secrets"):
        if isinstance(out.get(key), list):
            out[key] = sorted(out[key], key=_by_name)
    if isinstance(out.get("portMappings"), list):
        out["portMappings"] = [_reduce_port(p) for p in out["portMappings"] if isinstance(p, Mapping)]
    if isinstance(out.get("healthCheck"), Mapping):
        out["healthCheck"] = {**_HEALTH_CHECK_DEFAULTS,
                              **{k: v for k, v in out["healthCheck"].items() if v is not None}}
    return out


def _by_name(item: Any) -> str:
    return str(item.get("name", "")) if isinstance(item, Mapping) else ""


def _reduce_port(port: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(port)
    if out.get("protocol") == "tcp":
        del out["protocol"]
    if not out.get("hostPort"):
        out.pop("hostPort", None)
    return out


TASK_DEFINITION = TypeSpec(
    type="aws_ecs_task_definition", partially_read=True,
    calls=("ListTaskDefinitionFamilies", "ListTaskDefinitions", "DescribeTaskDefinition",
           "resourcegroupstaggingapi:GetResources"),
    service="ecs",
    compared=("family", "revision", "arn", "container_definitions", "cpu", "memory", "network_mode",
              "execution_role_arn", "task_role_arn", "requires_compatibilities", "ipc_mode", "pid_mode",
              "volume", "placement_constraints", "runtime_platform", "proxy_configuration",
              "ephemeral_storage", "inference_accelerator", "enable_fault_injection"),
    set_paths=("requires_compatibilities", "volume", "placement_constraints", "inference_accelerator"),
    json_attributes=("container_definitions",),
    optional_live=("enable_fault_injection",),
    normalizers={"container_definitions": normalize_container_definitions},
    tags=True,
    ignored={
        "id": "the import id (family)",
        "arn_without_revision": "derived from the ARN",
        "skip_destroy": "provider-only", "track_latest": "provider-only",
    },
    notes="The live resource of a family is the revision the state holds, as Terraform refreshes it: a "
          "revision deployed outside Terraform shows on aws_ecs_service.task_definition; a deregistered "
          "(INACTIVE) state revision is missing. A registered revision cannot be edited, so once "
          "ListTaskDefinitions shows the held revision ACTIVE its content is the registered one (the "
          "state's, `_content_as_registered`) and only its tags are read, in bulk (tag:GetResources); "
          "with fewer than 3 held revisions, more ACTIVE revisions than half as many pages, or no "
          "tag:GetResources permission, each held revision is described instead. Families no state "
          "holds carry `_unmanaged_only`.",
)


def task_definition_attributes(task: Mapping[str, Any], tags: Mapping[str, str]) -> dict[str, Any]:
    """A DescribeTaskDefinition answer in aws_ecs_task_definition state shape."""
    arn = task["taskDefinitionArn"]
    runtime = task.get("runtimePlatform") or {}
    proxy = task.get("proxyConfiguration")
    storage = task.get("ephemeralStorage")
    attrs: dict[str, Any] = {
        "id": task["family"],
        "family": task["family"],
        "arn": arn,
        "arn_without_revision": arn.rsplit(":", 1)[0],
        "revision": task.get("revision"),
        # redacted where read, exactly as the state side is: plaintext environment secrets never travel
        "container_definitions": redact_container_environment(
            container_definitions_json(task.get("containerDefinitions") or [])),
        "cpu": task.get("cpu", ""),
        "memory": task.get("memory", ""),
        "network_mode": task.get("networkMode", ""),
        "execution_role_arn": task.get("executionRoleArn", ""),
        "task_role_arn": task.get("taskRoleArn", ""),
        "ipc_mode": task.get("ipcMode", ""),
        "pid_mode": task.get("pidMode", ""),
        "requires_compatibilities": sorted(task.get("requiresCompatibilities") or []),
        "volume": [_volume(v) for v in task.get("volumes") or []],
        "placement_constraints": [{"type": c.get("type", ""), "expression": c.get("expression", "")}
                                  for c in task.get("placementConstraints") or []],
        "runtime_platform": ([{"cpu_architecture": runtime.get("cpuArchitecture", ""),
                               "operating_system_family": runtime.get("operatingSystemFamily", "")}]
                             if runtime else []),
        "proxy_configuration": [{
            "container_name": proxy.get("containerName", ""),
            "type": proxy.get("type", ""),
            "properties": {p["name"]: p.get("value", "") for p in proxy.get("properties") or []},
        }] if proxy else [],
        "ephemeral_storage": [{"size_in_gib": storage["sizeInGiB"]}] if storage else [],
        "inference_accelerator": [{"device_name": a.get("deviceName", ""),
                                   "device_type": a.get("deviceType", "")}
                                  for a in task.get("inferenceAccelerators") or []],
    }
    if "enableFaultInjection" in task:
        attrs["enable_fault_injection"] = bool(task["enableFaultInjection"])
    return {**attrs, "tags": dict(tags), "tags_all": dict(tags)}


def _volume(volume: Mapping[str, Any]) -> dict[str, Any]:
    docker = volume.get("dockerVolumeConfiguration")
    efs = volume.get("efsVolumeConfiguration")
    fsx = volume.get("fsxWindowsFileServerVolumeConfiguration")
    efs_auth = (efs or {}).get("authorizationConfig")
    fsx_auth = (fsx or {}).get("authorizationConfig")
    return {
        "name": volume.get("name", ""),
        "host_path": (volume.get("host") or {}).get("sourcePath", ""),
        "configure_at_launch": bool(volume.get("configuredAtLaunch", False)),
        "docker_volume_configuration": [{
            "autoprovision": bool(docker.get("autoprovision", False)),
            "driver": docker.get("driver", ""),
            "driver_opts": dict(docker.get("driverOpts") or {}),
            "labels": dict(docker.get("labels") or {}),
            "scope": docker.get("scope", ""),
        }] if docker else [],
        "efs_volume_configuration": [{
            "file_system_id": efs.get("fileSystemId", ""),
            "root_directory": efs.get("rootDirectory", ""),
            "transit_encryption": efs.get("transitEncryption", ""),
            "transit_encryption_port": efs.get("transitEncryptionPort", 0),
            "authorization_config": [{"access_point_id": efs_auth.get("accessPointId", ""),
                                      "iam": efs_auth.get("iam", "")}] if efs_auth else [],
        }] if efs else [],
        "fsx_windows_file_server_volume_configuration": [{
            "file_system_id": fsx.get("fileSystemId", ""),
            "root_directory": fsx.get("rootDirectory", ""),
            "authorization_config": [{"credentials_parameter": fsx_auth.get("credentialsParameter", ""),
                                      "domain": fsx_auth.get("domain", "")}] if fsx_auth else [],
        }] if fsx else [],
    }


@collector(TASK_DEFINITION)
def collect_task_definitions(ctx: CollectContext) -> Iterator[Resource]:
    ecs = ctx.client("ecs")
    wanted = ctx.wanted.get(TASK_DEFINITION.type, frozenset())
    families = list(paginate(ecs, "list_task_definition_families", "families", status="ACTIVE"))
    # Terraform refreshes the revision its state holds, not the family's latest: a revision
    # registered and deployed outside Terraform shows on the service's task_definition.
    held = {f: ctx.state_attribute(TASK_DEFINITION.type, f, "arn") for f in families if f in wanted}
    revisions = _listed_revisions(ctx, [arn for arn in held.values() if isinstance(arn, str) and arn])

    def read(family: str) -> dict[str, Any] | None:
        """The held revision of a family in state shape, None when it is no longer ACTIVE (missing)."""
        revision = held[family]
        if revisions is not None and isinstance(revision, str) and revision:
            if revision not in revisions.active:
                return None
            return _registered_revision(ctx, family, revisions.tags.get(revision, {}))
        answer = ecs.describe_task_definition(taskDefinition=revision or family, include=["TAGS"])
        if answer["taskDefinition"].get("status") in _GONE:
            return None
        return task_definition_attributes(answer["taskDefinition"], _ecs_tags(answer.get("tags")))

    read_back = dict(zip(held, ctx.each(read, list(held)), strict=True))
    for family in families:
        attrs = read_back[family] if family in held else {"id": family, "family": family, "_unmanaged_only": True}
        if attrs is not None:
            yield ctx.resource(TASK_DEFINITION, family, attrs)


@dataclass(frozen=True, slots=True)
class _Revisions:
    active: frozenset[str]  # every ACTIVE revision ARN of the region
    tags: Mapping[str, Mapping[str, str]]  # the held revisions' tags (a revision without tags is absent)


def _listed_revisions(ctx: CollectContext, held: Sequence[str]) -> _Revisions | None:
    """The ACTIVE revisions (ListTaskDefinitions) and the tags of the `held` ones (Resource Groups
    Tagging API, 100 ARNs a call), or None when that would cost more calls than describing each
    held revision: fewer than LIST_INSTEAD_OF_DESCRIBE held revisions, a region whose ACTIVE revisions
    fill more pages than half the held count, or no permission for the tagging API."""
    if len(held) < LIST_INSTEAD_OF_DESCRIBE:
        return None
    pages = ctx.client("ecs").get_paginator("list_task_definitions").paginate(
        status="ACTIVE", PaginationConfig={"PageSize": 100})
    active: set[str] = set()
    for number, page in enumerate(pages, start=1):
        active.update(page.get("taskDefinitionArns") or [])
        if page.get("nextToken") and number >= len(held) // 2:
            return None
    tagging = ctx.client("resourcegroupstaggingapi")
    tags: dict[str, dict[str, str]] = {}
    try:
        for batch in chunks(sorted(set(held) & active), 100):
            for mapping in tagging.get_resources(ResourceARNList=batch).get("ResourceTagMappingList") or []:
                tags[mapping["ResourceARN"]] = tags_dict(mapping.get("Tags"))
    except botocore.exceptions.ClientError as exc:
        if is_access_denied(exc):
            log.info("tag:GetResources denied; describing each task definition revision instead")
            return None
        raise
    return _Revisions(frozenset(active), tags)


def _registered_revision(ctx: CollectContext, family: str, tags: Mapping[str, str]) -> dict[str, Any]:
    """A held revision that is still ACTIVE: a registered revision never changes (AWS has no call
    that edits one), so its content is what Terraform registered and stored, and only its tags
    are read live."""
    held = ctx.state_attributes(TASK_DEFINITION.type, family)
    content = {name: held[name] for name in (*TASK_DEFINITION.compared, "id", "arn_without_revision")
               if name in held}
    return {**content, "tags": dict(tags), "tags_all": dict(tags), "_content_as_registered": True}
