"""Shared by the code-loader tests."""

from __future__ import annotations

from auditor.code import CodeModule
from auditor.models import Resource


def by_address(module: CodeModule, address: str) -> Resource:
    """The resource or data source of `module` with this instance address."""
    found = [r for r in (*module.resources, *module.data_sources) if r.address == address]
    assert found, f"{address} not in {[r.address for r in module.resources]}"
    return found[0]
