"""End-to-end fixtures: the reference stack seeded fresh on the session's moto server."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest

from auditor.aws import Aws, AwsSettings
from auditor.demo.run import REGION, SeededStack, seed_reference_stack


def _reset(endpoint: str) -> None:
    with urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=120):
        pass


@pytest.fixture
def stack(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[SeededStack]:
    _reset(moto_server)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_REGION", REGION)
    yield seed_reference_stack(Aws(AwsSettings(region=REGION, max_attempts=1)))
