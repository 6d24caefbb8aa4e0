"""Property-based tests (hypothesis): address parsing, path diffing, ignore patterns, config loading, redaction."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.config import config_from_mapping
from auditor.diff import attribute_changes
from auditor.errors import ConfigError
from auditor.ignore import parse_ignore
from auditor.inventory.base import TypeSpec
from auditor.state.address import AddressError, ModuleStep, format_resource_instance, parse_instance_address
from auditor.state.model import REDACTED
from auditor.state.redact import scrub, secret_names

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
identifiers = st.from_regex(r"[a-z_][a-z0-9_-]{0,12}", fullmatch=True)
keys = st.none() | st.integers(min_value=0, max_value=10**6) | st.text(max_size=12)


@FAST
@given(modules=st.lists(st.tuples(identifiers, keys), max_size=3), mode=st.sampled_from(["managed", "data"]),
       type_=identifiers, name=identifiers, key=keys)
def test_an_instance_address_reads_back_as_it_was_written(modules: list[tuple[str, Any]], mode: str, type_: str,
                                                         name: str, key: Any) -> None:
    path = tuple(ModuleStep(n, k) for n, k in modules)
    text = format_resource_instance(path, mode, type_, name, key)
    parsed = parse_instance_address(text)
    got = (parsed.module_path, parsed.mode, parsed.type, parsed.name, parsed.index_key)
    assert got == (path, mode, type_, name, key)
    assert str(parsed) == text


@FAST
@given(st.text(max_size=60))
def test_any_text_parses_as_an_address_or_fails_with_address_error(text: str) -> None:
    try:
        parsed = parse_instance_address(text)
    except AddressError:
        return
    assert parse_instance_address(str(parsed)) == parsed


SPEC = TypeSpec(type="aws_test", service="test", compared=("a", "b", "c"))
scalars = st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=5)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.from_regex(r"[a-z]{1,4}", fullmatch=True), inner, max_size=3), max_leaves=8)


@FAST
@given(st.fixed_dictionaries({"a": values, "b": values, "c": values}))
def test_identical_attributes_never_differ(attrs: dict[str, Any]) -> None:
    assert attribute_changes(SPEC, attrs, json.loads(json.dumps(attrs))) == []


@FAST
@given(st.fixed_dictionaries({"a": values, "b": values, "c": values}), st.sampled_from("abc"), st.text(min_size=1,
       max_size=6))
def test_a_changed_top_level_value_is_reported_at_its_path(attrs: dict[str, Any], name: str, new: str) -> None:
    changed = dict(attrs, **{name: {"zz": new}})
    paths = [c.path for c in attribute_changes(SPEC, attrs, changed)]
    assert paths and all(p == name or p.startswith((f"{name}.", f"{name}[")) for p in paths)


@FAST
@given(type_=identifiers, rid=st.from_regex(r"[A-Za-z0-9-]{1,12}", fullmatch=True), attr=identifiers)
def test_ignore_patterns_match_what_they_name_and_negation_reincludes(type_: str, rid: str, attr: str) -> None:
    names = [f"{type_}.{rid}"]
    assert parse_ignore(f"{type_}.{rid}").ignores_resource(names)
    assert parse_ignore(f"{type_}.*").ignores_resource(names)
    assert not parse_ignore(f"{type_}.*\n!{type_}.{rid}").ignores_resource(names)
    assert parse_ignore(f"{type_}.*.{attr}").ignores_path(names, attr)
    assert not parse_ignore(f"{type_}.*.{attr}x").ignores_path(names, attr)


@FAST
@given(st.text(max_size=40))
def test_any_ignore_line_is_a_rule_or_a_config_error(line: str) -> None:
    try:
        parse_ignore(line)
    except ConfigError as exc:
        assert "\n" not in str(exc).strip() or line.count("\n")


toml_values = st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                         max_size=3), max_leaves=10)
config_keys = st.sampled_from(["regions", "profile", "role_arn", "types", "weights", "wait_for_lock", "max_workers",
                               "rules", "suppressions", "states", "ignore_file", "nonsense"])


@FAST
@given(st.dictionaries(config_keys, toml_values, max_size=4))
def test_any_config_table_loads_or_is_one_config_error(data: dict[str, Any]) -> None:
    try:
        config_from_mapping(data, "audit.toml")
    except ConfigError as exc:
        assert str(exc).startswith("audit.toml") or "invalid" in str(exc) or "must" in str(exc)


SECRET = st.from_regex(r"[A-Za-z0-9]{12,24}", fullmatch=True)
secret_keys = st.sampled_from(["password", "master_password", "api_key", "client_secret", "db_token",
                               "AWS_SECRET_ACCESS_KEY", "privateKey"])


@FAST
@given(secret=SECRET, key=secret_keys, filler=st.dictionaries(st.from_regex(r"[a-z]{3,6}", fullmatch=True),
                                                              st.text(max_size=5), max_size=3),
       depth=st.integers(0, 3))
def test_a_secret_named_value_never_survives_redaction(secret: str, key: str, filler: dict[str, str],
                                                       depth: int) -> None:
    doc: dict[str, Any] = {**filler, key: secret}
    for _ in range(depth):
        doc = {"nested": [doc]}
    scrub(doc, secret_names(), 64)
    text = json.dumps(doc)
    assert secret not in text
    assert re.search(re.escape(json.dumps(REDACTED)), text)
