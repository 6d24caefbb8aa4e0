"""Test harness: fake credentials everywhere, and no connection may leave the loopback range."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
FIXTURES = SHARED / "fixtures"

_FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
_DROP_ENV = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")

for _k in _DROP_ENV:
    os.environ.pop(_k, None)
os.environ.update(_FAKE_ENV)

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _check(address: object) -> None:
    if isinstance(address, tuple) and address:
        host = str(address[0])
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            ip = ipaddress.ip_address(socket.gethostbyname(host))
        if not ip.is_loopback:
            raise ConnectionRefusedError(f"test tried to reach {host}: only loopback is allowed in tests")


def _guarded_connect(self: socket.socket, address: object) -> None:
    _check(address)
    _real_connect(self, address)  # type: ignore[arg-type]


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    _check(address)
    return _real_connect_ex(self, address)  # type: ignore[arg-type]


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _fake_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts with fake credentials and no endpoint override."""
    for key in _DROP_ENV:
        monkeypatch.delenv(key, raising=False)
    for key, value in _FAKE_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture(autouse=True, scope="session")
def _private_session_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Session- and module-scoped fixtures (the conformance harness copies the environment for its
    subprocesses before any test runs) never see the user's history or scan cache either."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("session-data-home")))
        patch.setenv("AUDITOR_CACHE_DIR", str(tmp_path_factory.mktemp("session-scan-cache")))
        yield


@pytest.fixture(autouse=True)
def _private_history(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """`audit run` records into a fresh history per test ($XDG_DATA_HOME/auditor/history.db), never the user's."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data-home")))


@pytest.fixture(autouse=True)
def _private_scan_cache(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """`audit scan` caches in a fresh folder per test: never the user's cache, never another test's result."""
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path_factory.mktemp("scan-cache")))


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A moto server on 127.0.0.1 (free port) for end-to-end tests; yields its endpoint URL."""
    from auditor.demo.motoserver import MotoServer

    with MotoServer() as server:
        yield server.endpoint


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    if not FIXTURES.is_dir():
        pytest.skip(f"shared fixtures not found at {FIXTURES}")
    return FIXTURES


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The leak scanner (tests/leakscan.py) over every file this session's tests wrote."""
    from tests.leakscan import leaks

    factory = getattr(session.config, "_tmp_path_factory", None)
    root = factory.getbasetemp() if factory is not None else None
    if root is None or not root.is_dir():
        return
    found = list(leaks(root))
    if found:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        for path, token in found:
            line = f"LEAK: planted secret {token.decode()}... in {path}"
            reporter.write_line(line) if reporter else print(line)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
