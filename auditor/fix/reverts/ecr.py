"""ECR repositories: tag mutability and scan on push."""

from __future__ import annotations

from auditor.fix.model import Call, Probe, Risk
from auditor.fix.reverts import Revert, exists_probe, first, state_attrs
from auditor.models import Drift, DriftKind


def _mutability(drift: Drift) -> tuple[Call, ...]:
    return (Call("ecr", "put_image_tag_mutability",
                 {"repositoryName": drift.id,
                  "imageTagMutability": str(state_attrs(drift)["image_tag_mutability"])}),)


def _scanning(drift: Drift) -> tuple[Call, ...]:
    scan = first(state_attrs(drift).get("image_scanning_configuration"))
    return (Call("ecr", "put_image_scanning_configuration",
                 {"repositoryName": drift.id,
                  "imageScanningConfiguration": {"scanOnPush": bool(scan.get("scan_on_push", False))}}),)


def _probe(drift: Drift) -> Probe:
    return exists_probe("ecr", "describe_repositories", {"repositoryNames": [drift.id]}, "repositories",
                        f"repository {drift.id}")


REVERTS: tuple[Revert, ...] = (
    Revert("aws_ecr_repository", "tag-mutability", frozenset({DriftKind.CHANGED}), ("image_tag_mutability",),
           ("ecr:PutImageTagMutability", "ecr:DescribeRepositories"), Risk.LOW, "the repository still exists",
           _mutability, _probe),
    Revert("aws_ecr_repository", "scan-on-push", frozenset({DriftKind.CHANGED}), ("image_scanning_configuration",),
           ("ecr:PutImageScanningConfiguration", "ecr:DescribeRepositories"), Risk.LOW,
           "the repository still exists", _scanning, _probe),
)
