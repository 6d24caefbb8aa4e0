"""Find the state a Terraform configuration uses: its `terraform { backend "s3" { ... } }` block.

Parsed with python-hcl2. Works with both of its output styles: 4.x (plain strings, `${...}`
for expressions) and 5+ (string literals keep their quotes, expressions are `${...}`).
Terraform's own rules apply: one backend per configuration, override files replace it, and a
backend block cannot use variables or any other expression.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2

from auditor.errors import ConfigError
from auditor.state.model import StateRequest

_INTERPOLATION = re.compile(r"(?<!\$)\$\{|(?<!%)%\{")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)|\$\$\{|%%\{")
_HINT = "or pass --state s3://BUCKET/KEY instead"


@dataclass(frozen=True, slots=True)
class _Backend:
    file: Path
    kind: str
    body: Mapping[str, Any]


def requests_from_backend_dir(path: str | Path) -> list[StateRequest]:
    """The StateRequest of the S3 backend configured by the `*.tf` files of `path`."""
    directory = Path(path)
    if not directory.is_dir():
        raise ConfigError(f"{directory}: not a directory", "--backend-dir takes a folder of .tf files")
    files = sorted(directory.glob("*.tf"))
    if not files:
        raise ConfigError(f"{directory}: no *.tf files", "--backend-dir takes a folder of .tf files")
    primary: list[_Backend] = []
    overrides: list[_Backend] = []
    for file in files:
        found = _backends_in(file)
        is_override = file.stem == "override" or file.stem.endswith("_override")
        (overrides if is_override else primary).extend(found)
    if len(primary) > 1:
        where = ", ".join(sorted({b.file.name for b in primary}))
        raise ConfigError(f"{directory}: duplicate backend configuration ({where})",
                          "a configuration has one backend block")
    chosen = (primary + overrides)[-1:] if primary or overrides else []  # an override replaces it entirely
    if not chosen:
        raise ConfigError(f"{directory}: no `terraform {{ backend \"s3\" {{ ... }} }}` block in *.tf", _HINT)
    backend = chosen[0]
    if backend.kind != "s3":
        raise ConfigError(f"{backend.file}: backend \"{backend.kind}\" found; only the s3 backend is "
                          "supported", _HINT)
    return [_request(backend)]


def _backends_in(file: Path) -> list[_Backend]:
    try:
        with file.open(encoding="utf-8") as handle:
            document = hcl2.load(handle)
    except Exception as exc:  # hcl2/lark raise many error types; every one means "cannot parse"
        raise ConfigError(f"{file}: malformed HCL: {_first_line(exc)}",
                          "fix the file (terraform validate shows the error)") from None
    backends: list[_Backend] = []
    for block in _blocks(document.get("terraform")):
        if _blocks(block.get("cloud")):
            backends.append(_Backend(file, "cloud (HCP Terraform)", {}))
        for labelled in _blocks(block.get("backend")):
            for label, body in labelled.items():
                if not label.startswith("__"):
                    backends.append(_Backend(file, _label(label), body if isinstance(body, Mapping) else {}))
    return backends


def _blocks(value: Any) -> list[Mapping[str, Any]]:
    """A block list as hcl2 returns it (a list of dicts); a single dict is accepted too."""
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, Mapping)]
    return []


def _label(label: str) -> str:
    return label[1:-1] if len(label) >= 2 and label[0] == label[-1] == '"' else label


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _request(backend: _Backend) -> StateRequest:
    values = {k: _literal(v, backend.file, k) for k, v in backend.body.items() if not k.startswith("__")}

    def text(name: str) -> str | None:
        value = values.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ConfigError(f"{backend.file}: backend \"s3\" `{name}` must be a string")
        return value

    bucket, key = text("bucket"), text("key")
    if not bucket or not key:
        missing = " and ".join(n for n, v in (("bucket", bucket), ("key", key)) if not v)
        raise ConfigError(f"{backend.file}: backend \"s3\" has no {missing} (partial configuration?)", _HINT)
    if key.startswith("/") or key.endswith("/"):
        raise ConfigError(f"{backend.file}: backend \"s3\" key {key!r} must not start or end with '/'")
    return StateRequest(
        uri=f"s3://{bucket}/{key}",
        workspace_key_prefix=_default(text("workspace_key_prefix"), "env:"),
        lock_table=text("dynamodb_table") or None,
        region=text("region") or None,
        role_arn=_role_arn(values, backend.file) or text("role_arn") or None,
        use_lockfile=_boolean(values.get("use_lockfile"), backend.file, "use_lockfile", default=True),
        profile=text("profile") or None,
    )


def _default(value: str | None, default: str) -> str:
    return default if value is None else value


def _role_arn(values: Mapping[str, Any], file: Path) -> str | None:
    """`assume_role = { role_arn = ... }` (Terraform 1.6+) or the block form."""
    for block in _blocks(values.get("assume_role")):
        arn = block.get("role_arn")
        if arn is not None and not isinstance(arn, str):
            raise ConfigError(f"{file}: backend \"s3\" assume_role.role_arn must be a string")
        if arn:
            return arn
    return None


def _boolean(value: Any, file: Path, name: str, *, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ConfigError(f"{file}: backend \"s3\" `{name}` must be true or false, not {value!r}")


def _literal(value: Any, file: Path, name: str) -> Any:
    """A backend value with HCL string quoting undone; ConfigError for any expression."""
    if isinstance(value, Mapping):
        return {k: _literal(v, file, f"{name}.{k}") for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [_literal(v, file, name) for v in value]
    if not isinstance(value, str):
        return value
    quoted = len(value) >= 2 and value[0] == value[-1] == '"'
    inner = value[1:-1] if quoted else value
    if quoted and inner.startswith("<<"):
        raise ConfigError(f"{file}: backend \"s3\" `{name}` is a heredoc", "write it as a quoted string")
    if _INTERPOLATION.search(inner):
        shown = " ".join(inner.split())[:60]
        raise ConfigError(f"{file}: backend \"s3\" `{name}` is an expression ({shown}): "
                          "backend blocks cannot use variables",
                          "write the literal value, or pass --state s3://BUCKET/KEY")
    return _unescape(inner) if quoted else inner


def _unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("$${", "%%{"):
            return token[1:]
        escape = match.group(1)
        if escape[0] in "uU" and len(escape) > 1:
            return chr(int(escape[1:], 16))
        return _ESCAPES.get(escape, token)

    return _ESCAPE.sub(replace, text)
