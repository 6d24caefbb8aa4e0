"""The diff: normalization, set handling, JSON documents, tags, kinds, fail-closed unknowns, ignore rules."""

from __future__ import annotations

from typing import Any

import pytest

from auditor.catalog import TypeSpec
from auditor.diff import attribute_changes, comparable, diff, normalize, render_path
from auditor.ignore import parse_ignore
from auditor.models import DriftKind, Inventory, Observation, ObservationStatus, Origin, Resource
from auditor.state.resources import StateResources

SPEC = TypeSpec(
    type="aws_widget", service="ec2",
    compared=("name", "size", "rules", "policy", "health_check", "zones"),
    set_paths=("rules", "rules.*.cidrs", "zones"),
    json_attributes=("policy",),
    optional_live=("size",),
    tags=True,
)


def test_normalize_treats_null_empty_and_missing_alike() -> None:
    assert normalize({"a": None, "b": "", "c": [], "d": {}, "e": [{"x": None}]}) is None
    assert normalize({"a": 0, "b": False, "c": True}) == {"a": 0, "c": True}


def test_an_unset_flag_read_back_as_false_is_not_drift_but_true_is() -> None:
    state = {"health_check": [{"path": "/", "enabled": None}]}
    assert attribute_changes(SPEC, state, {"health_check": [{"path": "/", "enabled": False}]}) == []
    [change] = attribute_changes(SPEC, state, {"health_check": [{"path": "/", "enabled": True}]})
    assert (change.path, change.state, change.live) == ("health_check[0].enabled", None, True)


def test_sets_are_order_free_but_lists_are_not() -> None:
    state = {"rules": [{"port": 80, "cidrs": ["b", "a"]}, {"port": 22, "cidrs": ["c"]}], "zones": ["x", "y"],
             "health_check": [{"path": "/a"}, {"path": "/b"}]}
    live = {"rules": [{"port": 22, "cidrs": ["c"]}, {"port": 80, "cidrs": ["a", "b"]}], "zones": ["y", "x"],
            "health_check": [{"path": "/b"}, {"path": "/a"}]}
    changes = attribute_changes(SPEC, state, live)
    assert [c.path for c in changes] == ["health_check[0].path", "health_check[1].path"]


def test_a_change_inside_a_set_is_reported_at_the_set() -> None:
    state = {"rules": [{"port": 80, "cidrs": ["a"]}]}
    live = {"rules": [{"port": 80, "cidrs": ["a"]}, {"port": 22, "cidrs": ["0.0.0.0/0"]}]}
    [change] = attribute_changes(SPEC, state, live)
    assert change.path == "rules"
    assert change.state == [{"port": 80, "cidrs": ["a"]}]
    assert len(change.live) == 2


def test_json_documents_compare_as_data() -> None:
    state = {"policy": '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Sid": ""}]}'}
    live = {"policy": '{"Statement":[{"Effect":"Allow"}],"Version":"2012-10-17"}'}
    assert attribute_changes(SPEC, state, live) == []
    live_denied = {"policy": '{"Statement":[{"Effect":"Deny"}],"Version":"2012-10-17"}'}
    [change] = attribute_changes(SPEC, state, live_denied)
    assert change.path == "policy.Statement[0].Effect"
    assert (change.state, change.live) == ("Allow", "Deny")


def test_optional_live_attribute_absent_from_aws_answer_is_not_drift() -> None:
    assert attribute_changes(SPEC, {"size": 3}, {}) == []
    assert [c.path for c in attribute_changes(SPEC, {"size": 3}, {"size": 4})] == ["size"]


def test_tags_use_tags_all_and_report_each_key() -> None:
    state = {"tags": {"Name": "x"}, "tags_all": {"Name": "x", "Env": "prod"}}
    live = {"tags": {"Name": "x", "Env": "staging", "Owner": "me"}}
    changes = attribute_changes(SPEC, state, live)
    assert [(c.path, c.state, c.live) for c in changes] == [
        ("tags.Env", "prod", "staging"), ("tags.Owner", None, "me")]


def test_uncompared_and_private_attributes_are_ignored() -> None:
    assert comparable(SPEC, {"name": "a", "arn": "x", "_private": 1}) == {"name": "a"}


def test_render_path() -> None:
    assert render_path(("default_action", 0, "redirect", 0, "protocol")) == "default_action[0].redirect[0].protocol"
    assert render_path(("tags", "Env")) == "tags.Env"


# --- whole-diff behaviour over real collector specs (aws_vpc) -------------------------------------


def _res(origin: Origin, vpc_id: str, address: str | None = None, **attrs: Any) -> Resource:
    base = {"id": vpc_id, "cidr_block": "10.0.0.0/16", "instance_tenancy": "default", "tags_all": {},
            "tags": {}}
    base.update(attrs)
    return Resource("aws_vpc", vpc_id, base, origin, "eu-west-1", address,
                    "s3://b/k" if origin is Origin.STATE else "live:eu-west-1")


def _state(*resources: Resource) -> StateResources:
    return StateResources(resources=resources, holders={r.key: ("s3://b/k",) for r in resources},
                          unsupported=(), unmatched=(), deposed_ids=frozenset())


def _inventory(*resources: Resource, status: ObservationStatus = ObservationStatus.OBSERVED,
               reason: str | None = None) -> Inventory:
    return Inventory(resources=resources, observations=(Observation("aws_vpc", "eu-west-1", status, len(resources),
                                                                    reason),), api_calls=1)


def test_kinds() -> None:
    state = _state(_res(Origin.STATE, "vpc-1", "aws_vpc.a"), _res(Origin.STATE, "vpc-2", "aws_vpc.b"),
                   _res(Origin.STATE, "vpc-3", "aws_vpc.c"))
    live = _inventory(_res(Origin.LIVE, "vpc-1"), _res(Origin.LIVE, "vpc-2", cidr_block="10.9.0.0/16"),
                      _res(Origin.LIVE, "vpc-4"), _res(Origin.LIVE, "vpc-5", _is_default=True))
    kinds = {d.id: d.kind for d in diff(state, live)}
    assert kinds == {"vpc-1": DriftKind.IN_SYNC, "vpc-2": DriftKind.CHANGED, "vpc-3": DriftKind.MISSING,
                     "vpc-4": DriftKind.UNMANAGED}


def test_an_unobservable_type_is_unknown_never_missing() -> None:
    state = _state(_res(Origin.STATE, "vpc-1", "aws_vpc.a"))
    live = _inventory(status=ObservationStatus.UNKNOWN, reason="AccessDenied on DescribeVpcs: no")
    [drift] = diff(state, live)
    assert drift.kind is DriftKind.UNKNOWN
    assert "AccessDenied" in (drift.reason or "")


def test_a_type_not_collected_in_the_region_is_unknown() -> None:
    state = _state(_res(Origin.STATE, "vpc-1", "aws_vpc.a"))
    [drift] = diff(state, Inventory(resources=(), observations=(), api_calls=0))
    assert drift.kind is DriftKind.UNKNOWN


def test_ignore_rules_drop_paths_and_resources() -> None:
    state = _state(_res(Origin.STATE, "vpc-1", "aws_vpc.a"), _res(Origin.STATE, "vpc-2", "aws_vpc.b"))
    live = _inventory(_res(Origin.LIVE, "vpc-1", cidr_block="10.1.0.0/16"),
                      _res(Origin.LIVE, "vpc-2", cidr_block="10.2.0.0/16"), _res(Origin.LIVE, "vpc-9"))
    rules = parse_ignore("aws_vpc.a.cidr_block\naws_vpc.vpc-9\n")
    kinds = {d.id: d.kind for d in diff(state, live, rules)}
    assert kinds == {"vpc-1": DriftKind.IN_SYNC, "vpc-2": DriftKind.CHANGED}


@pytest.mark.parametrize("line", ["nodot", ".leading"])
def test_malformed_ignore_lines_are_config_errors(line: str) -> None:
    from auditor.errors import ConfigError

    with pytest.raises(ConfigError, match=":1:"):
        parse_ignore(line)


def test_ignore_negation_last_match_wins() -> None:
    rules = parse_ignore("aws_ecs_service.*.desired_count\n!aws_ecs_service.keep.desired_count\n")
    assert rules.ignores_path(["aws_ecs_service.arn:x", "aws_ecs_service.web"], "desired_count")
    assert not rules.ignores_path(["aws_ecs_service.keep"], "desired_count")


def test_unmanaged_is_not_claimed_when_a_state_could_not_be_read() -> None:
    [drift] = diff(_state(), _inventory(_res(Origin.LIVE, "vpc-7")), unmanaged_doubt="state x unreadable")
    assert drift.kind is DriftKind.UNKNOWN
    assert drift.reason == "state x unreadable"


def test_normalizers_apply_to_both_sides() -> None:
    spec = TypeSpec(type="aws_thing", service="ecs", compared=("task_definition",),
                    normalizers={"task_definition": lambda v: v.rsplit("/", 1)[-1] if v else v})
    state = {"task_definition": "web:3"}
    assert attribute_changes(spec, state, {"task_definition": "arn:aws:ecs:r:1:task-definition/web:3"}) == []
    assert [c.path for c in attribute_changes(spec, state, {"task_definition": "arn:x/web:4"})] == [
        "task_definition"]


def test_attribute_absent_from_an_older_providers_state_is_not_compared() -> None:
    assert attribute_changes(SPEC, {"name": "a"}, {"name": "a", "size": 0, "zones": ["x"]}) == []
    assert [c.path for c in attribute_changes(SPEC, {"name": "a", "zones": None}, {"name": "a", "zones": ["x"]})] \
        == ["zones"]


def test_redacted_state_values_mask_the_live_side() -> None:
    from auditor.state.model import REDACTED

    state = {"name": REDACTED, "health_check": [{"path": "/x", "token": REDACTED}],
             "tags_all": {"Owner": REDACTED, "Env": "prod"}}
    live = {"name": "real-secret-name", "health_check": [{"path": "/y", "token": "live-secret"}],
            "tags": {"Owner": "owner-secret", "Env": "prod"}}
    changes = attribute_changes(SPEC, state, live, redacted=True)
    assert [c.path for c in changes] == ["health_check[0].path"]
    assert "secret" not in repr(changes)
