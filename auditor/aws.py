"""The only place that creates boto3 sessions and clients.

Honours the standard SDK settings (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL and the
per-service AWS_ENDPOINT_URL_<SERVICE>, the credential chain), adds optional assume-role,
adaptive retries, and counts every API request sent so the audit can report it.
"""

from __future__ import annotations

import gzip
import inspect
import os
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
import botocore.exceptions
import botocore.loaders
import botocore.session
import orjson
from botocore.config import Config
from botocore.loaders import JSONFileLoader, Loader

from auditor.errors import AwsAccessError

DEFAULT_MAX_ATTEMPTS = 5

_ACCESS_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedAccess",
        "AuthorizationError",
        "AuthFailure",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "SignatureDoesNotMatch",
        "OptInRequired",
    }
)
_THROTTLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
        "SlowDown",
        "ProvisionedThroughputExceededException",
    }
)


@dataclass(frozen=True, slots=True)
class AwsSettings:
    """How to reach AWS; None means 'let the SDK decide' (env, profile, config files)."""

    profile: str | None = None
    region: str | None = None
    role_arn: str | None = None
    external_id: str | None = None
    max_attempts: int = DEFAULT_MAX_ATTEMPTS


class CallCounter:
    """Thread-safe count of API requests actually sent, by `service.Operation`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def __call__(self, event_name: str, **_: Any) -> None:
        # event_name: "before-send.<service>.<Operation>"
        _event, service_name, operation = event_name.split(".", 2)
        with self._lock:
            self._counts[f"{service_name}.{operation}"] += 1

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._counts.items()))


_DATA_FILES: tuple[tuple[str, Callable[[bytes], bytes] | None], ...] = ((".json", None), (".json.gz", gzip.decompress))
"""botocore's data-file suffixes, in its lookup order, and how each is unpacked."""


class ModelFileLoader(JSONFileLoader):
    """botocore's reader of its data files (service models, endpoint rules), decoding with orjson.

    Every new client reads its service's models; botocore's own reader decodes them into
    OrderedDicts, half the cost of making a client (0.1 s for the 13 an audit uses). Plain dicts
    keep the same order. Files are looked up exactly as botocore does: `.json`, then `.json.gz`.
    """

    def load_file(self, file_path: str) -> Any:
        for suffix, unpack in _DATA_FILES:
            try:
                with open(file_path + suffix, "rb") as handle:
                    data = handle.read()
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                continue
            return orjson.loads(unpack(data) if unpack else data)
        return None


class ModelLoader(Loader):
    """botocore's Loader of its data files, reading them with ModelFileLoader, that finds which
    services have which kinds of file (service-2, paginators-1, endpoint-rule-set-1...) in one pass.

    botocore lists the services again for each kind, with four file-system calls per service
    folder each time: 0.09 s of an audit's CPU. The answers are the same (a test compares them).
    """

    def __init__(self, data_path: str | None) -> None:
        """`data_path`: botocore's `data_path` setting (AWS_DATA_PATH), searched before the defaults."""
        extra = [os.path.expanduser(os.path.expandvars(p)) for p in data_path.split(os.pathsep)] if data_path else None
        super().__init__(extra_search_paths=extra, file_loader=ModelFileLoader())
        self._kinds_lock = threading.Lock()
        self._kinds: dict[str, set[str]] | None = None

    def list_available_services(self, type_name: str) -> list[str]:
        with self._kinds_lock:
            if self._kinds is None:
                self._kinds = self._file_kinds()
            kinds = self._kinds
        return sorted(service for service, held in kinds.items() if type_name in held)

    def _file_kinds(self) -> dict[str, set[str]]:
        """Service folder name -> the kinds of data file any of its API versions holds, on every search path."""
        kinds: dict[str, set[str]] = {}
        for root in self.search_paths:
            if not os.path.isdir(root):
                continue
            for service in _folders(root):
                held = kinds.setdefault(service.name, set())
                for version in _folders(service.path):
                    with os.scandir(version.path) as files:
                        held.update(_kind(entry.name) for entry in files if entry.is_file())
        return kinds


def _folders(path: str) -> list[os.DirEntry[str]]:
    with os.scandir(path) as entries:
        return [entry for entry in entries if entry.is_dir()]


def _kind(file_name: str) -> str:
    """`paginators-1.json.gz` -> `paginators-1` (names of other files are no kind any lookup asks for)."""
    for suffix, _ in _DATA_FILES:
        if file_name.endswith(suffix):
            return file_name[:-len(suffix)]
    return file_name


PLAIN_LOADER_ENV = "AUDITOR_BOTOCORE_LOADER"
"""Set to `botocore` to read botocore's data files with botocore's own loader (the public path)."""


def fast_models_supported() -> bool:
    """Whether ModelLoader may stand in for botocore's loader: not turned off by `AUDITOR_BOTOCORE_LOADER`,
    and this botocore is built the way ModelLoader and ModelFileLoader assume (see `_botocore_as_expected`)."""
    return os.environ.get(PLAIN_LOADER_ENV) != "botocore" and _botocore_as_expected()


@cache
def _botocore_as_expected() -> bool:
    """botocore's internals that the two loaders build on: its data-file suffixes and their order (a new
    format would be invisible to ModelFileLoader), the Loader's constructor, `search_paths` and
    `list_available_services`, JSONFileLoader's `load_file`, and the session's lazy component registry.
    A botocore that changed any of them keeps its own loader: slower, never wrong."""
    suffixes = tuple(getattr(botocore.loaders, "_JSON_OPEN_METHODS", None) or ())
    try:
        parameters = inspect.signature(Loader.__init__).parameters
    except (TypeError, ValueError):
        return False
    return (suffixes == tuple(suffix for suffix, _ in _DATA_FILES)
            and {"extra_search_paths", "file_loader"} <= parameters.keys()
            and isinstance(inspect.getattr_static(Loader, "search_paths", None), property)
            and callable(getattr(Loader, "list_available_services", None))
            and callable(getattr(JSONFileLoader, "load_file", None))
            and callable(getattr(botocore.session.Session, "lazy_register_component", None)))


def new_session(**options: Any) -> boto3.Session:
    """A boto3 Session (profile, region or keys as boto3 takes them) that reads botocore's models with
    ModelLoader when `fast_models_supported()`, else with botocore's own loader. The loader is made when
    boto3 first asks for it, after the profile (and so the profile's `data_path`) is set.

    Without a region, `AWS_REGION` comes before `AWS_DEFAULT_REGION` and the profile's, as in the
    AWS CLI and the other SDKs (botocore itself reads only `AWS_DEFAULT_REGION`).
    """
    if options.get("region_name") is None and os.environ.get("AWS_REGION"):
        options["region_name"] = os.environ["AWS_REGION"]
    core = botocore.session.get_session()
    if fast_models_supported():
        core.lazy_register_component("data_loader", lambda: ModelLoader(core.get_config_variable("data_path")))
    return boto3.Session(botocore_session=core, **options)


class Aws:
    """A boto3 session plus a client cache; the test seam for everything that calls AWS."""

    def __init__(self, settings: AwsSettings | None = None, *, session: boto3.Session | None = None,
                 counter: CallCounter | None = None) -> None:
        self.settings = settings or AwsSettings()
        self.counter = counter or CallCounter()
        self.caller_arn: str | None = None  # who the audit ran as, once account_id() has asked
        self._session = session or new_session(profile_name=self.settings.profile, region_name=self.settings.region)
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._lock = threading.Lock()
        self._config = Config(
            retries={"mode": "adaptive", "max_attempts": self.settings.max_attempts},
            connect_timeout=10,
            read_timeout=60,
            max_pool_connections=32,
        )

    @property
    def default_region(self) -> str | None:
        return self.settings.region or self._session.region_name

    def client(self, service: str, region: str | None = None) -> Any:
        """A cached, call-counted client for `service` in `region` (default region if None)."""
        region = region or self.default_region
        key = (service, region)
        client = self._clients.get(key)  # a made client is handed out without waiting on one being made
        if client is not None:
            return client
        with self._lock:  # a boto3 session makes one client at a time
            client = self._clients.get(key)
            if client is None:
                client = self._session.client(service, region_name=region, config=self._config)  # type: ignore[call-overload]
                client.meta.events.register("before-send", self.counter)
                self._clients[key] = client
            return client

    def assume(self, role_arn: str, session_name: str = "auditor", external_id: str | None = None) -> Aws:
        """A new Aws whose credentials come from sts:AssumeRole; shares the call counter."""
        kwargs: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": session_name}
        if external_id:
            kwargs["ExternalId"] = external_id
        try:
            creds = self.client("sts").assume_role(**kwargs)["Credentials"]
        except botocore.exceptions.BotoCoreError as exc:
            raise AwsAccessError(f"cannot assume role {role_arn}: {exc}") from None
        except botocore.exceptions.ClientError as exc:
            raise AwsAccessError(f"cannot assume role {role_arn}: {describe_error(exc)}") from None
        session = new_session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=self.default_region,
        )
        return Aws(self.settings, session=session, counter=self.counter)

    def account_id(self) -> str:
        """The caller's account id (sts:GetCallerIdentity); the caller's ARN is kept in `caller_arn`."""
        try:
            identity = self.client("sts").get_caller_identity()
            self.caller_arn = str(identity.get("Arn") or "") or None
            return str(identity["Account"])
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise AwsAccessError(f"cannot identify the AWS caller: {describe_error(exc)}",
                                 "check credentials (AWS_PROFILE / AWS_ACCESS_KEY_ID) and region") from None


def error_code(exc: BaseException) -> str:
    """The AWS error code of a ClientError ('' for anything else)."""
    if isinstance(exc, botocore.exceptions.ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def is_access_denied(exc: BaseException) -> bool:
    return error_code(exc) in _ACCESS_CODES


def is_throttled(exc: BaseException) -> bool:
    return error_code(exc) in _THROTTLE_CODES


def describe_error(exc: BaseException) -> str:
    """A one-line, user-readable reason for a failed AWS call."""
    if isinstance(exc, botocore.exceptions.ClientError):
        err: Mapping[str, Any] = exc.response.get("Error") or {}
        code = str(err.get("Code", "Error"))
        op = getattr(exc, "operation_name", "") or ""
        message = str(err.get("Message", "")).strip().splitlines()[0] if err.get("Message") else ""
        if code.isdigit():
            message = f"HTTP {code} from the endpoint (call unsupported or server error)"
        elif is_throttled(exc):
            message = (message + "; " if message else "") + "still throttled after retries"
        where = f" on {op}" if op else ""
        return f"{code}{where}: {message}" if message else f"{code}{where}"
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        return "no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
    if isinstance(exc, botocore.exceptions.EndpointConnectionError):
        return f"cannot reach the AWS endpoint: {exc}"
    if isinstance(exc, NotImplementedError):  # an emulator (moto) that lacks the call, not a stub of ours
        return f"call not supported by this endpoint: {exc}"
    return f"{type(exc).__name__}: {exc}"
