"""Addresses are parsed with a tokenizer, formatted like Terraform, and sorted like Terraform."""

from __future__ import annotations

import random

import pytest

from auditor.state import address
from auditor.state.address import (
    AddressError,
    InstanceAddress,
    ModuleStep,
    ProviderConfig,
    format_key,
    format_module,
    format_resource_instance,
    parse_instance_address,
    parse_module,
    parse_provider_config,
    parse_resource_address,
    quote,
    resource_order,
)

TRICKY_KEYS = [
    "x.y",
    'a"b',
    "back\\slash",
    "${var.x}",
    "%{if}",
    "tab\there",
    "line\nbreak",
    "bell\u0007",
    "émoji 🚀",
    "]",
    "[0]",
    "module.x",
    "",
    "0",
]


@pytest.mark.parametrize(
    "text, steps",
    [
        ("", ()),
        ("module.a", (ModuleStep("a"),)),
        ('module.a["x.y"].module.b[0]', (ModuleStep("a", "x.y"), ModuleStep("b", 0))),
        (
            'module.net["eu-west-1"].module.subnets["10.0.0.0/24"]',
            (ModuleStep("net", "eu-west-1"), ModuleStep("subnets", "10.0.0.0/24")),
        ),
        ('module.a["q\\"uote"]', (ModuleStep("a", 'q"uote'),)),
        ('module.a["$${literal}"]', (ModuleStep("a", "${literal}"),)),
        ('module.a["\\u00e9\\U0001F680"]', (ModuleStep("a", "é🚀"),)),
        ("module.my-module_2[12]", (ModuleStep("my-module_2", 12),)),
    ],
)
def test_parse_module(text: str, steps: tuple[ModuleStep, ...]) -> None:
    assert parse_module(text) == steps


@pytest.mark.parametrize("key", TRICKY_KEYS)
def test_string_keys_round_trip_through_format_and_parse(key: str) -> None:
    text = f"module.m{format_key(key)}.module.n[3]"
    assert parse_module(text) == (ModuleStep("m", key), ModuleStep("n", 3))
    assert format_module(parse_module(text)) == text
    address = parse_instance_address(f"{text}.aws_lb.main{format_key(key)}")
    assert address.index_key == key and address.module == text
    assert "\n" not in text and "\t" not in text


def test_integer_and_string_keys_stay_distinct() -> None:
    count = parse_instance_address("aws_iam_role.r[0]")
    for_each = parse_instance_address('aws_iam_role.r["0"]')
    assert count.index_key == 0 and isinstance(count.index_key, int)
    assert for_each.index_key == "0" and isinstance(for_each.index_key, str)
    assert count != for_each
    assert str(count) == "aws_iam_role.r[0]" and str(for_each) == 'aws_iam_role.r["0"]'


@pytest.mark.parametrize(
    "key, text",
    [
        (None, ""),
        (0, "[0]"),
        (17, "[17]"),
        ("a", '["a"]'),
        ('a"b', '["a\\"b"]'),
        ("a\\b", '["a\\\\b"]'),
        ("${x}", '["$${x}"]'),
        ("%{x}", '["%%{x}"]'),
        ("$x", '["$x"]'),
        ("\u0007", '["\\u0007"]'),
        ("\U000e0001", '["\\U000e0001"]'),
        ("é", '["é"]'),
    ],
)
def test_format_key_quotes_like_terraform(key: int | str | None, text: str) -> None:
    assert format_key(key) == text


def test_format_key_rejects_booleans() -> None:
    with pytest.raises(AddressError):
        format_key(True)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("module.a.b", 'expected "module"'),
        ("module.a[", "non-negative integer or a quoted string"),
        ("module.a[-1]", "non-negative integer"),
        ("module.a[01]", "non-negative integer"),
        ("module.a[1.5]", "expected ']'"),
        ('module.a["${x}"]', "template sequences"),
        ('module.a["x', "unterminated quoted string"),
        ('module.a["\\q"]', "invalid escape"),
        ('module.a["\\ud800"]', "invalid unicode escape"),
        ("module.", "expected a module name"),
        ("module.1a", "expected a module name"),
        ("aws_vpc.main", 'must start with "module."'),
        ("module.a extra", "unexpected text"),
    ],
)
def test_parse_module_errors(text: str, problem: str) -> None:
    with pytest.raises(AddressError, match="invalid address") as info:
        parse_module(text)
    assert problem in str(info.value)


def test_error_messages_stay_short_for_huge_input() -> None:
    with pytest.raises(AddressError) as info:
        parse_module("module." + "x" * 100_000 + "!")
    assert len(str(info.value)) < 200


@pytest.mark.parametrize(
    "text, expected",
    [
        ("aws_vpc.main", InstanceAddress((), "managed", "aws_vpc", "main")),
        ("data.aws_ami.ubuntu", InstanceAddress((), "data", "aws_ami", "ubuntu")),
        (
            'data.terraform_remote_state.net["eu"]',
            InstanceAddress((), "data", "terraform_remote_state", "net", "eu"),
        ),
        (
            'module.a["x.y"].module.b[0].aws_lb.main["k.1"]',
            InstanceAddress((ModuleStep("a", "x.y"), ModuleStep("b", 0)), "managed", "aws_lb", "main", "k.1"),
        ),
        ("module.data.data.aws_vpc.data", InstanceAddress((ModuleStep("data"),), "data", "aws_vpc", "data")),
    ],
)
def test_parse_instance_address(text: str, expected: InstanceAddress) -> None:
    assert parse_instance_address(text) == expected
    assert str(expected) == text


def test_instance_address_module_property() -> None:
    assert parse_instance_address("aws_vpc.main").module == ""
    assert parse_instance_address('module.a[0].module.b["k"].aws_vpc.main').module == 'module.a[0].module.b["k"]'


@pytest.mark.parametrize(
    "text",
    ["aws_vpc", "module.a", "aws_vpc.main.extra", "aws_vpc.main[", "data.aws_vpc", "aws_vpc.main[x]", ""],
)
def test_parse_instance_address_errors(text: str) -> None:
    with pytest.raises(AddressError):
        parse_instance_address(text)


def test_resource_address_refuses_an_instance_key() -> None:
    assert parse_resource_address("module.a[1].aws_vpc.main").index_key is None
    with pytest.raises(AddressError, match="unexpected text"):
        parse_resource_address("aws_vpc.main[0]")


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            'provider["registry.terraform.io/hashicorp/aws"]',
            ProviderConfig((), "registry.terraform.io/hashicorp/aws"),
        ),
        (
            'provider["registry.terraform.io/hashicorp/aws"].west',
            ProviderConfig((), "registry.terraform.io/hashicorp/aws", "west"),
        ),
        (
            'module.net.module.sub.provider["registry.opentofu.org/hashicorp/aws"]',
            ProviderConfig(("net", "sub"), "registry.opentofu.org/hashicorp/aws"),
        ),
        ('provider["hashicorp/aws"]', ProviderConfig((), "registry.terraform.io/hashicorp/aws")),
        ('provider["aws"]', ProviderConfig((), "registry.terraform.io/hashicorp/aws")),
        ("provider.aws", ProviderConfig((), "registry.terraform.io/-/aws")),
        ("provider.aws.east", ProviderConfig((), "registry.terraform.io/-/aws", "east")),
        ("module.child.provider.null", ProviderConfig(("child",), "registry.terraform.io/-/null")),
        ("provider.terraform", ProviderConfig((), "terraform.io/builtin/terraform")),
    ],
)
def test_parse_provider_config(text: str, expected: ProviderConfig) -> None:
    assert parse_provider_config(text) == expected


def test_provider_config_formats_in_the_v4_form() -> None:
    assert (
        str(parse_provider_config("module.child.provider.aws.east"))
        == 'module.child.provider["registry.terraform.io/-/aws"].east'
    )
    assert (
        str(parse_provider_config("provider.null", default_registry="registry.opentofu.org"))
        == 'provider["registry.opentofu.org/-/null"]'
    )


@pytest.mark.parametrize(
    "text",
    [
        'provider["a/b/c/d"]',
        'provider["//aws"]',
        "provider",
        "aws.provider",
        'module.a[0].provider["aws"]',
        'provider["aws"].',
        "provider.aws.a.b",
        'provider["hashicorp/a b"]',
    ],
)
def test_parse_provider_config_errors(text: str) -> None:
    with pytest.raises(AddressError):
        parse_provider_config(text)


def test_resource_order_matches_terraform() -> None:
    expected = [
        "data.aws_ami.a",
        "aws_b.x",
        "aws_b.y[2]",
        "aws_b.y[10]",
        'aws_b.y["10"]',
        'aws_b.y["2"]',
        "aws_c.x",
        "module.a.data.aws_z.z",
        "module.a.aws_a.a",
        "module.a[0].aws_a.a",
        "module.a[1].aws_a.a",
        'module.a["0"].aws_a.a',
        "module.b.aws_a.a",
        "module.a.module.a.aws_a.a",
    ]
    shuffled = expected[:]
    random.Random(3).shuffle(shuffled)
    parsed = [parse_instance_address(a) for a in shuffled]
    ordered = sorted(parsed, key=lambda a: resource_order(a.module_path, a.mode, a.type, a.name, a.index_key))
    assert [str(a) for a in ordered] == expected


def test_format_resource_instance() -> None:
    module = (ModuleStep("a", "x"),)
    assert format_resource_instance(module, "data", "aws_vpc", "v", 1) == 'module.a["x"].data.aws_vpc.v[1]'
    assert format_resource_instance((), "managed", "aws_vpc", "v") == "aws_vpc.v"
    assert quote("") == '""'


@pytest.mark.parametrize(
    "text",
    [
        "module.a",
        'module.a["x.y"].module.b[0]',
        'module.net["eu-west-1"].module.sub["10.0.0.0/24"]',
        'module.a[""].module.b["]"]',
        "module.a[10].module.b_c-d[0]",
    ],
)
def test_module_fast_path_agrees_with_the_tokenizer(text: str) -> None:
    assert address._SIMPLE_MODULE.fullmatch(text)
    scanner = address._Scanner(text)
    steps = address._module_steps(scanner, required=True)
    scanner.expect_end("module address")
    assert parse_module(text) == steps


@pytest.mark.parametrize(
    "text",
    [
        "aws_vpc.main",
        "data.aws_ami.a",
        'module.a["x.y"].module.b[0].data.aws_lb.main["k.1"]',
        "module.data.data.aws_vpc.data",
        "module.module.aws_vpc.v[3]",
    ],
)
def test_instance_fast_path_agrees_with_the_tokenizer(text: str) -> None:
    assert address._SIMPLE_INSTANCE.fullmatch(text)
    scanner = address._Scanner(text)
    module = address._module_steps(scanner, required=False)
    mode, type_, name = address._resource_part(scanner)
    key = scanner.optional_key() if scanner.peek() == "[" else None
    scanner.expect_end("resource instance address")
    assert parse_instance_address(text) == InstanceAddress(module, mode, type_, name, key)


@pytest.mark.parametrize("text", ["module.aws_vpc", "data.aws_vpc", "module.a.data.b", "aws_vpc.main[01]"])
def test_fast_path_leaves_invalid_shapes_to_the_tokenizer(text: str) -> None:
    assert not address._SIMPLE_INSTANCE.fullmatch(text)
    with pytest.raises(AddressError):
        parse_instance_address(text)
