"""Deployer fixtures: the blue/green setup fresh on the session's moto server, and a journal folder."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor.aws import Aws, AwsSettings
from auditor.deploy.store import FileJournalStore
from tests.deploy.bgstack import Stack, build

REGION = "us-east-1"


@pytest.fixture
def aws(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Aws:
    with urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST"), timeout=10):
        pass
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    return Aws(AwsSettings(region=REGION, max_attempts=1))


@pytest.fixture
def stack(aws: Aws) -> Stack:
    return build(aws)


@pytest.fixture
def history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FileJournalStore]:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    yield FileJournalStore()
