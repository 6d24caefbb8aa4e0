"""Code versus state: resource addresses the code declares that the state lacks, and the reverse.

`not_applied`: declared in code, absent from state (the next apply creates it).
`to_be_destroyed`: in state, no longer declared (the next apply destroys it).
Instances of a resource or module whose count/for_each cannot be expanded statically are not
judged either way: they are listed as `unexpanded`, with the reason — said, never guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from auditor.code import CodeModule, load_code
from auditor.errors import ConfigError
from auditor.state.address import AddressError, parse_instance_address
from auditor.state.model import LoadedState


class CodeDriftKind(StrEnum):
    NOT_APPLIED = "not_applied"
    TO_BE_DESTROYED = "to_be_destroyed"


@dataclass(frozen=True, slots=True)
class CodeDrift:
    kind: CodeDriftKind
    address: str
    state: str
    code_dir: str


@dataclass(frozen=True, slots=True)
class CodeComparison:
    """One code folder compared with the state it is applied to."""

    code_dir: str
    state: str
    drifts: tuple[CodeDrift, ...]
    unexpanded: tuple[str, ...]  # "address: reason"
    undecided: tuple[str, ...]  # state addresses under an unexpanded resource or module


def config_address(instance_address: str) -> str:
    """`module.a["x"].aws_lb.main[0]` -> `module.a.aws_lb.main` (the configuration address)."""
    parsed = parse_instance_address(instance_address)
    modules = "".join(f"module.{step.name}." for step in parsed.module_path)
    prefix = "data." if parsed.mode == "data" else ""
    return f"{modules}{prefix}{parsed.type}.{parsed.name}"


def _under(config: str, unexpanded: str) -> bool:
    return config == unexpanded or config.startswith(unexpanded + ".")


def _managed(addresses: Sequence[str]) -> list[str]:
    out = []
    for address in addresses:
        try:
            if parse_instance_address(address).mode == "managed":
                out.append(address)
        except AddressError:
            continue
    return out


def compare(module: CodeModule, code_dir: str, state: LoadedState) -> CodeComparison:
    declared = set(_managed([r.address for r in module.resources if r.address]))
    applied = {i.address for i in state.document.instances if i.managed and not i.deposed}
    unexpanded = [u.address for u in module.unexpanded]
    undecided = sorted(a for a in applied - declared if any(_under(config_address(a), u) for u in unexpanded))
    drifts = [CodeDrift(CodeDriftKind.NOT_APPLIED, a, state.uri, code_dir) for a in sorted(declared - applied)]
    drifts += [CodeDrift(CodeDriftKind.TO_BE_DESTROYED, a, state.uri, code_dir)
               for a in sorted(applied - declared) if a not in undecided]
    return CodeComparison(code_dir, state.uri, tuple(drifts),
                          tuple(f"{u.address}: {u.reason}" for u in module.unexpanded), tuple(undecided))


def state_for(module: CodeModule, code_dir: str, states: Sequence[LoadedState]) -> LoadedState:
    """The state a code folder is applied to: the one its backend block names, else the only one."""
    backend = module.backend or {}
    bucket, key = backend.get("bucket"), backend.get("key")
    if isinstance(bucket, str) and isinstance(key, str):
        for loaded in states:
            if loaded.uri == f"s3://{bucket}/{key}" and loaded.workspace == "default":
                return loaded
    if len(states) == 1:
        return states[0]
    raise ConfigError(f"cannot tell which state {code_dir} is applied to",
                      "give it a backend \"s3\" block naming the state's bucket and key, or audit one state")


def compare_code(code_dirs: Sequence[Path], states: Sequence[LoadedState]) -> tuple[CodeComparison, ...]:
    out = []
    for folder in code_dirs:
        module = load_code(folder)
        out.append(compare(module, str(folder), state_for(module, str(folder), states)))
    return tuple(out)
