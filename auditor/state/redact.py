"""Redaction of secrets at the moment a state is read.

Three sources of secrets, all replaced with `model.REDACTED` in place:

* `sensitive_attributes` paths (`redact_path`);
* sensitive root outputs (whole value; done by the parser);
* attributes and map keys whose *name* says secret (`scrub`), because `sensitive_attributes`
  misses whatever only the provider schema marks sensitive.

The name rule (`SecretNames`): a key is split into lowercase tokens (on `_`, `-`, `.`, `/`, spaces
and camelCase humps). It is secret when the tokens of one entry of the name set occur in it as a
contiguous run (`password` matches `master_password` and `ses_smtp_password_v4`; `private_key`
matches `private_key_pem`), unless one of its tokens is in `HARMLESS_TOKENS` (`secret_arn`,
`token_count`, `password_length`, `kms_key_id`). Only non-empty *string* values are redacted:
booleans and numbers under such names (`password_reset_required`, `password_length`) say nothing
secret, and containers are walked into instead of hidden.

`scrub` walks every dict and list of a value once. It also reports whether it saw a float (the
parser then re-reads the file with exact decimals) and bounds the nesting depth, so that one walk
pays for the three checks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from auditor.state.model import REDACTED, PathStep, Sealed

DEFAULT_SECRET_NAMES: frozenset[str] = frozenset(
    {
        "password",
        "passwd",
        "passphrase",
        "secret",
        "client_secret",
        "secret_key",
        "secret_access_key",
        "token",
        "private_key",
        "access_key",
        "api_key",
        "apikey",
        "master_password",
        "connection_string",
        "credentials",
        "credential",
        "signing_key",
    }
)
"""Names (snake_case, matched as token runs) whose string values are redacted by default."""

HARMLESS_TOKENS: frozenset[str] = frozenset(
    {
        "arn",
        "arns",
        "id",
        "ids",
        "name",
        "names",
        "count",
        "length",
        "ttl",
        "type",
        "types",
        "version",
        "versions",
        "status",
        "state",
        "enabled",
        "policy",
        "rotation",
        "rotate",
        "expiration",
        "expiry",
        "expires",
        "expired",
        "date",
        "time",
        "timestamp",
        "validity",
        "prefix",
        "path",
        "format",
        "algorithm",
        "required",
        "reset",
        "age",
        "reuse",
        "days",
        "duration",
        "kms",
        "location",
        "url",
        "uri",
        "endpoint",
        "mode",
        "manager",
        "description",
    }
)
"""A key holding any of these tokens names metadata about a secret, never the secret itself."""

_TOKEN_SPLIT = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def name_tokens(name: str) -> tuple[str, ...]:
    """`DBMasterPassword_v4` -> ("db", "master", "password", "v4")."""
    return tuple(t for t in _TOKEN_SPLIT.split(_CAMEL.sub("_", name).lower()) if t)


class NestingError(ValueError):
    """A value nests containers deeper than the parser accepts."""


_MEMO_LIMIT = 200_000


class SecretNames:
    """The name rule for one set of secret names, memoized per distinct key.

    The memo is a pair of sets: `secret` (keys classified secret) and `seen` (keys classified at
    all). A key enters `secret` before `seen`, so a reader on another thread never finds a key
    in `seen` that is missing from `secret`. A walk takes the pair once (`memo()`); a pair that
    grew past `_MEMO_LIMIT` keys (map keys are unbounded in a long-running process) is replaced,
    never cleared under a reader.
    """

    def __init__(self, names: Iterable[str]) -> None:
        self.runs = tuple(sorted({r for r in (name_tokens(n) for n in names) if r}))
        self._memo: tuple[set[str], set[str]] = (set(), set())

    def is_secret(self, key: str) -> bool:
        """Whether a string stored under `key` is a secret (uncached; see the module docstring)."""
        tokens = name_tokens(key)
        if not tokens or any(t in HARMLESS_TOKENS for t in tokens):
            return False
        for run in self.runs:
            width = len(run)
            if any(tokens[i : i + width] == run for i in range(len(tokens) - width + 1)):
                return True
        return False

    def memo(self) -> tuple[set[str], set[str]]:
        """The (secret, seen) sets a walk classifies keys with."""
        if len(self._memo[1]) > _MEMO_LIMIT:
            self._memo = (set(), set())
        return self._memo

    def learn(self, keys: Iterable[str], secret: set[str], seen: set[str]) -> None:
        """Classify the keys not yet in `seen`."""
        for key in keys:
            if key not in seen:
                if self.is_secret(key):
                    secret.add(key)
                seen.add(key)


_MATCHERS: dict[frozenset[str], SecretNames] = {}
_MATCHERS_LOCK = threading.Lock()


def secret_names(names: frozenset[str] | None = None) -> SecretNames:
    """The shared, memoized matcher for `names` (DEFAULT_SECRET_NAMES when None)."""
    key = DEFAULT_SECRET_NAMES if names is None else frozenset(names)
    with _MATCHERS_LOCK:
        matcher = _MATCHERS.get(key)
        if matcher is None:
            if len(_MATCHERS) >= 16:
                _MATCHERS.clear()
            matcher = _MATCHERS[key] = SecretNames(key)
        return matcher


@dataclass(frozen=True, slots=True)
class Scrubbed:
    """What `scrub` found: the paths it redacted, and whether the value holds any float."""

    paths: tuple[tuple[PathStep, ...], ...]
    has_float: bool


_KEY = secrets.token_bytes(32)
"""The fingerprints' HMAC key: made once per process, never written anywhere."""


def fingerprint(value: Any) -> bytes:
    """A keyed fingerprint of `value` for comparing secrets without keeping them. A JSON document in a
    string is read first (key order, spacing and empty members do not count); a Sealed value counts
    its own hidden parts."""
    canonical = value
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            canonical = _pruned(json.loads(value))
        except ValueError:
            canonical = value
    parts = sorted(value.parts.items()) if isinstance(value, Sealed) else []
    text = json.dumps([canonical, [(k, v.hex()) for k, v in parts]], sort_keys=True, default=repr)
    return hmac.new(_KEY, text.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()


def _pruned(value: Any) -> Any:
    if isinstance(value, dict):
        kept = {k: _pruned(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


def seal(value: Any) -> Sealed:
    """REDACTED, carrying the fingerprint of the `value` it replaces."""
    return Sealed(REDACTED, {"": fingerprint(value)})


def scrub(value: Any, names: SecretNames | None, max_depth: int) -> Scrubbed:
    """Redact secret-named strings in `value` in place (when `names` is given) and report.

    Raises NestingError when containers nest more than `max_depth` levels below `value`.
    The walk carries no path (the common case finds nothing); the paths of what it redacted are
    recovered afterwards by a second walk of this value only.
    """
    hits: list[tuple[dict[str, Any], str]] = []
    has_float = False
    secret, seen = names.memo() if names is not None else (set(), set())
    check_names = names is not None
    seen_all = seen.issuperset
    no_secret = secret.isdisjoint
    too_deep = f"values nest more than {max_depth} levels deep"

    def redact_keys(node: dict[str, Any]) -> None:
        for key in node:
            item = node[key]
            if key in secret and type(item) is str and item and item != REDACTED:
                node[key] = seal(item)
                hits.append((node, key))

    def walk_dict(node: dict[str, Any], depth: int) -> None:
        nonlocal has_float
        if depth > max_depth:
            raise NestingError(too_deep)
        if check_names:
            if not seen_all(node) and names is not None:
                names.learn(node, secret, seen)
            if not no_secret(node):
                redact_keys(node)
        for item in node.values():
            kind = type(item)
            if kind is str:
                continue
            if kind is dict:
                walk_dict(item, depth + 1)
            elif kind is list:
                if item and depth >= max_depth:
                    raise NestingError(too_deep)
                for sub in item:  # lists are walked inline: most hold only scalars
                    sub_kind = type(sub)
                    if sub_kind is str:
                        continue
                    if sub_kind is dict:
                        walk_dict(sub, depth + 2)
                    elif sub_kind is list:
                        walk_list(sub, depth + 2)
                    elif sub_kind is float:
                        has_float = True
            elif kind is float:
                has_float = True

    def walk_list(node: list[Any], depth: int) -> None:
        nonlocal has_float
        if depth > max_depth:
            raise NestingError(too_deep)
        for item in node:
            kind = type(item)
            if kind is dict:
                walk_dict(item, depth + 1)
            elif kind is list:
                walk_list(item, depth + 1)
            elif kind is float:
                has_float = True

    kind = type(value)
    if kind is dict:
        walk_dict(value, 1)
    elif kind is list:
        walk_list(value, 1)
    elif kind is float:
        has_float = True
    return Scrubbed(_locate(value, hits) if hits else (), has_float)


def _locate(root: Any, hits: list[tuple[dict[str, Any], str]]) -> tuple[tuple[PathStep, ...], ...]:
    """The paths of `hits` (container, key) inside `root`, in the order they were found."""
    wanted = {id(node) for node, _ in hits}
    where: dict[int, tuple[PathStep, ...]] = {}

    def visit(node: Any, path: tuple[PathStep, ...]) -> None:
        if id(node) in wanted:
            where[id(node)] = path
        items = node.items() if type(node) is dict else enumerate(node)
        for step, item in items:
            if type(item) is dict or type(item) is list:
                visit(item, (*path, step))

    visit(root, ())
    return tuple((*where[id(node)], key) for node, key in hits)


def redact_path(root: dict[str, Any], path: tuple[PathStep, ...]) -> bool:
    """Replace the value at `path` in `root` with REDACTED; False when the path does not resolve.

    A null value is left as null: it holds nothing to hide.
    """
    if not path:
        return False
    node: Any = root
    for step in path[:-1]:
        node = _step(node, step)
        if node is None:
            return False
    last = path[-1]
    if isinstance(node, dict) and isinstance(last, str) and last in node:
        if node[last] is not None:
            node[last] = seal(node[last])
        return True
    if isinstance(node, list) and isinstance(last, int) and 0 <= last < len(node):
        if node[last] is not None:
            node[last] = seal(node[last])
        return True
    return False


def _step(node: Any, step: PathStep) -> Any:
    if isinstance(node, dict) and isinstance(step, str):
        return node.get(step)
    if isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
        return node[step]
    return None


def redact_container_environment(text: Any, names: SecretNames | None = None) -> Any:
    """`container_definitions` JSON with every secret-named `environment` value replaced by REDACTED
    (a Sealed string: the fingerprint of each hidden value is kept, by container and variable).

    A task definition keeps its environment inside one JSON string, where no attribute name marks
    a secret: `{"name": "DB_PASSWORD", "value": "..."}`. State and live values are both passed
    through this where they are read, so neither reaches a report and both compare alike. Anything
    that is not such a JSON string is returned unchanged.
    """
    if not isinstance(text, str) or '"environment"' not in text:
        return text
    try:
        containers = json.loads(text)
    except ValueError:
        return text
    if not isinstance(containers, list):
        return text
    matcher = names or secret_names()
    parts: dict[str, bytes] = {}
    for index, container in enumerate(containers):
        for entry in (container.get("environment") or []) if isinstance(container, dict) else []:
            if (isinstance(entry, dict) and isinstance(entry.get("name"), str) and entry.get("value")
                    and entry["value"] != REDACTED and matcher.is_secret(entry["name"])):
                parts[f"[{index}].environment.{entry['name']}"] = fingerprint(entry["value"])
                entry["value"] = REDACTED
    return Sealed(json.dumps(containers, separators=(",", ":")), parts) if parts else text
