"""Expressions: variables, locals, templates, operators, for expressions, references."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from auditor.code import EvalError, Ref, Template, Unresolved

Probe = Callable[..., Any]

VARS = """
variable "region" { default = "eu-west-1" }
variable "no_default" {}
variable "count_text" {
  type    = number
  default = "3"
}
variable "names" {
  type    = set(string)
  default = ["b", "a", "b"]
}
variable "settings" {
  type    = object({ size = number, tier = optional(string, "standard"), tags = optional(map(string), {}) })
  default = { size = 2 }
}
variable "secret" {
  default   = "hunter2"
  sensitive = true
}
locals {
  prefix = "app-${var.region}"
  chain  = "${local.prefix}-${local.suffix}"
  suffix = upper("x")
  ring_a = local.ring_b
  ring_b = local.ring_a
  m      = { b = 2, a = 1 }
}
"""


@pytest.mark.parametrize(("expr", "expected"), [
    ('"plain"', "plain"),
    ("42", 42),
    ("1.0", 1),
    ("-2.5", -2.5),
    ("true", True),
    ("null", None),
    ("[1, \"a\", false]", [1, "a", False]),
    ("{ a = 1, \"b c\" = 2 }", {"a": 1, "b c": 2}),
    ("local.prefix", "app-eu-west-1"),
    ("local.chain", "app-eu-west-1-X"),  # locals in dependency order, not file order
    ("var.count_text", 3),  # converted to the declared type
    ("var.names", ["a", "b"]),  # a set: unique, sorted
    ("var.settings", {"size": 2, "tier": "standard", "tags": {}}),
    ('"a\\"b\\n\\u00e9 $${literal} %%{x}"', 'a"b\né ${literal} %{x}'),
    ('"${1 + 2 * 3} ${7 / 2} ${-7 % 3} ${true}"', "7 3.5 -1 true"),
    ("1 == \"1\"", False),
    ("true != 1", True),
    ('[1, 2] == [1, 2] && !false', True),
    ("5 >= 5 ? \"yes\" : \"no\"", "yes"),
    ('"${var.region == "eu-west-1" ? "eu" : "other"}"', "eu"),
    ("[for k, v in local.m : \"${k}=${v}\" if v > 1]", ["b=2"]),
    ("{for k, v in local.m : v => k}", {"1": "a", "2": "b"}),
    ('{for s in ["a", "bb", "cc"] : length(s) => s...}', {"1": ["a"], "2": ["bb", "cc"]}),
    ("[for n in var.names : upper(n)]", ["A", "B"]),
    ('local.m["a"]', 1),
    ("[[1, 2], [3]][0][1]", 2),
    ('[{ x = 1 }, { x = 2 }][*].x', [1, 2]),
    ('{ x = 1 }[*].x', [1]),
    ('"%{ if local.m.a == 1 }one%{ else }other%{ endif }"', "one"),
    ('"%{ for n in var.names ~} [${n}] %{~ endfor }"', "[a][b]"),
    ('"${local.m}"', {"a": 1, "b": 2}),  # a lone interpolation is the value itself
])
def test_known_values(probe: Probe, expr: str, expected: Any) -> None:
    assert probe(expr, VARS) == expected


def test_heredocs(probe: Probe) -> None:
    text = probe('<<-EOT\n    line ${local.prefix}\n      indented\n    EOT', VARS)
    assert text == "line app-eu-west-1\n  indented\n"
    raw = probe('<<EOT\n{"a": "${var.region}"}\nEOT', VARS)
    assert raw == '{"a": "eu-west-1"}\n'


def test_unknown_values_say_why(probe: Probe) -> None:
    missing = probe("var.no_default", VARS)
    assert type(missing) is Unresolved and "var.no_default has no value" in missing.reason
    sensitive = probe("var.secret", VARS)
    assert isinstance(sensitive, Unresolved) and "sensitive" in sensitive.reason
    cycle = probe("local.ring_a", VARS)
    assert isinstance(cycle, EvalError) and "cycle: local.ring_a -> local.ring_b -> local.ring_a" in cycle.reason
    assert isinstance(probe("var.undeclared", VARS), EvalError)
    unknown_condition = probe('var.no_default == "x" ? 1 : 2', VARS)
    assert isinstance(unknown_condition, Unresolved) and "condition unknown" in unknown_condition.reason
    assert probe('var.no_default == "x" ? 1 : 1', VARS) == 1  # both branches agree
    assert probe("false && var.no_default", VARS) is False
    assert probe("true || var.no_default", VARS) is True
    assert isinstance(probe("[for x in var.no_default : x]", VARS), Unresolved)
    assert isinstance(probe("terraform.workspace", VARS), Unresolved)


def test_variable_values_come_from_overrides_and_tfvars(write: Callable[..., Any]) -> None:
    from auditor.code import load_code

    root = write({
        "main.tf": """
            variable "a" { default = "default" }
            variable "b" { default = "default" }
            variable "c" { default = "default" }
            variable "n" { type = number }
            resource "terraform_data" "probe" { v = [var.a, var.b, var.c, var.n] }
        """,
        "terraform.tfvars": 'a = "tfvars"\nb = "tfvars"\nc = "tfvars"\n',
        "z.auto.tfvars": 'b = "auto"\nc = "auto"\n',
        "a.auto.tfvars.json": '{"b": "json-auto-first", "n": "7"}',
    })
    module = load_code(root, var_overrides={"c": "override"})
    assert module.resources[0].attributes["v"] == ["tfvars", "auto", "override", 7]


def test_template_with_unknown_part_keeps_the_known_text(probe: Probe) -> None:
    image = probe('"${var.no_default}:latest"', VARS)
    assert isinstance(image, Template)
    assert image.endswith(":latest") is True
    assert image.literal_suffix == ":latest"
    joined = probe('"${aws_ecr_repository.app.repository_url}:${var.no_default}"', VARS)
    assert isinstance(joined, Template)
    assert joined.refs == (Ref("aws_ecr_repository.app", "repository_url"),)
    assert joined.display == "${aws_ecr_repository.app.repository_url}:${…}"


REFS = """
resource "aws_lb" "main" {
  name    = "web"
  subnets = [for s in aws_subnet.public : s.id]
  access_logs {
    bucket = "logs"
  }
}
resource "aws_subnet" "public" {
  for_each          = { a = "10.0.0.0/24", b = "10.0.1.0/24" }
  cidr_block        = each.value
  availability_zone = "eu-west-1${each.key}"
}
resource "aws_subnet" "counted" {
  count = 2
}
data "aws_caller_identity" "me" {}
"""


@pytest.mark.parametrize(("expr", "expected"), [
    ("aws_lb.main.name", "web"),  # known statically: the value itself
    ("aws_lb.main.arn", Ref("aws_lb.main", "arn")),
    ("aws_lb.main.arn_suffix", Ref("aws_lb.main", "arn_suffix")),
    ("aws_lb.main.access_logs[0].bucket", "logs"),
    ('aws_subnet.public["a"].availability_zone', "eu-west-1a"),
    ('aws_subnet.public["b"].id', Ref('aws_subnet.public["b"]', "id")),
    ("aws_lb.main.subnets", [Ref('aws_subnet.public["a"]', "id"), Ref('aws_subnet.public["b"]', "id")]),
    ("aws_subnet.counted[*].id", [Ref("aws_subnet.counted[0]", "id"), Ref("aws_subnet.counted[1]", "id")]),
    ("aws_subnet.counted.*.id", [Ref("aws_subnet.counted[0]", "id"), Ref("aws_subnet.counted[1]", "id")]),
    ("[for s in aws_subnet.public : s.availability_zone]", ["eu-west-1a", "eu-west-1b"]),
    ("data.aws_caller_identity.me.account_id", Ref("data.aws_caller_identity.me", "account_id")),
    ("aws_iam_role.undeclared.arn", Ref("aws_iam_role.undeclared", "arn")),
    ("aws_lb.main", Ref("aws_lb.main")),  # a whole object becomes a reference to it
    ("tostring(aws_lb.main.arn)", Ref("aws_lb.main", "arn")),
])
def test_references(probe: Probe, expr: str, expected: Any) -> None:
    assert probe(expr, REFS) == expected


def test_data_source_reference_reason(probe: Probe) -> None:
    value = probe("data.aws_caller_identity.me.account_id", REFS)
    assert value.reason == "data source: data.aws_caller_identity.me.account_id"


@pytest.mark.parametrize("expr", [
    '{ a = 1 }.b',
    '[1, 2][5]',
    '"x" + 1',
    'lookup({}, "k")',
    "toset([1])[0]",
    "{ for x in [1, 1] : x => x }",
])
def test_expressions_terraform_rejects_are_errors(probe: Probe, expr: str) -> None:
    assert isinstance(probe(expr, VARS), EvalError)


def test_errors_are_noted_with_file_and_line(load: Callable[..., Any]) -> None:
    module = load('resource "aws_s3_bucket" "b" {\n  bucket = { a = 1 }.b\n}\n')
    assert module.problems == ("main.tf:1: aws_s3_bucket.b.bucket: object has no attribute 'b'",)
