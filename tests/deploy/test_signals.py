"""SIGINT/SIGTERM during a deploy: the interruption reaches the deployer wherever the main thread is."""

from __future__ import annotations

import signal
from typing import Any

import pytest
import urllib3

from auditor.aws import Aws, AwsSettings
from auditor.deploy.model import DeployError
from auditor.deploy.signals import Interrupted, catch_signals, failure_reason


def test_a_signal_during_a_request_is_not_taken_for_a_failed_request(moto_server: str,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The handler's exception raised inside urllib3: botocore wraps any Exception there into a retried
    HTTPClientError, so an Exception subclass was swallowed (the deploy went on, later signals ignored)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    client = Aws(AwsSettings(region="us-east-1", max_attempts=3)).client("sts")
    original = urllib3.connectionpool.HTTPConnectionPool.urlopen
    sent: list[str] = []

    def signalled(self: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append("request")
        signal.raise_signal(signal.SIGTERM)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(urllib3.connectionpool.HTTPConnectionPool, "urlopen", signalled)
    with catch_signals(True) as stopping, pytest.raises(Interrupted, match="interrupted by SIGTERM"):
        client.get_caller_identity()
    assert sent == ["request"]  # not retried
    assert stopping.is_set()


def test_the_reason_of_each_kind_of_failure() -> None:
    assert failure_reason(Interrupted("interrupted by SIGTERM")) == "interrupted by SIGTERM"
    assert failure_reason(KeyboardInterrupt()) == "interrupted (SIGINT)"
    assert failure_reason(DeployError("green never healthy")) == "green never healthy"
    assert failure_reason(ValueError("bad")) == "ValueError: bad"
