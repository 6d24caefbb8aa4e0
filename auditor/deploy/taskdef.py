"""The task definition a deploy ships: every image pinned by digest, never `:latest`.

`--image` puts a new image into the current task definition's load-balanced container;
`--task-definition` names one. Tagged ECR images are resolved to their digest
(ecr.DescribeImages) and a pinned revision is registered; anything that cannot be pinned is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from auditor.aws import Aws, describe_error, error_code
from auditor.deploy.model import AWS_ERRORS, DeployError, DeployRefused

_ECR = re.compile(r"^(?P<registry>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
                  r"(?P<repo>[^:@]+)(?::(?P<tag>[^@]+))?$")
_REGISTER_FIELDS = ("family", "taskRoleArn", "executionRoleArn", "networkMode", "containerDefinitions", "volumes",
                    "placementConstraints", "requiresCompatibilities", "cpu", "memory", "pidMode", "ipcMode",
                    "proxyConfiguration", "inferenceAccelerators", "ephemeralStorage", "runtimePlatform",
                    "enableFaultInjection")


@dataclass(frozen=True, slots=True)
class Release:
    """The task definition to run: `arn` when it exists already, else `definition` to register."""

    base_arn: str
    arn: str | None
    definition: dict[str, Any] | None
    images: tuple[str, ...]

    @property
    def label(self) -> str:
        return self.arn or f"{self.definition['family'] if self.definition else '?'}:(new revision)"


def plan_release(aws: Aws, current_task_definition: str, container: str, image: str | None,
                 task_definition: str | None) -> Release:
    """Resolve what to run; registers nothing."""
    if (image is None) == (task_definition is None):
        raise DeployRefused("give exactly one of --image or --task-definition")
    base = _describe(aws, task_definition or current_task_definition)
    containers = [dict(c) for c in base["taskDefinition"]["containerDefinitions"]]
    changed = False
    if image is not None:
        target = [c for c in containers if c["name"] == container] or (containers if len(containers) == 1 else [])
        if not target:
            raise DeployRefused(f"task definition {base['taskDefinition']['taskDefinitionArn']} has no container "
                                f"{container!r} (the one behind the load balancer)")
        target[0]["image"] = image
        changed = True
    for c in containers:
        pinned = pin(aws, c["image"])
        if pinned != c["image"]:
            c["image"], changed = pinned, True
    definition = None
    if changed:
        fields = {k: v for k, v in base["taskDefinition"].items() if k in _REGISTER_FIELDS and v not in (None, [], {})}
        definition = {**fields, "containerDefinitions": containers}
        if base.get("tags"):
            definition["tags"] = base["tags"]
    return Release(base_arn=base["taskDefinition"]["taskDefinitionArn"],
                   arn=None if changed else base["taskDefinition"]["taskDefinitionArn"],
                   definition=definition, images=tuple(c["image"] for c in containers))


def register(aws: Aws, release: Release) -> str:
    """The release's task definition ARN, registering it when it is new."""
    if release.arn:
        return release.arn
    assert release.definition is not None
    try:
        answer = aws.client("ecs").register_task_definition(**release.definition)
    except AWS_ERRORS as exc:
        raise DeployError(f"cannot register task definition {release.definition['family']}: "
                          f"{describe_error(exc)}") from None
    return str(answer["taskDefinition"]["taskDefinitionArn"])


def pin(aws: Aws, image: str) -> str:
    """`image` pinned by digest: unchanged when it has one, resolved in ECR when it has a tag."""
    if "@sha256:" in image:
        return image
    name, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "")
    if tag in ("", "latest"):
        raise DeployRefused(f"image {image} is not pinned (`:latest` or no tag)",
                            "deploy an image by digest (repo@sha256:...) or by an immutable tag")
    match = _ECR.match(image)
    if not match:
        raise DeployRefused(f"image {image} has a tag outside ECR, so its digest cannot be resolved",
                            "give it as repo@sha256:...")
    try:
        found = aws.client("ecr", match["region"]).describe_images(
            registryId=match["registry"], repositoryName=match["repo"], imageIds=[{"imageTag": tag}])["imageDetails"]
    except AWS_ERRORS as exc:
        if error_code(exc) in ("ImageNotFoundException", "RepositoryNotFoundException"):
            raise DeployRefused(f"image {image} not found in ECR") from None
        raise DeployError(f"cannot resolve the digest of {image}: {describe_error(exc)}") from None
    if not found or not found[0].get("imageDigest"):
        raise DeployRefused(f"image {image} not found in ECR")
    return f"{name}@{found[0]['imageDigest']}"


def _describe(aws: Aws, task_definition: str) -> dict[str, Any]:
    try:
        return dict(aws.client("ecs").describe_task_definition(taskDefinition=task_definition, include=["TAGS"]))
    except AWS_ERRORS as exc:
        if error_code(exc) in ("ClientException", "InvalidParameterException"):
            raise DeployRefused(f"task definition {task_definition} not found") from None
        raise DeployError(f"cannot read task definition {task_definition}: {describe_error(exc)}") from None
