"""Terraform built-in functions, as far as they can be computed before `apply`.

Each function states how much of its arguments must be known (`known`): "shallow" (the
arguments themselves), "deep" (every leaf) or "none" (it copes with unknown parts, such as
`concat` of lists holding references). An unknown argument makes the result unknown; an
argument Terraform would reject makes an `EvalError`. Functions whose result exists only at
apply time (`timestamp`, `uuid`) are unknown; names not listed here are unknown and noted.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import math
import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from auditor.code import syntax as s
from auditor.code.evaluate import (
    Namespace,
    Scope,
    evaluate,
    hcl_equal,
    interpolate,
    opaque,
    render,
    to_bool,
    to_number,
    to_string,
)
from auditor.code.values import (
    Encoded,
    EvalError,
    HclSet,
    Template,
    Unresolved,
    find_error,
    first_unresolved,
    join_parts,
    json_text,
    normalize_number,
)
from auditor.errors import ConfigError

Fn = Callable[[list[Any], Scope], Any]


class _Fail(Exception):
    """An argument Terraform would reject; becomes an EvalError naming the function."""


@dataclass(frozen=True, slots=True)
class _Spec:
    fn: Fn
    min_args: int
    max_args: int | None
    known: str  # shallow | deep | none


_TABLE: dict[str, _Spec] = {}

_RUNTIME = frozenset({"timestamp", "plantimestamp", "uuid", "bcrypt", "abspath", "pathexpand", "uuidv5",
                      "timeadd", "formatdate", "rsadecrypt", "filebase64", "filebase64sha256",
                      "filemd5", "filesha1", "filesha256", "filesha512", "fileset", "fileexists"})
"""Functions whose result depends on the machine or the moment that runs Terraform."""


def function(name: str, min_args: int, max_args: int | None = -1, known: str = "shallow") -> Callable[[Fn], Fn]:
    """Register `fn` as the built-in `name` (max_args -1: exactly min_args; None: variadic)."""

    def register(fn: Fn) -> Fn:
        _TABLE[name] = _Spec(fn, min_args, min_args if max_args == -1 else max_args, known)
        return fn

    return register


def call(name: str, args: list[Any], scope: Scope) -> Any:
    """The value of `name(args...)`."""
    spec = _TABLE.get(name)
    if spec is None:
        if name in _RUNTIME:
            return Unresolved(f"{name}() is only known when Terraform runs")
        if "::" in name:
            return Unresolved(f"provider function {name}() is not evaluated statically")
        scope.context.note(f"function {name}() is not evaluated statically")
        return Unresolved(f"{name}() is not evaluated statically")
    if len(args) < spec.min_args or (spec.max_args is not None and len(args) > spec.max_args):
        expected = spec.min_args if spec.max_args == spec.min_args else f"{spec.min_args}+"
        return EvalError(f"{name}() takes {expected} arguments, got {len(args)}")
    blocker = _blocker(args, spec.known)
    if blocker is not None:
        return blocker
    try:
        return spec.fn(args, scope)
    except _Fail as exc:
        return EvalError(f"{name}(): {exc}")
    except (ValueError, TypeError, IndexError, KeyError, OverflowError, re.error) as exc:
        return EvalError(f"{name}(): {exc}")


def _blocker(args: list[Any], known: str) -> Unresolved | None:
    error = find_error(args)
    if error is not None:
        return error
    if known == "none":
        return None
    for arg in args:
        unknown = first_unresolved(arg) if known == "deep" else (arg if isinstance(arg, Unresolved) else None)
        if unknown is None and known == "deep" and _has_namespace(arg):
            return Unresolved("the argument holds whole resource objects")
        if unknown is not None:
            return opaque(unknown)
    return None


def _has_namespace(value: Any) -> bool:
    if isinstance(value, Namespace):
        return True
    if isinstance(value, Mapping):
        return any(_has_namespace(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_namespace(v) for v in value)
    return False


# --- argument helpers -----------------------------------------------------------------------


def _str(value: Any) -> str:
    text = to_string(value)
    if not isinstance(text, str):
        raise _Fail(f"a string is required, got {'null' if text is None else text.reason}")
    return text


def _num(value: Any) -> int | float:
    number = to_number(value)
    if isinstance(number, Unresolved):
        raise _Fail(number.reason)
    return number


def _int(value: Any) -> int:
    number = _num(value)
    if not isinstance(number, int):
        raise _Fail(f"a whole number is required, got {number}")
    return number


def _list(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    raise _Fail(f"a list is required, got {_kind(value)}")


def _map(value: Any) -> Mapping[str, Any]:
    if isinstance(value, Mapping):
        return value
    raise _Fail(f"a map is required, got {_kind(value)}")


def _kind(value: Any) -> str:
    from auditor.code.evaluate import describe

    return describe(value)


def _unknown_in(*values: Any) -> Unresolved | None:
    """The first unknown among values (shallow)."""
    return next((opaque(v) for v in values if isinstance(v, Unresolved)), None)


# --- strings --------------------------------------------------------------------------------


@function("lower", 1)
def _lower(args: list[Any], scope: Scope) -> Any:
    return _str(args[0]).lower()


@function("upper", 1)
def _upper(args: list[Any], scope: Scope) -> Any:
    return _str(args[0]).upper()


@function("title", 1)
def _title(args: list[Any], scope: Scope) -> Any:
    out: list[str] = []
    previous = " "
    for ch in _str(args[0]):
        word_char = previous.isalnum() or previous == "_"
        out.append(ch if word_char else ch.upper())
        previous = ch
    return "".join(out)


@function("trimspace", 1)
def _trimspace(args: list[Any], scope: Scope) -> Any:
    return _str(args[0]).strip()


@function("trim", 2)
def _trim(args: list[Any], scope: Scope) -> Any:
    return _str(args[0]).strip(_str(args[1]))


@function("trimprefix", 2)
def _trimprefix(args: list[Any], scope: Scope) -> Any:
    return _str(args[0]).removeprefix(_str(args[1]))


@function("trimsuffix", 2)
def _trimsuffix(args: list[Any], scope: Scope) -> Any:
    return _str(args[0]).removesuffix(_str(args[1]))


@function("chomp", 1)
def _chomp(args: list[Any], scope: Scope) -> Any:
    return _str(args[0]).rstrip("\r\n")


@function("strrev", 1)
def _strrev(args: list[Any], scope: Scope) -> Any:
    return _str(args[0])[::-1]


@function("startswith", 2, known="none")
def _startswith(args: list[Any], scope: Scope) -> Any:
    return _affix(args, prefix=True)


@function("endswith", 2, known="none")
def _endswith(args: list[Any], scope: Scope) -> Any:
    return _affix(args, prefix=False)


def _affix(args: list[Any], *, prefix: bool) -> Any:
    text, affix = args
    if isinstance(affix, Unresolved):
        return opaque(affix)
    if isinstance(text, Template):  # decided by the known prefix/suffix when it can be
        verdict = text.startswith(_str(affix)) if prefix else text.endswith(_str(affix))
        return verdict if verdict is not None else opaque(text)
    if isinstance(text, Unresolved):
        return opaque(text)
    return _str(text).startswith(_str(affix)) if prefix else _str(text).endswith(_str(affix))


@function("strcontains", 2)
def _strcontains(args: list[Any], scope: Scope) -> Any:
    return _str(args[1]) in _str(args[0])


@function("indent", 2)
def _indent(args: list[Any], scope: Scope) -> Any:
    pad = " " * _int(args[0])
    return _str(args[1]).replace("\n", "\n" + pad)


@function("replace", 3)
def _replace(args: list[Any], scope: Scope) -> Any:
    text, search, replacement = _str(args[0]), _str(args[1]), _str(args[2])
    if len(search) > 1 and search.startswith("/") and search.endswith("/"):
        pattern = re.compile(search[1:-1])
        python_repl = re.sub(r"\$\{?(\d+)\}?", r"\\g<\1>", replacement.replace("\\", "\\\\"))
        return pattern.sub(python_repl, text)
    return text.replace(search, replacement)


@function("split", 2)
def _split(args: list[Any], scope: Scope) -> Any:
    separator, text = _str(args[0]), _str(args[1])
    return list(text) if separator == "" else text.split(separator)


@function("join", 2, known="none")
def _join(args: list[Any], scope: Scope) -> Any:
    separator, items = args
    unknown = _unknown_in(separator, items)
    if unknown is not None:
        return unknown
    pieces: list[Any] = []
    for i, item in enumerate(_list(items)):
        if i:
            pieces.append(_str(separator))
        piece = interpolate(item)
        if isinstance(piece, EvalError):
            raise _Fail(piece.reason)
        pieces.append(piece)
    return join_parts(pieces)


@function("substr", 3)
def _substr(args: list[Any], scope: Scope) -> Any:
    text, offset, length = _str(args[0]), _int(args[1]), _int(args[2])
    if offset < 0:
        offset = max(len(text) + offset, 0)
    if offset > len(text):
        raise _Fail("offset is beyond the end of the string")
    return text[offset:] if length < 0 else text[offset:offset + length]


_VERB = re.compile(r"%(?P<flags>[-+# 0]*)(?P<width>\d+)?(?:\.(?P<precision>\d+))?(?P<verb>[a-zA-Z%])")


@function("format", 1, None, known="none")
def _format(args: list[Any], scope: Scope) -> Any:
    template, values = args[0], args[1:]
    if isinstance(template, Unresolved):
        return opaque(template)
    spec = _str(template)
    pieces: list[Any] = []
    position = 0
    next_arg = 0
    for match in _VERB.finditer(spec):
        pieces.append(spec[position:match.start()])
        position = match.end()
        verb = match["verb"]
        if verb == "%":
            pieces.append("%")
            continue
        if next_arg >= len(values):
            raise _Fail("not enough arguments for the format string")
        value = values[next_arg]
        next_arg += 1
        plain = not (match["flags"] or match["width"] or match["precision"])
        if isinstance(value, Unresolved):
            if verb in "sv" and plain:
                pieces.append(interpolate(value))  # keeps references in the resulting template
                continue
            return opaque(value)
        pieces.append(_format_verb(match, value))
    if next_arg < len(values):
        raise _Fail("too many arguments for the format string")
    pieces.append(spec[position:])
    return join_parts(pieces)


def _format_verb(match: re.Match[str], value: Any) -> str:
    verb, flags = match["verb"], match["flags"] or ""
    width, precision = match["width"] or "", match["precision"]
    if verb in "sv" and not isinstance(value, list | tuple | Mapping):
        text = _str(value)
        body = text if precision is None else text[:int(precision)]
    elif verb == "v":
        body = json_text(value)
    elif verb == "q":
        body = json_text(_str(value))
    elif verb == "t":
        flag = to_bool(value)
        if isinstance(flag, Unresolved):
            raise _Fail(flag.reason)
        body = "true" if flag else "false"
    elif verb in "dbox":
        body = format(_int(value), {"d": "d", "b": "b", "o": "o", "x": "x"}[verb])
        if "+" in flags and not body.startswith("-"):
            body = "+" + body
    elif verb == "X":
        body = format(_int(value), "X")
    elif verb in "feEgG":
        digits = 6 if precision is None else int(precision)
        body = format(_num(value), f"{'+' if '+' in flags else ''}.{digits}{verb}")
    else:
        raise _Fail(f"unsupported verb %{verb}")
    if width and len(body) < int(width):
        pad = int(width) - len(body)
        if "-" in flags:
            body = body + " " * pad
        elif "0" in flags and verb not in "sqvt":
            sign = body[0] if body[:1] in "+-" else ""
            body = sign + "0" * pad + body[len(sign):]
        else:
            body = " " * pad + body
    return body


# --- collections ----------------------------------------------------------------------------


@function("length", 1, known="none")
def _length(args: list[Any], scope: Scope) -> Any:
    value = args[0]
    if isinstance(value, Unresolved):
        return opaque(value)
    if isinstance(value, str | list | tuple | Mapping):
        return len(value)
    raise _Fail(f"cannot take the length of {_kind(value)}")


@function("element", 2, known="none")
def _element(args: list[Any], scope: Scope) -> Any:
    items, position = args
    unknown = _unknown_in(items, position)
    if unknown is not None:
        return unknown
    values, at = _list(items), _int(position)
    if not values:
        raise _Fail("cannot use element() on an empty list")
    if at < 0:
        raise _Fail("index must not be negative")
    return values[at % len(values)]


@function("lookup", 2, 3, known="none")
def _lookup(args: list[Any], scope: Scope) -> Any:
    mapping, key = args[0], args[1]
    unknown = _unknown_in(mapping, key)
    if unknown is not None:
        return unknown
    name = _str(key)
    if isinstance(mapping, Namespace):
        return mapping.attr(name)
    values = _map(mapping)
    if name in values:
        return values[name]
    if len(args) == 3:
        return args[2]
    raise _Fail(f"no key {name!r} and no default")


@function("concat", 0, None, known="none")
def _concat(args: list[Any], scope: Scope) -> Any:
    unknown = _unknown_in(*args)
    if unknown is not None:
        return unknown
    out: list[Any] = []
    for arg in args:
        out.extend(_list(arg))
    return out


@function("merge", 0, None, known="none")
def _merge(args: list[Any], scope: Scope) -> Any:
    unknown = _unknown_in(*args)
    if unknown is not None:
        return unknown
    out: dict[str, Any] = {}
    for arg in args:
        if arg is not None:
            out.update(_map(arg))
    return out


@function("keys", 1, known="none")
def _keys(args: list[Any], scope: Scope) -> Any:
    unknown = _unknown_in(args[0])
    return unknown if unknown is not None else sorted(_map(args[0]))


@function("values", 1, known="none")
def _values(args: list[Any], scope: Scope) -> Any:
    unknown = _unknown_in(args[0])
    if unknown is not None:
        return unknown
    mapping = _map(args[0])
    return [mapping[k] for k in sorted(mapping)]


@function("contains", 2, known="deep")
def _contains(args: list[Any], scope: Scope) -> Any:
    return any(hcl_equal(item, args[1]) is True for item in _list(args[0]))


@function("index", 2, known="deep")
def _index(args: list[Any], scope: Scope) -> Any:
    for position, item in enumerate(_list(args[0])):
        if hcl_equal(item, args[1]) is True:
            return position
    raise _Fail("item not found")


@function("distinct", 1, known="deep")
def _distinct(args: list[Any], scope: Scope) -> Any:
    out: list[Any] = []
    for item in _list(args[0]):
        if not any(hcl_equal(item, seen) is True for seen in out):
            out.append(item)
    return out


@function("flatten", 1, known="none")
def _flatten(args: list[Any], scope: Scope) -> Any:
    """Nested lists flattened; an unknown element counts as one element (usually a scalar)."""
    def walk(value: list[Any] | tuple[Any, ...]) -> list[Any]:
        out: list[Any] = []
        for item in value:
            out.extend(walk(item) if isinstance(item, list | tuple) else [item])
        return out

    if isinstance(args[0], Unresolved):
        return opaque(args[0])
    return walk(_list(args[0]))


@function("zipmap", 2, known="none")
def _zipmap(args: list[Any], scope: Scope) -> Any:
    unknown = first_unresolved(args[0]) or _unknown_in(args[1])
    if unknown is not None:
        return opaque(unknown)
    keys, values = _list(args[0]), _list(args[1])
    if len(keys) != len(values):
        raise _Fail("keys and values differ in length")
    return {_str(k): v for k, v in zip(keys, values, strict=True)}


@function("range", 1, 3)
def _range(args: list[Any], scope: Scope) -> Any:
    numbers = [_num(a) for a in args]
    start: int | float = 0 if len(numbers) == 1 else numbers[0]
    stop = numbers[0] if len(numbers) == 1 else numbers[1]
    step = numbers[2] if len(numbers) == 3 else 1
    if step == 0:
        raise _Fail("step must not be zero")
    out: list[int | float] = []
    value = start
    while (value < stop) if step > 0 else (value > stop):
        out.append(normalize_number(value))
        value += step
        if len(out) > 1024:
            raise _Fail("more than 1024 elements")
    return out


@function("slice", 3, known="none")
def _slice(args: list[Any], scope: Scope) -> Any:
    unknown = _unknown_in(*args)
    if unknown is not None:
        return unknown
    items, start, end = _list(args[0]), _int(args[1]), _int(args[2])
    if not 0 <= start <= end <= len(items):
        raise _Fail("indexes out of range")
    return items[start:end]


@function("reverse", 1, known="none")
def _reverse(args: list[Any], scope: Scope) -> Any:
    unknown = _unknown_in(args[0])
    return unknown if unknown is not None else _list(args[0])[::-1]


@function("sort", 1, known="deep")
def _sort(args: list[Any], scope: Scope) -> Any:
    return sorted(_str(item) for item in _list(args[0]))


@function("compact", 1, known="deep")
def _compact(args: list[Any], scope: Scope) -> Any:
    return [item for item in _list(args[0]) if item is not None and item != ""]


@function("coalesce", 1, None, known="none")
def _coalesce(args: list[Any], scope: Scope) -> Any:
    for arg in args:
        if isinstance(arg, Unresolved):
            return opaque(arg)
        if arg is not None and arg != "":
            return arg
    raise _Fail("no non-null, non-empty argument")


@function("coalescelist", 1, None, known="none")
def _coalescelist(args: list[Any], scope: Scope) -> Any:
    for arg in args:
        if isinstance(arg, Unresolved):
            return opaque(arg)
        if _list(arg):
            return arg
    return []


@function("one", 1, known="none")
def _one(args: list[Any], scope: Scope) -> Any:
    unknown = _unknown_in(args[0])
    if unknown is not None:
        return unknown
    items = _list(args[0])
    if len(items) > 1:
        raise _Fail(f"the list has {len(items)} elements")
    return items[0] if items else None


@function("sum", 1, known="deep")
def _sum(args: list[Any], scope: Scope) -> Any:
    items = [_num(i) for i in _list(args[0])]
    if not items:
        raise _Fail("cannot sum an empty list")
    return normalize_number(sum(items))


@function("min", 1, None)
def _min(args: list[Any], scope: Scope) -> Any:
    return min(_num(a) for a in args)


@function("max", 1, None)
def _max(args: list[Any], scope: Scope) -> Any:
    return max(_num(a) for a in args)


@function("abs", 1)
def _abs(args: list[Any], scope: Scope) -> Any:
    return abs(_num(args[0]))


@function("ceil", 1)
def _ceil(args: list[Any], scope: Scope) -> Any:
    return math.ceil(_num(args[0]))


@function("floor", 1)
def _floor(args: list[Any], scope: Scope) -> Any:
    return math.floor(_num(args[0]))


@function("pow", 2)
def _pow(args: list[Any], scope: Scope) -> Any:
    return normalize_number(float(_num(args[0])) ** _num(args[1]))


@function("signum", 1)
def _signum(args: list[Any], scope: Scope) -> Any:
    number = _num(args[0])
    return (number > 0) - (number < 0)


@function("parseint", 2)
def _parseint(args: list[Any], scope: Scope) -> Any:
    return int(_str(args[0]), _int(args[1]))


# --- type conversions -----------------------------------------------------------------------


@function("tostring", 1, known="none")
def _tostring(args: list[Any], scope: Scope) -> Any:
    value = args[0]
    if isinstance(value, Unresolved):
        return value  # a reference to a string stays that reference
    text = to_string(value)
    if isinstance(text, EvalError):
        raise _Fail(text.reason)
    return text


@function("tonumber", 1, known="none")
def _tonumber(args: list[Any], scope: Scope) -> Any:
    value = args[0]
    if isinstance(value, Unresolved) or value is None:
        return value
    return _num(value)


@function("tobool", 1, known="none")
def _tobool(args: list[Any], scope: Scope) -> Any:
    value = args[0]
    if isinstance(value, Unresolved) or value is None:
        return value
    flag = to_bool(value)
    if isinstance(flag, EvalError):
        raise _Fail(flag.reason)
    return flag


@function("tolist", 1, known="none")
def _tolist(args: list[Any], scope: Scope) -> Any:
    value = args[0]
    if isinstance(value, Unresolved) or value is None:
        return value
    return _list(value)


@function("toset", 1, known="none")
def _toset(args: list[Any], scope: Scope) -> Any:
    value = args[0]
    if isinstance(value, Unresolved) or value is None:
        return opaque(value) if isinstance(value, Unresolved) else value
    return make_set(_list(value))


@function("tomap", 1, known="none")
def _tomap(args: list[Any], scope: Scope) -> Any:
    value = args[0]
    if isinstance(value, Unresolved) or value is None:
        return value
    return dict(_map(value))


def make_set(items: list[Any]) -> HclSet:
    """A set value: unique elements; strings sort lexically, numbers numerically, and a mix of
    primitives is converted to strings first (as Terraform unifies the element type)."""
    known = [i for i in items if not isinstance(i, Unresolved)]
    unknown = [i for i in items if isinstance(i, Unresolved)]
    primitives = all(isinstance(i, str | int | float | bool) for i in known)
    if primitives and known and not all(isinstance(i, int | float) and not isinstance(i, bool) for i in known):
        known = [_str(i) for i in known]
    unique: list[Any] = []
    for item in known:
        if not any(hcl_equal(item, seen) is True for seen in unique):
            unique.append(item)
    if primitives:
        unique.sort(key=lambda i: (0, i, "") if isinstance(i, int | float) else (1, 0, i))
    return HclSet([*unique, *dict.fromkeys(unknown)])


@function("sensitive", 1, known="none")
def _sensitive(args: list[Any], scope: Scope) -> Any:
    return Unresolved("sensitive value")


@function("nonsensitive", 1, known="none")
def _nonsensitive(args: list[Any], scope: Scope) -> Any:
    return args[0]


# --- encoding and hashing -------------------------------------------------------------------


@function("jsonencode", 1, known="none")
def _jsonencode(args: list[Any], scope: Scope) -> Any:
    value = plain(args[0])
    if first_unresolved(value) is not None:
        return Encoded("jsonencode", value)
    return json_text(value)


def plain(value: Any) -> Any:
    """A value with sets as lists and whole objects as the unknowns they stand for."""
    if isinstance(value, Namespace):
        return value.export()
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Encoded):
        return Unresolved(value.reason)
    return value


@function("jsondecode", 1)
def _jsondecode(args: list[Any], scope: Scope) -> Any:
    return json.loads(_str(args[0]), parse_float=lambda t: normalize_number(float(t)))


@function("base64encode", 1)
def _base64encode(args: list[Any], scope: Scope) -> Any:
    return base64.b64encode(_str(args[0]).encode()).decode()


@function("base64decode", 1)
def _base64decode(args: list[Any], scope: Scope) -> Any:
    return base64.b64decode(_str(args[0]), validate=True).decode("utf-8")


@function("urlencode", 1)
def _urlencode(args: list[Any], scope: Scope) -> Any:
    from urllib.parse import quote_plus

    return quote_plus(_str(args[0]), safe="")


def _digest(name: str, encode: Callable[[bytes], str]) -> None:
    @function(name, 1)
    def digest(args: list[Any], scope: Scope) -> Any:
        algorithm = name.removeprefix("base64")
        return encode(hashlib.new(algorithm, _str(args[0]).encode()).digest())


for _name in ("md5", "sha1", "sha256", "sha512"):
    _digest(_name, lambda raw: raw.hex())
for _name in ("base64sha256", "base64sha512"):
    _digest(_name, lambda raw: base64.b64encode(raw).decode())


# --- files ----------------------------------------------------------------------------------


@function("file", 1)
def _file(args: list[Any], scope: Scope) -> Any:
    return scope.context.read_file(_str(args[0]))


@function("templatefile", 2, known="none")
def _templatefile(args: list[Any], scope: Scope) -> Any:
    path, variables = args
    if isinstance(path, Unresolved):
        return opaque(path)
    text = scope.context.read_file(_str(path))
    if isinstance(text, Unresolved):
        return text
    if isinstance(variables, Unresolved):
        return opaque(variables)
    try:
        template = s.parse_template(text, _str(path))
    except ConfigError as exc:
        return EvalError(exc.message)
    return render(template.parts, Scope(_TemplateContext(scope), dict(_map(variables))))


class _TemplateContext:
    """A template file sees only the variables passed to templatefile(), and the functions."""

    def __init__(self, outer: Scope) -> None:
        self.outer = outer

    def root(self, name: str) -> Any:
        return EvalError(f"templatefile: no variable {name!r} was passed")

    def read_file(self, path: str) -> str | Unresolved:
        return self.outer.context.read_file(path)

    def note(self, message: str) -> None:
        self.outer.context.note(message)


@function("basename", 1)
def _basename(args: list[Any], scope: Scope) -> Any:
    return posixpath.basename(_str(args[0]))


@function("dirname", 1)
def _dirname(args: list[Any], scope: Scope) -> Any:
    return posixpath.dirname(_str(args[0])) or "."


# --- networks -------------------------------------------------------------------------------


def _network(prefix: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(_str(prefix), strict=False)


@function("cidrsubnet", 3)
def _cidrsubnet(args: list[Any], scope: Scope) -> Any:
    network, newbits, netnum = _network(args[0]), _int(args[1]), _int(args[2])
    length = network.prefixlen + newbits
    if newbits < 0 or length > network.max_prefixlen:
        raise _Fail(f"cannot add {newbits} bits to a /{network.prefixlen} prefix")
    if not 0 <= netnum < 2 ** newbits:
        raise _Fail(f"prefix extension of {newbits} bits does not accommodate a subnet numbered {netnum}")
    size = 2 ** (network.max_prefixlen - length)
    base = int(network.network_address) + netnum * size
    return str(ipaddress.ip_network((base, length)))


@function("cidrhost", 2)
def _cidrhost(args: list[Any], scope: Scope) -> Any:
    network, number = _network(args[0]), _int(args[1])
    offset = number if number >= 0 else network.num_addresses + number
    if not 0 <= offset < network.num_addresses:
        raise _Fail(f"prefix of {network.prefixlen} bits has no host number {number}")
    return str(network.network_address + offset)


@function("cidrnetmask", 1)
def _cidrnetmask(args: list[Any], scope: Scope) -> Any:
    network = _network(args[0])
    if network.version != 4:
        raise _Fail("only IPv4 prefixes have a netmask")
    return str(network.netmask)


@function("cidrsubnets", 1, None)
def _cidrsubnets(args: list[Any], scope: Scope) -> Any:
    network = _network(args[0])
    cursor = int(network.network_address)
    end = int(network.broadcast_address)
    out: list[str] = []
    for bits in (_int(a) for a in args[1:]):
        length = network.prefixlen + bits
        if bits < 1 or length > network.max_prefixlen:
            raise _Fail(f"cannot add {bits} bits to a /{network.prefixlen} prefix")
        size = 2 ** (network.max_prefixlen - length)
        cursor = -(-cursor // size) * size  # align up to the subnet size
        if cursor + size - 1 > end:
            raise _Fail(f"not enough room in {network} for the requested subnets")
        out.append(str(ipaddress.ip_network((cursor, length))))
        cursor += size
    return out


# --- lazy functions: their arguments are evaluated one by one -------------------------------


def _try(expr: s.Call, scope: Scope) -> Any:
    """The first argument that evaluates without error (unknown if an earlier one is unknown)."""
    for arg in expr.args:
        value = evaluate(arg, scope)
        if find_error(value) is not None:
            continue
        return value
    return EvalError("try(): every argument failed")


def _can(expr: s.Call, scope: Scope) -> Any:
    if len(expr.args) != 1:
        return EvalError(f"can() takes 1 argument, got {len(expr.args)}")
    value = evaluate(expr.args[0], scope)
    if find_error(value) is not None:
        return False
    unknown = first_unresolved(value)
    return opaque(unknown) if unknown is not None else True


LAZY: dict[str, Callable[[s.Call, Scope], Any]] = {"try": _try, "can": _can}
