"""A moto server on 127.0.0.1 for the demo and end-to-end tests (never a real AWS host).

Plain moto 5.2 cannot host the whole reference stack, so `reference_stack_moto()` adds, while it
is active (process-wide: moto serves its threads from this process):

- AWS managed IAM policies (`MOTO_IAM_LOAD_MANAGED_POLICIES=true`, read whenever moto builds an
  IAM backend), so `AmazonECSTaskExecutionRolePolicy` can be attached. It costs about a second
  per IAM backend (after every reset).
- ACM issues a DNS-validated certificate at once, as if its validation records were already
  published (`moto.settings.ACM_VALIDATION_WAIT = 0`; moto's default is 60 s).
- ECR pull-through cache rules, which moto does not implement: Create, Describe (one page; an
  unknown prefix is PullThroughCacheRuleNotFoundException) and Delete, kept in memory on moto's ECR
  backend of the account and region, so a reset forgets them like everything else.
- Application Auto Scaling tags, which moto does not implement and the Terraform provider reads on
  every apply of aws_appautoscaling_target: ListTagsForResource, TagResource, UntagResource, and the
  Tags given to RegisterScalableTarget, kept on moto's backend of the account and region.
- ECS CreateService keeps the settings moto drops (deploymentConfiguration with its circuit breaker,
  healthCheckGracePeriodSeconds, enableECSManagedTags, enableExecuteCommand,
  availabilityZoneRebalancing, capacity provider and placement settings): DescribeServices returns
  them as given, as AWS does, so Terraform plans nothing right after its own apply and ECS-06 is
  judged on what the service says. (UpdateService already keeps what it is given.)

MotoServer applies it for as long as the server runs; in-process tests wrap `mock_aws()` in it.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from auditor.errors import ConfigError

_MANAGED_POLICIES = "MOTO_IAM_LOAD_MANAGED_POLICIES"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pull_through_cache_actions() -> dict[str, Any]:
    """ECRResponse methods for the three pull-through cache actions (moto's JSON serializer shapes them)."""
    from moto.core.exceptions import ServiceException
    from moto.core.responses import ActionResult

    class EcrError(ServiceException):
        """Serialized with ECR's error shapes (moto looks a moto.* exception up in its own package)."""

    def rules(self: Any) -> dict[str, dict[str, Any]]:
        store: dict[str, dict[str, Any]] = self.ecr_backend.__dict__.setdefault("_pull_through_cache_rules", {})
        return store

    def find(self: Any, prefix: str) -> dict[str, Any]:
        if prefix not in rules(self):
            raise EcrError("PullThroughCacheRuleNotFoundException", f"rule {prefix} not found")
        return rules(self)[prefix]

    def create_pull_through_cache_rule(self: Any) -> Any:
        prefix = self._get_param("ecrRepositoryPrefix")
        if prefix in rules(self):
            raise EcrError("PullThroughCacheRuleAlreadyExistsException", f"rule {prefix} exists")
        optional = ("credentialArn", "customRoleArn", "upstreamRegistry", "upstreamRepositoryPrefix")
        rules(self)[prefix] = {"ecrRepositoryPrefix": prefix, "upstreamRegistryUrl": self._get_param(
            "upstreamRegistryUrl"), "registryId": self.current_account, "createdAt": datetime.now(UTC),
            **{k: self._get_param(k) for k in optional if self._get_param(k) is not None}}
        return ActionResult(rules(self)[prefix])

    def describe_pull_through_cache_rules(self: Any) -> Any:
        prefixes = self._get_param("ecrRepositoryPrefixes")
        found = [find(self, p) for p in prefixes] if prefixes else list(rules(self).values())
        return ActionResult({"pullThroughCacheRules": found})

    def delete_pull_through_cache_rule(self: Any) -> Any:
        prefix = self._get_param("ecrRepositoryPrefix")
        find(self, prefix)
        return ActionResult(rules(self).pop(prefix))

    return {fn.__name__: fn for fn in (create_pull_through_cache_rule, describe_pull_through_cache_rules,
                                       delete_pull_through_cache_rule)}


def _scaling_tag_actions() -> dict[str, Any]:
    """ApplicationAutoScalingResponse methods: the three tagging actions, and RegisterScalableTarget keeping
    the Tags it is given (moto drops them). Tags live on moto's backend of the account and region."""
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
    from moto.core.exceptions import JsonRESTError

    register = ApplicationAutoScalingResponse.register_scalable_target

    def tags(self: Any) -> dict[str, dict[str, str]]:
        store: dict[str, dict[str, str]] = self.applicationautoscaling_backend.__dict__.setdefault(
            "_scalable_target_tags", {})
        return store

    def held(self: Any, arn: str) -> dict[str, str]:
        targets = self.applicationautoscaling_backend.targets.values()
        if not any(t.arn == arn for by_id in targets for t in by_id.values()):
            raise JsonRESTError("ResourceNotFoundException", f"no scalable target {arn}")
        return tags(self).setdefault(arn, {})

    def register_scalable_target(self: Any) -> str:
        answer = register(self)
        given = self._get_param("Tags")
        if given:
            held(self, json.loads(answer)["ScalableTargetARN"]).update(given)
        return answer

    def list_tags_for_resource(self: Any) -> str:
        return json.dumps({"Tags": dict(held(self, self._get_param("ResourceARN")))})

    def tag_resource(self: Any) -> str:
        held(self, self._get_param("ResourceARN")).update(self._get_param("Tags") or {})
        return "{}"

    def untag_resource(self: Any) -> str:
        found = held(self, self._get_param("ResourceARN"))
        for key in self._get_param("TagKeys") or []:
            found.pop(key, None)
        return "{}"

    return {fn.__name__: fn for fn in (register_scalable_target, list_tags_for_resource, tag_resource,
                                       untag_resource)}


@contextmanager
def _added_actions(response_class: Any, actions: dict[str, Any], *, replace: tuple[str, ...] = ()) -> Iterator[None]:
    """Give a moto response class the actions it lacks (and replace those named in `replace`), while active."""
    saved = {name: response_class.__dict__[name] for name in replace if name in response_class.__dict__}
    added = {name: fn for name, fn in actions.items() if name in replace or not hasattr(response_class, name)}
    for name, fn in added.items():
        setattr(response_class, name, fn)
    try:
        yield
    finally:
        for name in added:
            delattr(response_class, name)
        for name, fn in saved.items():
            setattr(response_class, name, fn)


@contextmanager
def _pull_through_cache_rules() -> Iterator[None]:
    from moto.ecr.responses import ECRResponse

    with _added_actions(ECRResponse, _pull_through_cache_actions()):
        yield


@contextmanager
def _scaling_target_tags() -> Iterator[None]:
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse

    with _added_actions(ApplicationAutoScalingResponse, _scaling_tag_actions(), replace=("register_scalable_target",)):
        yield


_ECS_SERVICE_SETTINGS = ("deploymentConfiguration", "healthCheckGracePeriodSeconds", "enableECSManagedTags",
                         "enableExecuteCommand", "availabilityZoneRebalancing", "capacityProviderStrategy",
                         "placementConstraints", "placementStrategy")
"""CreateService parameters that DescribeServices returns and moto 5.2 drops."""


@contextmanager
def _ecs_service_settings() -> Iterator[None]:
    from botocore import xform_name
    from moto.ecs.responses import EC2ContainerServiceResponse

    create = EC2ContainerServiceResponse.create_service

    def create_service(self: Any) -> Any:
        result = create(self)
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("serviceName"))
        for name in _ECS_SERVICE_SETTINGS:
            value = self._get_param(name)
            if value is not None and getattr(service, xform_name(name), None) is None:
                setattr(service, xform_name(name), value)
        return result

    EC2ContainerServiceResponse.create_service = create_service  # type: ignore[method-assign]
    try:
        yield
    finally:
        EC2ContainerServiceResponse.create_service = create  # type: ignore[method-assign]


@contextmanager
def _instant_acm_validation() -> Iterator[None]:
    from moto import settings

    before = settings.ACM_VALIDATION_WAIT
    settings.ACM_VALIDATION_WAIT = 0
    try:
        yield
    finally:
        settings.ACM_VALIDATION_WAIT = before


@contextmanager
def _managed_policies() -> Iterator[None]:
    before = os.environ.get(_MANAGED_POLICIES)
    os.environ[_MANAGED_POLICIES] = "true"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(_MANAGED_POLICIES, None)
        else:
            os.environ[_MANAGED_POLICIES] = before


@contextmanager
def reference_stack_moto() -> Iterator[None]:
    """What moto needs, beyond itself, to host the reference stack (see the module docstring)."""
    with (_managed_policies(), _instant_acm_validation(), _pull_through_cache_rules(), _scaling_target_tags(),
          _ecs_service_settings()):
        yield


class MotoServer:
    """Context manager around moto's ThreadedMotoServer; `endpoint` is its http URL."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._server: Any = None
        self._extensions = ExitStack()

    def __enter__(self) -> MotoServer:
        try:
            from moto.server import ThreadedMotoServer
        except ImportError as exc:  # moto[server] comes with auditor's `demo` extra only
            raise ConfigError(f"the embedded AWS needs moto's server, which is not installed ({exc})",
                              hint="install auditor with its demo extra: pip install 'auditor[demo]'") from None

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._extensions.enter_context(reference_stack_moto())
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        try:
            self._server.start()
        except BaseException:
            self._extensions.close()
            raise
        return self

    def reset(self) -> None:
        """Forget every resource (POST /moto-api/reset)."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=120):
            pass

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if self._server is not None:
                self._server.stop()
        finally:
            self._extensions.close()
