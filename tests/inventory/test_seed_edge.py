"""The edge/workload seeder: what it records reads back from live AWS with zero drift (moto in-process)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from moto import mock_aws

from auditor.aws import Aws, AwsSettings
from auditor.catalog import TypeSpec
from auditor.demo.drift import scenario
from auditor.demo.motoserver import reference_stack_moto
from auditor.demo.seed_edge import seed_edge
from auditor.demo.seed_network import seed_network
from auditor.demo.seed_platform import seed_platform
from auditor.demo.seedkit import SeedContext
from auditor.demo.statefile import build_state
from auditor.diff import diff
from auditor.inventory import acm as acmmod
from auditor.inventory import ecs as ecsmod
from auditor.inventory import loadbalancing as lbmod
from auditor.inventory import storage
from auditor.inventory.base import CollectFn
from auditor.inventory.runner import collect_inventory
from auditor.models import DriftKind, Origin, Resource
from auditor.state.resources import StateResources
from tests.inventory._edge import ACCOUNT, PROVIDER_ATTRIBUTES, REGION, changes, collect
from tests.inventory.test_platform_seed import PROVIDER_ATTRIBUTES as PLATFORM_ATTRIBUTES

COLLECTORS: dict[str, tuple[TypeSpec, CollectFn]] = {
    spec.type: (spec, fn) for spec, fn in (
        (acmmod.CERTIFICATE, acmmod.collect_certificates),
        (acmmod.CERTIFICATE_VALIDATION, acmmod.collect_certificate_validations),
        (storage.BUCKET, storage.collect_buckets),
        (storage.ENCRYPTION, storage.collect_encryption),
        (storage.PUBLIC_ACCESS_BLOCK, storage.collect_public_access_blocks),
        (storage.BUCKET_POLICY, storage.collect_bucket_policies),
        (storage.LIFECYCLE, storage.collect_lifecycle_configurations),
        (lbmod.LOAD_BALANCER, lbmod.collect_load_balancers),
        (lbmod.LISTENER, lbmod.collect_listeners),
        (lbmod.TARGET_GROUP, lbmod.collect_target_groups),
        (ecsmod.CLUSTER, ecsmod.collect_clusters),
        (ecsmod.SERVICE, ecsmod.collect_services),
        (ecsmod.TASK_DEFINITION, ecsmod.collect_task_definitions),
    )
}
SEEDED_ADDRESSES = [
    "aws_acm_certificate.main", "aws_acm_certificate_validation.main", "aws_s3_bucket.alb_logs",
    "aws_s3_bucket_server_side_encryption_configuration.alb_logs", "aws_s3_bucket_public_access_block.alb_logs",
    "aws_s3_bucket_policy.alb_logs", "aws_s3_bucket_lifecycle_configuration.alb_logs",
    "aws_lb.main", "aws_lb_target_group.blue", "aws_lb_target_group.green", "aws_lb_listener.https",
    "aws_lb_listener.http_redirect", "aws_ecs_cluster.main", "aws_ecs_task_definition.web_app",
    "aws_ecs_service.web_app", "aws_ecs_service.web_app_green",
]


@pytest.fixture
def seeded() -> Iterator[tuple[Aws, SeedContext]]:
    """The network and platform parts of the reference stack, then the edge, in ap-south-1."""
    with mock_aws(), reference_stack_moto():
        aws = Aws(AwsSettings(region=REGION))
        ctx = SeedContext(aws, REGION, ACCOUNT)
        seed_network(ctx)
        seed_platform(ctx)
        seed_edge(ctx)
        yield aws, ctx


def live_edge(aws: Aws, ctx: SeedContext) -> dict[tuple[str, str], Resource]:
    """Every live edge resource by (type, import id), collected with the seeded ids as state hints."""
    wanted: dict[str, set[str]] = {}
    for item in ctx.items:
        if item.type in COLLECTORS:
            import_id = COLLECTORS[item.type][0].import_id(item.attributes)
            assert import_id, item.address
            wanted.setdefault(item.type, set()).add(import_id)
    return {r.key: r for _, fn in COLLECTORS.values() for r in collect(aws, fn, wanted).values()}


def test_seeded_edge_reads_back_in_sync(seeded: tuple[Aws, SeedContext]) -> None:
    aws, ctx = seeded
    items = [i for i in ctx.items if i.type in COLLECTORS]
    assert [i.address for i in items] == SEEDED_ADDRESSES
    live = live_edge(aws, ctx)
    for item in items:
        spec = COLLECTORS[item.type][0]
        twin = live[(item.type, spec.import_id(item.attributes) or "")]
        assert changes(spec, item.attributes, twin.attributes) == [], item.address
        assert [a for a in spec.compared if a not in twin.attributes and a not in spec.optional_live] == []
        # Recorded like a real state: every attribute of the provider schema (the private key aside).
        schema = (set(PROVIDER_ATTRIBUTES[item.type].split()) if item.type in PROVIDER_ATTRIBUTES
                  else set(PLATFORM_ATTRIBUTES[item.type]))
        assert set(item.attributes) == schema - {"private_key"}, item.address


def test_seeded_stack_shape(seeded: tuple[Aws, SeedContext]) -> None:
    _, ctx = seeded
    lb = ctx.ref("aws_lb.main")
    assert lb["name"] == "digitallync-core" and lb["arn_suffix"].startswith("app/digitallync-core/")
    assert lb["subnets"] == sorted(ctx.ref(f'aws_subnet.public["{z}"]')["id"] for z in "ab")
    for colour in ("blue", "green"):
        tg = ctx.ref(f"aws_lb_target_group.{colour}")
        assert tg["arn_suffix"] == tg["arn"][tg["arn"].index("targetgroup/"):]
    https = ctx.ref("aws_lb_listener.https")
    assert https["certificate_arn"] == ctx.ref("aws_acm_certificate.main")["arn"]
    assert https["default_action"][0]["forward"][0]["target_group"] == [
        {"arn": ctx.ref("aws_lb_target_group.blue")["arn"], "weight": 100},
        {"arn": ctx.ref("aws_lb_target_group.green")["arn"], "weight": 0}]
    [container] = json.loads(ctx.ref("aws_ecs_task_definition.web_app")["container_definitions"])
    repository_url = ctx.ref("aws_ecr_repository.app")["repository_url"]
    assert container["image"].startswith(f"{repository_url}@sha256:")
    assert len(container["image"].split(":")[-1]) == 64
    assert container["logConfiguration"]["options"] == {
        "awslogs-group": "/ecs/digitallync", "awslogs-region": REGION, "awslogs-stream-prefix": "web"}
    service = ctx.ref("aws_ecs_service.web_app")
    assert service["network_configuration"][0]["subnets"] == sorted(
        ctx.ref(f'aws_subnet.private["{z}"]')["id"] for z in "ab")
    assert service["task_definition"] == ctx.ref("aws_ecs_task_definition.web_app")["arn"]


def test_the_certificate_is_dns_validated_and_no_private_key_is_recorded(seeded: tuple[Aws, SeedContext]) -> None:
    _, ctx = seeded
    [cert] = [i for i in ctx.items if i.type == "aws_acm_certificate"]
    assert "private_key" not in cert.attributes
    assert cert.sensitive_paths == (("private_key",),)
    assert (cert.attributes["type"], cert.attributes["validation_method"]) == ("AMAZON_ISSUED", "DNS")
    [record] = cert.attributes["domain_validation_options"]
    assert (record["domain_name"], record["resource_record_type"]) == ("app.digitallync.example", "CNAME")
    assert "PRIVATE KEY" not in json.dumps(build_state(ctx.items))
    validation = ctx.ref("aws_acm_certificate_validation.main")
    assert validation["certificate_arn"] == cert.attributes["arn"]
    assert validation["id"].endswith(" +0000 UTC")  # the provider's id: IssuedAt as Go prints it
    assert ctx.ref("aws_lb_listener.https")["certificate_arn"] == validation["certificate_arn"]


def test_the_load_balancer_logs_to_its_private_bucket(seeded: tuple[Aws, SeedContext]) -> None:
    _, ctx = seeded
    bucket = ctx.ref("aws_s3_bucket.alb_logs")["bucket"]
    assert bucket == f"digitallync-core-alb-logs-{ACCOUNT}"
    assert ctx.ref("aws_lb.main")["access_logs"] == [{"bucket": bucket, "enabled": True,
                                                      "prefix": "digitallync-core"}]
    [rule] = ctx.ref("aws_s3_bucket_server_side_encryption_configuration.alb_logs")["rule"]
    assert rule["apply_server_side_encryption_by_default"][0]["sse_algorithm"] == "AES256"
    statements = json.loads(ctx.ref("aws_s3_bucket_policy.alb_logs")["policy"])["Statement"]
    assert statements[0]["Principal"] == {"AWS": "arn:aws:iam::718504428378:root"}  # ap-south-1's ELB account
    assert statements[0]["Resource"] == f"arn:aws:s3:::{bucket}/digitallync-core/AWSLogs/{ACCOUNT}/*"
    assert statements[1]["Sid"] == "DenyInsecureTransport"
    [expiry] = ctx.ref("aws_s3_bucket_lifecycle_configuration.alb_logs")["rule"]
    assert expiry["expiration"][0]["days"] == 90
    assert {"aws_s3_bucket_policy.alb_logs", "aws_s3_bucket.alb_logs"} <= set(
        next(i for i in ctx.items if i.address == "aws_lb.main").dependencies)


@pytest.mark.parametrize("name", ["tls-policy", "listener-action", "lb-tag", "lb-attribute", "health-check",
                                  "task-revision", "service-scaled"])
def test_out_of_band_changes_surface_where_the_demo_expects(seeded: tuple[Aws, SeedContext],
                                                            name: str) -> None:
    aws, ctx = seeded
    change = scenario(name)
    change.apply(ctx, ctx)
    live = live_edge(aws, ctx)
    for expected in change.expected:
        item = next(i for i in ctx.items if i.address == expected.address)
        spec = COLLECTORS[item.type][0]
        twin = live[(item.type, spec.import_id(item.attributes) or "")]
        paths = [c.path for c in changes(spec, item.attributes, twin.attributes)]
        assert any(expected.matches_path(p) for p in paths), (name, paths)


def test_a_task_revision_outside_terraform_shows_on_the_family_too(seeded: tuple[Aws, SeedContext]) -> None:
    aws, ctx = seeded
    scenario("task-revision").apply(ctx, ctx)
    item = next(i for i in ctx.items if i.address == "aws_ecs_task_definition.web_app")
    live = live_edge(aws, ctx)[("aws_ecs_task_definition", "digitallync-core")]
    paths = {c.path for c in changes(ecsmod.TASK_DEFINITION, item.attributes, live.attributes)}
    # The scenario registers the revision untagged, so the family's tags differ too.
    assert {p for p in paths if not p.startswith("tags.")} == {
        "revision", "arn", "container_definitions[0].image"}


def test_the_diff_finds_the_seeded_edge_in_sync_and_nothing_unmanaged(
        seeded: tuple[Aws, SeedContext]) -> None:
    aws, ctx = seeded
    aws.client("ecs", REGION).register_task_definition(  # a family no state holds
        family="adhoc-debug", containerDefinitions=[{"name": "sh", "image": "busybox", "memory": 64}])
    resources = []
    for item in ctx.items:
        if item.type in COLLECTORS:
            import_id = COLLECTORS[item.type][0].import_id(item.attributes) or ""
            resources.append(Resource(item.type, import_id, item.attributes, Origin.STATE, REGION,
                                      item.address, "s3://demo/terraform.tfstate"))
    state = StateResources(resources=tuple(resources), holders={}, unsupported=(), unmatched=(),
                           deposed_ids=frozenset())
    wanted = {REGION: {t: frozenset(r.id for r in resources if r.type == t) for t in COLLECTORS}}
    inventory = collect_inventory(aws, [REGION], list(COLLECTORS), ACCOUNT, wanted)

    drifts = diff(state, inventory)
    verdicts = {d.address: d.kind for d in drifts if d.address}
    assert verdicts == dict.fromkeys(SEEDED_ADDRESSES, DriftKind.IN_SYNC)
    unmanaged = {(d.type, d.id) for d in drifts if d.kind is DriftKind.UNMANAGED}
    assert unmanaged == {("aws_ecs_task_definition", "adhoc-debug")}
