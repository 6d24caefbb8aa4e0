"""Terraform code (`.tf`) read into the auditor's one resource shape (Origin.CODE).

    module = load_code(Path("terraform/stack"))
    module.resources          # Resource(type, id=address, attributes in the provider's state shape)
    declared_addresses(module)  # {"aws_lb.main", 'aws_subnet.public["a"]', ...}

Values that cannot be known statically are `Unresolved` (see `auditor.code.values` for `Ref`,
`Template` and `Encoded`, the unknowns that still carry what is known).
"""

from typing import TYPE_CHECKING, Any

from auditor.code.values import Encoded, EvalError, Ref, Template, Unresolved, decoded

if TYPE_CHECKING:
    from auditor.code.loader import CodeModule, Unexpandable, declared_addresses, load_code

_LOADER_NAMES = frozenset({"CodeModule", "Unexpandable", "declared_addresses", "load_code"})


def __getattr__(name: str) -> Any:
    """The loader's names, imported on first use: the rules need only the values module, and the
    loader brings python-hcl2 and lark (0.1 s to import)."""
    if name in _LOADER_NAMES:
        from auditor.code import loader

        return getattr(loader, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "CodeModule",
    "Encoded",
    "EvalError",
    "Ref",
    "Template",
    "Unexpandable",
    "Unresolved",
    "declared_addresses",
    "decoded",
    "load_code",
]
