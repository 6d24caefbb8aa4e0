"""The bundled blue/green deployer for ECS Fargate behind an ALB (`audit deploy`, and `audit --fix`).

    from auditor.deploy import deploy, DeployRequest, DeployOutcome
    outcome = deploy(DeployRequest(cluster="c", service="s", image="...@sha256:..."), aws=aws, history=h)
"""

from auditor.deploy.engine import deploy, resume, rollback
from auditor.deploy.model import DeployError, DeployOutcome, DeployRefused, DeployRequest, LeaseHeld

__all__ = ["DeployError", "DeployOutcome", "DeployRefused", "DeployRequest", "LeaseHeld", "deploy", "resume",
           "rollback"]
