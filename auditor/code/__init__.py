"""Terraform code (`.tf`) read into the auditor's one resource shape (Origin.CODE).

    module = load_code(Path("terraform/stack"))
    module.resources          # Resource(type, id=address, attributes in the provider's state shape)
    declared_addresses(module)  # {"aws_lb.main", 'aws_subnet.public["a"]', ...}

Values that cannot be known statically are `Unresolved` (see `auditor.code.values` for `Ref`,
`Template` and `Encoded`, the unknowns that still carry what is known).
"""

from auditor.code.loader import CodeModule, Unexpandable, declared_addresses, load_code
from auditor.code.values import Encoded, EvalError, Ref, Template, Unresolved, decoded

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
