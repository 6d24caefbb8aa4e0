"""Conformance suite: real Terraform and hashicorp/aws against moto, compared with the auditor.

Skipped, with one reason line, where `terraform` or the provider mirror is missing. The heavy
work (one apply, every scenario, the lock check) runs once per session in `parity_run`, which
only one test uses, so under pytest-xdist it runs on one worker only.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .harness import Lab, Toolchain, ToolchainMissing, find_toolchain
from .suite import ParityRun, run_suite


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance: real Terraform + hashicorp/aws on moto, compared with the "
                                       "auditor (needs terraform and the provider mirror; ~5 minutes)")


@pytest.fixture(scope="session")
def toolchain() -> Toolchain:
    try:
        return find_toolchain()
    except ToolchainMissing as exc:
        pytest.skip(f"Terraform conformance suite skipped: {exc}")


@pytest.fixture(scope="session")
def parity_run(toolchain: Toolchain, tmp_path_factory: pytest.TempPathFactory) -> ParityRun:
    workdir: Path = tmp_path_factory.mktemp("conformance")
    with Lab(toolchain, workdir) as lab:
        return run_suite(lab)
