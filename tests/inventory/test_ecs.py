"""ECS collectors: clusters, services, task definitions (moto in-process, Stubber for paging)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import botocore.exceptions
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from auditor.aws import Aws, AwsSettings
from auditor.inventory import ecs as ecsmod
from auditor.inventory.base import CollectContext
from auditor.inventory.runner import collect_inventory
from auditor.models import ObservationStatus
from tests.inventory._edge import (
    ACCOUNT,
    PROVIDER_ATTRIBUTES,
    REGION,
    changes,
    collect,
    compared,
    covered_names,
)

IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/web@sha256:{'ab' * 32}"
CONTAINER: dict[str, Any] = {
    "name": "web", "image": IMAGE, "essential": True,
    "portMappings": [{"containerPort": 3000, "hostPort": 3000, "protocol": "tcp"}],
    "environment": [{"name": "MODE", "value": "prod"}, {"name": "LEVEL", "value": "info"}],
    "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/web"}},
    "readonlyRootFilesystem": True, "privileged": False,
}


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        yield Aws(AwsSettings(region=REGION))


def _register(aws: Aws, family: str, container: dict[str, Any] | None = None,
              **kwargs: Any) -> dict[str, Any]:
    return aws.client("ecs", REGION).register_task_definition(
        family=family, containerDefinitions=[container or CONTAINER], networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"], cpu="256", memory="512", **kwargs)["taskDefinition"]


@pytest.mark.parametrize("spec", [ecsmod.CLUSTER, ecsmod.SERVICE, ecsmod.TASK_DEFINITION],
                         ids=lambda s: s.type)
def test_spec_accounts_for_every_provider_attribute(spec: Any) -> None:
    assert covered_names(spec) == set(PROVIDER_ATTRIBUTES[spec.type].split())
    assert not set(spec.compared) & set(spec.ignored)
    assert set(spec.optional_live) <= set(spec.compared)
    assert set(spec.normalizers) <= set(spec.compared)


# --- aws_ecs_cluster --------------------------------------------------------------------------------


def test_cluster_in_provider_shape(aws: Aws) -> None:
    arn = aws.client("ecs", REGION).create_cluster(
        clusterName="main", settings=[{"name": "containerInsights", "value": "enabled"}],
        tags=[{"key": "Env", "value": "prod"}])["cluster"]["clusterArn"]
    live = collect(aws, ecsmod.collect_clusters)[arn].attributes
    assert compared(ecsmod.CLUSTER, live) == {
        "name": "main", "setting": [{"name": "containerInsights", "value": "enabled"}],
        "service_connect_defaults": []}  # no configuration in moto's answer: left out
    assert live["tags"] == live["tags_all"] == {"Env": "prod"}
    assert live["arn"] == live["id"] == arn


def test_cluster_configuration_block() -> None:
    attrs = ecsmod.cluster_attributes({
        "clusterArn": "arn:c", "clusterName": "c", "settings": [],
        "configuration": {"executeCommandConfiguration": {
            "kmsKeyId": "k", "logging": "OVERRIDE",
            "logConfiguration": {"cloudWatchLogGroupName": "/exec", "cloudWatchEncryptionEnabled": True}}},
        "serviceConnectDefaults": {"namespace": "arn:ns"}})
    assert attrs["configuration"] == [{
        "execute_command_configuration": [{"kms_key_id": "k", "logging": "OVERRIDE", "log_configuration": [{
            "cloud_watch_encryption_enabled": True, "cloud_watch_log_group_name": "/exec",
            "s3_bucket_encryption_enabled": False, "s3_bucket_name": "", "s3_key_prefix": ""}]}],
        "managed_storage_configuration": []}]
    assert attrs["service_connect_defaults"] == [{"namespace": "arn:ns"}]


# --- aws_ecs_service --------------------------------------------------------------------------------


def test_service_in_provider_shape(aws: Aws) -> None:
    """On the embedded AWS, which answers DescribeServices with every setting CreateService was given (stock
    moto drops deploymentConfiguration and the grace period); the extension is undone on exit."""
    from moto.ecs.responses import EC2ContainerServiceResponse

    from auditor.demo.motoserver import reference_stack_moto

    before = EC2ContainerServiceResponse.create_service
    ecs, ec2 = aws.client("ecs", REGION), aws.client("ec2", REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24")["Subnet"]["SubnetId"] for i in (1, 2)]
    group = ec2.create_security_group(GroupName="svc", Description="svc", VpcId=vpc)["GroupId"]
    cluster = ecs.create_cluster(clusterName="main")["cluster"]["clusterArn"]
    task = _register(aws, "web")
    tg = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/blue/0123456789abcdef"
    with reference_stack_moto():
        arn = ecs.create_service(
            cluster=cluster, serviceName="web", taskDefinition=task["taskDefinitionArn"], desiredCount=2,
            launchType="FARGATE", networkConfiguration={"awsvpcConfiguration": {
                "subnets": subnets[::-1], "securityGroups": [group], "assignPublicIp": "DISABLED"}},
            loadBalancers=[{"targetGroupArn": tg, "containerName": "web", "containerPort": 3000}],
            deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True},
                                     "maximumPercent": 200, "minimumHealthyPercent": 100},
            healthCheckGracePeriodSeconds=60, enableECSManagedTags=True, availabilityZoneRebalancing="ENABLED",
            tags=[{"key": "Env", "value": "prod"}])["service"]["serviceArn"]
    assert EC2ContainerServiceResponse.create_service is before

    live = collect(aws, ecsmod.collect_services)[arn].attributes
    assert compared(ecsmod.SERVICE, live) == {
        "name": "web", "cluster": cluster, "task_definition": task["taskDefinitionArn"], "desired_count": 2,
        "launch_type": "FARGATE", "platform_version": "", "scheduling_strategy": "REPLICA",
        "propagate_tags": "NONE", "deployment_controller": [{"type": "ECS"}],
        "network_configuration": [{"subnets": sorted(subnets), "security_groups": [group],
                                   "assign_public_ip": False}],
        "load_balancer": [{"target_group_arn": tg, "elb_name": "", "container_name": "web",
                           "container_port": 3000}],
        "capacity_provider_strategy": [], "ordered_placement_strategy": [], "placement_constraints": [],
        "service_registries": [], "alarms": [], "deployment_circuit_breaker": [{"enable": True, "rollback": True}],
        "deployment_maximum_percent": 200, "deployment_minimum_healthy_percent": 100,
        "health_check_grace_period_seconds": 60, "enable_ecs_managed_tags": True,
        "availability_zone_rebalancing": "ENABLED",
    }
    assert changes(ecsmod.SERVICE, {**live, "enable_execute_command": False}, live) == []
    assert live["tags"] == {"Env": "prod"}


def test_service_fields_real_aws_returns() -> None:
    attrs = ecsmod.service_attributes({
        "serviceArn": "arn:aws:ecs:r:1:service/c/web", "serviceName": "web", "clusterArn": "arn:c",
        "taskDefinition": "arn:aws:ecs:r:1:task-definition/web:7", "desiredCount": 3, "launchType": "FARGATE",
        "platformVersion": "LATEST", "schedulingStrategy": "REPLICA", "propagateTags": "SERVICE",
        "enableECSManagedTags": True, "enableExecuteCommand": False, "healthCheckGracePeriodSeconds": 60,
        "availabilityZoneRebalancing": "ENABLED", "roleArn": "arn:aws:iam::1:role/aws-service-role/x",
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": {"enable": True, "rollback": False}, "maximumPercent": 200,
            "minimumHealthyPercent": 50,
            "alarms": {"alarmNames": ["b", "a"], "enable": True, "rollback": True}},
        "placementConstraints": [{"type": "distinctInstance"}],
        "serviceRegistries": [{"registryArn": "arn:sd", "containerName": "web", "containerPort": 3000}],
        "tags": [{"key": "Team", "value": "edge"}],
    })
    assert {k: attrs[k] for k in ("deployment_circuit_breaker", "alarms", "deployment_maximum_percent",
                                  "deployment_minimum_healthy_percent", "health_check_grace_period_seconds",
                                  "enable_ecs_managed_tags", "availability_zone_rebalancing",
                                  "placement_constraints", "service_registries")} == {
        "deployment_circuit_breaker": [{"enable": True, "rollback": False}],
        "alarms": [{"alarm_names": ["a", "b"], "enable": True, "rollback": True}],
        "deployment_maximum_percent": 200, "deployment_minimum_healthy_percent": 50,
        "health_check_grace_period_seconds": 60, "enable_ecs_managed_tags": True,
        "availability_zone_rebalancing": "ENABLED",
        "placement_constraints": [{"type": "distinctInstance", "expression": ""}],
        "service_registries": [{"registry_arn": "arn:sd", "port": None, "container_name": "web",
                                "container_port": 3000}],
    }
    daemon = ecsmod.service_attributes({"serviceArn": "arn:s", "schedulingStrategy": "DAEMON",
                                        "desiredCount": 4})
    assert "desired_count" not in daemon


def test_task_definition_reference_compares_as_family_revision() -> None:
    ref = ecsmod.task_definition_ref
    assert ref("arn:aws:ecs:ap-south-1:123456789012:task-definition/web:7") == "web:7"
    assert ref("web:7") == "web:7" and ref(ref("web:7")) == "web:7"
    state = {"task_definition": "web:7"}
    live = {"task_definition": "arn:aws:ecs:ap-south-1:123456789012:task-definition/web:7"}
    assert changes(ecsmod.SERVICE, state, live) == []
    newer = {"task_definition": live["task_definition"].replace(":7", ":8")}
    [change] = changes(ecsmod.SERVICE, state, newer)
    assert (change.path, change.state, change.live) == ("task_definition", "web:7", "web:8")


# --- aws_ecs_task_definition ------------------------------------------------------------------------


def test_task_definition_in_provider_shape(aws: Aws) -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/exec"
    task = _register(aws, "web", executionRoleArn=role, taskRoleArn=f"arn:aws:iam::{ACCOUNT}:role/task",
                     tags=[{"key": "Env", "value": "prod"}])
    found = collect(aws, ecsmod.collect_task_definitions, {"aws_ecs_task_definition": ["web"]})
    live = found["web"].attributes
    assert compared(ecsmod.TASK_DEFINITION, live) == {
        "family": "web", "revision": 1, "arn": task["taskDefinitionArn"],
        "container_definitions": json.dumps([{**CONTAINER, "mountPoints": [], "volumesFrom": []}],
                                             sort_keys=True, separators=(",", ":")),
        "cpu": "256", "memory": "512", "network_mode": "awsvpc", "execution_role_arn": role,
        "task_role_arn": f"arn:aws:iam::{ACCOUNT}:role/task", "requires_compatibilities": ["FARGATE"],
        "ipc_mode": "", "pid_mode": "", "volume": [], "placement_constraints": [], "runtime_platform": [],
        "proxy_configuration": [], "ephemeral_storage": [], "inference_accelerator": [],
    }
    assert '"cpu"' not in live["container_definitions"]  # AWS answers cpu 0; the provider leaves it out
    assert live["id"] == "web" and live["arn_without_revision"].endswith(":task-definition/web")
    assert live["tags"] == {"Env": "prod"}


def test_families_no_state_holds_are_listed_without_a_describe(aws: Aws) -> None:
    _register(aws, "web")
    _register(aws, "batch")
    before = aws.counter.snapshot().get("ecs.DescribeTaskDefinition", 0)
    found = collect(aws, ecsmod.collect_task_definitions, {"aws_ecs_task_definition": ["web", "gone"]})
    assert set(found) == {"web", "batch"}  # "gone" is in state only: it will be reported missing
    assert found["batch"].attributes == {"id": "batch", "family": "batch", "_unmanaged_only": True}
    assert aws.counter.snapshot()["ecs.DescribeTaskDefinition"] - before == 1


def test_a_revision_registered_outside_terraform_changes_the_family(aws: Aws) -> None:
    _register(aws, "web")
    wanted = {"aws_ecs_task_definition": ["web"]}
    state = collect(aws, ecsmod.collect_task_definitions, wanted)["web"].attributes
    assert changes(ecsmod.TASK_DEFINITION, state, state) == []

    _register(aws, "web", {**CONTAINER, "image": IMAGE.split("@")[0] + ":latest"})
    live = collect(aws, ecsmod.collect_task_definitions, wanted)["web"].attributes
    found = {c.path: (c.state, c.live) for c in changes(ecsmod.TASK_DEFINITION, state, live)}
    assert found["revision"] == (1, 2)
    assert found["arn"][1].endswith(":task-definition/web:2")
    assert found["container_definitions[0].image"] == (IMAGE, IMAGE.split("@")[0] + ":latest")
    assert set(found) == {"revision", "arn", "container_definitions[0].image"}


def test_container_definitions_compare_like_the_provider_reduces_them() -> None:
    norm = ecsmod.normalize_container_definitions
    stored = json.dumps([{**CONTAINER, "cpu": 0, "mountPoints": [], "volumesFrom": []}])
    configured = json.dumps([{
        "name": "web", "image": IMAGE, "readonlyRootFilesystem": True, "privileged": False,
        "portMappings": [{"containerPort": 3000, "hostPort": 3000}],  # tcp is the default protocol
        "environment": [{"name": "LEVEL", "value": "info"}, {"name": "MODE", "value": "prod"}],
        "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/web"}},
    }])  # essential defaults to true
    assert norm(stored) == norm(configured)
    assert isinstance(norm(stored), str) and norm(norm(stored)) == norm(stored)
    assert norm(json.loads(stored)) == json.loads(norm(stored))
    sidecar = {"name": "agent", "image": "agent:1", "healthCheck": {"command": ["CMD", "true"]}}
    assert norm([CONTAINER, sidecar])[0]["healthCheck"] == {"command": ["CMD", "true"], "interval": 30,
                                                            "retries": 3, "timeout": 5}
    assert norm([CONTAINER, sidecar]) == norm([sidecar, CONTAINER])
    assert norm(json.dumps([{**CONTAINER, "privileged": True}])) != norm(stored)
    assert norm("not json") == "not json" and norm(None) is None
    assert changes(ecsmod.TASK_DEFINITION, {"container_definitions": configured},
                   {"container_definitions": stored}) == []


# --- paging and call counts -------------------------------------------------------------------------

_CLUSTER = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/main"


def _stub_service(name: str) -> dict[str, Any]:
    return {"serviceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/main/{name}", "serviceName": name,
            "clusterArn": _CLUSTER, "status": "ACTIVE", "desiredCount": 1, "schedulingStrategy": "REPLICA",
            "taskDefinition": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{name}:1"}


def test_every_list_services_page_is_read() -> None:
    aws = Aws(AwsSettings(region=REGION))
    ecs = aws.client("ecs", REGION)
    first, second = _stub_service("api"), _stub_service("web")
    with Stubber(ecs) as stub:
        stub.add_response("list_clusters", {"clusterArns": [_CLUSTER]}, {})
        stub.add_response("list_services", {"serviceArns": [first["serviceArn"]], "nextToken": "t2"},
                          {"cluster": _CLUSTER})
        stub.add_response("list_services", {"serviceArns": [second["serviceArn"]]},
                          {"cluster": _CLUSTER, "nextToken": "t2"})
        stub.add_response("describe_services", {"services": [first, second]},
                          {"cluster": _CLUSTER, "services": [first["serviceArn"], second["serviceArn"]],
                           "include": ["TAGS"]})
        found = collect(aws, ecsmod.collect_services)
        stub.assert_no_pending_responses()
    assert set(found) == {first["serviceArn"], second["serviceArn"]}


def test_every_list_task_definition_families_page_is_read() -> None:
    aws = Aws(AwsSettings(region=REGION))
    ecs = aws.client("ecs", REGION)
    task = {"taskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:3", "family": "web",
            "revision": 3, "containerDefinitions": [{"name": "web", "image": "web:1", "cpu": 0}]}
    with Stubber(ecs) as stub:
        stub.add_response("list_task_definition_families", {"families": ["api"], "nextToken": "t2"},
                          {"status": "ACTIVE"})
        stub.add_response("list_task_definition_families", {"families": ["web"]},
                          {"status": "ACTIVE", "nextToken": "t2"})
        stub.add_response("describe_task_definition", {"taskDefinition": task, "tags": []},
                          {"taskDefinition": "web", "include": ["TAGS"]})
        found = collect(aws, ecsmod.collect_task_definitions, {"aws_ecs_task_definition": ["web"]})
        stub.assert_no_pending_responses()
    assert set(found) == {"api", "web"}
    assert found["web"].attributes["revision"] == 3
    assert found["web"].attributes["container_definitions"] == '[{"image":"web:1","name":"web"}]'


def test_ecs_inventory_costs_the_expected_calls(aws: Aws) -> None:
    ecs = aws.client("ecs", REGION)
    clusters = [ecs.create_cluster(clusterName=name)["cluster"]["clusterArn"] for name in ("a", "b")]
    task = _register(aws, "web")["taskDefinitionArn"]
    _register(aws, "api")
    _register(aws, "batch")
    for i in range(12):
        ecs.create_service(cluster=clusters[0], serviceName=f"svc-{i}", taskDefinition=task, desiredCount=1)
    ecs.create_service(cluster=clusters[1], serviceName="solo", taskDefinition=task, desiredCount=1)
    wanted = {REGION: {"aws_ecs_task_definition": frozenset({"web"})}}
    before = aws.counter.snapshot()

    types = ["aws_ecs_cluster", "aws_ecs_service", "aws_ecs_task_definition"]
    inventory = collect_inventory(aws, [REGION], types, ACCOUNT, wanted)

    assert all(o.status is ObservationStatus.OBSERVED for o in inventory.observations)
    after = aws.counter.snapshot()
    calls = {op: n - before.get(op, 0) for op, n in after.items() if n != before.get(op, 0)}
    assert calls == {
        "ecs.ListClusters": 1,  # shared by clusters and services
        "ecs.DescribeClusters": 1,  # up to 100 per call
        "ecs.ListServices": 2,  # one per cluster
        "ecs.DescribeServices": 3,  # 12 services = 2 calls of up to 10, plus 1 in the second cluster
        "ecs.ListTaskDefinitionFamilies": 1,
        "ecs.DescribeTaskDefinition": 1,  # only the family a state holds
    }
    assert len([r for r in inventory.resources if r.type == "aws_ecs_service"]) == 13


# --- held revisions listed in bulk --------------------------------------------------------------------


def _held_context(aws: Aws, families: list[str]) -> CollectContext:
    """A context whose state holds each family at the revision a describe-based pass reads now."""
    held = collect(aws, ecsmod.collect_task_definitions, {"aws_ecs_task_definition": families})
    state = {("aws_ecs_task_definition", f): dict(held[f].attributes) for f in families}
    return CollectContext(aws, REGION, ACCOUNT, {"aws_ecs_task_definition": frozenset(families)}, state)


def _calls(aws: Aws, before: dict[str, int]) -> dict[str, int]:
    return {op: n - before.get(op, 0) for op, n in aws.counter.snapshot().items() if n != before.get(op, 0)}


def test_held_revisions_are_listed_in_bulk_with_their_tags_read_live(aws: Aws) -> None:
    families = ["api", "web", "batch"]
    arns = {f: _register(aws, f, tags=[{"key": "Env", "value": "prod"}])["taskDefinitionArn"] for f in families}
    ctx = _held_context(aws, families)
    state = {f: ctx.state_attributes("aws_ecs_task_definition", f) for f in families}
    ecs = aws.client("ecs", REGION)
    ecs.tag_resource(resourceArn=arns["web"], tags=[{"key": "Env", "value": "dev"}])  # out of band
    _register(aws, "api", {**CONTAINER, "image": "web:edge"})  # a newer revision, outside Terraform
    ecs.deregister_task_definition(taskDefinition=arns["batch"])
    before = aws.counter.snapshot()

    found = {r.id: r for r in ecsmod.collect_task_definitions(ctx)}

    assert _calls(aws, before) == {"ecs.ListTaskDefinitionFamilies": 1, "ecs.ListTaskDefinitions": 1,
                                   "resource-groups-tagging-api.GetResources": 1}
    assert set(found) == {"api", "web"}  # the held batch revision is deregistered: missing
    assert found["api"].attributes["arn"] == arns["api"]  # the held revision, as Terraform refreshes it
    assert changes(ecsmod.TASK_DEFINITION, state["api"], found["api"].attributes) == []
    assert found["web"].attributes["tags"] == found["web"].attributes["tags_all"] == {"Env": "dev"}
    assert found["web"].attributes["_content_as_registered"] is True


def test_a_region_with_many_revisions_is_described_per_held_revision() -> None:
    aws = Aws(AwsSettings(region=REGION))
    families = ["api", "web", "batch"]
    arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{{}}:1"
    state = {("aws_ecs_task_definition", f): {"arn": arn.format(f)} for f in families}
    ctx = CollectContext(aws, REGION, ACCOUNT, {"aws_ecs_task_definition": frozenset(families)}, state)
    with Stubber(aws.client("ecs", REGION)) as stub:
        stub.add_response("list_task_definition_families", {"families": families}, {"status": "ACTIVE"})
        # 3 held revisions may cost 1 page of ACTIVE revisions; a second page means describing is cheaper
        stub.add_response("list_task_definitions", {"taskDefinitionArns": [arn.format(f"noisy{i}") for i in
                                                                            range(100)], "nextToken": "t2"},
                          {"status": "ACTIVE", "maxResults": 100})
        for family in families:
            task = {"taskDefinitionArn": arn.format(family), "family": family, "revision": 1, "status": "ACTIVE",
                    "containerDefinitions": [{"name": "app", "image": "app:1"}]}
            stub.add_response("describe_task_definition", {"taskDefinition": task, "tags": []},
                              {"taskDefinition": arn.format(family), "include": ["TAGS"]})
        found = {r.id: r for r in ecsmod.collect_task_definitions(ctx)}
        stub.assert_no_pending_responses()
    assert {f: found[f].attributes["arn"] for f in families} == {f: arn.format(f) for f in families}


def test_no_permission_for_the_tagging_api_falls_back_to_describing(aws: Aws) -> None:
    families = ["api", "web", "batch"]
    for family in families:
        _register(aws, family, tags=[{"key": "Env", "value": "prod"}])
    ctx = _held_context(aws, families)
    with Stubber(aws.client("resourcegroupstaggingapi", REGION)) as stub:
        stub.add_client_error("get_resources", "AccessDeniedException", http_status_code=400)
        found = {r.id: r for r in ecsmod.collect_task_definitions(ctx)}
        stub.assert_no_pending_responses()
    assert all(found[f].attributes["tags"] == {"Env": "prod"} for f in families)
    assert not any("_content_as_registered" in found[f].attributes for f in families)


def test_another_tagging_api_error_makes_the_type_unknown(aws: Aws) -> None:
    families = ["api", "web", "batch"]
    for family in families:
        _register(aws, family)
    ctx = _held_context(aws, families)
    with Stubber(aws.client("resourcegroupstaggingapi", REGION)) as stub:
        stub.add_client_error("get_resources", "InvalidParameterException", http_status_code=400)
        with pytest.raises(botocore.exceptions.ClientError):
            list(ecsmod.collect_task_definitions(ctx))
