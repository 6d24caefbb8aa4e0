"""The fault tests: the reference stack on the session's moto server, a fault proxy in front of it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import stack  # noqa: F401 - the seeded reference stack, shared with the e2e tests
from tests.faults.proxy import FaultPlan, FaultProxy


@pytest.fixture
def proxy(moto_server: str) -> Iterator[FaultProxy]:
    """A fault proxy in front of the moto server, forwarding everything until a test sets its plan."""
    with FaultProxy(moto_server, FaultPlan()) as running:
        yield running
