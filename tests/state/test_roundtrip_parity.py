"""State reading as Terraform reads it: its round-trip corpus (v1 upgrade, a legacy provider string with a
blank), and one malformed resource never making the rest of a state unreadable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from auditor.aws import Aws, AwsSettings
from auditor.config import AuditConfig
from auditor.errors import ExitCode
from auditor.models import DriftKind
from auditor.pipeline import run_audit
from auditor.state.model import StateRequest
from auditor.state.parse import parse_state
from auditor.state.showjson import state_list
from tests.test_pipeline import REGION, vpc_state  # noqa: F401 - the fixture

CORPUS = Path(__file__).parent / "fixtures" / "terraform-roundtrip"
AUDIT = str(Path(sys.executable).parent / "audit")
TERRAFORM_STATE_LIST = {  # what `terraform state list` prints for each input
    "v1-simple": ["null_resource.bar", "null_resource.foo[0]", "null_resource.foo[1]"],
    "v4-legacy-modules": ["null_resource.bar", "module.modA.null_resource.resource",
                          'module.modB.null_resource.bar["a"]', 'module.modB.null_resource.bar["b"]'],
}


@pytest.mark.parametrize("name", sorted(TERRAFORM_STATE_LIST))
def test_state_list_equals_terraforms(name: str) -> None:
    path = CORPUS / f"{name}.in.tfstate"
    document = parse_state(path.read_bytes(), str(path))
    assert state_list(document) == TERRAFORM_STATE_LIST[name]
    assert document.unreadable == ()


def test_a_v1_state_is_upgraded_like_terraform_does() -> None:
    document = parse_state((CORPUS / "v1-simple.in.tfstate").read_bytes(), "v1")
    assert (document.version, document.serial, document.lineage, document.terraform_version) == (1, 1, "", "0.0.0")
    assert document.outputs["numbers"].value == "0,1"
    bar = next(i for i in document.instances if i.address == "null_resource.bar")
    assert bar.attributes["triggers"] == {"whaaat": "0,1"}


def _with_bad_resource(good: dict[str, Any]) -> dict[str, Any]:
    bad = {"mode": "managed", "type": "aws_lb", "name": "broken",
           "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
           "instances": [{"schema_version": 0, "attributes": {"id": "x"}, "status": "half-done"}]}
    worse = {"mode": "resource", "type": "aws_vpc", "name": "odd", "instances": []}
    return {**good, "resources": [bad, *good["resources"], worse]}


def test_one_malformed_resource_leaves_the_rest_readable(vpc_state: Path, tmp_path: Path) -> None:  # noqa: F811
    path = tmp_path / "mixed.tfstate"
    path.write_text(json.dumps(_with_bad_resource(json.loads(vpc_state.read_text()))))
    document = parse_state(path.read_bytes(), str(path))
    assert state_list(document) == ["aws_vpc.main"]
    assert [address for address, _ in document.unreadable] == ["aws_lb.broken", "aws_vpc.odd"]

    listed = subprocess.run([AUDIT, "state", "list", str(path)], capture_output=True, text=True, check=False)
    assert (listed.returncode, listed.stdout) == (1, "aws_vpc.main\n")
    assert len(listed.stderr.strip().splitlines()) == 2 and "aws_lb.broken" in listed.stderr

    run = run_audit(AuditConfig(states=(StateRequest(uri=str(path)),), regions=(REGION,), types=("aws_vpc",)),
                    Aws(AwsSettings(region=REGION)))
    kinds = {d.address: d.kind for d in run.drifts}
    assert kinds["aws_vpc.main"] is DriftKind.IN_SYNC
    assert kinds["aws_lb.broken"] is DriftKind.UNKNOWN
    assert run.exit_code is ExitCode.ERROR
