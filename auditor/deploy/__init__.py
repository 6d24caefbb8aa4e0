"""The bundled blue/green deployer for ECS Fargate behind an ALB (`audit deploy`, and `audit --fix`).

    from auditor.deploy import deploy, DeployRequest, DeployOutcome
    outcome = deploy(DeployRequest(cluster="c", service="s", image="...@sha256:..."), aws=aws, history=h)

The names are imported when first used, so `audit --help` does not load boto3.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from auditor.deploy.engine import deploy, resume, rollback
    from auditor.deploy.model import DeployError, DeployOutcome, DeployRefused, DeployRequest, LeaseHeld

_HOMES = {"deploy": "engine", "resume": "engine", "rollback": "engine", "DeployError": "model",
          "DeployOutcome": "model", "DeployRefused": "model", "DeployRequest": "model", "LeaseHeld": "model"}

__all__ = ["DeployError", "DeployOutcome", "DeployRefused", "DeployRequest", "LeaseHeld", "deploy", "resume",
           "rollback"]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'auditor.deploy' has no attribute {name!r}")
    return getattr(importlib.import_module(f"auditor.deploy.{_HOMES[name]}"), name)
