"""Every rule of the built-in pack against its fixture: tests/rules/fixtures/<RULE-ID>/.

A fixture is Terraform code whose resources are named for their verdict (`pass`, `fail_suspended`,
`unknown_var`, ...) and an expected.json listing every address the rule judges, by verdict. A folder
without .tf files holds one root module per sub-folder (addresses are prefixed `<sub>/`), for
settings a root module has only once, such as its backend. Every rule must have a fixture, and
every verdict the rule gives must be listed.
"""

from __future__ import annotations

import pytest

from auditor.models import Status
from auditor.state.address import parse_instance_address
from tests.rules.support import FIXTURES, builtin_pack, expected_verdicts, fixture_verdicts

RULE_IDS = [r.meta.id for r in builtin_pack().rules]


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_matches_its_fixture(rule_id: str) -> None:
    folder = FIXTURES / rule_id
    assert (folder / "expected.json").is_file(), f"rule {rule_id} has no fixture in {folder}"
    expected = expected_verdicts(folder)
    got = fixture_verdicts(folder, rule_id)
    assert got == expected
    assert Status.PASS in got.values() and Status.FAIL in got.values(), \
        f"the {rule_id} fixture must show both a passing and a failing resource"


def test_every_fixture_folder_belongs_to_a_rule() -> None:
    folders = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert folders <= set(RULE_IDS), f"fixtures without a rule: {sorted(folders - set(RULE_IDS))}"


def test_fixture_resources_are_named_for_their_verdict() -> None:
    words = {Status.PASS: "pass", Status.FAIL: "fail", Status.UNKNOWN: "unknown",
             Status.NOT_APPLICABLE: "not_applicable"}
    for folder in sorted(p for p in FIXTURES.iterdir() if (p / "expected.json").is_file()):
        for address, status in expected_verdicts(folder).items():
            name = _resource_name(address)
            assert name.startswith(words[status]), f"{folder.name}: {address} is expected {status.value}"


def _resource_name(address: str) -> str:
    """The verdict-bearing name: the root folder for backend fixtures, else the resource name."""
    root, _, rest = address.rpartition("/")
    if rest == "terraform.backend":
        return root
    return parse_instance_address(rest).name
