"""The demo seeds terraform/, address for address, and a clean demo audits 100% in sync.

The addresses terraform/stack and terraform/bootstrap declare are expanded statically by the
helpers of tests/terraform/test_reference_stack.py; the demo's are those seed_reference_stack
records and publishes (moto in-process, extended as the demo's embedded server is).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from moto import mock_aws

from auditor.aws import Aws, AwsSettings
from auditor.catalog import spec_for
from auditor.demo.motoserver import reference_stack_moto
from auditor.demo.run import BOOTSTRAP_KEY, REGION, STACK_KEY, SeededStack, seed_reference_stack
from auditor.demo.seedkit import SeedContext, Seeded
from auditor.models import DriftKind
from auditor.pipeline import run_audit
from tests.terraform.test_reference_stack import BOOTSTRAP, STACK, _addresses, _declared


@pytest.fixture(scope="module")
def seeded() -> Iterator[SeededStack]:
    with mock_aws(), reference_stack_moto():
        yield seed_reference_stack(Aws(AwsSettings(region=REGION)))


def _seeded_addresses(ctx: SeedContext) -> set[str]:
    addresses = [item.address for item in ctx.items]
    assert len(addresses) == len(set(addresses))
    return set(addresses)


def _published_addresses(seeded: SeededStack, key: str) -> set[str]:
    """The addresses of the state object the demo published under `key`."""
    body = Aws(AwsSettings(region=REGION)).client("s3", REGION).get_object(Bucket=seeded.bucket, Key=key)["Body"]
    state = json.loads(body.read())
    return {Seeded(r["type"], r["name"], {}, i.get("index_key")).address
            for r in state["resources"] for i in r["instances"]}


def test_the_demo_stack_has_the_addresses_of_terraform_stack(seeded: SeededStack) -> None:
    declared = _addresses(_declared(STACK))
    demo = _seeded_addresses(seeded.stack)
    assert demo == declared, (f"declared but not seeded: {sorted(declared - demo)}; "
                              f"seeded but not declared: {sorted(demo - declared)}")
    assert _published_addresses(seeded, STACK_KEY) == declared


def test_the_demo_bootstrap_has_the_addresses_of_terraform_bootstrap(seeded: SeededStack) -> None:
    declared = _addresses(_declared(BOOTSTRAP))
    assert _seeded_addresses(seeded.bootstrap) == declared
    assert _published_addresses(seeded, BOOTSTRAP_KEY) == declared


def test_every_seeded_type_is_observed_by_the_live_inventory(seeded: SeededStack) -> None:
    types = {item.type for item in (*seeded.stack.items, *seeded.bootstrap.items)}
    assert sorted(t for t in types if spec_for(t) is None) == []


def test_a_clean_demo_is_fully_in_sync(seeded: SeededStack) -> None:
    run = run_audit(seeded.config(), Aws(AwsSettings(region=REGION)))
    not_in_sync = [(d.kind.value, d.type, d.address or d.id, d.reason) for d in run.drifts
                   if d.kind is not DriftKind.IN_SYNC]
    assert not_in_sync == []
    assert {(d.address, d.kind) for d in run.drifts} == {
        (item.address, DriftKind.IN_SYNC) for item in (*seeded.stack.items, *seeded.bootstrap.items)}
    assert (run.score.overall.coverage, run.score.overall.drift_index) == (100.0, 0.0)
