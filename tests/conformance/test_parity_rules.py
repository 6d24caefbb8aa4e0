"""The comparison machinery of the conformance suite, on small hand-made plans (no Terraform needed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from . import harness, known, report
from .known import CLEAN, KNOWN_DIFFERENCES, KnownDifference, expected_differences, explain
from .parity import (
    AUDITOR_ONLY,
    CHANGED,
    MISSING,
    TERRAFORM_ONLY,
    UNMANAGED,
    Difference,
    Finding,
    auditor_side,
    compare,
    leaf_diffs,
    live_rule_key,
    path_within,
    render_path,
    terraform_side,
)
from .scenarios import SCENARIOS, state_attributes
from .suite import LockOutcome, Outcome, ParityRun

ALB_SG, SERVICE_SG = "sg-0a1b2c3d4e5f60718", "sg-0f1e2d3c4b5a69788"


def drift(address: str, before: Any, after: Any, *, mode: str = "managed") -> dict[str, Any]:
    resource_type = address.split(".")[0]
    actions = ["delete"] if after is None else ["update"]
    return {"address": address, "mode": mode, "type": resource_type,
            "change": {"actions": actions, "before": before, "after": after}}


def plan(*entries: dict[str, Any], state: list[tuple[str, dict[str, Any]]] | None = None) -> dict[str, Any]:
    resources = [{"address": a, "mode": "managed", "type": a.split(".")[0], "values": v} for a, v in state or []]
    return {"resource_drift": list(entries), "prior_state": {"values": {"root_module": {"resources": resources}}}}


def split_rule(address: str, group: str, **values: Any) -> tuple[str, dict[str, Any]]:
    return address, {"security_group_id": group, "from_port": 443, "to_port": 443, "ip_protocol": "tcp", **values}


def inline(port: int, **sources: Any) -> dict[str, Any]:
    return {"protocol": "tcp", "from_port": port, "to_port": port, "cidr_blocks": [], "ipv6_cidr_blocks": [],
            "prefix_list_ids": [], "security_groups": [], "self": False, "description": "", **sources}


def test_leaf_diffs_walks_maps_and_equal_length_lists() -> None:
    before = {"a": [{"x": 1}, {"x": 2}], "b": [1], "c": {"k": "v"}}
    after = {"a": [{"x": 1}, {"x": 3}], "b": [1, 2], "c": {"k": "v"}}
    assert [(render_path(d.path), d.before, d.after) for d in leaf_diffs(before, after)] == [
        ("a[1].x", 2, 3), ("b", [1], [1, 2])]


@pytest.mark.parametrize(("inner", "outer", "within"), [
    ("tags.Environment", "tags", True), ("tags", "tags", True), ("rule[0].bucket_key_enabled", "rule", True),
    ("tags_all.Environment", "tags", False), ("health_check_path", "health_check", False)])
def test_path_within_stops_at_step_boundaries(inner: str, outer: str, within: bool) -> None:
    assert path_within(inner, outer) is within


def test_noise_is_removed_and_real_drift_kept() -> None:
    side = terraform_side(plan(
        drift("aws_cloudwatch_metric_alarm.a", {"tags": None, "insufficient_data_actions": None, "threshold": 10},
              {"tags": {}, "insufficient_data_actions": [], "threshold": 1000}),
        drift("aws_s3_bucket_server_side_encryption_configuration.logs", {"rule": [{"bucket_key_enabled": None}]},
              {"rule": [{"bucket_key_enabled": False}]}),
        drift("aws_eip.nat", {"association_id": "", "private_ip": "", "public_ip": "1.2.3.4"},
              {"association_id": "eipassoc-1", "private_ip": "10.0.0.1", "public_ip": "5.6.7.8"}),
        drift("aws_lb_target_group.blue", {"load_balancer_arns": ["arn:a"]}, {"load_balancer_arns": ["arn:b"]}),
        drift("aws_cloudwatch_metric_alarm.gone", {"alarm_name": "gone"}, None),
        drift("data.aws_caller_identity.current", {"id": "1"}, {"id": "2"}, mode="data"),
    ))
    assert side.findings == {Finding("aws_cloudwatch_metric_alarm.a", CHANGED, "threshold"),
                             Finding("aws_eip.nat", CHANGED, "public_ip"),
                             Finding("aws_cloudwatch_metric_alarm.gone", MISSING)}
    assert {(h.rule, h.path) for h in side.noise} == {
        ("null-vs-empty", "tags"), ("null-vs-empty", "insufficient_data_actions"),
        ("unset-bool-false", "rule[0].bucket_key_enabled"), ("computed-by-another-resource", "association_id"),
        ("computed-by-another-resource", "private_ip"), ("computed-by-another-resource", "load_balancer_arns[0]")}


def test_an_eip_association_that_the_state_holds_is_compared() -> None:
    side = terraform_side(plan(drift("aws_eip.x", {"association_id": "eipassoc-1"}, {"association_id": "eipassoc-2"})))
    assert side.findings == {Finding("aws_eip.x", CHANGED, "association_id")}


def test_security_group_inline_blocks_keep_only_rules_no_rule_resource_manages() -> None:
    state = [("aws_security_group.alb", {"id": ALB_SG}), ("aws_security_group.service", {"id": SERVICE_SG}),
             split_rule("aws_vpc_security_group_ingress_rule.https", ALB_SG, cidr_ipv4="0.0.0.0/0"),
             split_rule("aws_vpc_security_group_egress_rule.to_service", ALB_SG, from_port=3000, to_port=3000,
                        referenced_security_group_id=SERVICE_SG)]
    after = {"id": ALB_SG, "ingress": [inline(443, cidr_blocks=["0.0.0.0/0"]), inline(22, cidr_blocks=["0.0.0.0/0"])],
             "egress": [inline(3000, security_groups=[SERVICE_SG]), inline(5432, security_groups=[SERVICE_SG])]}
    side = terraform_side(plan(drift("aws_security_group.alb", {"id": ALB_SG, "ingress": [], "egress": []}, after),
                               state=state))
    assert side.findings == {
        Finding("aws_security_group.alb", UNMANAGED, "ingress tcp 22-22 from 0.0.0.0/0"),
        Finding("aws_security_group.alb", UNMANAGED, "egress tcp 5432-5432 from aws_security_group.service")}
    assert {h.path for h in side.noise} == {"ingress", "egress"}


def test_a_group_without_rule_resources_compares_its_inline_blocks() -> None:
    side = terraform_side(plan(drift("aws_security_group.x", {"id": ALB_SG, "ingress": []},
                                     {"id": ALB_SG, "ingress": [inline(22, cidr_blocks=["0.0.0.0/0"])]})))
    assert {f.path.split("[")[0] for f in side.findings} == {"ingress"}


@pytest.mark.parametrize(("split_present", "expected"), [(True, set()), (False, {"versioning[0].enabled"})])
def test_s3_inline_blocks_are_mirrors_only_beside_their_split_resource(split_present: bool, expected: set[str]) -> None:
    state = [("aws_s3_bucket_versioning.b", {"bucket": "b"})] if split_present else []
    side = terraform_side(plan(drift("aws_s3_bucket.b", {"bucket": "b", "versioning": [{"enabled": True}]},
                                     {"bucket": "b", "versioning": [{"enabled": False}]}), state=state))
    assert {f.path for f in side.findings} == expected


def test_role_managed_policies_beyond_the_attachments_are_kept() -> None:
    state = [("aws_iam_role_policy_attachment.x", {"role": "r", "policy_arn": "arn:p1"})]
    side = terraform_side(plan(drift("aws_iam_role.r", {"name": "r", "managed_policy_arns": []},
                                     {"name": "r", "managed_policy_arns": ["arn:p1", "arn:p2"]}), state=state))
    assert side.findings == {Finding("aws_iam_role.r", CHANGED, "managed_policy_arns.arn:p2")}


def test_tags_all_is_the_effective_tags_and_tags_is_derived() -> None:
    side = terraform_side(plan(drift(
        "aws_lb.main", {"tags": None, "tags_all": {"Environment": "prod", "Project": "p"}},
        {"tags": {"Environment": "staging"}, "tags_all": {"Environment": "staging", "Project": "p"}})))
    assert side.findings == {Finding("aws_lb.main", CHANGED, "tags.Environment")}
    assert {(h.rule, h.path) for h in side.noise} == {("tags-derived-from-tags_all", "tags")}


def test_compare_matches_sets_reported_whole_against_their_leaves() -> None:
    auditor = {Finding("aws_lb_listener.https", CHANGED, "default_action[0].forward[0].target_group"),
               Finding("aws_ecs_service.web", CHANGED, "desired_count"), Finding("aws_x.gone", MISSING)}
    terraform = {Finding("aws_lb_listener.https", CHANGED, "default_action[0].forward[0].target_group[0].weight"),
                 Finding("aws_lb_listener.https", CHANGED, "default_action[0].forward[0].target_group[1].weight"),
                 Finding("aws_x.gone", CHANGED, "name"), Finding("aws_lb.main", CHANGED, "idle_timeout")}
    assert compare(auditor, terraform) == {
        Difference(AUDITOR_ONLY, Finding("aws_ecs_service.web", CHANGED, "desired_count")),
        Difference(AUDITOR_ONLY, Finding("aws_x.gone", MISSING)),
        Difference(TERRAFORM_ONLY, Finding("aws_x.gone", CHANGED, "name")),
        Difference(TERRAFORM_ONLY, Finding("aws_lb.main", CHANGED, "idle_timeout"))}


def test_auditor_side_reads_changed_missing_and_unmanaged() -> None:
    result = {"resources": [
        {"address": "aws_security_group.alb", "type": "aws_security_group", "id": ALB_SG, "kind": "in_sync",
         "changes": []},
        {"address": "aws_ecs_service.web", "type": "aws_ecs_service", "id": "arn", "kind": "changed",
         "changes": [{"path": "desired_count", "state": 2, "live": 5}]},
        {"address": "aws_cloudwatch_metric_alarm.a", "type": "aws_cloudwatch_metric_alarm", "id": "a",
         "kind": "missing", "changes": []},
        {"address": None, "type": "aws_vpc_security_group_ingress_rule", "id": "sgr-1", "kind": "unmanaged",
         "changes": []},
        {"address": None, "type": "aws_sns_topic", "id": "arn:aws:sns:x", "kind": "unmanaged", "changes": []}]}
    rule = {"GroupId": ALB_SG, "IsEgress": False, "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
            "CidrIpv4": "0.0.0.0/0"}
    found = auditor_side(result, lambda rule_id: live_rule_key(rule))
    assert found == {Finding("aws_ecs_service.web", CHANGED, "desired_count"),
                     Finding("aws_cloudwatch_metric_alarm.a", MISSING),
                     Finding("aws_security_group.alb", UNMANAGED, "ingress tcp 22-22 from 0.0.0.0/0"),
                     Finding("aws_sns_topic", UNMANAGED, "arn:aws:sns:x")}


def test_every_known_difference_is_explained() -> None:
    assert all(k.reason and k.right in ("terraform", "auditor") for k in KNOWN_DIFFERENCES)
    assert all(k.runs is None or set(k.runs) <= {CLEAN, *(s.name for s in SCENARIOS)} for k in KNOWN_DIFFERENCES)
    assert len({k.difference for k in KNOWN_DIFFERENCES}) == len(KNOWN_DIFFERENCES)


IDLE_TIMEOUT = Difference(TERRAFORM_ONLY, Finding("aws_lb.main", CHANGED, "idle_timeout"))
TASK_REVISION = Difference(AUDITOR_ONLY, Finding("aws_ecs_task_definition", UNMANAGED, "digitallync-core:2"))


@pytest.fixture
def one_known(monkeypatch: pytest.MonkeyPatch) -> KnownDifference:
    entry = KnownDifference(TASK_REVISION, ("task-definition-deployed",), "auditor", "Terraform cannot see it.")
    monkeypatch.setattr(known, "KNOWN_DIFFERENCES", (entry,))
    monkeypatch.setattr(report, "KNOWN_DIFFERENCES", (entry,))
    return entry


def test_known_differences_apply_to_their_runs_only(one_known: KnownDifference) -> None:
    assert expected_differences("task-definition-deployed") == {TASK_REVISION}
    assert expected_differences(CLEAN) == frozenset()
    assert explain("task-definition-deployed", {TASK_REVISION, IDLE_TIMEOUT}) == [
        (TASK_REVISION, one_known), (IDLE_TIMEOUT, None)]


def test_scenarios_are_many_distinct_and_expect_something() -> None:
    names = [s.name for s in SCENARIOS]
    assert len(names) >= 12 and len(set(names)) == len(names)
    assert all(s.expected and s.root in ("stack", "bootstrap") for s in SCENARIOS)


def test_state_attributes_spells_addresses_like_terraform() -> None:
    state = {"resources": [
        {"mode": "managed", "type": "aws_subnet", "name": "public", "instances": [
            {"index_key": "a", "attributes": {"id": "subnet-a"}}]},
        {"mode": "managed", "type": "aws_eip", "name": "n", "instances": [{"index_key": 0, "attributes": {}}]},
        {"mode": "data", "type": "aws_caller_identity", "name": "c", "instances": [{"attributes": {}}]},
        {"module": "module.m", "mode": "managed", "type": "aws_vpc", "name": "v", "instances": [{"attributes": {}}]}]}
    assert list(state_attributes(state)) == ['aws_subnet.public["a"]', "aws_eip.n[0]", "module.m.aws_vpc.v"]


def test_scrub_replaces_random_moto_ids() -> None:
    text = ("sg-0a1b2c3d4e5f60718 arn:aws:elasticloadbalancing:r:1:listener/app/x/cc44be75fdfdb508/c4746092f04a70fd "
            "key/1b3b8c02-33e6-4edd-b0fe-7ec6a4fa5c48")
    assert report.scrub(text) == "sg-… arn:aws:elasticloadbalancing:r:1:listener/app/x/…/… key/…"


def _outcome(name: str, auditor: set[Finding], terraform: set[Finding]) -> Outcome:
    return Outcome(name, name, frozenset(auditor), frozenset(terraform), frozenset(), frozenset(terraform), "boto3", {})


def _run(scenario: str, auditor: set[Finding]) -> ParityRun:
    change = Finding("aws_ecs_service.web_app", CHANGED, "desired_count")
    lock = LockOutcome({"dynamodb": {"ID": "1", "Operation": "OperationTypeApply", "Who": "w", "Created": "c"}},
                       ({"mechanism": "dynamodb", "id": "1", "operation": "OperationTypeApply", "who": "w",
                         "created": "c"},), 1, True, "Apply cancelled.")
    audit = {"summary": {"counts": {"in_sync": 1, "changed": 0, "missing": 0, "unmanaged": 0, "unknown": 0}},
             "run": {"exit_code": 0}, "states": [], "resources": []}
    return ParityRun({"terraform": "1.11.4", "hashicorp/aws": "5.100.0", "moto": "5", "boto3": "1"},
                     {"bootstrap": 7, "stack": 53}, _outcome(CLEAN, set(), set()), audit,
                     {**audit, "compliance": {"counts": {"PASS": 1}, "findings": []}},
                     (_outcome(scenario, {change, *auditor}, {change}),), lock)


def test_the_document_flags_an_undocumented_difference() -> None:
    parity = report.render(_run("ecs-desired-count", set()))
    assert "**new:" not in parity and "**1 of 1 scenarios in parity" in parity
    flagged = report.render(_run("ecs-desired-count", {IDLE_TIMEOUT.finding}))
    assert "**new: auditor only changed aws_lb.main idle_timeout**" in flagged


def test_the_document_labels_a_known_difference(one_known: KnownDifference) -> None:
    text = report.render(_run("task-definition-deployed", {TASK_REVISION.finding}))
    assert "| difference D1 |" in text and "**new:" not in text
    assert "| D1 | task-definition-deployed | auditor only | `unmanaged aws_ecs_task_definition digitallync-core:2` " \
           "| auditor | Terraform cannot see it. |" in text


def test_overrides_point_every_endpoint_at_moto() -> None:
    endpoint = "http://127.0.0.1:5999"
    provider = harness.provider_override(endpoint)
    assert all(f'{service:<10} = "{endpoint}"' in provider for service in harness.PROVIDER_SERVICES)
    backend = harness.backend_override(endpoint, harness.Backend.of_stack())
    assert 'dynamodb_table              = "digitallync-tf-locks"' in backend
    assert "use_lockfile                = true" in backend and f'dynamodb = "{endpoint}"' in backend
    assert harness.Backend.of_stack().lock_id == "digitallync-tfstate/digitallync/prod/terraform.tfstate"


def test_toolchain_discovery(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness.shutil, "which", lambda name: "/usr/bin/terraform")
    monkeypatch.setenv(harness.MIRROR_ENV, str(tmp_path))
    with pytest.raises(harness.ToolchainMissing, match="no provider mirror"):
        harness.find_toolchain()
    (tmp_path / harness.AWS_PROVIDER).mkdir(parents=True)
    assert harness.find_toolchain() == harness.Toolchain("/usr/bin/terraform", tmp_path)
    monkeypatch.setattr(harness.shutil, "which", lambda name: None)
    with pytest.raises(harness.ToolchainMissing, match="not on PATH"):
        harness.find_toolchain()


@pytest.mark.parametrize(("agent", "caller"), [
    ("APN/1.0 HashiCorp/1.0 Terraform/1.11.4 terraform-provider-aws/5.100.0", "terraform-provider"),
    ("APN/1.0 HashiCorp/1.0 Terraform/1.11.4 (+https://www.terraform.io) aws-sdk-go-v2/1.36.3", "terraform-backend"),
    ("Boto3/1.44.8 md/Botocore#1.44.8 ua/2.1 os/linux", "boto3"), ("curl/8", "other")])
def test_request_counter_tells_callers_apart(agent: str, caller: str) -> None:
    counter = harness.RequestCounter()
    counter.record({"HTTP_USER_AGENT": agent, "PATH_INFO": "/"})
    counter.record({"HTTP_USER_AGENT": agent, "PATH_INFO": "/moto-api/reset"})
    assert counter.snapshot() == {caller: 1}


def test_cli_config_installs_only_from_the_mirror(tmp_path: Path) -> None:
    text = harness.cli_config(tmp_path)
    assert f"path    = {json.dumps(str(tmp_path))}" in text
    assert 'direct {\n    exclude = ["registry.terraform.io/*/*"]' in text and "disable_checkpoint = true" in text
