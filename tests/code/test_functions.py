"""Built-in functions: results as Terraform computes them, unknowns kept unknown."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from auditor.code import Encoded, EvalError, Ref, Template, Unresolved, load_code
from tests.code._helpers import by_address

Probe = Callable[..., Any]

PRELUDE = """
variable "unknown" {}
locals {
  tags = { Name = "web", Env = "prod" }
}
"""


@pytest.mark.parametrize(("expr", "expected"), [
    ('jsonencode({ b = [1, "<x>"], a = true })', '{"a":true,"b":[1,"\\u003cx\\u003e"]}'),
    ('jsondecode("{\\"a\\": [1, 2.5]}")', {"a": [1, 2.5]}),
    ('merge(local.tags, { Env = "dev" }, null)', {"Name": "web", "Env": "dev"}),
    ("concat([1], [2, 3], [])", [1, 2, 3]),
    ('format("%s-%03d-%.2f-%q-%5s|%-3s|%t", "a", 7, 3.14159, "q", "r", "l", true)', 'a-007-3.14-"q"-    r|l  |true'),
    ('format("100%%")', "100%"),
    ('lower("AbC")', "abc"),
    ('upper("AbC")', "ABC"),
    ('title("hello wORLD-x")', "Hello WORLD-X"),
    ('tostring(12)', "12"),
    ('tonumber("1.5")', 1.5),
    ('tobool("true")', True),
    ('length("héllo")', 5),
    ("length(local.tags)", 2),
    ('element(["a", "b"], 3)', "b"),
    ('lookup(local.tags, "Name", "x")', "web"),
    ('lookup(local.tags, "Nope", "x")', "x"),
    ('try(local.tags.Nope, local.tags.Name)', "web"),
    ('can(local.tags.Nope)', False),
    ('can(local.tags.Name)', True),
    ('coalesce("", null, "x")', "x"),
    ('keys({ b = 1, a = 2 })', ["a", "b"]),
    ('values({ b = 1, a = 2 })', [2, 1]),
    ('distinct([1, 2, 1])', [1, 2]),
    ('flatten([[1, [2]], 3])', [1, 2, 3]),
    ('zipmap(["a", "b"], [1, 2])', {"a": 1, "b": 2}),
    ("range(3)", [0, 1, 2]),
    ('toset(["b", "a", "b"])', ["a", "b"]),
    ('sort(["b", "a"])', ["a", "b"]),
    ('compact(["a", "", null])', ["a"]),
    ('contains(["a"], "a")', True),
    ('join("-", ["a", 1])', "a-1"),
    ('split(",", "a,b")', ["a", "b"]),
    ('replace("a-b-c", "-", "_")', "a_b_c"),
    ('replace("a1b22", "/(\\\\d+)/", "<$1>")', "a<1>b<22>"),
    ('substr("hello", 1, 3)', "ell"),
    ('trimprefix("arn:aws", "arn:")', "aws"),
    ('min(3, 1.5)', 1.5),
    ('max(3, 1)', 3),
    ('sha256("a")', "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"),
    ('base64encode("hi")', "aGk="),
    ('cidrsubnet("10.20.0.0/16", 8, 2)', "10.20.2.0/24"),
    ('cidrsubnet("10.1.2.3/16", 4, 15)', "10.1.240.0/20"),
    ('cidrsubnet("fd00::/56", 8, 1)', "fd00:0:0:1::/64"),
    ('cidrhost("10.0.0.0/24", 5)', "10.0.0.5"),
    ('cidrhost("10.0.0.0/24", -1)', "10.0.0.255"),
    ('cidrnetmask("10.0.0.0/12")', "255.240.0.0"),
    ('cidrsubnets("10.0.0.0/16", 8, 4, 8)', ["10.0.0.0/24", "10.0.16.0/20", "10.0.32.0/24"]),
    ('startswith("arn:aws", "arn:")', True),
    ('endswith("${var.unknown}:latest", ":latest")', True),
    ('one([])', None),
])
def test_known_results(probe: Probe, expr: str, expected: Any) -> None:
    assert probe(expr, PRELUDE) == expected


@pytest.mark.parametrize(("expr", "kind"), [
    ('cidrsubnet("10.0.0.0/24", 4, 16)', EvalError),
    ('element([], 0)', EvalError),
    ('tonumber("x")', EvalError),
    ('coalesce("", null)', EvalError),
    ("lower(var.unknown)", Unresolved),
    ('merge(local.tags, var.unknown)', Unresolved),
    ('uuid()', Unresolved),
    ('provider::aws::arn_parse("x")', Unresolved),
    ('try(var.unknown, "fallback")', Unresolved),  # unknown is not an error: no guessing
    ('can(var.unknown)', Unresolved),
    ('lower(1, 2)', EvalError),
])
def test_unknown_or_rejected(probe: Probe, expr: str, kind: type) -> None:
    value = probe(expr, PRELUDE)
    assert isinstance(value, kind), value


def test_structural_functions_keep_unknown_leaves(probe: Probe) -> None:
    assert probe("concat([aws_subnet.a.id], [var.unknown])", PRELUDE)[0] == Ref("aws_subnet.a", "id")
    assert probe("length([var.unknown, 1])", PRELUDE) == 2
    formatted = probe('format("%s:latest", var.unknown)', PRELUDE)
    assert isinstance(formatted, Template) and formatted.endswith(":latest")
    joined = probe('join(",", [aws_subnet.a.id, "b"])', PRELUDE)
    assert isinstance(joined, Template) and joined.literal_suffix == ",b"


def test_unsupported_function_is_noted(load: Callable[..., Any]) -> None:
    module = load('resource "terraform_data" "x" {\n  v = yamlencode({ a = 1 })\n}\n')
    value = module.resources[0].attributes["v"]
    assert isinstance(value, Unresolved)
    assert "function yamlencode() is not evaluated statically" in module.problems


def test_jsonencode_partially_known_keeps_the_structure(probe: Probe) -> None:
    value = probe('jsonencode({ image = "${var.unknown}:latest", port = 80 })', PRELUDE)
    assert isinstance(value, Encoded)
    assert value.decoded["port"] == 80
    assert value.decoded["image"].endswith(":latest")


def test_file_and_templatefile_read_inside_the_configuration(write: Callable[..., Path], tmp_path: Path) -> None:
    (tmp_path / "outside.txt").write_text("secret", encoding="utf-8")
    root = write({
        "main.tf": """
            resource "terraform_data" "x" {
              policy  = file("${path.module}/files/policy.json")
              tpl     = templatefile("files/app.tpl", { name = "web", ports = [80, 443] })
              outside = file("../outside.txt")
              missing = file("files/nope.txt")
            }
        """,
        "files/policy.json": '{"Version": "2012-10-17"}\n',
        "files/app.tpl": "name=${name}\n%{ for p in ports ~}\nport=${p}\n%{ endfor ~}\n",
    })
    attributes = load_code(root).resources[0].attributes
    assert attributes["policy"] == '{"Version": "2012-10-17"}\n'
    assert attributes["tpl"] == "name=web\nport=80\nport=443\n"
    assert isinstance(attributes["outside"], Unresolved) and "outside the configuration" in attributes["outside"].reason
    assert isinstance(attributes["missing"], EvalError)


def test_file_in_a_child_module_is_relative_to_the_root_like_terraform(write: Callable[..., Path]) -> None:
    root = write({
        "main.tf": 'module "m" {\n  source = "./modules/m"\n}\n',
        "modules/m/main.tf": 'resource "terraform_data" "x" {\n  v = file("${path.module}/data.txt")\n}\n',
        "modules/m/data.txt": "child data",
    })
    resource = by_address(load_code(root), "module.m.terraform_data.x")
    assert resource.attributes["v"] == "child data"
