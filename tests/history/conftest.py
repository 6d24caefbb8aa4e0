"""History stores for the tests: SQLite in a temp folder, a real PostgreSQL server, S3 on moto."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor.history import History, open_history
from tests.history.pg import create_database, throwaway_postgres


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL server on a free loopback port; yields the URL of its `postgres` database.

    Missing server binaries skip the PostgreSQL tests on a developer machine but fail them in CI (CI=true)."""
    try:
        with throwaway_postgres() as url:
            yield url
    except FileNotFoundError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(str(exc))
        pytest.skip(str(exc))


_db_numbers = itertools.count(1)


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A fresh database on the test server."""
    return create_database(postgres_server, f"history_{os.getpid()}_{next(_db_numbers)}")


@pytest.fixture
def s3_url() -> Iterator[str]:
    from moto import mock_aws

    with mock_aws():
        import boto3

        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="audit-history")
        yield "s3://audit-history/team/app"


@pytest.fixture(params=["sqlite", "postgresql", "s3"])
def history_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'history.db'}"
    fixture = "postgres_url" if request.param == "postgresql" else "s3_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def history(history_url: str) -> Iterator[History]:
    h = open_history(history_url)
    yield h
    h.close()
