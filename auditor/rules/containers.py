"""ECS task definitions' containers and the images they run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from auditor.code.values import Ref, Template
from auditor.models import Resource, Unresolved
from auditor.rules.links import address_type, same_address
from auditor.rules.model import RuleContext, Verdict
from auditor.rules.policies import document
from auditor.rules.read import get
from auditor.rules.verdicts import all_of, not_applicable, unresolved


def containers(task: Resource) -> list[Mapping[str, Any]] | Unresolved:
    """The container definitions of an aws_ecs_task_definition, from any source."""
    if task.attributes.get("_unmanaged_only"):
        return Unresolved("the live task definition was not described (no state holds its family)")
    found = document(task, "container_definitions")
    if isinstance(found, Unresolved):
        return found
    if not isinstance(found, list):
        return Unresolved("container_definitions is not a JSON list")
    out: list[Mapping[str, Any]] = []
    for item in found:
        if isinstance(item, Unresolved):
            return item
        if isinstance(item, Mapping):
            out.append(item)
    return out


def container_name(container: Mapping[str, Any], index: int) -> str:
    name = container.get("name")
    return name if isinstance(name, str) else f"container #{index + 1}"


def judge_containers(task: Resource, judge_one: Callable[[Mapping[str, Any]], Verdict]) -> Verdict:
    """Judge every container of a task definition; the worst verdict wins, each named by its container."""
    found = containers(task)
    if isinstance(found, Unresolved):
        return unresolved("container_definitions", found)
    if not found:
        return not_applicable("the task definition has no containers")
    verdicts = []
    for index, container in enumerate(found):
        verdict = judge_one(container)
        verdicts.append(Verdict(verdict.status, f"container {container_name(container, index)}: {verdict.message}",
                                verdict.value))
    return all_of(verdicts)


def image_repository(ctx: RuleContext, image: Any) -> Resource | str | None:
    """The ECR repository an image comes from: the repository resource of this source when it can be
    joined (by `repository_url` reference or value), else the address of a referenced
    `aws_ecr_repository` / `data.aws_ecr_repository` outside this source, else None."""
    first = image.parts[0] if isinstance(image, Template) else image
    repos = ctx.of_type("aws_ecr_repository")
    if isinstance(first, Ref):
        kind = address_type(first.address)
        if kind is None or kind[1] != "aws_ecr_repository" or first.attribute != "repository_url":
            return None
        found = next((r for r in repos if same_address(r.address, first.address)), None)
        return found or first.address
    if isinstance(first, str):
        for repo in repos:
            url = get(repo, "repository_url")
            if isinstance(url, str) and url and (first == url or first.startswith((url + ":", url + "@"))):
                return repo
    return None
