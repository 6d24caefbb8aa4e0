"""Drift inside redacted values: compared by keyed fingerprint, reported `changed` with masked values only."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.catalog import spec_for
from auditor.diff import attribute_changes
from auditor.state.model import REDACTED, SENSITIVE_CHANGED
from auditor.state.parse import parse_state
from auditor.state.redact import redact_container_environment


def _state(type_: str, attributes: dict[str, Any], sensitive: list[list[dict[str, str]]]) -> dict[str, Any]:
    doc = {"version": 4, "terraform_version": "1.11.4", "serial": 1, "lineage": "l-1", "outputs": {},
           "resources": [{"mode": "managed", "type": type_, "name": "x",
                          "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
                          "instances": [{"schema_version": 0, "attributes": attributes,
                                         "sensitive_attributes": sensitive}]}]}
    [instance] = parse_state(json.dumps(doc).encode(), "mem").managed
    return dict(instance.attributes)


def _containers(value: str) -> str:
    return json.dumps([{"name": "app", "image": "nginx", "essential": True,
                        "environment": [{"name": "DB_PASSWORD", "value": value}, {"name": "MODE", "value": "a"}]}])


def test_a_rotated_secret_environment_variable_is_changed_never_shown() -> None:
    spec = spec_for("aws_ecs_task_definition")
    assert spec is not None
    state = _state("aws_ecs_task_definition", {"id": "app", "family": "app",
                                               "container_definitions": _containers("old-secret-1")}, [])
    live = {"id": "app", "family": "app", "container_definitions": redact_container_environment(
        _containers("new-secret-2"))}
    changes = attribute_changes(spec, state, live)
    assert [(c.path, c.state, c.live) for c in changes] == [
        ("container_definitions[0].environment.DB_PASSWORD", REDACTED, SENSITIVE_CHANGED)]
    same = {"id": "app", "family": "app", "container_definitions": redact_container_environment(
        _containers("old-secret-1"))}
    assert attribute_changes(spec, state, same) == []
    assert "secret-" not in repr(changes)


def test_a_changed_sensitive_tag_and_attribute_are_changed_never_shown() -> None:
    spec = spec_for("aws_lb")
    assert spec is not None
    attrs = {"id": "arn:lb", "name": "web", "idle_timeout": 60, "tags": {"owner_token": "tok-A1"},
             "tags_all": {"owner_token": "tok-A1"}}
    state = _state("aws_lb", attrs, [[{"type": "get_attr", "value": "name"}]])
    assert state["name"] == REDACTED and state["tags"]["owner_token"] == REDACTED
    live = dict(attrs, name="web-2", tags={"owner_token": "tok-B2"})
    changes = {c.path: (c.state, c.live) for c in attribute_changes(spec, state, live, redacted=True)}
    assert changes == {"name": (REDACTED, SENSITIVE_CHANGED), "tags.owner_token": (REDACTED, SENSITIVE_CHANGED)}
    assert attribute_changes(spec, state, attrs, redacted=True) == []


@settings(max_examples=60, deadline=None)
@given(old=st.text(min_size=1, max_size=20), new=st.text(min_size=1, max_size=20))
def test_a_changed_secret_is_always_changed_and_never_appears(old: str, new: str) -> None:
    spec = spec_for("aws_lb")
    assert spec is not None
    attrs = {"id": "arn:lb", "name": old, "tags": {}, "tags_all": {}}
    state = _state("aws_lb", attrs, [[{"type": "get_attr", "value": "name"}]])
    changes = attribute_changes(spec, state, dict(attrs, name=new), redacted=True)
    assert bool(changes) is (old != new)
    for change in changes:
        assert (change.state, change.live) == (REDACTED, SENSITIVE_CHANGED)
