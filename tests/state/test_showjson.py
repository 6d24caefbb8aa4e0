"""`terraform show -json` and `terraform state list` from a parsed state."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from auditor.state.model import REDACTED, StateDocument
from auditor.state.parse import parse_state
from auditor.state.showjson import json_safe, sensitive_values, state_list, to_show_json

AWS = 'provider["registry.terraform.io/hashicorp/aws"]'
MISSING = "<absent>"

# Every difference from Terraform's own output on the fixture pairs, by JSON path. Only two kinds
# exist (docs/state-formats.md): attributes the provider schema adds as null, and values we redact.
SHOW_JSON_EXCEPTIONS: dict[str, dict[str, tuple[Any, Any]]] = {
    "modules": {
        # schema attribute `id` is absent from the state; Terraform adds it from the provider schema
        "values.root_module.child_modules[0].resources[0].values.id": (MISSING, None),
        "values.root_module.child_modules[1].resources[0].values.id": (MISSING, None),
    },
    "sensitive": {
        # a path in sensitive_attributes: Terraform prints the secret, we print the redaction marker
        "values.root_module.resources[0].values.ami": (REDACTED, "abc"),
    },
}


def _differences(ours: Any, theirs: Any, path: str = "") -> dict[str, tuple[Any, Any]]:
    if isinstance(ours, dict) and isinstance(theirs, dict):
        found: dict[str, tuple[Any, Any]] = {}
        for key in ours.keys() | theirs.keys():
            sub = f"{path}.{key}" if path else key
            found.update(_differences(ours.get(key, MISSING), theirs.get(key, MISSING), sub))
        return found
    if isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        found = {}
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            found.update(_differences(a, b, f"{path}[{i}]"))
        return found
    return {} if ours == theirs and type(ours) is type(theirs) else {path: (ours, theirs)}


@pytest.mark.parametrize("name", sorted(SHOW_JSON_EXCEPTIONS))
def test_show_json_matches_terraform_except_schema_fields(shared_fixtures: Path, name: str) -> None:
    folder = shared_fixtures / "opentofu"
    doc = parse_state(
        (folder / f"show-json-state-{name}.tfstate").read_bytes(),
        name,
        default_registry="registry.opentofu.org",
    )
    expected = json.loads((folder / f"show-json-state-{name}.output.json").read_text())
    ours = to_show_json(doc)
    assert _differences(ours, expected) == SHOW_JSON_EXCEPTIONS[name]
    assert list(ours) == list(expected)  # same top-level key order


def _doc(resources: list[dict[str, Any]], **top: Any) -> StateDocument:
    state = {
        "version": 4,
        "terraform_version": "1.9.8",
        "serial": 1,
        "lineage": "l",
        "outputs": {},
        "resources": resources,
        **top,
    }
    return parse_state(orjson.dumps(state), "t.tfstate")


def _res(
    type_: str, name: str, instances: list[dict[str, Any]], mode: str = "managed", module: str | None = None
) -> dict[str, Any]:
    resource = {"mode": mode, "type": type_, "name": name, "provider": AWS, "instances": instances}
    if module:
        resource["module"] = module
    return resource


def _inst(id_: str, **extra: Any) -> dict[str, Any]:
    return {"schema_version": 2, "attributes": {"id": id_}, **extra}


MIXED = [
    _res("aws_vpc", "b", [_inst("v2")]),
    _res(
        "aws_subnet",
        "s",
        [_inst("s10", index_key=10), _inst("s2", index_key=2), _inst("sx", index_key="x")],
        module='module.net["eu"]',
    ),
    _res("aws_ami", "a", [_inst("ami")], mode="data"),
    _res("aws_vpc", "a", [_inst("v1", deposed="0000000b"), _inst("v1-old", deposed="0000000a")]),
    _res("aws_instance", "w", [_inst("i-1", status="tainted", dependencies=["aws_vpc.a"])], module="module.app"),
    _res("aws_lb", "lb", [_inst("lb")], module="module.app.module.edge"),
]


def test_state_list_order_and_deposed_only_instances() -> None:
    assert state_list(_doc(MIXED)) == [
        "data.aws_ami.a",
        "aws_vpc.a",
        "aws_vpc.b",
        "module.app.aws_instance.w",
        'module.net["eu"].aws_subnet.s[2]',
        'module.net["eu"].aws_subnet.s[10]',
        'module.net["eu"].aws_subnet.s["x"]',
        "module.app.module.edge.aws_lb.lb",
    ]


def test_show_json_structure() -> None:
    show = to_show_json(_doc(MIXED))
    root = show["values"]["root_module"]
    assert "outputs" not in show["values"] and "address" not in root
    assert [(r["address"], r.get("deposed_key"), r["schema_version"]) for r in root["resources"]] == [
        ("data.aws_ami.a", None, 2),
        ("aws_vpc.a", "0000000a", 0),
        ("aws_vpc.a", "0000000b", 0),
        ("aws_vpc.b", None, 2),
    ]
    assert [m["address"] for m in root["child_modules"]] == ["module.app", 'module.net["eu"]']
    app, net = root["child_modules"]
    assert app["resources"][0] == {
        "address": "module.app.aws_instance.w",
        "mode": "managed",
        "type": "aws_instance",
        "name": "w",
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "schema_version": 2,
        "values": {"id": "i-1"},
        "sensitive_values": {},
        "depends_on": ["aws_vpc.a"],
        "tainted": True,
    }
    assert app["child_modules"] == [
        {
            "resources": [
                {
                    "address": "module.app.module.edge.aws_lb.lb",
                    "mode": "managed",
                    "type": "aws_lb",
                    "name": "lb",
                    "provider_name": "registry.terraform.io/hashicorp/aws",
                    "schema_version": 2,
                    "values": {"id": "lb"},
                    "sensitive_values": {},
                }
            ],
            "address": "module.app.module.edge",
        }
    ]
    assert [r["index"] for r in net["resources"]] == [2, 10, "x"]


def test_module_holding_only_modules_still_appears() -> None:
    root = to_show_json(_doc([_res("aws_lb", "lb", [_inst("lb")], module="module.a.module.b")]))["values"][
        "root_module"
    ]
    assert list(root) == ["child_modules"]
    (outer,) = root["child_modules"]
    assert outer["address"] == "module.a" and "resources" not in outer
    (inner,) = outer["child_modules"]
    assert inner["address"] == "module.a.module.b"
    assert [r["address"] for r in inner["resources"]] == ["module.a.module.b.aws_lb.lb"]


def test_outputs_identity_and_empty_state() -> None:
    doc = _doc(
        [_res("aws_instance", "w", [_inst("i-1", identity_schema_version=0, identity={"id": "i-1"})])],
        outputs={
            "pw": {"value": "hunter2", "type": "string", "sensitive": True},
            "n": {"value": 3, "type": "number"},
        },
    )
    show = to_show_json(doc)
    assert show["values"]["outputs"] == {
        "n": {"sensitive": False, "value": 3, "type": "number"},
        "pw": {"sensitive": True, "value": REDACTED, "type": "string"},
    }
    resource = show["values"]["root_module"]["resources"][0]
    assert (resource["identity"], resource["identity_schema_version"]) == ({"id": "i-1"}, 0)
    assert to_show_json(_doc([])) == {"format_version": "1.0"}


def test_sensitive_values_mirror_shape() -> None:
    value = {
        "a": "x",
        "l": ["p", "q", "r"],
        "m": {"k": "v", "s": "w"},
        "blocks": [{"x": 1, "y": [1, 2]}],
        "empty": [],
        "null": None,
    }
    paths: list[tuple[str | int, ...]] = [("l", 1), ("m", "s"), ("blocks", 0, "y"), ("null",)]
    assert sensitive_values(value, paths) == {
        "l": [False, True, False],
        "m": {"s": True},
        "blocks": [{"y": True}],
        "empty": [],
        "null": True,
    }
    assert sensitive_values({}, []) == {}


def test_json_safe_keeps_big_and_exact_numbers() -> None:
    value = {"big": 2**80, "dec": Decimal("0.1000000000000000000001"), "l": [1, 0.5, "s"]}
    assert (
        orjson.dumps(json_safe(value)) == b'{"big":1208925819614629174706176,"dec":0.1000000000000000000001,'
        b'"l":[1,0.5,"s"]}'
    )
