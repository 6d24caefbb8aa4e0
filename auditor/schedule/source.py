"""Where `--config` is read from: a local file, an SSM parameter (`ssm:/NAME`, SecureString decrypted)
or an S3 object (`s3://BUCKET/KEY`), so a stateless scheduled container needs no file in its image.

The text is bounded (MAX_CONFIG_BYTES), every failure is one ConfigError line naming the source,
never the content: the config may carry webhook environment names and role ARNs, and is never logged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.aws import AWS_ERRORS, Aws, AwsSettings, describe_error, error_code, is_access_denied
from auditor.config import parse_toml, read_toml
from auditor.errors import ConfigError

MAX_CONFIG_BYTES = 64 * 1024
"""Larger than any SSM parameter (8 KiB, advanced tier) and any sane audit.toml."""

_MISSING = frozenset({"ParameterNotFound", "ParameterVersionNotFound", "NoSuchKey", "NoSuchBucket", "404"})


@dataclass(frozen=True, slots=True)
class ConfigSource:
    """A parsed `--config` value: `kind` is "file", "ssm" or "s3"."""

    kind: str
    location: str  # the path, the parameter name, or "bucket/key"

    @property
    def remote(self) -> bool:
        return self.kind != "file"

    def __str__(self) -> str:
        return {"file": "{}", "ssm": "ssm:{}", "s3": "s3://{}"}[self.kind].format(self.location)


def parse_source(spec: str) -> ConfigSource:
    """`ssm:/NAME`, `s3://BUCKET/KEY` or a file path."""
    if spec.startswith("ssm:"):
        name = spec[len("ssm:"):]
        if not name.startswith("/") or len(name) < 2 or any(c.isspace() for c in name):
            raise ConfigError(f"config {spec}: an SSM parameter is named ssm:/PATH, e.g. ssm:/auditor/config")
        return ConfigSource("ssm", name)
    if spec.startswith("s3://"):
        bucket, _, key = spec[len("s3://"):].partition("/")
        if not bucket or not key or key.endswith("/"):
            raise ConfigError(f"config {spec}: an S3 config is s3://BUCKET/KEY of one object")
        return ConfigSource("s3", f"{bucket}/{key}")
    return ConfigSource("file", spec)


def _default_aws() -> Aws:
    return Aws(AwsSettings())  # the task's own credentials and AWS_REGION


def read_config(spec: str, aws: Callable[[], Aws] = _default_aws) -> tuple[Mapping[str, Any], str, Path]:
    """The TOML document named by `spec`, the name errors use for it, and the folder its relative
    paths are resolved against (the file's folder; the working directory for a remote config)."""
    source = parse_source(spec)
    if not source.remote:
        path = Path(source.location)
        return read_toml(path), str(path), path.parent
    where = str(source)
    try:
        raw = _fetch(source, aws())
    except AWS_ERRORS as exc:
        raise _fetch_error(where, source, exc) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"config {where}: larger than {MAX_CONFIG_BYTES // 1024} KiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"config {where}: not UTF-8 text") from None
    return parse_toml(text, where), where, Path.cwd()


def _fetch(source: ConfigSource, aws: Aws) -> bytes:
    if source.kind == "ssm":
        answer = aws.client("ssm").get_parameter(Name=source.location, WithDecryption=True)
        return str(answer["Parameter"]["Value"]).encode("utf-8")
    bucket, _, key = source.location.partition("/")
    answer = aws.client("s3").get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{MAX_CONFIG_BYTES}")
    with answer["Body"] as body:
        return bytes(body.read(MAX_CONFIG_BYTES + 1))


def _fetch_error(where: str, source: ConfigSource, exc: Exception) -> ConfigError:
    action = "ssm:GetParameter" if source.kind == "ssm" else "s3:GetObject"
    if error_code(exc) in _MISSING:
        what = "no such SSM parameter" if source.kind == "ssm" else "no such object"
        return ConfigError(f"config {where}: {what}", "check the name and the region (AWS_REGION)")
    if is_access_denied(exc) or _http_status(exc) == 403:
        return ConfigError(f"config {where}: access denied ({error_code(exc) or 'HTTP 403'})",
                           f"the task role needs {action} on it (and kms:Decrypt for a customer-managed key)")
    return ConfigError(f"config {where}: cannot read it: {describe_error(exc)}")


def _http_status(exc: Exception) -> int | None:
    response = getattr(exc, "response", None) or {}
    return response.get("ResponseMetadata", {}).get("HTTPStatusCode")
