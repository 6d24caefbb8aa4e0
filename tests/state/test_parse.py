"""parse_state: real fixtures, the v3 upgrade, every v4 feature, exact numbers, duplicate keys."""

from __future__ import annotations

import gc
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from auditor.errors import StateError
from auditor.state.model import REDACTED, StateDocument
from auditor.state.parse import parse_state
from auditor.state.showjson import json_default, state_list
from auditor.state.upgrade import implied_type, simplify_type, unflatten, upgrade_v3

TOFU = "registry.opentofu.org"
AWS = 'provider["registry.terraform.io/hashicorp/aws"]'

# driftctl's goldens are its own decoded output, normalized in two places that are not about reading
# state; each exception names the pair ours has that the golden lacks, and the reverse.
DRIFTCTL_GOLDEN_EXCEPTIONS: dict[str, tuple[set[tuple[str, str]], set[tuple[str, str]]]] = {
    # driftctl's golden has no entry for the target group this state holds (it did not read that type)
    "aws_lb_listener": (
        {
            (
                "aws_lb_target_group",
                "arn:aws:elasticloadbalancing:us-east-1:533948124879:targetgroup/tf-example-lb-tg/9e43d546683d8b35",
            )
        },
        set(),
    ),
    # driftctl drops the ports of this protocol-5 rule and recomputes its id from what is left
    "aws_vpc_security_group_rule": (
        {("aws_security_group_rule", "sgrule-894498715")},
        {("aws_security_group_rule", "sgrule-850043874")},
    ),
}


def _state(resources: list[dict[str, Any]], **top: Any) -> bytes:
    doc = {
        "version": 4,
        "terraform_version": "1.9.8",
        "serial": 5,
        "lineage": "11111111-2222-3333-4444-555555555555",
        "outputs": {},
        "resources": resources,
        "check_results": None,
    }
    doc.update(top)
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2)


def _resource(type_: str, name: str, instances: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"mode": "managed", "type": type_, "name": name, "provider": AWS, "instances": instances, **extra}


def _parse(data: bytes, **kwargs: Any) -> StateDocument:
    return parse_state(data, "test.tfstate", **kwargs)


# ---------------------------------------------------------------------------------------- fixtures


def _fixture_states(shared: Path) -> list[Path]:
    tofu = [p for p in (shared / "opentofu").glob("*.tfstate")]
    driftctl = list((shared / "driftctl" / "state").glob("*.tfstate.json"))
    return sorted(tofu + driftctl)


def test_every_fixture_state_reads(shared_fixtures: Path) -> None:
    states = _fixture_states(shared_fixtures)
    assert len(states) >= 30
    for path in states:
        registry = TOFU if "opentofu" in path.parts else "registry.terraform.io"
        if path.name == "opentofu-encrypted-state.handmade.tfstate":
            with pytest.raises(StateError) as info:
                parse_state(path.read_bytes(), path.name, default_registry=registry)
            assert "is an OpenTofu encrypted state" in info.value.message
            assert "serial unknown, lineage unknown" in info.value.message
            continue
        doc = parse_state(path.read_bytes(), path.name, default_registry=registry)
        assert doc.version in (3, 4) and doc.lineage and doc.instances, path.name


def test_driftctl_goldens_match_type_and_id(shared_fixtures: Path) -> None:
    folder = shared_fixtures / "driftctl" / "state"
    goldens = sorted(folder.glob("*.parsed.golden.json"))
    assert len(goldens) >= 13
    for golden_path in goldens:
        stem = golden_path.name.removesuffix(".parsed.golden.json")
        doc = _parse((folder / f"{stem}.tfstate.json").read_bytes())
        ours = {(i.type, i.attributes["id"]) for i in doc.managed if not i.deposed}
        golden = {(e["Type"], e["Id"]) for e in json.loads(golden_path.read_text())}
        only_ours, only_golden = DRIFTCTL_GOLDEN_EXCEPTIONS.get(stem, (set(), set()))
        assert ours - golden == only_ours, stem
        assert golden - ours == only_golden, stem


def test_data_sources_are_parsed_with_mode_data(shared_fixtures: Path) -> None:
    doc = _parse((shared_fixtures / "driftctl" / "state" / "data_source.tfstate.json").read_bytes())
    assert [(i.mode, i.address) for i in doc.instances] == [("data", "data.aws_ami.ubuntu")]
    assert doc.managed == ()


# ---------------------------------------------------------------------------------------------- v3


def test_v3_upgrade_produces_terraforms_v4_document(shared_fixtures: Path) -> None:
    v3 = json.loads((shared_fixtures / "opentofu" / "v3-grabbag.in.tfstate").read_text())
    v4 = json.loads((shared_fixtures / "opentofu" / "v3-grabbag.out-v4.tfstate").read_text())
    assert upgrade_v3(v3) == v4


def test_v3_and_its_upgrade_read_to_the_same_model(shared_fixtures: Path) -> None:
    folder = shared_fixtures / "opentofu"
    old = _parse((folder / "v3-grabbag.in.tfstate").read_bytes(), default_registry=TOFU)
    new = _parse((folder / "v3-grabbag.out-v4.tfstate").read_bytes(), default_registry=TOFU)
    assert (old.version, new.version) == (3, 4)
    assert old.instances == new.instances
    assert old.outputs == new.outputs
    assert (old.serial, old.lineage, old.terraform_version) == (
        new.serial,
        new.lineage,
        new.terraform_version,
    )
    bar0 = old.instances[0]
    assert (bar0.address, bar0.schema_version, bar0.attributes) == (
        "null_resource.bar[0]",
        1,
        {"id": "604776346677326098", "triggers": {"index": "0"}},
    )
    assert old.outputs["results"].type == ["map", "string"]
    assert [i.address for i in old.instances][-1] == "module.child.null_resource.foo"


def test_v3_tainted_deposed_and_first_class_id() -> None:
    v3 = {
        "version": 3,
        "terraform_version": "0.11.14",
        "serial": 2,
        "lineage": "abc",
        "modules": [
            {
                "path": ["root", "net"],
                "outputs": {},
                "resources": {
                    "aws_vpc.main": {
                        "type": "aws_vpc",
                        "provider": "aws.west",
                        "depends_on": [],
                        "primary": {"id": "vpc-2", "attributes": {}, "tainted": True, "meta": {}},
                        "deposed": [{"id": "vpc-1", "attributes": {"id": "vpc-1"}, "meta": {}}],
                    },
                    "data.aws_ami.ubuntu": {
                        "type": "aws_ami",
                        "provider": "",
                        "primary": {"id": "ami-1", "attributes": {"id": "ami-1"}},
                    },
                },
            }
        ],
    }
    doc = _parse(orjson.dumps(v3))
    by_address = {(i.address, i.deposed): i for i in doc.instances}
    current = by_address[("module.net.aws_vpc.main", None)]
    deposed = by_address[("module.net.aws_vpc.main", "00000001")]
    assert current.tainted and current.attributes == {"id": "vpc-2"}
    assert not deposed.tainted and deposed.attributes == {"id": "vpc-1"}
    assert current.provider == 'module.net.provider["registry.terraform.io/-/aws"].west'
    ami = by_address[("module.net.data.aws_ami.ubuntu", None)]
    assert ami.mode == "data" and ami.provider == 'module.net.provider["registry.terraform.io/-/aws"]'


def test_output_types_are_implied_and_simplified_like_terraform() -> None:
    assert simplify_type(implied_type({"a": "x", "b": "y"})) == ["map", "string"]
    assert simplify_type(implied_type([1, 2])) == ["list", "number"]
    assert simplify_type(implied_type([1, "a"])) == ["tuple", ["number", "string"]]
    assert simplify_type(implied_type([])) == ["tuple", []]
    assert simplify_type(implied_type({})) == ["object", {}]
    assert simplify_type(implied_type([{"a": ["x"]}, {"a": ["y"]}])) == ["list", ["map", ["list", "string"]]]
    assert implied_type(None) == "dynamic" and implied_type(True) == "bool"


# ---------------------------------------------------------------------------------------------- v4


def test_legacy_provider_strings_normalize_as_terraform_writes_them(shared_fixtures: Path) -> None:
    folder = shared_fixtures / "opentofu"
    old = _parse((folder / "v4-legacy-provider-strings.in.tfstate").read_bytes(), default_registry=TOFU)
    new = _parse((folder / "v4-legacy-provider-strings.out.tfstate").read_bytes(), default_registry=TOFU)
    assert old.instances == new.instances
    providers = {i.address: i.provider for i in old.instances}
    assert providers["data.terraform_remote_state.random"] == 'provider["terraform.io/builtin/terraform"]'
    assert providers["null_resource.bar"] == 'provider["registry.opentofu.org/-/null"]'
    terraform = _parse((folder / "v4-legacy-provider-strings.in.tfstate").read_bytes())
    assert {i.provider for i in terraform.managed} == {'provider["registry.terraform.io/-/null"]'}


def test_modules_and_for_each_keys(shared_fixtures: Path) -> None:
    doc = _parse((shared_fixtures / "opentofu" / "v4-modules.tfstate").read_bytes(), default_registry=TOFU)
    assert [i.address for i in doc.instances] == [  # file order
        "null_resource.bar",
        'module.modB.null_resource.bar["a"]',
        'module.modB.null_resource.bar["b"]',
        "module.modA.null_resource.resource",
    ]
    mod_a = doc.instances[3]
    assert mod_a.module == "module.modA" and mod_a.dependencies == ("null_resource.bar",)
    assert doc.instances[1].dependencies == ("module.modA.null_resource.resource",)
    assert doc.instances[1].module == "module.modB" and doc.instances[1].index_key == "a"
    assert doc.instances[0].attributes == {"id": "5388490630832483079", "triggers": {"whaaat": "0,1"}}
    assert doc.instances[0].dependencies == ("null_resource.foo",)  # legacy depends_on, kept verbatim


def test_create_before_destroy(shared_fixtures: Path) -> None:
    doc = _parse((shared_fixtures / "opentofu" / "v4-cbd.tfstate").read_bytes(), default_registry=TOFU)
    assert [i.create_before_destroy for i in doc.instances] == [True]


def test_deep_keyed_modules_count_for_each_tainted_deposed() -> None:
    module = 'module.a["x.y"].module.b[0]'
    data = _state(
        [
            _resource(
                "aws_iam_role",
                "r",
                [
                    {"index_key": 0, "schema_version": 0, "attributes": {"id": "count-0"}},
                    {
                        "index_key": "0",
                        "schema_version": 0,
                        "attributes": {"id": "each-0"},
                        "status": "tainted",
                    },
                    {
                        "index_key": "0",
                        "deposed": "0a1b2c3d",
                        "schema_version": 0,
                        "attributes": {"id": "old-1"},
                    },
                    {
                        "index_key": "0",
                        "deposed": "00c0ffee",
                        "schema_version": 0,
                        "attributes": {"id": "old-2"},
                    },
                ],
                module=module,
            ),
            _resource(
                "aws_vpc",
                "solo",
                [
                    {
                        "deposed": "deadbeef",
                        "schema_version": 1,
                        "attributes": {"id": "vpc-old"},
                        "create_before_destroy": True,
                    }
                ],
            ),
        ]
    )
    doc = _parse(data)
    rows = [(i.address, i.index_key, i.deposed, i.tainted) for i in doc.instances]
    assert rows == [  # file order; state_list and show-json sort
        (f"{module}.aws_iam_role.r[0]", 0, None, False),
        (f'{module}.aws_iam_role.r["0"]', "0", None, True),
        (f'{module}.aws_iam_role.r["0"]', "0", "0a1b2c3d", False),
        (f'{module}.aws_iam_role.r["0"]', "0", "00c0ffee", False),
        ("aws_vpc.solo", None, "deadbeef", False),
    ]
    assert doc.instances[0].module == module and doc.instances[4].create_before_destroy
    assert state_list(doc) == ["aws_vpc.solo", f"{module}.aws_iam_role.r[0]", f'{module}.aws_iam_role.r["0"]']


def test_opentofu_instance_providers_skip_destroy_and_unknown_keys() -> None:
    data = _state(
        [
            {
                "mode": "managed",
                "type": "aws_s3_bucket",
                "name": "b",
                "each": "map",
                "future_key": {"x": 1},
                "instances": [
                    {
                        "index_key": "eu",
                        "schema_version": 0,
                        "attributes": {"id": "b-eu"},
                        "skip_destroy": True,
                        "instance_provider": 'provider["registry.opentofu.org/hashicorp/aws"].eu',
                        "new_field": [1, 2],
                    },
                    {
                        "index_key": "us",
                        "schema_version": 0,
                        "attributes": {"id": "b-us"},
                        "provider": 'provider["registry.opentofu.org/hashicorp/aws"].us',
                    },
                ],
            }
        ],
        some_future_top_level_key={"a": [1]},
    )
    doc = _parse(data)
    assert [(i.provider, i.skip_destroy) for i in doc.instances] == [
        ('provider["registry.opentofu.org/hashicorp/aws"].eu', True),
        ('provider["registry.opentofu.org/hashicorp/aws"].us', False),
    ]


def test_identity_and_check_results() -> None:
    instance = {
        "schema_version": 0,
        "attributes": {"id": "i-1"},
        "identity_schema_version": 0,
        "identity": {"account_id": "123456789012", "id": "i-1", "region": "eu-west-1"},
    }
    checks = [{"object_kind": "resource", "config_addr": "aws_instance.web", "status": "pass", "objects": None}]
    for results in (None, [], checks):
        doc = _parse(_state([_resource("aws_instance", "web", [instance])], check_results=results))
        assert doc.check_results == results
        assert doc.instances[0].identity == instance["identity"]
        assert doc.instances[0].identity_schema_version == 0
    doc = _parse(_state([_resource("aws_instance", "web", [{"attributes": {}}])]))
    assert doc.instances[0].identity is None and doc.instances[0].schema_version == 0
    assert _parse(_state([]).replace(b'"check_results": null', b'"x": 1')).check_results is None


def test_terraform_remote_state_is_a_data_source() -> None:
    data = _state(
        [
            {
                "mode": "data",
                "type": "terraform_remote_state",
                "name": "net",
                "provider": 'provider["terraform.io/builtin/terraform"]',
                "instances": [{"schema_version": 0, "attributes": {"backend": "s3", "outputs": {"value": {}}}}],
            }
        ]
    )
    doc = _parse(data)
    assert [(i.mode, i.address) for i in doc.instances] == [("data", "data.terraform_remote_state.net")]


def test_attributes_flat_become_nested_values() -> None:
    flat = {
        "id": "sg-1",
        "name": "web",
        "tags.%": "2",
        "tags.Name": "web",
        "tags.kubernetes.io/cluster/main": "owned",
        "ingress.#": "2",
        "ingress.2541437006.from_port": "443",
        "ingress.2541437006.cidr_blocks.#": "1",
        "ingress.2541437006.cidr_blocks.0": "0.0.0.0/0",
        "ingress.516175195.from_port": "80",
        "ingress.516175195.cidr_blocks.#": "0",
        "egress.#": "0",
        "empty_map.%": "0",
        "unknown.#": "74D93920-ED26-11E3-AC10-0800200C9A66",
        "settings.mode": "fast",
    }
    assert unflatten(flat) == {
        "id": "sg-1",
        "name": "web",
        "tags": {"Name": "web", "kubernetes.io/cluster/main": "owned"},
        "ingress": [
            {"from_port": "80", "cidr_blocks": []},
            {"from_port": "443", "cidr_blocks": ["0.0.0.0/0"]},
        ],
        "egress": [],
        "empty_map": {},
        "unknown": None,
        "settings": {"mode": "fast"},
    }


# ----------------------------------------------------------------------------------------- numbers


def _numbers(text: str) -> Any:
    data = _state(
        [
            _resource(
                "aws_cloudwatch_metric_alarm",
                "a",
                [{"schema_version": 0, "attributes": {"id": "a", "value": 0}}],
            )
        ]
    ).replace(b'"value": 0', f'"value": {text}'.encode())
    return _parse(data).instances[0].attributes["value"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("3600", 3600),
        ("0.5", 0.5),
        ("1e3", 1000.0),
        ("18446744073709551615", 18446744073709551615),
        ("123456789012345678901234567890", 123456789012345678901234567890),
        ("-98765432109876543210987654321", -98765432109876543210987654321),
        ("3.14159265358979323846264338327950288", Decimal("3.14159265358979323846264338327950288")),
        ("0.30000000000000000000000000000000001", Decimal("0.30000000000000000000000000000000001")),
        ("1e400", Decimal("1e400")),
        ("[1, 2.25, 12345678901234567890123]", [1, 2.25, 12345678901234567890123]),
    ],
)
def test_numbers_are_kept_exact(text: str, expected: Any) -> None:
    value = _numbers(text)
    assert value == expected
    assert type(value) is type(expected)


def test_exact_numbers_serialize_exactly() -> None:
    value = _numbers("3.14159265358979323846264338327950288")
    assert orjson.dumps({"v": value}, default=json_default) == b'{"v":3.14159265358979323846264338327950288}'


def test_states_without_floats_keep_orjson_values() -> None:
    doc = _parse(_state([_resource("aws_vpc", "v", [{"schema_version": 0, "attributes": {"id": "v", "n": 7}}])]))
    assert doc.instances[0].attributes == {"id": "v", "n": 7}


# --------------------------------------------------------------------------------- JSON edge cases


def test_escaped_colons_are_not_mistaken_for_duplicates() -> None:
    data = _state([_resource("aws_vpc", "v", [{"schema_version": 0, "attributes": {"id": "v", "arn": "arn:a"}}])])
    data = data.replace(b'"arn:a"', b'"arn\\u003aa"')
    doc = _parse(data)
    assert doc.instances[0].attributes["arn"] == "arn:a"


def test_colons_inside_strings_and_keys_are_counted_right() -> None:
    attributes = {
        "id": "v",
        "policy": '{"a":"b::c"}',
        "tags": {"aws:cloudformation:stack": "::/0"},
        "list": ["::/0", ":", '\\":'],
    }
    doc = _parse(_state([_resource("aws_vpc", "v", [{"schema_version": 0, "attributes": attributes}])]))
    assert doc.instances[0].attributes == attributes


def test_duplicate_keys_are_found_in_compact_json_too() -> None:
    data = (
        b'{"version":4,"serial":1,"lineage":"x","resources":[{"mode":"managed","type":"a_b","name":"c",'
        b'"provider":"provider[\\"aws\\"]","instances":[{"attributes":{"k":"1","k":"2"}}]}]}'
    )
    with pytest.raises(StateError, match='duplicate key "k"'):
        _parse(data)


@pytest.mark.parametrize("number", ["0.5", "1e400", "123456789012345678901234567890"])
def test_duplicate_keys_are_found_when_numbers_need_the_exact_reader(number: str) -> None:
    data = _state([_resource("aws_vpc", "v", [{"schema_version": 0, "attributes": {"id": "v", "n": 1}}])])
    data = data.replace(b'"n": 1', f'"n": {number}, "id": "w"'.encode())
    with pytest.raises(StateError, match='duplicate key "id"'):
        _parse(data)


def test_garbage_collector_state_is_restored() -> None:
    assert gc.isenabled()
    _parse(_state([]))
    assert gc.isenabled()
    with pytest.raises(StateError):
        _parse(b"{")
    assert gc.isenabled()
    gc.disable()
    try:
        _parse(_state([]))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_empty_resources_and_missing_optional_fields() -> None:
    doc = _parse(b'{"version": 4, "serial": 0, "lineage": "l"}')
    assert (doc.terraform_version, doc.instances, dict(doc.outputs), doc.check_results) == ("", (), {}, None)


def test_sensitive_output_is_redacted_and_typed() -> None:
    doc = _parse(
        _state(
            [],
            outputs={
                "pw": {"value": "hunter2", "type": "string", "sensitive": True},
                "none": {"value": None, "type": "string", "sensitive": True},
                "ids": {"value": ["a"], "type": ["list", "string"]},
            },
        )
    )
    assert doc.outputs["pw"].value == REDACTED and doc.outputs["pw"].sensitive
    assert doc.outputs["none"].value is None
    assert doc.outputs["ids"].value == ["a"] and doc.outputs["ids"].type == ["list", "string"]
