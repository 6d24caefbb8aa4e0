"""Real configurations: checkov's fixtures and the repository's own terraform/ folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.code import Ref, Template, declared_addresses, decoded, load_code
from tests.code._helpers import by_address
from tests.conftest import FIXTURES, REPO

CHECKOV = FIXTURES / "checkov"
CHECKOV_DIRS = sorted(p.parent for p in CHECKOV.glob("*/main.tf"))
TERRAFORM = REPO / "terraform"


def _checkov_ids() -> list[str]:
    return [p.name for p in CHECKOV_DIRS]


@pytest.mark.skipif(not CHECKOV_DIRS, reason="shared checkov fixtures are not present")
@pytest.mark.parametrize("folder", CHECKOV_DIRS, ids=_checkov_ids())
def test_checkov_fixture_loads_every_asserted_address(folder: Path) -> None:
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    # expected.json names resources `<type>.<name>[key]` as declared (aws_alb stays aws_alb),
    # without module prefix: the same form as a root module's instance addresses.
    wanted = set(expected["passing"]) | set(expected["failing"])
    module = load_code(folder)
    assert wanted <= declared_addresses(module)
    assert module.files == tuple(expected["files"])
    assert all(r.attributes["_location"]["file"] == "main.tf" for r in module.resources)




@pytest.mark.skipif(not CHECKOV_DIRS, reason="shared checkov fixtures are not present")
def test_checkov_for_each_over_a_local_set() -> None:
    module = load_code(CHECKOV / "CKV_AWS_21")
    bucket = by_address(module, 'aws_s3_bucket.this["test-bucket1"]')
    assert bucket.attributes["bucket"] == "kevin-code-sec-test-bucket1"
    versioning = by_address(module, 'aws_s3_bucket_versioning.this["test-bucket2"]')
    assert versioning.attributes["bucket"] == Ref('aws_s3_bucket.this["test-bucket2"]', "id")
    assert by_address(module, "aws_s3_bucket.enabled_var").attributes["versioning"] == [{"enabled": True}]


@pytest.mark.skipif(not CHECKOV_DIRS, reason="shared checkov fixtures are not present")
def test_checkov_container_definitions_decode() -> None:
    fail = by_address(load_code(CHECKOV / "CKV_AWS_336"), "aws_ecs_task_definition.fail")
    containers = decoded(fail.attributes, "container_definitions")
    assert [c.get("pidMode") for c in containers] == ["task", None]
    assert containers[0]["readonlyRootFilesystem"] is True


TERRAFORM_ROOTS = sorted(p for p in TERRAFORM.iterdir() if p.is_dir() and any(p.glob("*.tf")))


def test_the_repository_has_its_terraform_roots() -> None:
    assert {p.name for p in TERRAFORM_ROOTS} >= {"bootstrap", "stack"}


@pytest.mark.parametrize("root", TERRAFORM_ROOTS, ids=lambda p: p.name)
def test_repository_terraform_loads(root: Path) -> None:
    module = load_code(root)
    assert module.resources
    assert not [p for p in module.problems if "malformed" in p]


def test_repository_stack_cross_references() -> None:
    module = load_code(TERRAFORM / "stack")
    addresses = declared_addresses(module)
    lbs = [r for r in module.resources if r.type == "aws_lb"]
    assert lbs and any(r.type == "aws_subnet" for r in module.resources)
    for lb in lbs:
        subnets = lb.attributes.get("subnets")
        if isinstance(subnets, list):  # every subnet reference names a declared instance
            assert all(isinstance(s, Ref) and s.address in addresses for s in subnets)
    for task in (r for r in module.resources if r.type == "aws_ecs_task_definition"):
        containers = decoded(task.attributes, "container_definitions")
        assert isinstance(containers, list)
        for container in containers:
            assert isinstance(container["image"], str | Template)
