"""The value model: Ref, Template, Encoded, and Terraform's jsonencode text."""

from __future__ import annotations

import json

import pytest

from auditor.code import Encoded, EvalError, Ref, Template, Unresolved, decoded
from auditor.code.values import format_number, join_parts, json_text

UNKNOWN = Unresolved("var.x has no value")


def test_every_unknown_kind_is_an_unresolved() -> None:
    ref = Ref("aws_lb.main", "arn_suffix")
    template = Template((UNKNOWN, ":latest"))
    encoded = Encoded("jsonencode", [{"image": template}])
    for value in (ref, template, encoded, EvalError("bad")):
        assert isinstance(value, Unresolved)
        assert value.reason


def test_ref_target_reason_and_steps() -> None:
    ref = Ref('aws_subnet.public["a"]', "id")
    assert ref.target == 'aws_subnet.public["a"].id'
    assert ref.reason == 'computed: aws_subnet.public["a"].id'
    assert Ref("data.aws_caller_identity.me", "account_id").reason == \
        "data source: data.aws_caller_identity.me.account_id"
    assert Ref("module.a.data.aws_x.y").is_data
    assert not Ref('module.a["data.x"].aws_x.y').is_data
    whole = Ref("aws_subnet.public")
    assert whole.index("a").get("id") == Ref('aws_subnet.public["a"]', "id")
    assert whole.index(0) == Ref("aws_subnet.public[0]")
    assert Ref("aws_lb.main", "tags").index("Name").target == 'aws_lb.main.tags["Name"]'
    assert Ref("aws_lb.main", "access_logs").index(0).get("bucket").attribute == "access_logs[0].bucket"
    assert {Ref("a.b", "c"), Ref("a.b", "c")} == {Ref("a.b", "c")}


def test_template_affixes_decide_only_when_the_known_text_does() -> None:
    image = Template((UNKNOWN, ":latest"))
    assert image.endswith(":latest") is True
    assert image.endswith("latest") is True
    assert image.endswith(":stable") is False
    assert image.endswith("x:latest") is None  # the unknown part may end with "x"
    assert image.startswith("123456789012.dkr.ecr.") is None
    assert image.literal_suffix == ":latest" and image.literal_prefix == ""
    pinned = Template(("repo@", Ref("aws_ecr_repository.app", "repository_url")))
    assert pinned.startswith("repo") is True and pinned.startswith("x") is False
    assert pinned.refs == (Ref("aws_ecr_repository.app", "repository_url"),)
    assert pinned.display == "repo@${aws_ecr_repository.app.repository_url}"
    assert image.display == "${…}:latest"


def test_join_parts_merges_literals_and_flattens() -> None:
    assert join_parts(["a", "", "b"]) == "ab"
    inner = join_parts([UNKNOWN, ":"])
    assert isinstance(inner, Template)
    joined = join_parts(["x-", inner, "latest"])
    assert isinstance(joined, Template)
    assert joined.parts == ("x-", UNKNOWN, ":latest")


@pytest.mark.parametrize(("value", "text"), [
    ({"b": 1, "a": [True, None, "x"]}, '{"a":[true,null,"x"],"b":1}'),
    ({"html": "<a href='x'>&</a>"}, '{"html":"\\u003ca href=\'x\'\\u003e\\u0026\\u003c/a\\u003e"}'),
    ("é\u2028\n\"", '"é\\u2028\\n\\""'),
    ([1.5, 1e3, 2.0, -0.25], "[1.5,1000,2,-0.25]"),
    ({"Z": 1, "a": 2, "B": 3}, '{"B":3,"Z":1,"a":2}'),
])
def test_json_text_matches_terraform_jsonencode(value: object, text: str) -> None:
    assert json_text(value) == text
    assert json.loads(text) == json.loads(json.dumps(value))


def test_format_number_has_no_exponent() -> None:
    assert format_number(1e21) == "1000000000000000000000"
    assert format_number(0.1) == "0.1"
    assert format_number(3.0) == "3"
    assert format_number(1.5e-7) == "0.00000015"


def test_decoded_reads_state_strings_and_code_structures() -> None:
    assert decoded({"policy": '{"a": 1}'}, "policy") == {"a": 1}
    kept = [{"image": Template((UNKNOWN, ":latest"))}]
    encoded = Encoded("jsonencode", kept)
    assert decoded({"container_definitions": encoded, "_decoded_container_definitions": kept},
                   "container_definitions") is kept
    assert isinstance(decoded({"policy": "{not json"}, "policy"), EvalError)
    assert decoded({"policy": UNKNOWN}, "policy") is UNKNOWN
    assert isinstance(decoded({}, "policy"), Unresolved)
