"""Code versus state addresses: not applied, to be destroyed, and unexpandable instances said, not guessed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from auditor.code import load_code
from auditor.codedrift import CodeDriftKind, compare, compare_code, config_address
from auditor.errors import ConfigError
from auditor.state.model import LoadedState
from auditor.state.parse import parse_state

CODE = """
resource "aws_vpc" "main" { cidr_block = "10.0.0.0/16" }
resource "aws_subnet" "x" {
  for_each   = { a = "10.0.0.0/24", b = "10.0.1.0/24" }
  vpc_id     = aws_vpc.main.id
  cidr_block = each.value
}
data "aws_availability_zones" "all" {}
resource "aws_eip" "per_zone" {
  for_each = toset(data.aws_availability_zones.all.names)
}
module "edge" { source = "./modules/edge" }
"""
MODULE = 'resource "aws_lb" "main" { name = "edge" }\n'


def _instance(tf_type: str, name: str, key: Any = None, module: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {"mode": "managed", "type": tf_type, "name": name,
                                "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
                                "instances": [{"schema_version": 0, "attributes": {"id": f"{name}-{key}"},
                                               **({"index_key": key} if key is not None else {})}]}
    if module:
        resource["module"] = module
    return resource


def _state(tmp_path: Path, resources: list[dict[str, Any]]) -> LoadedState:
    raw = {"version": 4, "terraform_version": "1.11.4", "serial": 1, "lineage": "6c1a9f0e-1111-4222-8333-944455556666",
           "outputs": {}, "resources": resources}
    uri = str(tmp_path / "terraform.tfstate")
    return LoadedState(uri=uri, workspace="default", document=parse_state(json.dumps(raw).encode(), uri))


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    root = tmp_path / "stack"
    (root / "modules" / "edge").mkdir(parents=True)
    (root / "main.tf").write_text(CODE)
    (root / "modules" / "edge" / "main.tf").write_text(MODULE)
    return root


def test_not_applied_and_to_be_destroyed(code_dir: Path, tmp_path: Path) -> None:
    state = _state(tmp_path, [_instance("aws_vpc", "main"), _instance("aws_subnet", "x", "a"),
                              _instance("aws_security_group", "old"), _instance("aws_lb", "main", module="module.edge"),
                              _instance("aws_eip", "per_zone", "ap-south-1a")])
    result = compare(load_code(code_dir), str(code_dir), state)
    kinds = {(d.kind, d.address) for d in result.drifts}
    assert kinds == {(CodeDriftKind.NOT_APPLIED, 'aws_subnet.x["b"]'),
                     (CodeDriftKind.TO_BE_DESTROYED, "aws_security_group.old")}
    assert result.undecided == ('aws_eip.per_zone["ap-south-1a"]',)
    assert any(u.startswith("aws_eip.per_zone:") for u in result.unexpanded)


def test_config_address_drops_keys() -> None:
    assert config_address('module.a["x.y"].module.b[0].aws_lb.main["k"]') == "module.a.module.b.aws_lb.main"


def test_which_state_is_ambiguous_without_a_backend(code_dir: Path, tmp_path: Path) -> None:
    one, two = _state(tmp_path / "1", []), _state(tmp_path / "2", [])
    with pytest.raises(ConfigError, match="cannot tell which state"):
        compare_code([code_dir], [one, two])


def test_reference_stack_matches_its_own_addresses() -> None:
    """terraform/stack declares every address statically: nothing is left unexpanded."""
    from tests.conftest import REPO

    module = load_code(REPO / "terraform" / "stack")
    assert module.unexpanded == ()
    assert len(module.resources) >= 34
