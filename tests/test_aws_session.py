"""Sessions made by auditor.aws read botocore's data files with orjson, to the same content; botocore's own loader
when turned off or when botocore is built differently."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import botocore
import botocore.loaders
import pytest
from botocore.loaders import JSONFileLoader, Loader, create_loader
from moto import mock_aws

from auditor.aws import (
    PLAIN_LOADER_ENV,
    Aws,
    AwsSettings,
    ModelFileLoader,
    ModelLoader,
    _botocore_as_expected,
    fast_models_supported,
    new_session,
)

DATA = Path(botocore.__file__).parent / "data"


@pytest.mark.parametrize("name", ["endpoints", "sdk-default-configuration", "ec2/2016-11-15/service-2",
                                  "elbv2/2015-12-01/paginators-1", "ecs/2014-11-13/endpoint-rule-set-1"])
def test_the_loader_reads_what_botocores_reads(name: str) -> None:
    expected = JSONFileLoader().load_file(str(DATA / name))
    assert expected is not None
    assert ModelFileLoader().load_file(str(DATA / name)) == expected


def test_plain_and_gzipped_files_and_a_missing_one(tmp_path: Path) -> None:
    import gzip

    (tmp_path / "plain.json").write_bytes(b'{"a": [1, 2]}')
    (tmp_path / "packed.json.gz").write_bytes(gzip.compress(b'{"b": {"c": null}}'))
    (tmp_path / "folder.json").mkdir()
    loader = ModelFileLoader()
    assert loader.load_file(str(tmp_path / "plain")) == {"a": [1, 2]}
    assert loader.load_file(str(tmp_path / "packed")) == {"b": {"c": None}}
    assert loader.load_file(str(tmp_path / "absent")) is None
    assert loader.load_file(str(tmp_path / "folder")) is None


def test_a_session_uses_it_and_keeps_the_profiles_data_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config"
    config.write_text(f"[profile models]\nregion = eu-west-1\ndata_path = {tmp_path / 'models'}\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    for name in ("AWS_DATA_PATH", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    session = new_session(profile_name="models")
    loader = session._session.get_component("data_loader")
    assert isinstance(loader, ModelLoader) and isinstance(loader.file_loader, ModelFileLoader)
    assert loader.search_paths[0] == str(tmp_path / "models")
    assert loader.search_paths[1:] == [*create_loader().search_paths, str(Path(boto3.__file__).parent / "data")]
    assert session.region_name == "eu-west-1"


@pytest.mark.parametrize("kind", ["service-2", "paginators-1", "endpoint-rule-set-1", "waiters-2", "examples-1",
                                  "resources-1", "no-such-kind"])
def test_the_services_listed_for_each_kind_are_botocores(kind: str) -> None:
    assert ModelLoader(None).list_available_services(kind) == create_loader().list_available_services(kind)


def test_a_service_found_only_on_an_extra_data_path_is_listed(tmp_path: Path) -> None:
    version = tmp_path / "extra" / "made-up-service" / "2020-01-01"
    version.mkdir(parents=True)
    (version / "service-2.json").write_text("{}")
    (tmp_path / "extra" / "stray-file.json").write_text("{}")
    (tmp_path / "extra" / "empty-service").mkdir()
    loader = ModelLoader(f"{tmp_path / 'extra'}{os.pathsep}{tmp_path / 'absent'}")
    assert "made-up-service" in loader.list_available_services("service-2")
    assert "made-up-service" not in loader.list_available_services("paginators-1")
    assert "empty-service" not in loader.list_available_services("service-2")
    assert "ec2" in loader.list_available_services("service-2")


SERVICES = ("s3", "dynamodb", "sts", "ec2", "elbv2", "ecs", "ecr", "logs", "cloudwatch", "iam", "kms", "acm", "sns",
            "resourcegroupstaggingapi")


def _clients_work(aws: Aws) -> None:
    for service in SERVICES:
        client = aws.client(service)
        assert client.meta.service_model.operation_names, service
    assert aws.client("ec2").can_paginate("describe_security_groups")  # paginators-1 read too


def test_clients_of_every_service_an_audit_uses_are_made_from_it() -> None:
    aws = Aws(AwsSettings(region="us-east-1"))
    assert isinstance(aws._session._session.get_component("data_loader"), ModelLoader)
    _clients_work(aws)


@pytest.fixture
def recheck() -> Iterator[None]:
    """The botocore check is made once per process: again in the test, and again after it."""
    _botocore_as_expected.cache_clear()
    yield
    _botocore_as_expected.cache_clear()


def test_with_the_fast_path_turned_off_botocores_own_loader_reads_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    with mock_aws():
        fast = Aws(AwsSettings(region="us-east-1"))
        fast.client("ec2").create_vpc(CidrBlock="10.1.0.0/16")
        monkeypatch.setenv(PLAIN_LOADER_ENV, "botocore")
        assert not fast_models_supported()
        plain = Aws(AwsSettings(region="us-east-1"))
        loader = plain._session._session.get_component("data_loader")
        assert type(loader) is Loader and type(loader.file_loader) is JSONFileLoader
        _clients_work(plain)
        vpcs = [client.describe_vpcs()["Vpcs"] for client in (fast.client("ec2"), plain.client("ec2"))]
        assert vpcs[0] == vpcs[1] and "10.1.0.0/16" in str(vpcs[0])


def _new_suffix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(botocore.loaders._JSON_OPEN_METHODS, ".json.zst", open)  # type: ignore[attr-defined]


def _no_gzip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(botocore.loaders._JSON_OPEN_METHODS, ".json.gz")  # type: ignore[attr-defined]


def _table_renamed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(botocore.loaders, "_JSON_OPEN_METHODS")


def _constructor_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    def init(self: Loader, search_paths: list[str] | None = None) -> None:
        raise AssertionError("not to be called")

    monkeypatch.setattr(Loader, "__init__", init)


def _search_paths_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(Loader, "search_paths")


@pytest.mark.parametrize("change", [_new_suffix, _no_gzip, _table_renamed, _constructor_changed, _search_paths_gone])
def test_a_botocore_built_differently_keeps_its_own_loader(change: Callable[[pytest.MonkeyPatch], None],
                                                            monkeypatch: pytest.MonkeyPatch, recheck: None) -> None:
    assert fast_models_supported()
    _botocore_as_expected.cache_clear()
    change(monkeypatch)
    assert not fast_models_supported()
    if change is _new_suffix:  # a botocore that still works here: its clients are made its own way
        session = new_session(region_name="us-east-1")
        assert type(session._session.get_component("data_loader")) is Loader
        _clients_work(Aws(AwsSettings(region="us-east-1"), session=session))


def test_aws_region_comes_before_aws_default_region_and_the_profile(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config"
    config.write_text("[default]\nregion = us-west-2\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    aws = Aws()
    assert aws.default_region == "ap-south-1"
    assert aws.client("s3").meta.region_name == "ap-south-1"
    assert Aws(AwsSettings(region="eu-central-1")).default_region == "eu-central-1"  # --region wins
    monkeypatch.delenv("AWS_REGION")
    assert Aws().default_region == "eu-west-1"
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert Aws().default_region == "us-west-2"


def test_a_head_answer_is_not_read_as_a_truncated_body() -> None:
    """HeadObject's Content-Length is the object's size, not the length of a body it never has."""
    from moto import mock_aws

    from auditor.aws import Aws, AwsSettings

    with mock_aws():
        aws = Aws(AwsSettings(region="eu-west-1", max_attempts=1))
        s3 = aws.client("s3", "eu-west-1")
        s3.create_bucket(Bucket="head-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        s3.put_object(Bucket="head-bucket", Key="k", Body=b"x" * 5943)
        assert s3.head_object(Bucket="head-bucket", Key="k")["ContentLength"] == 5943


def test_a_body_botocore_parses_itself_is_retried_when_garbled() -> None:
    """GetBucketLocation's body is parsed by a botocore handler, not the protocol parser: an HTML 5xx
    page there raises ElementTree's ParseError, which is as transient as the parser's own error."""
    import xml.etree.ElementTree

    from auditor.aws import is_transient

    try:
        xml.etree.ElementTree.fromstring(b"<!doctype html><html><body>502 Bad Gateway")
    except xml.etree.ElementTree.ParseError as exc:
        assert is_transient(exc)
    else:
        raise AssertionError("the HTML page parsed")
