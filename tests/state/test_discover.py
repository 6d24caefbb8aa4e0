"""Reading `terraform { backend "s3" { ... } }` blocks into state requests."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.errors import ConfigError
from auditor.state.discover import requests_from_backend_dir
from auditor.state.model import StateRequest

FULL = """
terraform {
  required_version = ">= 1.10"
  backend "s3" {
    bucket               = "acme-tfstate"
    key                  = "platform/prod/terraform.tfstate"
    region               = "eu-west-1"
    dynamodb_table       = "acme-tf-locks"
    use_lockfile         = true
    encrypt              = true
    workspace_key_prefix = "workspaces"
    profile              = "platform"  # reported only
    assume_role = {
      role_arn = "arn:aws:iam::123456789012:role/tf-state"
    }
  }
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.0" }
  }
}
"""


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def backend(body: str) -> str:
    return f'terraform {{\n  backend "s3" {{\n{body}\n  }}\n}}\n'


def test_full_backend_block(tmp_path: Path) -> None:
    vpc = 'resource "aws_vpc" "main" {\n  cidr_block = "10.0.0.0/16"\n}\n'
    folder = write(tmp_path, {"backend.tf": FULL, "main.tf": vpc})
    assert requests_from_backend_dir(folder) == [
        StateRequest(uri="s3://acme-tfstate/platform/prod/terraform.tfstate",
                     workspace_key_prefix="workspaces", lock_table="acme-tf-locks", region="eu-west-1",
                     role_arn="arn:aws:iam::123456789012:role/tf-state", use_lockfile=True,
                     profile="platform")
    ]


def test_minimal_block_uses_reader_defaults(tmp_path: Path) -> None:
    folder = write(tmp_path, {"main.tf": backend('bucket = "b-1"\nkey = "terraform.tfstate"')})
    assert requests_from_backend_dir(str(folder)) == [StateRequest(uri="s3://b-1/terraform.tfstate")]


@pytest.mark.parametrize(
    ("snippet", "role_arn"),
    [
        ('role_arn = "arn:aws:iam::1:role/legacy"', "arn:aws:iam::1:role/legacy"),
        ('assume_role {\n role_arn = "arn:aws:iam::1:role/block"\n}', "arn:aws:iam::1:role/block"),
    ],
)
def test_role_arn_forms(tmp_path: Path, snippet: str, role_arn: str) -> None:
    folder = write(tmp_path, {"main.tf": backend(f'bucket = "b-1"\nkey = "k"\n{snippet}')})
    assert requests_from_backend_dir(folder)[0].role_arn == role_arn


@pytest.mark.parametrize(("value", "expected"), [("false", False), ('"true"', True), ("true", True)])
def test_use_lockfile_values(tmp_path: Path, value: str, expected: bool) -> None:
    folder = write(tmp_path, {"main.tf": backend(f'bucket = "b-1"\nkey = "k"\nuse_lockfile = {value}')})
    assert requests_from_backend_dir(folder)[0].use_lockfile is expected


def test_string_escapes_are_undone(tmp_path: Path) -> None:
    body = 'bucket = "b-1"\n' + r'key = "a\\b/$${literal}/%%{x}/\u00e9"'
    folder = write(tmp_path, {"main.tf": backend(body)})
    assert requests_from_backend_dir(folder)[0].uri == "s3://b-1/a\\b/${literal}/%{x}/\u00e9"


@pytest.mark.parametrize(
    "value",
    ["var.bucket", '"${var.bucket}"', '"acme-${terraform.workspace}"', "local.bucket", 'lower("ACME")',
     '"%{ if true }acme%{ endif }"'],
)
def test_variables_are_rejected_like_terraform_does(tmp_path: Path, value: str) -> None:
    folder = write(tmp_path, {"main.tf": backend(f'bucket = {value}\nkey = "k"')})
    with pytest.raises(ConfigError) as caught:
        requests_from_backend_dir(folder)
    text = str(caught.value)
    assert text.startswith(f"{folder / 'main.tf'}: backend \"s3\" `bucket` is an expression")
    assert "backend blocks cannot use variables" in text and "\n" not in text


def test_variables_in_nested_values_are_rejected(tmp_path: Path) -> None:
    body = 'bucket = "b-1"\nkey = "k"\nassume_role = { role_arn = var.r }'
    folder = write(tmp_path, {"main.tf": backend(body)})
    with pytest.raises(ConfigError, match=r"`assume_role.role_arn` is an expression"):
        requests_from_backend_dir(folder)


def test_heredoc_is_rejected(tmp_path: Path) -> None:
    folder = write(tmp_path, {"main.tf": backend('bucket = <<EOT\nb-1\nEOT\nkey = "k"')})
    with pytest.raises(ConfigError, match="heredoc"):
        requests_from_backend_dir(folder)


def test_malformed_hcl_names_the_file(tmp_path: Path) -> None:
    broken = 'resource "aws_vpc" "x" {\n  cidr_block = \n}\n'
    folder = write(tmp_path, {"backend.tf": FULL, "broken.tf": broken})
    with pytest.raises(ConfigError) as caught:
        requests_from_backend_dir(folder)
    text = str(caught.value)
    assert text.startswith(f"{folder / 'broken.tf'}: malformed HCL: ") and "\n" not in text


def test_no_backend_block(tmp_path: Path) -> None:
    folder = write(tmp_path, {"main.tf": 'terraform {\n  required_version = ">= 1.5"\n}\n'})
    with pytest.raises(ConfigError, match=r"no `terraform \{ backend \"s3\"") as caught:
        requests_from_backend_dir(folder)
    assert "--state s3://BUCKET/KEY" in str(caught.value)


def test_other_backend_is_named(tmp_path: Path) -> None:
    folder = write(tmp_path, {"main.tf": 'terraform {\n  backend "gcs" {\n    bucket = "x"\n  }\n}\n'})
    with pytest.raises(ConfigError, match=r'backend "gcs" found; only the s3 backend is supported'):
        requests_from_backend_dir(folder)


def test_cloud_block_is_named(tmp_path: Path) -> None:
    folder = write(tmp_path, {"main.tf": 'terraform {\n  cloud {\n    organization = "acme"\n  }\n}\n'})
    with pytest.raises(ConfigError, match=r"backend \"cloud \(HCP Terraform\)\" found"):
        requests_from_backend_dir(folder)


def test_partial_configuration(tmp_path: Path) -> None:
    folder = write(tmp_path, {"main.tf": backend('region = "eu-west-1"')})
    with pytest.raises(ConfigError, match=r"has no bucket and key \(partial configuration\?\)"):
        requests_from_backend_dir(folder)


def test_bad_key_and_types(tmp_path: Path) -> None:
    cases = {
        'bucket = "b"\nkey = "/k"': "must not start or end with '/'",
        'bucket = 5\nkey = "k"': "`bucket` must be a string",
        'bucket = "b"\nkey = "k"\nuse_lockfile = "yes"': "`use_lockfile` must be true or false",
    }
    for number, (body, message) in enumerate(cases.items()):
        folder = write(tmp_path / str(number), {"main.tf": backend(body)})
        with pytest.raises(ConfigError, match=message):
            requests_from_backend_dir(folder)


def test_duplicate_backends(tmp_path: Path) -> None:
    folder = write(tmp_path, {"a.tf": backend('bucket = "b"\nkey = "k"'),
                              "b.tf": backend('bucket = "c"\nkey = "k"')})
    with pytest.raises(ConfigError, match=r"duplicate backend configuration \(a.tf, b.tf\)"):
        requests_from_backend_dir(folder)


def test_override_file_replaces_the_backend(tmp_path: Path) -> None:
    folder = write(tmp_path, {"main.tf": backend('bucket = "b"\nkey = "k"\ndynamodb_table = "t"'),
                              "main_override.tf": backend('bucket = "other"\nkey = "k2"')})
    assert requests_from_backend_dir(folder) == [StateRequest(uri="s3://other/k2")]


def test_not_a_directory_or_no_tf_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a directory"):
        requests_from_backend_dir(tmp_path / "missing")
    with pytest.raises(ConfigError, match=r"no \*\.tf files"):
        requests_from_backend_dir(tmp_path)
