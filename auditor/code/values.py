"""The values a statically evaluated Terraform expression can have.

Known values are plain Python: `str`, `int`, `float`, `bool`, `None`, `list` (tuples, lists and
sets; sets come out sorted) and `dict` (objects and maps). What cannot be known before `apply`
is an `Unresolved` (from `auditor.models`) or one of its subclasses, so that
`isinstance(v, Unresolved)` is the one test a rule needs for "unknown":

* `Ref` — a reference to another resource's attribute whose value is computed:
  `aws_lb.main.arn_suffix` -> `Ref("aws_lb.main", "arn_suffix")`,
  `aws_subnet.public["a"].id` -> `Ref('aws_subnet.public["a"]', "id")`. A reference whose value
  *is* known statically (a literal `name`) evaluates to that value instead.
* `Template` — a string with known and unknown parts:
  `"${var.docker_image_url}:latest"` -> `Template((Unresolved(...), ":latest"))`;
  `.endswith(":latest")` is True, `.refs` lists the `Ref` parts.
* `Encoded` — `jsonencode(...)` of a structure with unknown leaves; `.decoded` holds the
  structure (the loader also stores it beside the attribute as `_decoded_<name>`).
* `EvalError` — an expression Terraform itself would reject (missing key, bad argument).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from auditor.models import Unresolved
from auditor.state.address import AddressError, format_key, parse_instance_address

U = TypeVar("U", bound=Unresolved)

__all__ = [
    "Encoded",
    "EvalError",
    "HclSet",
    "Ref",
    "Template",
    "Unresolved",
    "contains_unresolved",
    "decoded",
    "find_error",
    "first_unresolved",
    "format_number",
    "join_parts",
    "json_text",
    "normalize_number",
]


@dataclass(frozen=True, slots=True)
class Ref(Unresolved):
    """A computed attribute of another resource: the address to join on, and the attribute path.

    `attribute` is "" when the whole object is referenced, else a path such as `arn_suffix`,
    `health_check[0].path` or `tags["Name"]`. `reason` says `computed: ...` for managed resources
    and `data source: ...` for data sources.
    """

    address: str
    attribute: str = ""

    def __post_init__(self) -> None:
        kind = "data source" if self.is_data else "computed"
        object.__setattr__(self, "reason", f"{kind}: {self.target}")

    @property
    def target(self) -> str:
        """`aws_lb.main.arn_suffix`, `aws_subnet.public["a"]` (address plus attribute path)."""
        if not self.attribute:
            return self.address
        sep = "" if self.attribute.startswith("[") else "."
        return f"{self.address}{sep}{self.attribute}"

    @property
    def is_data(self) -> bool:
        try:
            return parse_instance_address(self.address).mode == "data"
        except AddressError:
            return False

    def get(self, step: str) -> Ref:
        """The reference one attribute deeper."""
        return Ref(self.address, f"{self.attribute}.{step}" if self.attribute else step)

    def index(self, key: int | str) -> Ref:
        """The reference one index deeper (into the instance key when the whole object is meant)."""
        text = format_key(key)
        if not self.attribute:
            return Ref(f"{self.address}{text}")
        return Ref(self.address, f"{self.attribute}{text}")

    def __repr__(self) -> str:
        return f"Ref({self.address!r}, {self.attribute!r})"


@dataclass(frozen=True, slots=True)
class Template(Unresolved):
    """A string whose parts are literal text or unknown values (never two literals in a row).

    Build it with `join_parts`, which returns a plain `str` when every part is known.
    """

    parts: tuple[str | Unresolved, ...]

    def __post_init__(self) -> None:
        unknown = "; ".join(dict.fromkeys(p.reason for p in self.parts if isinstance(p, Unresolved)))
        object.__setattr__(self, "reason", f"template with unknown parts ({unknown})")

    @property
    def literal_prefix(self) -> str:
        """The known text before the first unknown part ("" if it starts with one)."""
        first = self.parts[0]
        return first if isinstance(first, str) else ""

    @property
    def literal_suffix(self) -> str:
        """The known text after the last unknown part ("" if it ends with one)."""
        last = self.parts[-1]
        return last if isinstance(last, str) else ""

    @property
    def literals(self) -> tuple[str, ...]:
        return tuple(p for p in self.parts if isinstance(p, str))

    @property
    def refs(self) -> tuple[Ref, ...]:
        return tuple(p for p in self.parts if isinstance(p, Ref))

    def startswith(self, text: str) -> bool | None:
        """True/False when the known prefix decides it, None when it depends on an unknown part."""
        return _affix_test(self.literal_prefix, text, prefix=True)

    def endswith(self, text: str) -> bool | None:
        """True/False when the known suffix decides it, None when it depends on an unknown part."""
        return _affix_test(self.literal_suffix, text, prefix=False)

    @property
    def display(self) -> str:
        """The string with `${...}` where parts are unknown (references keep their target)."""
        return "".join(
            p if isinstance(p, str) else "${" + (p.target if isinstance(p, Ref) else "…") + "}"
            for p in self.parts
        )

    def __repr__(self) -> str:
        return f"Template({self.display!r})"


def _affix_test(known: str, text: str, *, prefix: bool) -> bool | None:
    if len(known) >= len(text):
        return known.startswith(text) if prefix else known.endswith(text)
    # The unknown part fills the rest: only a contradiction with the known text decides.
    fits = text.startswith(known) if prefix else text.endswith(known)
    return None if fits else False


@dataclass(frozen=True, slots=True, eq=False)
class Encoded(Unresolved):
    """The text `function(decoded)` would produce, unknown because `decoded` has unknown leaves."""

    function: str
    decoded: Any

    def __post_init__(self) -> None:
        inner = first_unresolved(self.decoded)
        why = inner.reason if inner is not None else "unknown"
        object.__setattr__(self, "reason", f"{self.function} of a value with unknown parts ({why})")

    def __repr__(self) -> str:
        return f"Encoded({self.reason!r})"


class EvalError(Unresolved):
    """An expression that Terraform would reject: the reason says why."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"EvalError({self.reason!r})"


class HclSet(tuple[Any, ...]):
    """A set value (`toset(...)`, `set(string)` variables): ordered, unique, exported as a list."""

    __slots__ = ()


def join_parts(parts: Iterable[Any]) -> str | Template:
    """Concatenate string parts; unknown parts make a `Template` (flattening nested ones)."""
    out: list[str | Unresolved] = []
    for part in parts:
        pieces = part.parts if isinstance(part, Template) else (part,)
        for piece in pieces:
            if isinstance(piece, str):
                if not piece:
                    continue
                if out and isinstance(out[-1], str):
                    out[-1] = out[-1] + piece
                    continue
            out.append(piece)
    if all(isinstance(p, str) for p in out):
        return "".join(p for p in out if isinstance(p, str))
    return Template(tuple(out))


def first_unresolved(value: Any) -> Unresolved | None:
    """The first unknown leaf of `value` (depth first), or None when it is fully known."""
    return _first_leaf(value, Unresolved)


def contains_unresolved(value: Any) -> bool:
    return first_unresolved(value) is not None


def find_error(value: Any) -> EvalError | None:
    """The first `EvalError` leaf of `value`, or None."""
    return _first_leaf(value, EvalError)


def _first_leaf(value: Any, kind: type[U]) -> U | None:
    if isinstance(value, kind):
        return value
    if isinstance(value, Mapping):
        value = value.values()
    elif not isinstance(value, list | tuple):
        return None
    for item in value:
        found = _first_leaf(item, kind)
        if found is not None:
            return found
    return None


def normalize_number(value: int | float) -> int | float:
    """Terraform has one number type: integral values are ints here (1.0 -> 1)."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


def format_number(value: int | float) -> str:
    """A number as Terraform prints it: no exponent, no trailing `.0` (1e3 -> "1000")."""
    value = normalize_number(value)
    if isinstance(value, int):
        return str(value)
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def json_text(value: Any) -> str:
    """`jsonencode(value)` exactly as Terraform writes it (value must be fully known).

    Compact, object keys sorted, numbers without exponent, `<`, `>`, `&`, U+2028 and U+2029
    escaped as `\\u003c`... (Go's encoder escapes them), other non-ASCII kept as UTF-8.
    """
    parts: list[str] = []
    _json_into(value, parts)
    return "".join(parts)


_JSON_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                               "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _json_into(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("jsonencode: number is not finite")
        out.append(format_number(value))
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False).translate(_JSON_ESCAPES))
    elif isinstance(value, Mapping):
        out.append("{")
        for i, key in enumerate(sorted(value)):
            if i:
                out.append(",")
            out.append(json.dumps(str(key), ensure_ascii=False).translate(_JSON_ESCAPES))
            out.append(":")
            _json_into(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _json_into(item, out)
        out.append("]")
    else:
        raise ValueError(f"jsonencode: cannot encode {type(value).__name__}")


def decoded(attributes: Mapping[str, Any], name: str) -> Any:
    """The structure inside a JSON-string attribute, for code and state resources alike.

    A known string is parsed (`container_definitions` from state or from resolved code); a
    partially known `jsonencode(...)` gives the `_decoded_<name>` structure the loader kept;
    anything else comes back as an `Unresolved`.
    """
    value = attributes.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return EvalError(f"{name} is not valid JSON")
    kept = attributes.get(f"_decoded_{name}")
    if kept is not None:
        return kept
    if isinstance(value, Unresolved):
        return value
    return Unresolved(f"{name} is not set")
