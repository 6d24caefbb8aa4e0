"""What the demo seeders share: create resources with boto3 and record the state Terraform would write.

A seeder creates part of the reference stack through boto3 and records, for every resource,
the attributes the hashicorp/aws provider would store in state, built from what it asked AWS
for and what AWS answered (ids, ARNs) — never from the auditor's own converters, so the demo's
zero-drift baseline checks the converters instead of echoing them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from auditor.aws import Aws


@dataclass(slots=True)
class Seeded:
    """One resource instance to write into a demo state file."""

    type: str
    name: str
    attributes: dict[str, Any]
    index_key: int | str | None = None
    schema_version: int = 0
    dependencies: tuple[str, ...] = ()
    sensitive_paths: tuple[tuple[str | int, ...], ...] = ()

    @property
    def address(self) -> str:
        base = f"{self.type}.{self.name}"
        if self.index_key is None:
            return base
        if isinstance(self.index_key, int):
            return f"{base}[{self.index_key}]"
        return f'{base}["{self.index_key}"]'


@dataclass(slots=True)
class SeedContext:
    """Clients, region and account, plus the attributes recorded so far (looked up by address)."""

    aws: Aws
    region: str
    account_id: str
    items: list[Seeded] = field(default_factory=list)
    _by_address: dict[str, Seeded] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        return self.aws.client(service, self.region)

    def add(self, tf_type: str, name: str, attributes: dict[str, Any], *, index_key: int | str | None = None,
            schema_version: int = 0, dependencies: tuple[str, ...] = (),
            sensitive_paths: tuple[tuple[str | int, ...], ...] = ()) -> dict[str, Any]:
        item = Seeded(tf_type, name, attributes, index_key, schema_version, dependencies, sensitive_paths)
        if item.address in self._by_address:
            raise ValueError(f"seeded twice: {item.address}")
        self.items.append(item)
        self._by_address[item.address] = item
        return attributes

    def ref(self, address: str) -> dict[str, Any]:
        """The recorded attributes of an already seeded resource (`aws_lb.main`, `aws_subnet.public["a"]`)."""
        return self._by_address[address].attributes
