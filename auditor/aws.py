"""The only place that creates boto3 sessions and clients.

Honours the standard SDK settings (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL and the
per-service AWS_ENDPOINT_URL_<SERVICE>, the credential chain), adds optional assume-role,
one retry policy for every call (RetryPolicy), and counts every API request sent so the audit
can report it.
"""

from __future__ import annotations

import functools
import gzip
import inspect
import os
import random
import re
import threading
import time
import xml.etree.ElementTree
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar

import boto3
import botocore.exceptions
import botocore.loaders
import botocore.parsers
import botocore.session
import orjson
import urllib3.exceptions
from botocore.config import Config
from botocore.loaders import JSONFileLoader, Loader

from auditor.errors import AwsAccessError, ConfigError

T = TypeVar("T")

DEFAULT_MAX_ATTEMPTS = 5
RETRY_BASE_SECONDS = 0.2
"""The first retry waits up to this long; each further one up to twice as long as the one before."""
RETRY_CAP_SECONDS = 5.0
"""No single retry waits longer than this."""
RETRY_BUDGET_SECONDS = 120.0
"""The most one audit spends waiting between retries, over all its calls; then calls fail at once."""

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
_TRANSIENT_CODES = frozenset({"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
                              "InternalError", "InternalFailure", "ServiceUnavailable", "ServiceUnavailableException"})
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


AWS_ERRORS: tuple[type[Exception], ...] = (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError,
                                           urllib3.exceptions.HTTPError)
"""What a failed AWS call raises (urllib3's errors: a body cut short while it is streamed)."""


@dataclass(frozen=True, slots=True)
class AwsSettings:
    """How to reach AWS; None means 'let the SDK decide' (env, profile, config files)."""

    profile: str | None = None
    region: str | None = None
    role_arn: str | None = None
    external_id: str | None = None
    max_attempts: int = field(default_factory=lambda: env_max_attempts())
    retry_budget: float = RETRY_BUDGET_SECONDS


def env_max_attempts() -> int:
    """Tries per call: the SDK's `AWS_MAX_ATTEMPTS` when set, else DEFAULT_MAX_ATTEMPTS."""
    raw = os.environ.get("AWS_MAX_ATTEMPTS", "").strip()
    if not raw:
        return DEFAULT_MAX_ATTEMPTS
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"AWS_MAX_ATTEMPTS must be a whole number of tries, at least 1 (got {raw!r})")
    return int(raw)


class RetryPolicy:
    """The one retry policy of every AWS call: state, lock, caller identity, inventory, rules' evidence.

    Retried: throttling, any 5xx (whatever its body: an HTML page from a proxy is made an empty
    error before botocore parses it), connection errors, unparsable and truncated bodies. It wraps
    each client's `_make_api_call` (every operation, page and waiter goes through it; botocore's own
    retries are off, its adaptive rate limiter stays on) and, with `call`, a streamed body read
    again from the start. Waits are full-jitter
    exponential (uniform in [0, min(cap, base * 2^attempt)]), at most `max_attempts` tries per call,
    and all waits of the audit together stay within `budget` seconds; after that a call fails on its
    first error, and what it was reading becomes unknown.
    """

    def __init__(self, max_attempts: int = DEFAULT_MAX_ATTEMPTS, budget: float = RETRY_BUDGET_SECONDS, *,
                 base: float = RETRY_BASE_SECONDS, cap: float = RETRY_CAP_SECONDS,
                 rng: random.Random | None = None) -> None:
        self.max_attempts = max(1, max_attempts)
        self.budget = budget
        self.base = base
        self.cap = cap
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self.waited = 0.0
        self.retries = 0

    def delay(self, attempts: int) -> float | None:
        """Seconds to wait before try `attempts + 1`, or None when this call or the budget is spent."""
        if attempts >= self.max_attempts:
            return None
        with self._lock:
            wait = self._rng.uniform(0, min(self.cap, self.base * 2 ** (attempts - 1)))
            if self.waited + wait > self.budget:
                return None
            self.waited += wait
            self.retries += 1
            return wait

    def call(self, fn: Callable[[], T]) -> T:
        """`fn()` retried under this policy: for what botocore does not retry itself (a streamed body
        cut short while it is read)."""
        attempts = 1
        while True:
            try:
                return fn()
            except Exception as exc:
                wait = self.delay(attempts) if is_transient(exc) else None
                if wait is None:
                    raise
            time.sleep(wait)
            attempts += 1


def is_transient(exc: BaseException) -> bool:
    """Whether a failed call may succeed when tried again."""
    if isinstance(exc, botocore.exceptions.ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        code = error_code(exc)
        return code in _THROTTLE_CODES or code in _TRANSIENT_CODES or status >= 500 or status == 429
    return isinstance(exc, (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError,
                            botocore.parsers.ResponseParserError, TruncatedResponseError,
                            botocore.exceptions.IncompleteReadError, botocore.exceptions.ResponseStreamingError,
                            urllib3.exceptions.ProtocolError, urllib3.exceptions.ReadTimeoutError,
                            # botocore's GetBucketLocation handler parses the raw body itself, so an
                            # HTML error page or a cut body reaches it unparsed (check_body cannot help)
                            xml.etree.ElementTree.ParseError,
                            ConnectionError, TimeoutError))


class TruncatedResponseError(botocore.exceptions.BotoCoreError):
    """A response body shorter than its Content-Length (botocore does not check; a cut JSON body
    would otherwise parse as an empty answer)."""

    fmt = "response to {operation} cut short: {received} of {expected} bytes"


def check_body(response_dict: dict[str, Any], operation_model: Any = None, **_: Any) -> None:
    """botocore's `before-parse` event. A body shorter than its Content-Length raises
    TruncatedResponseError (retried). A 5xx whose body is not the protocol's error document (an HTML
    page from a proxy or load balancer) is read as an empty error: retried like any 5xx, and named
    by its status when retries run out, instead of failing the parser."""
    body = response_dict.get("body")
    if not isinstance(body, bytes):  # a streamed body (GetObject) is checked as it is read
        return
    if (getattr(operation_model, "http", None) or {}).get("method") == "HEAD":
        return  # a HEAD answer has no body; its Content-Length is the object's size
    expected = str((response_dict.get("headers") or {}).get("content-length", ""))
    if expected.isdigit() and len(body) < int(expected):
        raise TruncatedResponseError(operation=getattr(operation_model, "name", "?"), received=len(body),
                                     expected=int(expected))
    if response_dict.get("status_code", 0) < 500:
        return
    head = body.lstrip()[:64].lower()
    if head and (head[:1] not in (b"{", b"<") or head.startswith((b"<!doctype", b"<html"))):
        response_dict["body"] = b""


class _RetryingClient:
    """Mixed into every botocore client class (`creating-client-class`): each API call goes through
    the policy the Aws that made the client set on it."""

    retry_policy: RetryPolicy | None = None

    def _make_api_call(self, operation_name: str, api_params: Any) -> Any:
        make = super()._make_api_call  # type: ignore[misc]
        policy = self.retry_policy
        if policy is None:
            return make(operation_name, api_params)
        return policy.call(lambda: make(operation_name, api_params))


def _add_retrying(**kwargs: Any) -> None:
    """botocore's `creating-client-class` event (kwargs: class_attributes, base_classes)."""
    kwargs["base_classes"].insert(0, _RetryingClient)


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
    core.register("creating-client-class", _add_retrying)
    return boto3.Session(botocore_session=core, **options)


class Aws:
    """A boto3 session plus a client cache; the test seam for everything that calls AWS."""

    def __init__(self, settings: AwsSettings | None = None, *, session: boto3.Session | None = None,
                 counter: CallCounter | None = None, retry: RetryPolicy | None = None) -> None:
        self.settings = settings or AwsSettings()
        self.counter = counter or CallCounter()
        self.retry = retry or RetryPolicy(self.settings.max_attempts, self.settings.retry_budget)
        self.caller_arn: str | None = None  # who the audit ran as, once account_id() has asked
        try:
            self._session = session or new_session(profile_name=self.settings.profile,
                                                   region_name=self.settings.region)
        except botocore.exceptions.ProfileNotFound:
            raise ConfigError(f"AWS profile {self.settings.profile!r} not found",
                              "check ~/.aws/config and ~/.aws/credentials, or AWS_PROFILE") from None
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._lock = threading.Lock()
        self._config = Config(
            retries={"mode": "adaptive", "max_attempts": 1},  # adaptive: its client-side rate limit; retries: ours
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
                client.meta.events.register("before-parse", check_body)
                client.retry_policy = self.retry
                self._clients[key] = client
            return client

    def fork(self) -> Aws:
        """The same credentials, settings and retry budget, with a call counter (and clients) of its own:
        one account's share of a run that audits several at once."""
        return Aws(self.settings, session=self._session, retry=self.retry)

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
        return Aws(self.settings, session=session, counter=self.counter, retry=self.retry)

    def account_id(self) -> str:
        """The caller's account id (sts:GetCallerIdentity); the caller's ARN is kept in `caller_arn`."""
        try:
            identity = self.client("sts").get_caller_identity()
            self.caller_arn = str(identity.get("Arn") or "") or None
            return str(identity["Account"])
        except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError) as exc:
            raise AwsAccessError(f"cannot reach the STS endpoint: {exc}",
                                 "check the network, AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_STS and the region") from None
        except AWS_ERRORS as exc:
            raise AwsAccessError(f"cannot identify the AWS caller: {describe_error(exc)}",
                                 "check credentials (AWS_PROFILE / AWS_ACCESS_KEY_ID) and region") from None


def validate_region(name: str, what: str = "region") -> str:
    """`name` when it is a region of one of botocore's partitions (listed, or matching the partition's
    region pattern), else a one-line ConfigError."""
    for partition in _partitions():
        if name in partition.get("regions", {}) or re.fullmatch(partition.get("regionRegex", "$^"), name):
            return name
    raise ConfigError(f"invalid {what} {name!r}: not an AWS region",
                      "use a region name such as us-east-1 or eu-west-1 (lower case)")


@functools.cache
def _partitions() -> list[dict[str, Any]]:
    data = botocore.session.get_session().get_component("data_loader").load_data("endpoints")
    return list(data.get("partitions", []))


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
