"""Secrets are redacted where the state is read, and never leak into repr, show-json or errors."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from auditor.errors import StateError
from auditor.state import redact
from auditor.state.model import REDACTED
from auditor.state.parse import parse_state
from auditor.state.redact import (
    DEFAULT_SECRET_NAMES,
    NestingError,
    SecretNames,
    name_tokens,
    redact_path,
    scrub,
    secret_names,
)
from auditor.state.showjson import to_show_json

AWS = 'provider["registry.terraform.io/hashicorp/aws"]'

SECRET_KEYS = [
    "password",
    "master_password",
    "ses_smtp_password_v4",
    "secret",
    "client_secret",
    "secret_string",
    "private_key",
    "private_key_pem",
    "token",
    "auth_token",
    "session_token",
    "access_key",
    "secret_access_key",
    "api_key",
    "apiKey",
    "DBPassword",
    "connection_string",
    "encrypted_secret",
    "webhook-secret",
    "passphrase",
]
HARMLESS_KEYS = [
    "id",
    "arn",
    "name",
    "token_count",
    "secret_arn",
    "secret_id",
    "password_length",
    "kms_key_id",
    "key_name",
    "public_key",
    "token_url",
    "access_token_validity",
    "secret_name",
    "tokenizer",
    "description",
    "master_user_secret_kms_key_id",
    "key",
]


def test_name_tokens() -> None:
    assert name_tokens("DBMasterPassword_v4") == ("db", "master", "password", "v4")
    assert name_tokens("kubernetes.io/cluster-name") == ("kubernetes", "io", "cluster", "name")
    assert name_tokens("___") == ()


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_secret_names_match(key: str) -> None:
    assert SecretNames(DEFAULT_SECRET_NAMES).is_secret(key)


@pytest.mark.parametrize("key", HARMLESS_KEYS)
def test_harmless_names_do_not_match(key: str) -> None:
    assert not SecretNames(DEFAULT_SECRET_NAMES).is_secret(key)


def test_the_name_set_is_configurable() -> None:
    names = SecretNames(frozenset({"pin_code"}))
    assert names.is_secret("door_pin_code") and not names.is_secret("password") and not names.is_secret("pin")
    doc = parse_state(
        _state({"id": "x", "password": "kept", "door_pin_code": "1234"}),
        "s",
        secret_names=frozenset({"pin_code"}),
    )
    assert doc.instances[0].attributes == {"id": "x", "password": "kept", "door_pin_code": REDACTED}
    assert secret_names(frozenset({"pin_code"})) is secret_names(frozenset({"pin_code"}))


def test_scrub_redacts_only_non_empty_strings_and_walks_containers() -> None:
    value: dict[str, Any] = {
        "password": "p",
        "secret": "",
        "token": None,
        "password_reset_required": True,
        "api_key": 42,
        "master_user_secret": [{"secret_arn": "arn:aws:secretsmanager:x", "kms_key_id": "k", "secret": "s2"}],
        "nested": {"deeper": [[{"private_key": "pem"}]]},
    }
    result = scrub(value, SecretNames(DEFAULT_SECRET_NAMES), 50)
    assert value == {
        "password": REDACTED,
        "secret": "",
        "token": None,
        "password_reset_required": True,
        "api_key": 42,
        "master_user_secret": [{"secret_arn": "arn:aws:secretsmanager:x", "kms_key_id": "k", "secret": REDACTED}],
        "nested": {"deeper": [[{"private_key": REDACTED}]]},
    }
    assert result.paths == (
        ("password",),
        ("master_user_secret", 0, "secret"),
        ("nested", "deeper", 0, 0, "private_key"),
    )
    assert not result.has_float


def test_memo_is_replaced_when_it_grows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redact, "_MEMO_LIMIT", 3)
    names = SecretNames(DEFAULT_SECRET_NAMES)
    for i in range(10):
        value = {f"tag_{i}": "x", "password": "p"}
        scrub(value, names, 5)
        assert value == {f"tag_{i}": "x", "password": REDACTED}
    assert len(names.memo()[1]) <= 4


def test_scrub_reports_floats_and_depth() -> None:
    assert scrub({"a": [1, {"b": 0.5}]}, None, 10).has_float
    assert not scrub({"a": [1, {"b": 5}]}, None, 10).has_float
    deep: Any = "leaf"
    for _ in range(12):
        deep = [deep]
    with pytest.raises(NestingError):
        scrub(deep, None, 10)
    assert scrub(deep, None, 12).paths == ()


def test_redact_path() -> None:
    value: dict[str, Any] = {
        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
        "m": {"k": None},
    }
    assert redact_path(value, ("env", 1, "value"))
    assert not redact_path(value, ("env", 5, "value"))
    assert not redact_path(value, ("missing", "x"))
    assert redact_path(value, ("m", "k"))
    assert not redact_path(value, ())
    assert value == {"env": [{"name": "A", "value": "1"}, {"name": "B", "value": REDACTED}], "m": {"k": None}}


# --------------------------------------------------------------------------------- planted secrets

PLANTED = {
    "path": "PLANTED-path-secret-7f3a",
    "index": "PLANTED-index-secret-91c2",
    "map": "PLANTED-map-secret-55e0",
    "output": "PLANTED-output-secret-0d4b",
    "name": "PLANTED-name-secret-c81e",
    "nested_name": "PLANTED-nested-name-secret-4a4a",
    "identity": "PLANTED-identity-secret-2b2b",
}


def _state(attributes: dict[str, Any], **instance: Any) -> bytes:
    return orjson.dumps(
        {
            "version": 4,
            "terraform_version": "1.9.8",
            "serial": 1,
            "lineage": "l",
            "outputs": {},
            "resources": [
                {
                    "mode": "managed",
                    "type": "aws_db_instance",
                    "name": "db",
                    "provider": AWS,
                    "instances": [{"schema_version": 1, "attributes": attributes, **instance}],
                }
            ],
        }
    )


def _planted_state() -> dict[str, Any]:
    return {
        "version": 4,
        "terraform_version": "1.9.8",
        "serial": 1,
        "lineage": "l",
        "outputs": {
            "db_password": {"value": PLANTED["output"], "type": "string", "sensitive": True},
            "endpoint": {"value": "db.example.com", "type": "string"},
        },
        "resources": [
            {
                "mode": "managed",
                "type": "aws_ecs_task_definition",
                "name": "app",
                "provider": AWS,
                "instances": [
                    {
                        "schema_version": 1,
                        "attributes": {
                            "id": "app",
                            "family": "app",
                            "opaque": PLANTED["path"],
                            "environment": [
                                {"name": "A", "value": "public"},
                                {"name": "B", "value": PLANTED["index"]},
                            ],
                            "labels": {"visible": "yes", "hidden": PLANTED["map"]},
                            "master_password": PLANTED["name"],
                            "volume": [{"efs": [{"authorization": [{"token": PLANTED["nested_name"]}]}]}],
                        },
                        "sensitive_attributes": [
                            [{"type": "get_attr", "value": "opaque"}],
                            [
                                {"type": "get_attr", "value": "environment"},
                                {"type": "index", "value": {"value": 1, "type": "number"}},
                                {"type": "get_attr", "value": "value"},
                            ],
                            [
                                {"type": "get_attr", "value": "labels"},
                                {"type": "index", "value": {"value": "hidden", "type": "string"}},
                            ],
                        ],
                        "identity_schema_version": 0,
                        "identity": {"id": "app", "api_key": PLANTED["identity"]},
                    }
                ],
            }
        ],
    }


def _assert_clean(text: str) -> None:
    for secret in PLANTED.values():
        assert secret not in text


def test_planted_secrets_never_reach_repr_or_show_json() -> None:
    doc = parse_state(orjson.dumps(_planted_state()), "planted.tfstate")
    _assert_clean(repr(doc))
    _assert_clean(str(doc))
    show = to_show_json(doc)
    _assert_clean(orjson.dumps(show).decode())
    inst = doc.instances[0]
    assert inst.attributes["opaque"] == REDACTED
    assert inst.attributes["environment"] == [
        {"name": "A", "value": "public"},
        {"name": "B", "value": REDACTED},
    ]
    assert inst.attributes["labels"] == {"visible": "yes", "hidden": REDACTED}
    assert doc.outputs["db_password"].value == REDACTED and doc.outputs["endpoint"].value == "db.example.com"
    assert inst.sensitive_paths == (
        ("opaque",),
        ("environment", 1, "value"),
        ("labels", "hidden"),
        ("master_password",),
        ("volume", 0, "efs", 0, "authorization", 0, "token"),
    )
    resource = show["values"]["root_module"]["resources"][0]
    assert resource["sensitive_values"] == {
        "opaque": True,
        "environment": [{}, {"value": True}],
        "labels": {"hidden": True},
        "master_password": True,
        "volume": [{"efs": [{"authorization": [{"token": True}]}]}],
    }


@pytest.mark.parametrize(
    "breakage",
    [
        pytest.param(lambda d: d["resources"][0].update(mode="bogus"), id="bad-mode"),
        pytest.param(lambda d: d["resources"][0]["instances"][0].update(deposed="nothex!!"), id="bad-deposed"),
        pytest.param(lambda d: d["resources"][0]["instances"][0].update(index_key=[PLANTED["name"]]), id="bad-key"),
        pytest.param(lambda d: d["outputs"]["db_password"].update(sensitive="yes"), id="bad-output"),
        pytest.param(lambda d: d.update(serial=-1), id="bad-serial"),
    ],
)
def test_planted_secrets_never_reach_error_messages(breakage: Any) -> None:
    state = _planted_state()
    breakage(state)
    try:  # a state-wide problem raises; one inside a resource makes it unreadable, with its reason
        document = parse_state(orjson.dumps(state), "planted.tfstate")
    except StateError as error:
        _assert_clean(str(error))
        _assert_clean(repr(error))
    else:
        assert document.unreadable
        _assert_clean(repr(document.unreadable))


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda b: b[:-40], id="truncated"),
        pytest.param(
            lambda b: b.replace(b'"family":"app"', b'"family":"app","family":"' + PLANTED["name"].encode() + b'"'),
            id="duplicate-key",
        ),
        pytest.param(
            lambda b: b.replace(PLANTED["path"].encode(), PLANTED["path"].encode() + b"\x00"),
            id="control-char",
        ),
        pytest.param(lambda b: b + b" trailing " + PLANTED["name"].encode(), id="trailing-garbage"),
    ],
)
def test_planted_secrets_never_reach_json_error_messages(mangle: Any) -> None:
    with pytest.raises(StateError) as info:
        parse_state(mangle(orjson.dumps(_planted_state())), "planted.tfstate")
    _assert_clean(str(info.value))
